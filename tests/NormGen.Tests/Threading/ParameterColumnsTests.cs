using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// Rows whose γ has 16,384 entries or more sum dγ and dβ in a pass of their own, each chunk a range of columns over every
/// row in row order (GroupMajorKernels.ParameterColumns), for up to 64 rows; more rows take the fused sums; from 65,536
/// entries every batch takes the column pass. The gradients must match the reference, the columns after the last whole
/// tile included, be the same bits for one and two threads, and add to what GammaGrad/BetaGrad held.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class ParameterColumnsTests
{
    // Not a multiple of the 8-row blocks the column sums flush in; and more rows than the column pass takes.
    private const int Rows = 19;
    private const int ManyRows = 67;

    [Theory]
    [InlineData(Rows)]
    [InlineData(ManyRows)]
    public void Float_layer_norm_over_chw_matches_the_reference(int rows) =>
        AssertMatchesReference<float, ColumnPassLayerNorm>(degree => new ColumnPassLayerNorm { MaxDegreeOfParallelism = degree }, rows, ColumnPassLayerNorm.SampleSize, rms: false, Tolerance.FloatFloor, new Random(4201));

    [Theory]
    [InlineData(Rows)]
    [InlineData(ManyRows)]
    public void Double_layer_norm_matches_the_reference(int rows) =>
        AssertMatchesReference<double, ColumnPassDoubleLayerNorm>(degree => new ColumnPassDoubleLayerNorm { MaxDegreeOfParallelism = degree }, rows, ColumnPassDoubleLayerNorm.SampleSize, rms: false, 1e-12, new Random(4202));

    [Fact]
    public void Float_rms_norm_matches_the_reference() =>
        AssertMatchesReference<float, ColumnPassRmsNorm>(degree => new ColumnPassRmsNorm { MaxDegreeOfParallelism = degree }, Rows, ColumnPassRmsNorm.SampleSize, rms: true, Tolerance.FloatFloor, new Random(4203));

    [Theory]
    [InlineData(5)]
    [InlineData(ManyRows)]
    public void Float_layer_norm_with_the_column_pass_for_every_batch_matches_the_reference(int rows) =>
        AssertMatchesReference<float, AlwaysColumnPassLayerNorm>(degree => new AlwaysColumnPassLayerNorm { MaxDegreeOfParallelism = degree }, rows, AlwaysColumnPassLayerNorm.SampleSize, rms: false, Tolerance.FloatFloor, new Random(4204));

    /// <summary>
    /// Forward and Backward at 1 and 2 threads on the same data: dx, dγ (and dβ) against the double reference, the two
    /// thread counts bit for bit, and a second Backward doubling the gradients exactly (each adds the same sums).
    /// </summary>
    private static void AssertMatchesReference<T, TLayer>(Func<int, TLayer> create, int rows, int size, bool rms, double rel, Random rng)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TLayer : IPerSampleLayer<T>, IScaledLayer<T>
    {
        var layout = NormLayout.LayerNorm(rows, size);
        double[] x = Exact<T>(TestData.Normal(rng, layout.Length, 1.5, 2));
        double[] dy = Exact<T>(TestData.Normal(rng, layout.Length, 0, 1));
        double[] gamma = Exact<T>(TestData.Uniform(rng, size, 0.5, 1.5));
        double[]? beta = rms ? null : Exact<T>(TestData.Uniform(rng, size, -0.5, 0.5));
        var reference = ReferenceNorm.Compute(layout, x, dy, gamma, beta, rms ? 1e-6 : 1e-5, rms);

        (T[] Dx, T[] DGamma, T[]? DBeta) Run(int degree, int backwards)
        {
            TLayer layer = create(degree);
            TestData.To<T>(gamma).CopyTo(layer.Gamma);
            if (beta is not null)
            {
                TestData.To<T>(beta).CopyTo(((IAffineLayer<T>)layer).Beta);
            }
            T[] xs = TestData.To<T>(x);
            var y = new T[xs.Length];
            var dx = new T[xs.Length];
            layer.Forward(xs, y);
            for (int i = 0; i < backwards; i++)
            {
                layer.Backward(xs, TestData.To<T>(dy), dx);
            }
            return (dx, layer.GammaGrad.ToArray(), beta is null ? null : ((IAffineLayer<T>)layer).BetaGrad.ToArray());
        }

        var one = Run(1, 1);
        Tolerance.AssertClose($"{typeof(TLayer).Name} dx", (ReadOnlySpan<T>)one.Dx, reference.Dx, rel);
        Tolerance.AssertClose($"{typeof(TLayer).Name} dγ", (ReadOnlySpan<T>)one.DGamma, reference.DGamma, rel);
        if (one.DBeta is not null)
        {
            Tolerance.AssertClose($"{typeof(TLayer).Name} dβ", (ReadOnlySpan<T>)one.DBeta, reference.DBeta, rel);
        }

        var two = Run(2, 1);
        SameBits.Assert<T>("dx", one.Dx, "1 thread", two.Dx, "2 threads");
        SameBits.Assert<T>("dγ", one.DGamma, "1 thread", two.DGamma, "2 threads");
        if (one.DBeta is not null)
        {
            SameBits.Assert<T>("dβ", one.DBeta, "1 thread", two.DBeta!, "2 threads");
        }

        var twice = Run(2, 2);
        SameBits.Assert<T>("dγ", Doubled(one.DGamma), "twice one Backward's", twice.DGamma, "two Backwards");
        if (one.DBeta is not null)
        {
            SameBits.Assert<T>("dβ", Doubled(one.DBeta), "twice one Backward's", twice.DBeta!, "two Backwards");
        }
    }

    /// <summary>The values rounded to T, so that the reference sees exactly what the layer does.</summary>
    private static double[] Exact<T>(double[] values) where T : unmanaged, IFloatingPointIeee754<T> =>
        TestData.ToDouble<T>(TestData.To<T>(values));

    private static T[] Doubled<T>(T[] values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var doubled = new T[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            doubled[i] = values[i] + values[i];
        }
        return doubled;
    }
}
