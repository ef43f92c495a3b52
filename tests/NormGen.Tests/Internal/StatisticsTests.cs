using System;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// The vectorized per-statistic helpers must give the scalar formula in their documentation bit for bit, for every
/// count (whole vectors, tails, both) and with or without γ and β; and refuse arrays shorter than the count.
/// </summary>
public sealed class StatisticsTests
{
    public static TheoryData<int> Counts => new() { 0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 64, 517 };

    /// <summary>Both running statistics, updated in one loop, get the scalar formula bit for bit.</summary>
    [Theory]
    [MemberData(nameof(Counts))]
    public void UpdateRunning_matches_the_scalar_formula(int count)
    {
        var rng = new Random(count + 50);
        double[] mean = Doubles(rng, count, 10), variance = Doubles(rng, count, 0, 5);
        float[] meanF = Floats(rng, count, 10), varF = Floats(rng, count, 0, 5);
        double[] meanD = Doubles(rng, count, 10), varD = Doubles(rng, count, 0, 5);
        float[] expectedMeanF = new float[count], expectedVarF = new float[count];
        double[] expectedMeanD = new double[count], expectedVarD = new double[count];
        const double momentum = 0.1, unbiased = 1.0 + (1.0 / 63);
        for (int i = 0; i < count; i++)
        {
            expectedMeanF[i] = (float)(((1.0 - momentum) * meanF[i]) + (momentum * mean[i] * 1.0));
            expectedVarF[i] = (float)(((1.0 - momentum) * varF[i]) + (momentum * variance[i] * unbiased));
            expectedMeanD[i] = ((1.0 - momentum) * meanD[i]) + (momentum * mean[i] * 1.0);
            expectedVarD[i] = ((1.0 - momentum) * varD[i]) + (momentum * variance[i] * unbiased);
        }

        Statistics.UpdateRunning(meanF, varF, mean, variance, momentum, unbiased, count);
        Statistics.UpdateRunning(meanD, varD, mean, variance, momentum, unbiased, count);

        SameBits.Assert<float>("RunningMean (float)", expectedMeanF, "scalar formula", meanF, "vectorized");
        SameBits.Assert<float>("RunningVar (float)", expectedVarF, "scalar formula", varF, "vectorized");
        SameBits.Assert<double>("RunningMean (double)", expectedMeanD, "scalar formula", meanD, "vectorized");
        SameBits.Assert<double>("RunningVar (double)", expectedVarD, "scalar formula", varD, "vectorized");
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void MeanAndInverseStd_matches_the_scalar_formula(int count)
    {
        var rng = new Random(count + 100);
        float[] meanF = Floats(rng, count, 100);
        float[] varF = Floats(rng, count, 0, 5);
        double[] meanD = Doubles(rng, count, 100);
        double[] varD = Doubles(rng, count, 0, 5);
        var mean = new double[count];
        var invStd = new double[count];
        Statistics.MeanAndInverseStd(meanF, varF, 1e-5, mean, invStd, count);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal((double)meanF[i], mean[i]);
            Assert.Equal(BitConverter.DoubleToInt64Bits(1.0 / Math.Sqrt(varF[i] + 1e-5)), BitConverter.DoubleToInt64Bits(invStd[i]));
        }
        Statistics.MeanAndInverseStd(meanD, varD, 1e-3, mean, invStd, count);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(meanD[i], mean[i]);
            Assert.Equal(BitConverter.DoubleToInt64Bits(1.0 / Math.Sqrt(varD[i] + 1e-3)), BitConverter.DoubleToInt64Bits(invStd[i]));
        }
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void FoldScaleShift_matches_the_scalar_formula(int count)
    {
        var rng = new Random(count + 200);
        // Means far from zero, so that the low part (mean − hi) is not zero and the shift depends on it.
        double[] mean = Doubles(rng, count, 1e4);
        double[] invStd = Doubles(rng, count, 0.1, 3);
        foreach (bool affine in new[] { true, false })
        {
            float[] gamma = affine ? Floats(rng, count, 2) : [];
            float[] beta = affine ? Floats(rng, count, 2) : [];
            var hi = new float[count];
            var scale = new float[count];
            var shift = new float[count];
            Statistics.FoldScaleShift(mean, invStd, gamma, beta, hi, scale, shift, count);
            for (int i = 0; i < count; i++)
            {
                float h = (float)mean[i];
                double s = invStd[i] * (affine ? gamma[i] : 1.0);
                Assert.Equal(h, hi[i]);
                Assert.Equal(BitConverter.SingleToInt32Bits((float)s), BitConverter.SingleToInt32Bits(scale[i]));
                Assert.Equal(BitConverter.SingleToInt32Bits((float)((affine ? beta[i] : 0.0) - ((mean[i] - h) * s))), BitConverter.SingleToInt32Bits(shift[i]));
            }

            double[] gammaD = affine ? Doubles(rng, count, 2) : [];
            double[] betaD = affine ? Doubles(rng, count, 2) : [];
            var hiD = new double[count];
            var scaleD = new double[count];
            var shiftD = new double[count];
            Statistics.FoldScaleShift(mean, invStd, gammaD, betaD, hiD, scaleD, shiftD, count);
            for (int i = 0; i < count; i++)
            {
                Assert.Equal(mean[i], hiD[i]);
                Assert.Equal(invStd[i] * (affine ? gammaD[i] : 1.0), scaleD[i]);
                Assert.Equal(affine ? betaD[i] : 0.0, shiftD[i]);
            }
        }
    }

