using System;
using System.Linq;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// <see cref="Simd.SpreadMean(ref float, int, int)"/>, the statistics pass's pivot for runs of 64 values and more, must lie
/// within a standard deviation of the run's mean (else the pass sums the group a second time) also for data with a period
/// that divides its stride: 8 single values spread along the run would all be of one phase.
/// </summary>
public sealed class SpreadMeanTests
{
    /// <summary>A pattern 0, 1, 2, 3, 4 repeating along a LayerNorm(1000) row (stride 125): one value every 125 reads 0 eight times.</summary>
    [Fact]
    public void A_period_that_divides_the_stride()
    {
        double[] row = Enumerable.Range(0, 1000).Select(i => (double)(i % 5)).ToArray();

        AssertWithinOneStd(row, stride: 125);
    }

    /// <summary>
    /// Channels-last RGB, normalized over H·W·C (a 32×32 image: 3,072 values, stride 384, a multiple of 3): the channels'
    /// means 0, 10 and 20, noise of std 0.1 — one value every 384 reads the red channel alone, 10 from the mean (std 8.2).
    /// </summary>
    [Fact]
    public void Interleaved_channels_of_different_means()
    {
        var rng = new Random(61);
        double[] noise = TestData.Normal(rng, 3072, 0, 0.1);
        double[] image = noise.Select((v, i) => v + (10.0 * (i % 3))).ToArray();

        AssertWithinOneStd(image, stride: 384);
    }

    /// <summary>A value far from the rest (an outlier feature) among those sampled weighs 1/64 of the pivot, not 1/8.</summary>
    [Fact]
    public void An_outlier_at_a_sampled_place()
    {
        var rng = new Random(62);
        double[] row = TestData.Normal(rng, 768, 0, 1);
        row[96] = 40.0;

        AssertWithinOneStd(row, stride: 96);
    }

    private static void AssertWithinOneStd(double[] values, int stride)
    {
        double mean = values.Average();
        double std = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
        float[] floats = TestData.To<float>(values);
        double[] doubles = TestData.RoundToFloat(values);

        double floatPivot = Simd.SpreadMean(ref floats[0], 0, stride);
        double doublePivot = Simd.SpreadMean(ref doubles[0], 0, stride);

        Assert.True(Math.Abs(floatPivot - mean) < std, $"float pivot {floatPivot}, mean {mean}, std {std}");
        Assert.True(Math.Abs(doublePivot - mean) < std, $"double pivot {doublePivot}, mean {mean}, std {std}");
    }
}
