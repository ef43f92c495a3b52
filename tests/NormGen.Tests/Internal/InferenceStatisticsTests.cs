using System;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// ForwardInference's mean and 1/sqrt(RunningVar + ε) are recomputed only when a running statistic has changed, bit
/// for bit: an unchanged call leaves the outputs alone (a poisoned value survives), and any change — one mean, one
/// variance, +0 to −0, a NaN's payload — recomputes them.
/// </summary>
public sealed class InferenceStatisticsTests
{
    private const double Eps = 1e-5;

    [Fact]
    public void The_first_call_computes_and_an_unchanged_call_does_not()
    {
        float[] mean = [1, -2, 3, 0.5f, 7];
        float[] variance = [4, 0.25f, 1, 9, 2];
        var m = new double[5];
        var s = new double[5];
        float[]? computedFrom = null;
        InferenceStatistics.Update(mean, variance, Eps, m, s, ref computedFrom, 5);
        Assert.NotNull(computedFrom);
        AssertComputed(mean, variance, m, s);

        m[2] = 42;
        s[4] = 42;
        float[] copy = computedFrom!;
        InferenceStatistics.Update(mean, variance, Eps, m, s, ref computedFrom, 5);
        Assert.Equal(42, m[2]);
        Assert.Equal(42, s[4]);
        Assert.Same(copy, computedFrom);
    }

    public static TheoryData<string> Changes => new() { "mean", "variance", "negative zero", "NaN payload" };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Any_change_to_the_running_statistics_recomputes(string change)
    {
        float[] mean = [1, 0, 3, float.NaN];
        float[] variance = [4, 0.25f, 1, 9];
        var m = new double[4];
        var s = new double[4];
        float[]? computedFrom = null;
        InferenceStatistics.Update(mean, variance, Eps, m, s, ref computedFrom, 4);
        m[0] = m[1] = m[2] = m[3] = 42;
        s[0] = s[1] = s[2] = s[3] = 42;
        switch (change)
        {
            case "mean": mean[2] = 3.0000002f; break;
            case "variance": variance[0] = 4.0000005f; break;
            case "negative zero": mean[1] = -0f; break;
            default: mean[3] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(float.NaN) ^ 1); break;
        }
        InferenceStatistics.Update(mean, variance, Eps, m, s, ref computedFrom, 4);
        AssertComputed(mean, variance, m, s);
    }

    [Fact]
    public void Double_statistics_are_compared_alike()
    {
        double[] mean = [1, -2, 3];
        double[] variance = [4, 0.25, 1];
        var m = new double[3];
        var s = new double[3];
        double[]? computedFrom = null;
        InferenceStatistics.Update(mean, variance, Eps, m, s, ref computedFrom, 3);
        m[1] = 42;
        InferenceStatistics.Update(mean, variance, Eps, m, s, ref computedFrom, 3);
        Assert.Equal(42, m[1]);
        variance[1] = 0.5;
        InferenceStatistics.Update(mean, variance, Eps, m, s, ref computedFrom, 3);
        Assert.Equal(-2, m[1]);
        Assert.Equal(1.0 / Math.Sqrt(0.5 + Eps), s[1]);
    }

    private static void AssertComputed(float[] mean, float[] variance, double[] m, double[] s)
    {
        for (int i = 0; i < mean.Length; i++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(mean[i]), BitConverter.DoubleToInt64Bits(m[i]));
            Assert.Equal(1.0 / Math.Sqrt(variance[i] + Eps), s[i]);
        }
    }
}