    /// <summary>
    /// FoldScaleShiftNearZero: hi = 0 and the whole mean in the shift where |mean|·invStd ≤ 16, the mean's high part
    /// elsewhere, each statistic by the scalar formula whether it falls in a vector or the tail; it returns whether every
    /// hi is 0. Means between 0 and 32 standard deviations, so both kinds occur in vectors and tails.
    /// </summary>
    [Theory]
    [MemberData(nameof(Counts))]
    public void FoldScaleShiftNearZero_folds_the_means_within_two_standard_deviations(int count)
    {
        var rng = new Random(count + 250);
        double[] invStd = Doubles(rng, count, 0.1, 3);
        double[] mean = new double[count];
        for (int i = 0; i < count; i++)
        {
            // Alternately just inside and just outside the limit, then more spread.
            double deviations = i < 4 ? (i % 2 == 0 ? 15.999 : 16.001) : rng.NextDouble() * 32;
            mean[i] = (i % 3 == 0 ? -1 : 1) * deviations / invStd[i];
        }
        float[] gamma = Floats(rng, count, 2);
        float[] beta = Floats(rng, count, 2);
        var hi = new float[count];
        var scale = new float[count];
        var shift = new float[count];
        bool folded = Statistics.FoldScaleShiftNearZero(mean, invStd, gamma, beta, hi, scale, shift, count);
        bool allNear = true;
        for (int i = 0; i < count; i++)
        {
            bool near = Math.Abs(mean[i]) * invStd[i] <= Statistics.FoldedMeanLimit;
            allNear &= near;
            float h = near ? 0f : (float)mean[i];
            double s = invStd[i] * gamma[i];
            Assert.Equal(BitConverter.SingleToInt32Bits(h), BitConverter.SingleToInt32Bits(hi[i]));
            Assert.Equal(BitConverter.SingleToInt32Bits((float)s), BitConverter.SingleToInt32Bits(scale[i]));
            Assert.Equal(BitConverter.SingleToInt32Bits((float)(beta[i] - ((mean[i] - h) * s))), BitConverter.SingleToInt32Bits(shift[i]));
        }
        Assert.Equal(allNear, folded);
        // The data has a mean past the limit (the second) wherever there are two.
        Assert.Equal(count < 2, folded);

        double[] gammaD = Doubles(rng, count, 2);
        double[] betaD = Doubles(rng, count, 2);
        var hiD = new double[count];
        var scaleD = new double[count];
        var shiftD = new double[count];
        Assert.Equal(count < 2, Statistics.FoldScaleShiftNearZero(mean, invStd, gammaD, betaD, hiD, scaleD, shiftD, count));
        for (int i = 0; i < count; i++)
        {
            bool near = Math.Abs(mean[i]) * invStd[i] <= Statistics.FoldedMeanLimit;
            double s = invStd[i] * gammaD[i];
            Assert.Equal(BitConverter.DoubleToInt64Bits(near ? 0.0 : mean[i]), BitConverter.DoubleToInt64Bits(hiD[i]));
            Assert.Equal(BitConverter.DoubleToInt64Bits(s), BitConverter.DoubleToInt64Bits(scaleD[i]));
            Assert.Equal(BitConverter.DoubleToInt64Bits(near ? betaD[i] - (mean[i] * s) : betaD[i]), BitConverter.DoubleToInt64Bits(shiftD[i]));
        }
    }

