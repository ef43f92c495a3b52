using System;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// The backward's per-column constants of the rows × columns kernels must be the scalar formulas the generated code
/// used to compute them with, bit for bit, for every count (whole vectors, tails, both), float and double; and refuse
/// arrays that do not hold what the count says.
/// </summary>
public sealed class DxConstantsTests
{
    public static TheoryData<int> Counts => new() { 0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 64, 517 };

    [Theory]
    [MemberData(nameof(Counts))]
    public void Narrow_splits_the_mean_and_rounds_as_the_scalar_formula(int count)
    {
        var rng = new Random(count + 300);
        // Means far from zero, so that the low part is not zero.
        double[] mean = TestData.Uniform(rng, count, -2e3, 8e3);
        double[] invStd = TestData.Uniform(rng, count, 6, 16);
        var hi = new float[count];
        var lo = new float[count];
        var inv = new float[count];
        DxConstants.Narrow(mean, invStd, hi, lo, inv, count);
        var expectedHi = new float[count];
        var expectedLo = new float[count];
        var expectedInv = new float[count];
        for (int i = 0; i < count; i++)
        {
            expectedHi[i] = (float)mean[i];
            expectedLo[i] = (float)(mean[i] - expectedHi[i]);
            expectedInv[i] = (float)invStd[i];
        }
        SameBits.Assert<float>("hi", expectedHi, "scalar formula", hi, "vectorized");
        SameBits.Assert<float>("lo", expectedLo, "scalar formula", lo, "vectorized");
        SameBits.Assert<float>("invStd", expectedInv, "scalar formula", inv, "vectorized");

        var rmsInv = new float[count];
        DxConstants.Narrow(invStd, rmsInv, count);
        SameBits.Assert<float>("invStd alone", expectedInv, "scalar formula", rmsInv, "vectorized");

        var hiD = new double[count + 3];
        var invD = new double[count + 3];
        DxConstants.Narrow(mean, invStd, hiD, invD, count);
        SameBits.Assert<double>("hi (double)", mean, "saved mean", hiD.AsSpan(0, count).ToArray(), "copied");
        SameBits.Assert<double>("invStd (double)", invStd, "saved 1/std", invD.AsSpan(0, count).ToArray(), "copied");
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void SlopeAndOffset_match_the_scalar_formula(int count)
    {
        var rng = new Random(count + 400);
        int squaresRow = count + 16;
        double[] sums = TestData.Uniform(rng, squaresRow + count, -500, 500);
        double[] invStd = TestData.Uniform(rng, count, 6, 16);
        const double invCount = 1.0 / 96;
        var expectedSlope = new float[count];
        var expectedOffset = new float[count];
        var expectedSlopeD = new double[count];
        var expectedOffsetD = new double[count];
        for (int i = 0; i < count; i++)
        {
            double s = invStd[i];
            expectedSlopeD[i] = s * s * sums[squaresRow + i] * invCount;
            expectedOffsetD[i] = s * sums[i] * invCount;
            expectedSlope[i] = (float)expectedSlopeD[i];
            expectedOffset[i] = (float)expectedOffsetD[i];
        }
        var slope = new float[count];
        var offset = new float[count];
        DxConstants.SlopeAndOffset(invStd, sums, squaresRow, invCount, slope, offset, centered: true, count);
        SameBits.Assert<float>("slope", expectedSlope, "scalar formula", slope, "vectorized");
        SameBits.Assert<float>("offset", expectedOffset, "scalar formula", offset, "vectorized");

        var slopeD = new double[count];
        var offsetD = new double[count];
        DxConstants.SlopeAndOffset(invStd, sums, squaresRow, invCount, slopeD, offsetD, centered: true, count);
        SameBits.Assert<double>("slope (double)", expectedSlopeD, "scalar formula", slopeD, "vectorized");
        SameBits.Assert<double>("offset (double)", expectedOffsetD, "scalar formula", offsetD, "vectorized");

        // Without a mean (RMSNorm) the offset is zero; stale values do not survive.
        Array.Fill(offset, 7f);
        DxConstants.SlopeAndOffset(invStd, sums, squaresRow, invCount, slope, offset, centered: false, count);
        SameBits.Assert<float>("slope (uncentered)", expectedSlope, "scalar formula", slope, "vectorized");
        SameBits.Assert<float>("offset (uncentered)", new float[count], "zero", offset, "vectorized");
    }

    /// <summary>
    /// The column kernels' slope and offset from the merged dγ and dβ rows: Σg·x̂ = γ·Σdy·x̂ and Σg = γ·Σdy in double
    /// (γ = 1 for a layer without it), then the same formula, bit for bit, float and double, with and without a mean.
    /// </summary>
    [Theory]
    [MemberData(nameof(Counts))]
    public void SlopeAndOffsetOfParameterSums_match_the_scalar_formula(int count)
    {
        var rng = new Random(count + 450);
        int dySumRow = count + 16;
        double[] sums = TestData.Uniform(rng, dySumRow + count, -500, 500);
        double[] invStd = TestData.Uniform(rng, count, 6, 16);
        double[] gammaD = TestData.Uniform(rng, count, -2, 2);
        float[] gamma = TestData.To<float>(gammaD);
        const double invCount = 1.0 / 96;
        foreach (bool withGamma in new[] { true, false })
        {
            var expectedSlope = new float[count];
            var expectedOffset = new float[count];
            var expectedSlopeD = new double[count];
            var expectedOffsetD = new double[count];
            for (int i = 0; i < count; i++)
            {
                double s = invStd[i];
                double g = withGamma ? gamma[i] : 1.0, gD = withGamma ? gammaD[i] : 1.0;
                expectedSlope[i] = (float)(s * s * (g * sums[i]) * invCount);
                expectedOffset[i] = (float)(s * (g * sums[dySumRow + i]) * invCount);
                expectedSlopeD[i] = s * s * (gD * sums[i]) * invCount;
                expectedOffsetD[i] = s * (gD * sums[dySumRow + i]) * invCount;
            }
            var slope = new float[count];
            var offset = new float[count];
            DxConstants.SlopeAndOffsetOfParameterSums(invStd, sums, dySumRow, withGamma ? gamma : [], invCount, slope, offset, centered: true, count);
            SameBits.Assert<float>($"slope (γ: {withGamma})", expectedSlope, "scalar formula", slope, "vectorized");
            SameBits.Assert<float>($"offset (γ: {withGamma})", expectedOffset, "scalar formula", offset, "vectorized");
            var slopeD = new double[count];
            var offsetD = new double[count];
            DxConstants.SlopeAndOffsetOfParameterSums(invStd, sums, dySumRow, withGamma ? gammaD : [], invCount, slopeD, offsetD, centered: true, count);
            SameBits.Assert<double>($"slope (double, γ: {withGamma})", expectedSlopeD, "scalar formula", slopeD, "vectorized");
            SameBits.Assert<double>($"offset (double, γ: {withGamma})", expectedOffsetD, "scalar formula", offsetD, "vectorized");

            Array.Fill(offset, 7f);
            DxConstants.SlopeAndOffsetOfParameterSums(invStd, sums, dySumRow, withGamma ? gamma : [], invCount, slope, offset, centered: false, count);
            SameBits.Assert<float>($"slope (uncentered, γ: {withGamma})", expectedSlope, "scalar formula", slope, "vectorized");
            SameBits.Assert<float>($"offset (uncentered, γ: {withGamma})", new float[count], "zero", offset, "vectorized");
        }
        var e = Assert.Throws<ArgumentException>(() =>
            DxConstants.SlopeAndOffsetOfParameterSums(invStd, sums, count - 1, gamma, invCount, new float[count], new float[count], centered: true, count));
        Assert.Contains($"Σdy in sums[{count - 1}", e.Message);
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Gain_and_the_low_part_fold_match_the_scalar_formula(int count)
    {
        var rng = new Random(count + 500);
        float[] gamma = TestData.To<float>(TestData.Uniform(rng, count, -1, 1));
        float[] invStd = TestData.To<float>(TestData.Uniform(rng, count, -5, 5));
        float[] meanLo = TestData.To<float>(TestData.Uniform(rng, count, -5e-4, 5e-4));
        float[] slope = TestData.To<float>(TestData.Uniform(rng, count, -2.5, 2.5));
        float[] offset = TestData.To<float>(TestData.Uniform(rng, count, -2.5, 2.5));
        var expectedGain = new float[count];
        float[] expectedOffset = (float[])offset.Clone();
        for (int i = 0; i < count; i++)
        {
            expectedGain[i] = gamma[i] * invStd[i];
            expectedOffset[i] -= meanLo[i] * slope[i];
        }
        var gain = new float[count];
        DxConstants.Gain(gamma, invStd, gain, count);
        DxConstants.FoldLowPart(offset, meanLo, slope, count);
        SameBits.Assert<float>("gain", expectedGain, "scalar formula", gain, "vectorized");
        SameBits.Assert<float>("offset", expectedOffset, "scalar formula", offset, "vectorized");

        double[] gammaD = TestData.Uniform(rng, count, -1, 1);
        double[] invStdD = TestData.Uniform(rng, count, -5, 5);
        var expectedGainD = new double[count];
        for (int i = 0; i < count; i++)
        {
            expectedGainD[i] = gammaD[i] * invStdD[i];
        }
        var gainD = new double[count];
        DxConstants.Gain(gammaD, invStdD, gainD, count);
        SameBits.Assert<double>("gain (double)", expectedGainD, "scalar formula", gainD, "vectorized");
    }

    [Fact]
    public void Arrays_shorter_than_the_count_are_refused_with_what_was_expected()
    {
        var e = Assert.Throws<ArgumentException>(() => DxConstants.SlopeAndOffset(new double[4], new double[10], 4, 1.0, new float[4], new float[4], true, 8));
        Assert.Contains("Σg·x̂ in sums[4, 4 + 8) of 10 values", e.Message);
        Assert.Throws<ArgumentException>(() => DxConstants.Narrow(new double[4], new double[4], new float[4], new float[3], new float[4], 4));
        Assert.Throws<ArgumentException>(() => DxConstants.Gain(new float[4], new float[4], new float[2], 4));
        Assert.Throws<ArgumentException>(() => DxConstants.FoldLowPart(new float[4], new float[3], new float[4], 4));
    }
}
