using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.ShortGroups;

/// <summary>
/// The forward and backward over short groups compute a block of groups' statistics (or gradient sums) side by side,
/// one group a lane, and fill a block past the chunk's last group with copies of that group. Each group's values must
/// not depend on its place in a block or on its neighbours: a batch of 13 samples (a full block of groups and a partial
/// one) gives every sample the same bits as that sample alone, in place too, and the double reference's values.
/// </summary>
public sealed class ShortGroupsTests
{
    private const int Batch = 13;

    [Fact]
    public void LayerNorm_rows_of_100_floats() =>
        AssertEachSampleAsAlone<float>(() => new ShortGroupLayerNorm(), ShortGroupLayerNorm.SampleSize,
            NormLayout.LayerNorm(Batch, 100), rms: false, Tolerance.FloatFloor, new Random(4401));

    [Fact]
    public void LayerNorm_rows_of_512_floats() =>
        AssertEachSampleAsAlone<float>(() => new ShortGroupWideLayerNorm(), ShortGroupWideLayerNorm.SampleSize,
            NormLayout.LayerNorm(Batch, 512), rms: false, Tolerance.FloatFloor, new Random(4410));

    [Fact]
    public void LayerNorm_rows_of_102_doubles() =>
        AssertEachSampleAsAlone<double>(() => new ShortGroupDoubleLayerNorm(), ShortGroupDoubleLayerNorm.SampleSize,
            NormLayout.LayerNorm(Batch, 102), rms: false, 1e-12, new Random(4402));

    [Fact]
    public void RmsNorm_rows_of_100_floats() =>
        AssertEachSampleAsAlone<float>(() => new ShortGroupRmsNorm(), ShortGroupRmsNorm.SampleSize,
            NormLayout.LayerNorm(Batch, 100), rms: true, Tolerance.FloatFloor, new Random(4403));

    [Fact]
    public void InstanceNorm_on_8x8_maps_of_5_channels() =>
        AssertEachSampleAsAlone<float>(() => new ShortGroupInstanceNorm(), ShortGroupInstanceNorm.SampleSize,
            NormLayout.InstanceNorm(Batch, 5, 64), rms: false, Tolerance.FloatFloor, new Random(4404));

    [Fact]
    public void InstanceNorm_on_5x5_maps() =>
        AssertEachSampleAsAlone<float>(() => new ShortGroupTailInstanceNorm(), ShortGroupTailInstanceNorm.SampleSize,
            NormLayout.InstanceNorm(Batch, 3, 25), rms: false, Tolerance.FloatFloor, new Random(4407));

    [Fact]
    public void InstanceNorm_on_4x4_maps_of_doubles() =>
        AssertEachSampleAsAlone<double>(() => new ShortGroupDoubleInstanceNorm(), ShortGroupDoubleInstanceNorm.SampleSize,
            NormLayout.InstanceNorm(Batch, 5, 16), rms: false, 1e-12, new Random(4408));

    [Fact]
    public void RmsNorm_without_gamma_rows_of_100_floats() =>
        AssertEachSampleAsAlone<float>(() => new ShortGroupPlainRmsNorm(), ShortGroupPlainRmsNorm.SampleSize,
            NormLayout.LayerNorm(Batch, 100), rms: true, Tolerance.FloatFloor, new Random(4409));

    /// <summary>
    /// Rows 3 and 10 (one in the full block, one in the partial one) start with 8 values 1.0 above values of std 0.01: their
    /// pivots lie 7.9 standard deviations from their means, so one pass about them would lose 63 times more of the variance
    /// to rounding, and those rows are summed again about the mean found. Within 4e-7·max|ref| of the reference (measured:
    /// 9.2e-8 summed again, 1.3e-6 with the second sum left out).
    /// </summary>
    [Fact]
    public void Rows_whose_first_values_lie_far_out_are_summed_again()
    {
        var rng = new Random(4405);
        double[] x = TestData.Normal(rng, Batch * 512, 0, 0.01);
        foreach (int row in new[] { 3, 10 })
        {
            for (int i = 0; i < 8; i++)
            {
                x[row * 512 + i] += 1.0;
            }
        }
        x = TestData.RoundToFloat(x);
        float[] xs = TestData.To<float>(x);
        var layer = new ShortGroupPlainLayerNorm();
        var y = new float[xs.Length];
        layer.Forward(xs, y);
        var reference = ReferenceNorm.Compute(NormLayout.LayerNorm(Batch, 512), x, null, null, null, 1e-5);
        Tolerance.AssertClose("ShortGroupPlainLayerNorm y", (ReadOnlySpan<float>)y, reference.Y, 4e-7);
        for (int sample = 0; sample < Batch; sample++)
        {
            var alone = new float[512];
            layer.Forward(xs.AsSpan(sample * 512, 512), alone);
            SameBits.Assert<float>($"sample {sample}", y.AsSpan(sample * 512, 512), $"in a batch of {Batch}", alone, "alone");
        }
    }