    /// <summary>Every mean near zero, in vectors and the tail: the fold reports it, so the y pass may leave hi out.</summary>
    [Theory]
    [InlineData(13)]
    [InlineData(16)]
    public void FoldScaleShiftNearZero_reports_when_every_mean_is_folded(int count)
    {
        var rng = new Random(count + 260);
        double[] invStd = Doubles(rng, count, 0.1, 3);
        double[] mean = Array.ConvertAll(invStd, v => -15.0 / v);
        var hi = new float[count];
        Assert.True(Statistics.FoldScaleShiftNearZero(mean, invStd, [], [], hi, new float[count], new float[count], count));
        Assert.All(hi, h => Assert.Equal(0, BitConverter.SingleToInt32Bits(h)));
        // One mean past the limit, in the vector part or in the tail, and the fold says so.
        foreach (int far in new[] { 2, count - 1 })
        {
            double[] withFar = (double[])mean.Clone();
            withFar[far] = 17.0 / invStd[far];
            Assert.False(Statistics.FoldScaleShiftNearZero(withFar, invStd, [], [], hi, new float[count], new float[count], count));
            Assert.False(Statistics.FoldScaleShiftNearZero(withFar, invStd, [], [], new double[count], new double[count], new double[count], count));
            Assert.Equal((float)withFar[far], hi[far]);
        }
    }

    /// <summary>
    /// The fold writes only values whose bits change (so the helper threads keep their cached copies): arrays holding a
    /// previous fold, and zeros of the other sign (equal as numbers, different bits), end with exactly a fresh fold's bits.
    /// </summary>
    [Theory]
    [InlineData(16)]
    [InlineData(13)]
    public void FoldScaleShift_over_earlier_values_leaves_a_fresh_folds_bits(int count)
    {
        var rng = new Random(count + 300);
        double[] mean = Doubles(rng, count, 1e4);
        double[] invStd = Doubles(rng, count, 0.1, 3);
        float[] gamma = Floats(rng, count, 2);
        float[] beta = Floats(rng, count, 2);
        double[] gammaD = Doubles(rng, count, 2);
        double[] betaD = Doubles(rng, count, 2);
        // Half the statistics fold to zeros: mean 0 (no low part), γ = −0 (scale −0), β = −0 (shift −0 − 0·s = −0).
        for (int i = 0; i < count; i += 2)
        {
            mean[i] = 0;
            gamma[i] = -0f;
            beta[i] = -0f;
            gammaD[i] = -0.0;
            betaD[i] = -0.0;
        }

        // The fresh fold writes over NaNs, which no result equals in any sense.
        float[] freshHi = NaNs<float>(count), freshScale = NaNs<float>(count), freshShift = NaNs<float>(count);
        Statistics.FoldScaleShift(mean, invStd, gamma, beta, freshHi, freshScale, freshShift, count);
        // Earlier values: the same fold but +0 where it gives −0 (the vectors then compare equal as numbers); then an
        // unrelated fold.
        float[] hi = (float[])freshHi.Clone(), scale = (float[])freshScale.Clone(), shift = (float[])freshShift.Clone();
        for (int i = 0; i < count; i += 2)
        {
            scale[i] = 0f;
            shift[i] = 0f;
        }
        Statistics.FoldScaleShift(mean, invStd, gamma, beta, hi, scale, shift, count);
        Assert.Equal(Bits(freshScale), Bits(scale));
        Assert.Equal(Bits(freshShift), Bits(shift));
        Statistics.FoldScaleShift(Doubles(rng, count, 5), invStd, [], [], hi, scale, shift, count);
        Statistics.FoldScaleShift(mean, invStd, gamma, beta, hi, scale, shift, count);
        Assert.Equal(Bits(freshHi), Bits(hi));
        Assert.Equal(Bits(freshScale), Bits(scale));
        Assert.Equal(Bits(freshShift), Bits(shift));
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(scale[0]));

