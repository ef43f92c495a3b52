using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// BatchNorm1d's row-order passes (y for rows of whole lines narrower than a wrapped step, 48 floats and 24 doubles; dx
/// for rows of 2 KiB or more) take two rows a step only where the rows start on cache lines, one row a step elsewhere (a
/// .NET array's data starts 24 bytes past a line); the wrapped y pass of wider rows (512 floats, 128 doubles) starts its
/// vectors on y's first line boundary. Every way gives every value the same bits, whatever the addresses, and the
/// reference's values; an odd batch leaves a row after the last pair.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class RowOrderAlignmentTests
{
    private const int Rows = 301;

    // Byte offsets past a cache line for x and y: both aligned (pairs), then each or both not (single rows).
    public static TheoryData<int, int> Offsets => new() { { 8, 0 }, { 0, 24 }, { 24, 24 }, { 32, 16 } };

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Float_inference_and_training_have_the_aligned_bits_anywhere(int xOffset, int yOffset) =>
        AssertSameBitsAnywhere(new RowOrderBatchNorm1d(), new RowOrderBatchNorm1d(), 512, xOffset, yOffset, new Random(4101));

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Double_inference_and_training_have_the_aligned_bits_anywhere(int xOffset, int yOffset) =>
        AssertSameBitsAnywhere(new RowOrderDoubleBatchNorm1d(), new RowOrderDoubleBatchNorm1d(), 128, xOffset, yOffset, new Random(4102));

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Float_row_order_inference_and_training_have_the_aligned_bits_anywhere(int xOffset, int yOffset) =>
        AssertSameBitsAnywhere(new RowOrderNarrowBatchNorm1d(), new RowOrderNarrowBatchNorm1d(), 48, xOffset, yOffset, new Random(4106));

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Double_row_order_inference_and_training_have_the_aligned_bits_anywhere(int xOffset, int yOffset) =>
        AssertSameBitsAnywhere(new RowOrderNarrowDoubleBatchNorm1d(), new RowOrderNarrowDoubleBatchNorm1d(), 24, xOffset, yOffset, new Random(4107));

    [Fact]
    public void Training_from_aligned_memory_matches_the_reference()
    {
        var rng = new Random(4103);
        var layout = NormLayout.BatchNorm(Rows, 512, 1);
        double[] x = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 2, 3));
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, 512, 0.5, 1.5));
        double[] beta = TestData.RoundToFloat(TestData.Uniform(rng, 512, -0.5, 0.5));
        var reference = ReferenceNorm.Compute(layout, x, null, gamma, beta, 1e-5);
        var layer = new RowOrderBatchNorm1d();
        TestData.To<float>(gamma).CopyTo(layer.Gamma);
        TestData.To<float>(beta).CopyTo(layer.Beta);
        Span<float> xs = LineOffset.Span<float>(layout.Length, 0);
        Span<float> ys = LineOffset.Span<float>(layout.Length, 0);
        TestData.To<float>(x).CopyTo(xs);
        layer.ForwardTraining(xs, ys);
        Tolerance.AssertClose("RowOrderBatchNorm1d y", (ReadOnlySpan<float>)ys, reference.Y, Tolerance.FloatFloor);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(24)]
    public void Row_order_dx_matches_the_reference_for_one_and_two_threads(int offset)
    {
        var rng = new Random(4104);
        const int rows = 301, columns = 1001;
        var layout = NormLayout.BatchNorm(rows, columns, 1);
        double[] x = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 2, 3));
        double[] dy = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 0, 1));
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, columns, 0.5, 1.5));
        double[] beta = TestData.RoundToFloat(TestData.Uniform(rng, columns, -0.5, 0.5));
        var reference = ReferenceNorm.Compute(layout, x, dy, gamma, beta, 1e-5);
        float[] Dx(int degree)
        {
            var layer = new RowOrderOddBatchNorm1d { MaxDegreeOfParallelism = degree };
            TestData.To<float>(gamma).CopyTo(layer.Gamma);
            TestData.To<float>(beta).CopyTo(layer.Beta);
            Span<float> xs = LineOffset.Span<float>(layout.Length, offset);
            Span<float> ys = LineOffset.Span<float>(layout.Length, offset);
            Span<float> dxs = LineOffset.Span<float>(layout.Length, offset);
            TestData.To<float>(x).CopyTo(xs);
            layer.ForwardTraining(xs, ys);
            layer.Backward(xs, TestData.To<float>(dy), dxs);
            Tolerance.AssertClose("RowOrderOddBatchNorm1d dγ", (ReadOnlySpan<float>)layer.GammaGrad, reference.DGamma, Tolerance.FloatFloor);
            return dxs.ToArray();
        }
        float[] one = Dx(1);
        Tolerance.AssertClose("RowOrderOddBatchNorm1d dx", (ReadOnlySpan<float>)one, reference.Dx, Tolerance.FloatFloor);
        SameBits.Assert<float>("dx", one, "1 thread", Dx(2), "2 threads");
    }

    [Fact]
    public void Row_order_dx_without_gamma_matches_the_reference_for_one_and_two_threads()
    {
        var rng = new Random(4105);
        const int rows = 301, columns = 512;
        var layout = NormLayout.BatchNorm(rows, columns, 1);
        double[] x = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 2, 3));
        double[] dy = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 0, 1));
        var reference = ReferenceNorm.Compute(layout, x, dy, null, null, 1e-5);
        float[] Dx(int degree)
        {
            var layer = new RowOrderPlainBatchNorm1d { MaxDegreeOfParallelism = degree };
            float[] xs = TestData.To<float>(x);
            layer.ForwardTraining(xs, new float[xs.Length]);
            var dx = new float[xs.Length];
            layer.Backward(xs, TestData.To<float>(dy), dx);
            return dx;
        }
        float[] one = Dx(1);
        Tolerance.AssertClose("RowOrderPlainBatchNorm1d dx", (ReadOnlySpan<float>)one, reference.Dx, Tolerance.FloatFloor);
        SameBits.Assert<float>("dx", one, "1 thread", Dx(2), "2 threads");
    }

    /// <summary>
    /// Training then inference on line-aligned x and y (pairs of rows), and the same on x and y at the given offsets past
    /// a line, by twin layers with the same parameters: every output bit the same.
    /// </summary>
    private static void AssertSameBitsAnywhere<T>(IBatchStatsLayer<T> aligned, IBatchStatsLayer<T> shifted, int columns, int xOffset, int yOffset, Random rng)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] gamma = TestData.To<T>(TestData.Uniform(rng, columns, 0.5, 1.5));
        T[] beta = TestData.To<T>(TestData.Uniform(rng, columns, -0.5, 0.5));
        T[] x = TestData.To<T>(TestData.Normal(rng, Rows * columns, 1, 2));
        foreach (var layer in new[] { aligned, shifted })
        {
            gamma.CopyTo(((IAffineLayer<T>)layer).Gamma);
            beta.CopyTo(((IAffineLayer<T>)layer).Beta);
        }
        (T[] Training, T[] Inference) Run(IBatchStatsLayer<T> layer, int xAt, int yAt)
        {
            Span<T> xs = LineOffset.Span<T>(x.Length, xAt);
            Span<T> ys = LineOffset.Span<T>(x.Length, yAt);
            x.CopyTo(xs);
            layer.ForwardTraining(xs, ys);
            T[] training = ys.ToArray();
            layer.ForwardInference(xs, ys);
            return (training, ys.ToArray());
        }
        var expected = Run(aligned, 0, 0);
        var actual = Run(shifted, xOffset, yOffset);
        string label = $"x {xOffset} B and y {yOffset} B past a line";
        SameBits.Assert<T>("training y", expected.Training, "line-aligned", actual.Training, label);
        SameBits.Assert<T>("inference y", expected.Inference, "line-aligned", actual.Inference, label);
    }
}