    /// <summary>A NaN in one row makes that row's y NaN and leaves every other row's bits as they are without it.</summary>
    [Fact]
    public void A_NaN_stays_in_its_row()
    {
        var rng = new Random(4406);
        float[] x = TestData.To<float>(TestData.Normal(rng, Batch * 100, 2, 3));
        var layer = new ShortGroupLayerNorm();
        var clean = new float[x.Length];
        layer.Forward(x, clean);

        x[5 * 100 + 57] = float.NaN;
        var y = new float[x.Length];
        layer.Forward(x, y);

        for (int row = 0; row < Batch; row++)
        {
            var values = y.AsSpan(row * 100, 100);
            if (row == 5)
            {
                Assert.True(AllNaN(values), "row 5 (with the NaN) is not all NaN");
            }
            else
            {
                SameBits.Assert<float>($"row {row}", clean.AsSpan(row * 100, 100), "without the NaN", values, "with a NaN in row 5");
            }
        }
    }

    private static bool AllNaN(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            if (!float.IsNaN(v))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Forward and Backward over <see cref="Batch"/> samples against the reference (y, dx, dγ, dβ); each sample's y and dx
    /// alone, and the batch's in place, with the same bits.
    /// </summary>
    private static void AssertEachSampleAsAlone<T>(Func<IPerSampleLayer<T>> create, int sampleSize, NormLayout layout, bool rms, double rel, Random rng, double[]? values = null)
        where T : unmanaged, INumberBase<T>
    {
        var layer = create();
        bool isFloat = typeof(T) == typeof(float);
        double[] Round(double[] a) => isFloat ? TestData.RoundToFloat(a) : a;
        double[]? gamma = layer is IScaledLayer<T> ? Round(TestData.Uniform(rng, layout.ParamCount, 0.5, 1.5)) : null;
        double[]? beta = layer is IAffineLayer<T> ? Round(TestData.Uniform(rng, layout.ParamCount, -0.5, 0.5)) : null;
        if (layer is IScaledLayer<T> scaled)
        {
            TestData.To<T>(gamma!).CopyTo(scaled.Gamma);
        }
        if (layer is IAffineLayer<T> affine)
        {
            TestData.To<T>(beta!).CopyTo(affine.Beta);
        }
        double[] x = Round(values ?? TestData.Normal(rng, Batch * sampleSize, 2, 3));
        double[] dy = Round(TestData.Normal(rng, Batch * sampleSize, 0, 1));
        T[] xs = TestData.To<T>(x);
        T[] dys = TestData.To<T>(dy);
        string name = layer.GetType().Name;

        var y = new T[xs.Length];
        layer.Forward(xs, y);
        var dx = new T[xs.Length];
        layer.Backward(xs, dys, dx);
        var reference = ReferenceNorm.Compute(layout, x, dy, gamma, beta, 1e-5, rms);
        Tolerance.AssertClose($"{name} y", (ReadOnlySpan<T>)y, reference.Y, rel);
        Tolerance.AssertClose($"{name} dx", (ReadOnlySpan<T>)dx, reference.Dx, rel);
        if (layer is IScaledLayer<T> withGamma)
        {
            Tolerance.AssertClose($"{name} GammaGrad", (ReadOnlySpan<T>)withGamma.GammaGrad, reference.DGamma, rel);
        }
        if (layer is IAffineLayer<T> withBeta)
        {
            Tolerance.AssertClose($"{name} BetaGrad", (ReadOnlySpan<T>)withBeta.BetaGrad, reference.DBeta, rel);
        }

        for (int sample = 0; sample < Batch; sample++)
        {
            var xAlone = xs.AsSpan(sample * sampleSize, sampleSize);
            var yAlone = new T[sampleSize];
            layer.Forward(xAlone, yAlone);
            SameBits.Assert<T>($"sample {sample} y", y.AsSpan(sample * sampleSize, sampleSize), $"in a batch of {Batch}", yAlone, "alone");
            var dxAlone = new T[sampleSize];
            layer.Backward(xAlone, dys.AsSpan(sample * sampleSize, sampleSize), dxAlone);
            SameBits.Assert<T>($"sample {sample} dx", dx.AsSpan(sample * sampleSize, sampleSize), $"in a batch of {Batch}", dxAlone, "alone");
        }

        T[] inPlace = (T[])xs.Clone();
        layer.Forward(inPlace, inPlace);
        SameBits.Assert<T>("y", y, "into separate memory", inPlace, "in place");
        layer.Forward(xs, new T[xs.Length]);
        T[] dxInPlace = (T[])dys.Clone();
        layer.Backward(xs, dxInPlace, dxInPlace);
        SameBits.Assert<T>("dx", dx, "into separate memory", dxInPlace, "in place (dx over dy)");
    }
}
