using System;
using Xunit;

namespace NormGen.Tests.Semantics;

/// <summary>Input lengths: a fully sized Shape takes exactly SampleSize values; inference accepts a batch of one.</summary>
public class ShapeAndBatchTests
{
    private const double Eps = 1e-5;

    [Fact]
    public void FullySizedShape_TakesExactlyOneSample()
    {
        Assert.Equal(24, SemFullySizedInstanceNorm.SampleSize);
        var layer = new SemFullySizedInstanceNorm();
        var layout = NormLayout.InstanceNorm(1, 4, 6);
        var rng = new Random(61);
        double[] x = TestData.Uniform(rng, 24, -1, 2);
        double[] dy = TestData.Uniform(rng, 24, -1, 1);
        var y = new double[24];
        layer.Forward(x, y);
        var dx = new double[24];
        layer.Backward(x, dy, dx);
        ReferenceResult r = ReferenceNorm.Compute(layout, x, dy, null, null, Eps);
        Tolerance.AssertClose("y", (ReadOnlySpan<double>)y, r.Y, 1e-12);
        Tolerance.AssertClose("dx", (ReadOnlySpan<double>)dx, r.Dx, 1e-12);

        // Two samples' worth is not "equal to SampleSize" when there is no unsized dim.
        double[] before = (double[])y.Clone();
        var y48 = new double[48];
        Assert.ThrowsAny<ArgumentException>(() => layer.Forward(new double[48], y48));
        Assert.All(y48, v => Assert.Equal(0.0, v));
        // ... and the failed call did not replace the recorded forward.
        var dx2 = new double[24];
        layer.Backward(x, dy, dx2);
        Tolerance.AssertIdentical("dx after the failed Forward", dx, dx2);
        Tolerance.AssertIdentical("y", before, y);
    }

    [Fact]
    public void ForwardInference_WithDefaultStatistics_UsesMeanZeroVarianceOne()
    {
        var layer = new SemBatchNorm();
        double[] gamma = { 2, 1, 0.5 }, beta = { 0, 1, 2 };
        gamma.CopyTo(layer.Gamma);
        beta.CopyTo(layer.Beta);
        var layout = NormLayout.BatchNorm(2, 3, 4);
        double[] x = TestData.Uniform(new Random(62), layout.Length, -3, 3);
        var y = new double[x.Length];
#pragma warning disable NG1001 // deliberate: inference before any statistics, to check the documented defaults
        layer.ForwardInference(x, y);
#pragma warning restore NG1001
        Tolerance.AssertClose("y", (ReadOnlySpan<double>)y,
            ReferenceNorm.Normalize(layout, x, new double[3], new double[] { 1, 1, 1 }, gamma, beta, Eps), 1e-12);
        Assert.False(layer.HasRunningStatistics);
        Assert.Equal(0, layer.BatchesTracked);
    }

    [Fact]
    public void ForwardInference_BatchOfOne_IsAllowed()
    {
        // One value per channel only matters for batch statistics; inference uses the running ones.
        var layer = new SemStructBatchNorm();
        double[] mean = { 1, -1, 0.5 }, variance = { 4, 0.25, 1 };
        layer.LoadRunningStatistics(mean, variance);
        double[] x = { 3, 2, 1 };
        var y = new double[3];
        layer.ForwardInference(x, y);
        Tolerance.AssertClose("y", (ReadOnlySpan<double>)y,
            ReferenceNorm.Normalize(NormLayout.BatchNorm(1, 3, 1), x, mean, variance, null, null, Eps), 1e-12);
    }
}
