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
    /// The backward over rows of 1001 floats (the dx pass wrapped like y, 2 KiB rows or more) against the double
    /// reference, for one and two threads, with x and dx at offsets past a cache line: batches whose column means lie
    /// within 15 standard deviations of zero (dx = dy·gain − x·slope − offset), and with column 5 at mean 10⁴ and standard
    /// deviation 1, whose dx keeps x − mean exact only if its mean is not folded into the offset.
    /// </summary>
    [Theory]
    [InlineData(false, 0, 0)]
    [InlineData(false, 8, 44)]
    [InlineData(true, 0, 0)]
    [InlineData(true, 20, 4)]
    public void Backward_matches_the_reference_for_one_and_two_threads_at_any_alignment(bool farMean, int xOffset, int dxOffset)
    {
        var rng = new Random(4204);
        const int rows = 301, columns = 1001;
        var layout = NormLayout.BatchNorm(rows, columns, 1);
        double[] z = TestData.Normal(rng, layout.Length, 0, 1);
        double[] noise = TestData.Normal(rng, layout.Length, 0, 1);
        double[] spread = TestData.Uniform(rng, columns, 0.5, 2);
        double[] centre = TestData.Uniform(rng, columns, -15, 15);
        if (farMean)
        {
            centre[5] = 1e4;
            spread[5] = 1;
        }
        var x = new double[z.Length];
        var dy = new double[z.Length];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (centre[i % columns] * spread[i % columns]) + (z[i] * spread[i % columns]);
            // dy follows x̂, so that Σdy·x̂ and with it the slope are O(1): a mean of 10⁴ folded into the offset would then
            // cost dx about 10⁴ units of the float rounding.
            dy[i] = (0.5 * z[i]) + (0.5 * noise[i]);
        }
        x = TestData.RoundToFloat(x);
        dy = TestData.RoundToFloat(dy);
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, columns, 0.5, 1.5));
        double[] beta = TestData.RoundToFloat(TestData.Uniform(rng, columns, -0.5, 0.5));
        var reference = ReferenceNorm.Compute(layout, x, dy, gamma, beta, 1e-5);
        float[] Dx(int degree)
        {
            var layer = new RowOrderOddBatchNorm1d { MaxDegreeOfParallelism = degree };
            TestData.To<float>(gamma).CopyTo(layer.Gamma);
            TestData.To<float>(beta).CopyTo(layer.Beta);
            Span<float> xs = LineOffset.Span<float>(layout.Length, xOffset);
            Span<float> dxs = LineOffset.Span<float>(layout.Length, dxOffset);
            TestData.To<float>(x).CopyTo(xs);
            layer.ForwardTraining(xs, new float[xs.Length]);
            layer.Backward(xs, TestData.To<float>(dy), dxs);
            return dxs.ToArray();
        }
        float[] one = Dx(1);
        Tolerance.AssertClose($"RowOrderOddBatchNorm1d dx (far mean: {farMean})", (ReadOnlySpan<float>)one, reference.Dx, Tolerance.FloatFloor);
        SameBits.Assert<float>("dx", one, "1 thread", Dx(2), "2 threads");
    }

    /// <summary>The double backward over rows of 257 (2 KiB and more: the dx pass wrapped), the same bits for one and two threads.</summary>
    [Fact]
    public void Double_backward_matches_the_reference_for_one_and_two_threads()
    {
        var rng = new Random(4205);
        var layout = NormLayout.BatchNorm(Rows, Columns, 1);
        (double[] mean, double[] variance) = RunningStatistics(rng, farMean: true);
        double[] x = Inputs(rng, mean, variance);
        double[] dy = TestData.Normal(rng, layout.Length, 0, 1);
        var reference = ReferenceNorm.Compute(layout, x, dy, null, null, 1e-5);
        double[] Dx(int degree)
        {
            var layer = new WrappedRowsDoubleBatchNorm1d { MaxDegreeOfParallelism = degree };
            layer.ForwardTraining(x, new double[x.Length]);
            var dx = new double[x.Length];
            layer.Backward(x, dy, dx);
            return dx;
        }
        double[] one = Dx(1);
        Tolerance.AssertClose("WrappedRowsDoubleBatchNorm1d dx", (ReadOnlySpan<double>)one, reference.Dx, 1e-11);
        SameBits.Assert<double>("dx", one, "1 thread", Dx(2), "2 threads");
    }

    /// <summary>
    /// Running statistics (float values): means within 15 standard deviations of zero (x·scale + shift then rounds terms up to 30 times |γ|), or the same with column 5 at mean
    /// 10⁴ and variance 1.
    /// </summary>
    private static (double[] Mean, double[] Variance) RunningStatistics(Random rng, bool farMean)
    {
        double[] variance = TestData.RoundToFloat(TestData.Uniform(rng, Columns, 0.5, 2));
        double[] deviations = TestData.Uniform(rng, Columns, -15, 15);
        double[] mean = new double[Columns];
        for (int c = 0; c < Columns; c++)
        {
            mean[c] = (float)(deviations[c] * Math.Sqrt(variance[c]));
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
