using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// BatchNorm1d rows too wide for their per-column constants to fit half the L1 go row by row in blocks of columns (y
/// and dx): training, inference and backward match the double reference at line-aligned and unaligned addresses, for
/// one and two threads with the same bits, float and double, with the columns after the blocks' tiles (vectors of both
/// widths and single values) included; rows of whole lines give the same bits two rows a step and one.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class BlockedRowOrderTests
{
    private const int Rows = 67;

    [Theory]
    [InlineData(0)]
    [InlineData(24)]
    public void Float_rows_in_blocks_match_the_reference(int offset) =>
        AssertMatchesReference(degree => new BlockedRowsBatchNorm1d { MaxDegreeOfParallelism = degree }, 4141, offset, Tolerance.FloatFloor, new Random(4201));

    [Theory]
    [InlineData(0)]
    [InlineData(24)]
    public void Double_rows_in_blocks_match_the_reference(int offset) =>
        AssertMatchesReference(degree => new BlockedRowsDoubleBatchNorm1d { MaxDegreeOfParallelism = degree }, 2077, offset, 1e-10, new Random(4202));

    [Fact]
    public void Whole_line_rows_have_the_same_bits_two_rows_a_step_and_one()
    {
        var rng = new Random(4203);
        const int columns = 4096;
        float[] x = TestData.To<float>(TestData.Normal(rng, Rows * columns, 1, 2));
        float[] dy = TestData.To<float>(TestData.Normal(rng, Rows * columns, 0, 1));
        (float[] Y, float[] Inference, float[] Dx) Run(int offset)
        {
            var layer = new BlockedLinesBatchNorm1d();
            Span<float> xs = LineOffset.Span<float>(x.Length, offset);
            Span<float> ys = LineOffset.Span<float>(x.Length, offset);
            Span<float> dxs = LineOffset.Span<float>(x.Length, offset);
            x.CopyTo(xs);
            layer.ForwardTraining(xs, ys);
            float[] y = ys.ToArray();
            layer.Backward(xs, dy, dxs);
            layer.ForwardInference(xs, ys);
            return (y, ys.ToArray(), dxs.ToArray());
        }
        var pairs = Run(0);
        var single = Run(24);
        SameBits.Assert<float>("training y", pairs.Y, "line-aligned", single.Y, "24 B past a line");
        SameBits.Assert<float>("inference y", pairs.Inference, "line-aligned", single.Inference, "24 B past a line");
        SameBits.Assert<float>("dx", pairs.Dx, "line-aligned", single.Dx, "24 B past a line");
    }

    private static void AssertMatchesReference<T>(Func<int, IBatchStatsLayer<T>> create, int columns, int offset, double tolerance, Random rng)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var layout = NormLayout.BatchNorm(Rows, columns, 1);
        double[] x = TestData.Normal(rng, layout.Length, 2, 3);
        double[] dy = TestData.Normal(rng, layout.Length, 0, 1);
        double[] gamma = TestData.Uniform(rng, columns, 0.5, 1.5);
        double[] beta = TestData.Uniform(rng, columns, -0.5, 0.5);
        if (typeof(T) == typeof(float))
        {
            x = TestData.RoundToFloat(x);
            dy = TestData.RoundToFloat(dy);
            gamma = TestData.RoundToFloat(gamma);
            beta = TestData.RoundToFloat(beta);
        }
        var reference = ReferenceNorm.Compute(layout, x, dy, gamma, beta, 1e-5);
        (T[] Y, T[] Inference, T[] Dx, double[] RunningMean, double[] RunningVar) Run(int degree)
        {
            IBatchStatsLayer<T> layer = create(degree);
            TestData.To<T>(gamma).CopyTo(((IAffineLayer<T>)layer).Gamma);
            TestData.To<T>(beta).CopyTo(((IAffineLayer<T>)layer).Beta);
            Span<T> xs = LineOffset.Span<T>(layout.Length, offset);
            Span<T> ys = LineOffset.Span<T>(layout.Length, offset);
            Span<T> dxs = LineOffset.Span<T>(layout.Length, offset);
            TestData.To<T>(x).CopyTo(xs);
            layer.ForwardTraining(xs, ys);
            T[] y = ys.ToArray();
            layer.Backward(xs, TestData.To<T>(dy), dxs);
            layer.ForwardInference(xs, ys);
            var running = (IRunningStatsLayer<T>)layer;
            double[] mean = Array.ConvertAll(running.RunningMean.ToArray(), double.CreateChecked);
            double[] variance = Array.ConvertAll(running.RunningVar.ToArray(), double.CreateChecked);
            return (y, ys.ToArray(), dxs.ToArray(), mean, variance);
        }
        var one = Run(1);
        Tolerance.AssertClose("y", (ReadOnlySpan<T>)one.Y, reference.Y, tolerance);
        Tolerance.AssertClose("dx", (ReadOnlySpan<T>)one.Dx, reference.Dx, tolerance);
        // Inference normalizes with the running statistics the training call left.
        var expected = new double[layout.Length];
        for (int i = 0; i < expected.Length; i++)
        {
            int c = i % columns;
            expected[i] = ((x[i] - one.RunningMean[c]) / Math.Sqrt(one.RunningVar[c] + 1e-5) * gamma[c]) + beta[c];
        }
        Tolerance.AssertClose("inference y", (ReadOnlySpan<T>)one.Inference, expected, tolerance);
        var two = Run(2);
        SameBits.Assert<T>("y", one.Y, "1 thread", two.Y, "2 threads");
        SameBits.Assert<T>("inference y", one.Inference, "1 thread", two.Inference, "2 threads");
        SameBits.Assert<T>("dx", one.Dx, "1 thread", two.Dx, "2 threads");
    }
}
