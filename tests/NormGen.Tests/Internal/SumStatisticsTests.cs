using System;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// The vectorized steps from partial sums to statistics must give the scalar formula in their documentation bit for
/// bit, for every count (whole vectors, tails, both), including the edge cases of the variance's clamp (a negative
/// difference, −0, NaN); and refuse arrays that do not hold what the count and rows say.
/// </summary>
public sealed class SumStatisticsTests
{
    public static TheoryData<int> Counts => new() { 0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 64, 517 };

    [Theory]
    [MemberData(nameof(Counts))]
    public void AddChunkRows_adds_the_chunks_in_chunk_order(int count)
    {
        var rng = new Random(count);
        const int rows = 2, chunks = 3;
        int stride = count + 16;
        // Magnitudes far apart, so that another order of the additions rounds differently.
        double[] partials = Doubles(rng, chunks * rows * stride, 1e16);
        for (int i = 0; i < partials.Length; i += 3)
        {
            partials[i] *= 1e-16;
        }
        var expected = (double[])partials.Clone();
        for (int chunk = 1; chunk < chunks; chunk++)
        {
            for (int row = 0; row < rows; row++)
            {
                for (int i = 0; i < count; i++)
                {
                    expected[(row * stride) + i] += expected[(((chunk * rows) + row) * stride) + i];
                }
            }
        }
        SumStatistics.AddChunkRows(partials, stride, rows, chunks, count);
        SameBits.Assert<double>("partials", expected, "scalar formula", partials, "vectorized");
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Means_match_the_scalar_formula(int count)
    {
        var rng = new Random(count + 100);
        // Means far from zero, so that the low part is not zero.
        double[] sums = Doubles(rng, count, 1e6);
        const double invCount = 1.0 / 96;
        var mean = new double[count];
        var hi = new float[count];
        var lo = new float[count];
        SumStatistics.Means(sums, invCount, mean, hi, lo, count);
        var expectedMean = new double[count];
        var expectedHi = new float[count];
        var expectedLo = new float[count];
        for (int i = 0; i < count; i++)
        {
            expectedMean[i] = sums[i] * invCount;
            expectedHi[i] = (float)expectedMean[i];
            expectedLo[i] = (float)(expectedMean[i] - expectedHi[i]);
        }
        SameBits.Assert<double>("mean", expectedMean, "scalar formula", mean, "vectorized");
        SameBits.Assert<float>("hi", expectedHi, "scalar formula", hi, "vectorized");
        SameBits.Assert<float>("lo", expectedLo, "scalar formula", lo, "vectorized");

        var hiD = new double[count];
        SumStatistics.Means(sums, invCount, mean, hiD, count);
        SameBits.Assert<double>("mean (double)", expectedMean, "scalar formula", mean, "vectorized");
        SameBits.Assert<double>("hi (double)", expectedMean, "scalar formula", hiD, "vectorized");
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void CorrectedVariance_matches_the_scalar_formula(int count)
    {
        var rng = new Random(count + 200);
        int squaresRow = count + 16;
        var sums = new double[2 * squaresRow];
        for (int i = 0; i < count; i++)
        {
            sums[i] = (rng.NextDouble() - 0.5) * 50;
            // Σd² near (Σd)²/n: the difference is sometimes negative (clamped), zero, −0 (Σd = 0, Σd² = −0) or NaN.
            double square = sums[i] * sums[i] / 64;
            sums[squaresRow + i] = (i % 5) switch
            {
                0 => square * 0.999,
                1 => square,
                2 => (i % 2 == 0) ? double.NaN : square,
                3 => -0.0,
                _ => square + (rng.NextDouble() * 100),
            };
            if (i % 5 == 3)
            {
                sums[i] = 0.0;
            }
        }
        const double invCount = 1.0 / 64, epsilon = 1e-5;
        float[] pivotF = Array.ConvertAll(Doubles(rng, count, 1e3), v => (float)v);
        double[] pivotD = Doubles(rng, count, 1e3);
        foreach (bool single in new[] { true, false })
        {
            var mean = new double[count];
            var variance = new double[count];
            var invStd = new double[count];
            if (single)
            {
                SumStatistics.CorrectedVariance(sums, squaresRow, invCount, pivotF, epsilon, mean, variance, invStd, count);
            }
            else
            {
                SumStatistics.CorrectedVariance(sums, squaresRow, invCount, pivotD, epsilon, mean, variance, invStd, count);
            }
            var expectedMean = new double[count];
            var expectedVariance = new double[count];
            var expectedInvStd = new double[count];
            for (int i = 0; i < count; i++)
            {
                double shift = sums[i] * invCount;
                expectedMean[i] = (single ? pivotF[i] : pivotD[i]) + shift;
                expectedVariance[i] = Math.Max((sums[squaresRow + i] * invCount) - (shift * shift), 0.0);
                expectedInvStd[i] = 1.0 / Math.Sqrt(expectedVariance[i] + epsilon);
            }
            string kind = single ? "float pivot" : "double pivot";
            SameBits.Assert<double>($"mean ({kind})", expectedMean, "scalar formula", mean, "vectorized");
            SameBits.Assert<double>($"variance ({kind})", expectedVariance, "scalar formula", variance, "vectorized");
            SameBits.Assert<double>($"invStd ({kind})", expectedInvStd, "scalar formula", invStd, "vectorized");
        }
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Variance_matches_the_scalar_formula(int count)
    {
        var rng = new Random(count + 300);
        double[] sums = Doubles(rng, count, 30, 31);
        const double invCount = 1.0 / 768, epsilon = 1e-6;
        var variance = new double[count];
        var invStd = new double[count];
        SumStatistics.Variance(sums, invCount, epsilon, variance, invStd, count);
        var expectedVariance = new double[count];
        var expectedInvStd = new double[count];
        for (int i = 0; i < count; i++)
        {
            expectedVariance[i] = sums[i] * invCount;
            expectedInvStd[i] = 1.0 / Math.Sqrt(expectedVariance[i] + epsilon);
        }
        SameBits.Assert<double>("variance", expectedVariance, "scalar formula", variance, "vectorized");
        SameBits.Assert<double>("invStd", expectedInvStd, "scalar formula", invStd, "vectorized");
    }

    [Fact]
    public void Arrays_that_do_not_hold_the_count_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => SumStatistics.AddChunkRows(new double[2 * 2 * 24], 24, 2, 3, 8));
        Assert.Contains("3 chunks of 2 rows of 8 sums, 24 apart", error.Message);
        Assert.Throws<ArgumentException>(() => SumStatistics.AddChunkRows(new double[64], 8, 1, 2, 9));
        error = Assert.Throws<ArgumentException>(() => SumStatistics.Means(new double[8], 1.0, new double[8], new float[8], new float[7], 8));
        Assert.Contains("at least 8", error.Message);
        error = Assert.Throws<ArgumentException>(() => SumStatistics.CorrectedVariance(new double[20], 4, 1.0, new float[8], 1e-5, new double[8], new double[8], new double[8], 8));
        Assert.Contains("Σd² in sums[4, 4 + 8)", error.Message);
        Assert.Throws<ArgumentException>(() => SumStatistics.Variance(new double[8], 1.0, 1e-5, new double[8], new double[3], 8));
    }

    private static double[] Doubles(Random rng, int count, double scale, double offset = 0)
    {
        var a = new double[count];
        for (int i = 0; i < count; i++)
        {
            a[i] = offset + (scale * ((rng.NextDouble() * 2) - 1));
        }
        return a;
    }
}
