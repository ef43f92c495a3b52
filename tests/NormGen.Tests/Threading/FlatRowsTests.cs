using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// BatchNorm1d rows that fill no whole number of cache lines: y goes over each chunk's rows as one flat run in periods of
/// rows, with the rows after the last whole period in single vectors and values. Every value is one fused multiply-add
/// wherever it falls, so a row normalized alone (all tail) has the bits it has inside a batch (all periods), and two
/// chunks with tails of different lengths give the one-thread bits.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class FlatRowsTests
{
    // 1311 rows of 100 floats: 131,100 values, two chunks (656 and 655 rows: tails of 0 and 3 rows after periods of 4).
    private const int Rows = 1311;

    [Fact]
    public void Float_rows_alone_have_their_bits_in_a_batch() =>
        AssertRowsAloneMatchTheBatch(new FlatRowsBatchNorm1d(), 100, new Random(4001));

    [Fact]
    public void Double_rows_alone_have_their_bits_in_a_batch() =>
        AssertRowsAloneMatchTheBatch(new FlatRowsDoubleBatchNorm1d(), 37, new Random(4002));

    [Fact]
    public void Training_matches_the_reference_and_is_bit_identical_for_one_and_two_threads()
    {
        var rng = new Random(4003);
        var layout = NormLayout.BatchNorm(Rows, 100, 1);
        Assert.Equal(2, NormGen.Internal.Threading.ChunkCount(Rows, layout.Length, NormGen.Internal.Threading.ParallelThreshold));
        double[] x = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 2, 3));
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, 100, 0.5, 1.5));
        double[] beta = TestData.RoundToFloat(TestData.Uniform(rng, 100, -0.5, 0.5));
        var reference = ReferenceNorm.Compute(layout, x, null, gamma, beta, 1e-5);
        float[] Train(int degree)
        {
            var layer = new FlatRowsBatchNorm1d { MaxDegreeOfParallelism = degree };
            TestData.To<float>(gamma).CopyTo(layer.Gamma);
            TestData.To<float>(beta).CopyTo(layer.Beta);
            var y = new float[x.Length];
            layer.ForwardTraining(TestData.To<float>(x), y);
            return y;
        }
        float[] one = Train(1);
        Tolerance.AssertClose("FlatRowsBatchNorm1d y", (ReadOnlySpan<float>)one, reference.Y, Tolerance.FloatFloor);
        SameBits.Assert<float>("y", one, "1 thread", Train(2), "2 threads");
    }

    /// <summary>
    /// Training folds its constants over the period only as far as the call reaches: batches of 2 and 3 rows (shorter than
    /// the period of 4 rows) after one of the whole batch, whose fold filled the period, each match the reference.
    /// </summary>
    [Fact]
    public void Training_on_fewer_rows_than_a_period_matches_the_reference()
    {
        var rng = new Random(4004);
        var layer = new FlatRowsBatchNorm1d();
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, 100, 0.5, 1.5));
        double[] beta = TestData.RoundToFloat(TestData.Uniform(rng, 100, -0.5, 0.5));
        TestData.To<float>(gamma).CopyTo(layer.Gamma);
        TestData.To<float>(beta).CopyTo(layer.Beta);
        foreach (int rows in new[] { 64, 2, 3 })
        {
            var layout = NormLayout.BatchNorm(rows, 100, 1);
            double[] x = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 2, 3));
            var y = new float[x.Length];
            layer.ForwardTraining(TestData.To<float>(x), y);
            Tolerance.AssertClose($"y of {rows} rows", (ReadOnlySpan<float>)y, ReferenceNorm.Compute(layout, x, null, gamma, beta, 1e-5).Y, Tolerance.FloatFloor);
        }
    }

    /// <summary>Inference over a batch, then over single rows (each shorter than a period) with the same running statistics.</summary>
    private static void AssertRowsAloneMatchTheBatch<T>(IBatchStatsLayer<T> layer, int columns, Random rng)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var running = (IRunningStatsLayer<T>)layer;
        var affine = (IAffineLayer<T>)layer;
        TestData.To<T>(TestData.Uniform(rng, columns, 0.5, 1.5)).CopyTo(affine.Gamma);
        TestData.To<T>(TestData.Uniform(rng, columns, -0.5, 0.5)).CopyTo(affine.Beta);
        running.LoadRunningStatistics(TestData.To<T>(TestData.Uniform(rng, columns, -1, 1)), TestData.To<T>(TestData.Uniform(rng, columns, 0.5, 2)));
        T[] x = TestData.To<T>(TestData.Normal(rng, Rows * columns, 1, 2));
        var batch = new T[x.Length];
        layer.ForwardInference(x, batch);
        foreach (int row in new[] { 0, 1, 3, 7, 655, 656, 1310 })
        {
            var alone = new T[columns];
            layer.ForwardInference(x.AsSpan(row * columns, columns), alone);
            SameBits.Assert<T>($"row {row}", batch.AsSpan(row * columns, columns), "in the batch", alone, "alone");
        }
    }
}
