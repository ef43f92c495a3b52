using System;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// The per-column pivots of the rows × columns kernels' one pass: the mean of min(rows, 32) rows spread evenly over the
/// batch, for doubles summed in double in row order (bit for bit, in every width of tile and in the tail columns), for
/// floats within a few units in the last place of that (summed in float on AVX-512); and the check that sends a call back
/// to the two passes.
/// </summary>
public sealed class ColumnPivotsTests
{
    [Theory]
    [InlineData(1, 7)]
    [InlineData(5, 4)]
    [InlineData(32, 9)]
    [InlineData(100, 13)]
    [InlineData(2048, 24)]
    [InlineData(40, 103)]   // a 64-column tile (AVX-512), a 32-column tile, four columns, three alone
    [InlineData(3, 200)]
    [InlineData(33, 300)]   // two 128-column tiles (AVX-512), a 32-column tile, three of four columns
    public void Pivots_are_the_mean_of_the_documented_rows(int rows, int columns)
    {
        var rng = new Random(rows * 31 + columns);
        var x = new double[rows * columns];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-3, 4));
        }
        float[] xf = Array.ConvertAll(x, v => (float)v);
        var pivotsF = new float[columns];
        var pivotsD = new double[columns];
        ColumnPivots.Compute(xf, columns, pivotsF);
        ColumnPivots.Compute(x, columns, pivotsD);

        int sample = Math.Min(rows, ColumnPivots.SampleRows);
        for (int c = 0; c < columns; c++)
        {
            double sumF = 0.0, sumD = 0.0, magnitude = 0.0;
            for (int k = 0; k < sample; k++)
            {
                int row = (int)((long)k * rows / sample);
                sumF += xf[row * columns + c];
                sumD += x[row * columns + c];
                magnitude += Math.Abs(xf[row * columns + c]);
            }
            // Floats may be summed as floats (AVX-512): within a few units in the last place of the sum's terms.
            double meanF = sumF * (1.0 / sample);
            Assert.True(Math.Abs(pivotsF[c] - meanF) <= 1e-6 * magnitude / sample, $"column {c}: pivot {pivotsF[c]}, mean {meanF}");
            Assert.Equal(sumD * (1.0 / sample), pivotsD[c]);
        }
    }

    /// <summary>
    /// The pivots' pass in chunks of columns (shared out over the threads) gives what the whole pass gives, bit for bit,
    /// in as many chunks as ChunkCount says: one per 32,768 sampled values, at most 8, whole 128-column tiles each but
    /// the last.
    /// </summary>
    [Theory]
    [InlineData(64, 4096, 4)]
    [InlineData(32, 2100, 2)]
    [InlineData(64, 3000, 2)]   // 23 tiles: 12 in the first chunk, the rest and 56 columns in the second
    [InlineData(1024, 8192, 8)]
    [InlineData(256, 512, 1)]
    [InlineData(8, 4096, 1)]
    public void Pivots_in_chunks_of_columns_are_the_whole_pass(int rows, int columns, int chunks)
    {
        var rng = new Random(rows + columns);
        var x = new double[rows * columns];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (rng.NextDouble() - 0.3) * 5.0;
        }
        float[] xf = Array.ConvertAll(x, v => (float)v);
        Assert.Equal(chunks, ColumnPivots.ChunkCount(x.Length, columns));

        var wholeF = new float[columns];
        var wholeD = new double[columns];
        ColumnPivots.Compute(xf, columns, wholeF);
        ColumnPivots.Compute(x, columns, wholeD);
        float[] chunkedF = Array.ConvertAll(new float[columns], _ => float.NaN);
        double[] chunkedD = Array.ConvertAll(new double[columns], _ => double.NaN);
        for (int chunk = chunks - 1; chunk >= 0; chunk--)
        {
            ColumnPivots.ComputeChunk(xf, columns, chunkedF, chunk);
            ColumnPivots.ComputeChunk(x, columns, chunkedD, chunk);
        }
        SameBits.Assert<float>("float pivots", wholeF, "whole", chunkedF, "in chunks");
        SameBits.Assert<double>("double pivots", wholeD, "whole", chunkedD, "in chunks");
    }

    [Fact]
    public void Every_column_within_a_standard_deviation_passes_the_check()
    {
        // Column 0: shift 1, variance 2 − 1 = 1 (the boundary, passes); column 1: shift 0.5, variance 0.
        double[] sums = [4.0, 2.0, 0.0, 0.0, 8.0, 1.0];
        Assert.True(ColumnPivots.WithinStandardDeviation(sums, 4, 0.25, 1));
        Assert.False(ColumnPivots.WithinStandardDeviation(sums, 4, 0.25, 2));
        sums[0] = double.NaN;
        Assert.False(ColumnPivots.WithinStandardDeviation(sums, 4, 0.25, 1));
    }

    /// <summary>
    /// The vector check against the scalar formula, one column at a time set to each edge case (the boundary, a negative
    /// difference with and without a shift, NaN in either sum, infinities, −0) at every position of 13 columns: three
    /// vectors of four and a tail, so every lane of a vector and the tail see each case.
    /// </summary>
    [Fact]
    public void The_check_gives_the_scalar_formula_for_every_column_and_edge_case()
    {
        (double SumD, double SumD2)[] cases =
        [
            (4.0, 8.0),                        // shift 1, variance 1: the boundary, passes
            (4.0, 7.9),                        // shift 1, variance 0.975: fails
            (0.0, -1.0),                       // no shift, negative difference (clamped to 0): passes
            (-0.0, 0.0),                       // −0: passes
            (1e-3, -1.0),                      // a shift and a negative difference: fails
            (double.NaN, 8.0),
            (4.0, double.NaN),
            (double.PositiveInfinity, 8.0),
            (0.0, double.PositiveInfinity),    // no shift, infinite variance: passes
            (1.0, 100.0),                      // well within: passes
        ];
        const int count = 13, squaresRow = 16;
        const double invCount = 0.25;
        foreach ((double sumD, double sumD2) in cases)
        {
            for (int at = 0; at < count; at++)
            {
                var sums = new double[squaresRow + count];
                for (int i = 0; i < count; i++)
                {
                    sums[i] = 0.5;          // shift 0.125, variance 1 − 0.015625: within
                    sums[squaresRow + i] = 4.0;
                }
                sums[at] = sumD;
                sums[squaresRow + at] = sumD2;
                double shift = sumD * invCount;
                double variance = Math.Max((sumD2 * invCount) - (shift * shift), 0.0);
                bool expected = shift * shift <= variance;
                Assert.True(expected == ColumnPivots.WithinStandardDeviation(sums, squaresRow, invCount, count),
                    $"Σd = {sumD}, Σd² = {sumD2} at column {at}: expected {expected}");
            }
        }
    }

    [Fact]
    public void Bad_shapes_are_refused_with_what_was_expected()
    {
        var e = Assert.Throws<ArgumentException>(() => ColumnPivots.Compute(new float[10], 4, new float[4]));
        Assert.Contains("whole number of rows of 4 columns", e.Message);
        Assert.Throws<ArgumentException>(() => ColumnPivots.Compute(new float[8], 4, new float[3]));
        Assert.Throws<ArgumentException>(() => ColumnPivots.WithinStandardDeviation(new double[6], 2, 1.0, 3));
        var chunk = Assert.Throws<ArgumentOutOfRangeException>(() => ColumnPivots.ComputeChunk(new float[64 * 4096], 4096, new float[4096], 4));
        Assert.Contains("expected a chunk below 4, got 4", chunk.Message);
        Assert.Throws<ArgumentException>(() => ColumnPivots.ChunkCount(10, 4));
    }
}
