using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// BatchNorm1d inference over rows of 257 values: each chunk's rows as one flat run of vectors on y's cache lines, the
/// column wrapping at the row length, with the values before y's first line and after its last whole line one by one.
/// Where every running mean lies within 16 standard deviations of zero the pass computes x·scale + shift (three
/// streams); where one lies further out, (x − hi)·scale + shift. Every value is one fused multiply-add wherever it falls:
/// a row alone has its bits in the batch, any alignment of x and y gives the same bits, and a mean far out keeps y's low
/// bits (the folded formula would lose them: the test with a mean at 10⁴ fails if it is used there).
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class WrappedRowsTests
{
    private const int Columns = 257;

    // 1311 rows: 336,927 values, several chunks whose first rows start at different offsets in a cache line.
    private const int Rows = 1311;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Float_rows_alone_have_their_bits_in_a_batch(bool farMean) =>
        AssertRowsAloneMatchTheBatch(new WrappedRowsBatchNorm1d(), farMean, new Random(4201));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Double_rows_alone_have_their_bits_in_a_batch(bool farMean) =>
        AssertRowsAloneMatchTheBatch(new WrappedRowsDoubleBatchNorm1d(), farMean, new Random(4202));

    /// <summary>
    /// Inference against the double reference, for one and two threads, with x and y at offsets past a cache line: with
    /// every mean within 15 standard deviations of zero, and with one column at mean 10⁴ and standard deviation 1,
    /// whose y = O(1) is exact only if x − mean is.
    /// </summary>
    [Theory]
    [InlineData(false, 0, 0)]
    [InlineData(false, 4, 60)]
    [InlineData(true, 0, 0)]
    [InlineData(true, 36, 8)]
    public void Inference_matches_the_reference_for_one_and_two_threads_at_any_alignment(bool farMean, int xOffset, int yOffset)
    {
        var rng = new Random(4203);
        var layout = NormLayout.BatchNorm(Rows, Columns, 1);
        (double[] mean, double[] variance) = RunningStatistics(rng, farMean);
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, Columns, 0.5, 1.5));
        double[] beta = TestData.RoundToFloat(TestData.Uniform(rng, Columns, -0.5, 0.5));
        double[] x = Inputs(rng, mean, variance);
        double[] reference = ReferenceNorm.Normalize(layout, x, mean, variance, gamma, beta, 1e-5);
        float[] Infer(int degree)
        {
            var layer = new WrappedRowsBatchNorm1d { MaxDegreeOfParallelism = degree };
            TestData.To<float>(gamma).CopyTo(layer.Gamma);
            TestData.To<float>(beta).CopyTo(layer.Beta);
            layer.LoadRunningStatistics(TestData.To<float>(mean), TestData.To<float>(variance));
            Span<float> xs = LineOffset.Span<float>(x.Length, xOffset);
            Span<float> ys = LineOffset.Span<float>(x.Length, yOffset);
            TestData.To<float>(x).CopyTo(xs);
            layer.ForwardInference(xs, ys);
            return ys.ToArray();
        }
        float[] one = Infer(1);
        Tolerance.AssertClose($"WrappedRowsBatchNorm1d inference y (far mean: {farMean})", (ReadOnlySpan<float>)one, reference, Tolerance.FloatFloor);
        SameBits.Assert<float>("y", one, "1 thread", Infer(2), "2 threads");
    }

    /// <summary>
    /// Running statistics (float values): means within 15 standard deviations of zero (x·scale + shift then rounds terms up to 30 times |γ|), or the same with column 5 at mean
    /// 10⁴ and variance 1.
    /// </summary>
    private static (double[] Mean, double[] Variance) RunningStatistics(Random rng, bool farMean)
    {
        double[] variance = TestData.RoundToFloat(TestData.Uniform(rng, Columns, 0.5, 2));
        double[] mean = new double[Columns];
        for (int c = 0; c < Columns; c++)
        {
            mean[c] = (float)(TestData.Uniform(rng, 1, -15, 15)[0] * Math.Sqrt(variance[c]));
        }
        if (farMean)
        {
            mean[5] = 1e4;
            variance[5] = 1;
        }
        return (mean, variance);
    }

    /// <summary>Inputs (float values) about each column's running mean, with its spread.</summary>
    private static double[] Inputs(Random rng, double[] mean, double[] variance)
    {
        double[] x = TestData.Normal(rng, Rows * Columns, 0, 1);
        for (int i = 0; i < x.Length; i++)
        {
            int c = i % Columns;
            x[i] = mean[c] + (x[i] * Math.Sqrt(variance[c]));
        }
        return TestData.RoundToFloat(x);
    }

    /// <summary>Inference over a batch, then over single rows (each shorter than a step of the flat run) with the same statistics.</summary>
    private static void AssertRowsAloneMatchTheBatch<T>(IBatchStatsLayer<T> layer, bool farMean, Random rng)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var running = (IRunningStatsLayer<T>)layer;
        var affine = (IAffineLayer<T>)layer;
        (double[] mean, double[] variance) = RunningStatistics(rng, farMean);
        TestData.To<T>(TestData.Uniform(rng, Columns, 0.5, 1.5)).CopyTo(affine.Gamma);
        TestData.To<T>(TestData.Uniform(rng, Columns, -0.5, 0.5)).CopyTo(affine.Beta);
        running.LoadRunningStatistics(TestData.To<T>(mean), TestData.To<T>(variance));
        T[] x = TestData.To<T>(Inputs(rng, mean, variance));
        var batch = new T[x.Length];
        layer.ForwardInference(x, batch);
        foreach (int row in new[] { 0, 1, 3, 7, 15, 16, 655, 656, 1310 })
        {
            var alone = new T[Columns];
            layer.ForwardInference(x.AsSpan(row * Columns, Columns), alone);
            SameBits.Assert<T>($"row {row}", batch.AsSpan(row * Columns, Columns), "in the batch", alone, "alone");
        }
    }
}