        double[] freshHiD = NaNs<double>(count), freshScaleD = NaNs<double>(count), freshShiftD = NaNs<double>(count);
        Statistics.FoldScaleShift(mean, invStd, gammaD, betaD, freshHiD, freshScaleD, freshShiftD, count);
        double[] hiD = (double[])freshHiD.Clone(), scaleD = (double[])freshScaleD.Clone(), shiftD = (double[])freshShiftD.Clone();
        for (int i = 0; i < count; i += 2)
        {
            scaleD[i] = 0.0;
            shiftD[i] = 0.0;
        }
        Statistics.FoldScaleShift(mean, invStd, gammaD, betaD, hiD, scaleD, shiftD, count);
        Assert.Equal(Array.ConvertAll(freshScaleD, BitConverter.DoubleToInt64Bits), Array.ConvertAll(scaleD, BitConverter.DoubleToInt64Bits));
        Statistics.FoldScaleShift(Doubles(rng, count, 5), invStd, [], [], hiD, scaleD, shiftD, count);
        Statistics.FoldScaleShift(mean, invStd, gammaD, betaD, hiD, scaleD, shiftD, count);
        Assert.Equal(Array.ConvertAll(freshHiD, BitConverter.DoubleToInt64Bits), Array.ConvertAll(hiD, BitConverter.DoubleToInt64Bits));
        Assert.Equal(Array.ConvertAll(freshScaleD, BitConverter.DoubleToInt64Bits), Array.ConvertAll(scaleD, BitConverter.DoubleToInt64Bits));
        Assert.Equal(Array.ConvertAll(freshShiftD, BitConverter.DoubleToInt64Bits), Array.ConvertAll(shiftD, BitConverter.DoubleToInt64Bits));
        Assert.Equal(BitConverter.DoubleToInt64Bits(-0.0), BitConverter.DoubleToInt64Bits(shiftD[0]));
    }

    private static T[] NaNs<T>(int count)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        var values = new T[count];
        Array.Fill(values, T.NaN);
        return values;
    }

    private static int[] Bits(float[] values) => Array.ConvertAll(values, BitConverter.SingleToInt32Bits);

    [Fact]
    public void Arrays_shorter_than_the_count_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Statistics.UpdateRunning(new float[8], new float[3], new double[8], new double[8], 0.1, 1.0, 8));
        Assert.Contains("expected at least 8 values, got 3", error.Message);
        Assert.Throws<ArgumentException>(() => Statistics.MeanAndInverseStd(new float[8], new float[8], 1e-5, new double[8], new double[7], 8));
        Assert.Throws<ArgumentException>(() => Statistics.FoldScaleShift(new double[8], new double[8], new float[4], [], new float[8], new float[8], new float[8], 8));
    }

    private static float[] Floats(Random rng, int count, double scale, double offset = 0) =>
        Array.ConvertAll(Doubles(rng, count, scale, offset), v => (float)v);

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
