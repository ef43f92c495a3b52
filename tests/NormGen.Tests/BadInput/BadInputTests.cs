using System;
using System.Text.RegularExpressions;
using Xunit;

namespace NormGen.Tests.BadInput;

/// <summary>
/// DESIGN "Bad input never corrupts state": every bad call throws the documented exception, its message
/// names the expected and the actual size, nothing changes (Gamma, Beta, gradients, running statistics,
/// BatchesTracked, HasRunningStatistics, the output buffer), and the next valid Backward/ForwardInference
/// gives bit-for-bit what an instance that never saw the bad call gives.
/// </summary>
public class BadInputTests
{
    private const int Sample = 24;     // GuardedBatchNorm.SampleSize = GuardedLayerNorm.SampleSize
    private const int Len = 48;        // the valid batch: N = 2

    private static readonly float[] X = TestData.To<float>(TestData.Uniform(new Random(7), Len, -2, 3));
    private static readonly float[] Dy = TestData.To<float>(TestData.Uniform(new Random(8), Len, -1, 1));
    private static readonly float[] XEval = TestData.To<float>(TestData.Uniform(new Random(9), Len, -2, 3));
    private static readonly float[] X1d = TestData.To<float>(TestData.Uniform(new Random(10), 12, -2, 3));
    private static readonly float[] Dy1d = TestData.To<float>(TestData.Uniform(new Random(11), 12, -1, 1));

    // ---------- BatchNorm: forwards ----------

    [Theory]
    [InlineData(50)]
    [InlineData(23)]
    [InlineData(0)]
    public void ForwardTraining_LengthNotAPositiveMultipleOfSampleSize(int length)
    {
        GuardedBatchNorm layer = TrainedBatchNorm();
        float[] y = LayerSnapshot.Sentinel(length);
        var snapshot = new LayerSnapshot(layer, y);
        AssertArgument(() => layer.ForwardTraining(new float[length], y), length, Sample);
        snapshot.AssertUnchanged($"ForwardTraining with {length} values");
        AssertBehavesLikeTwin(layer);
    }

    [Theory]
    [InlineData(50)]
    [InlineData(0)]
    public void ForwardInference_LengthNotAPositiveMultipleOfSampleSize(int length)
    {
        GuardedBatchNorm layer = TrainedBatchNorm();
        float[] y = LayerSnapshot.Sentinel(length);
        var snapshot = new LayerSnapshot(layer, y);
        AssertArgument(() => layer.ForwardInference(new float[length], y), length, Sample);
        snapshot.AssertUnchanged($"ForwardInference with {length} values");
        AssertBehavesLikeTwin(layer);
    }

    [Theory]
    [InlineData(71)]
    [InlineData(96)]
    public void ForwardTraining_YOfWrongLength(int yLength)
    {
        GuardedBatchNorm layer = TrainedBatchNorm();
        float[] y = LayerSnapshot.Sentinel(yLength);
        var snapshot = new LayerSnapshot(layer, y);
        // Another batch size (N = 3) than the recorded forward's, so a half-recorded forward would show in Backward.
        float[] x = TestData.To<float>(TestData.Uniform(new Random(12), 72, -1, 1));
        AssertArgument(() => layer.ForwardTraining(x, y), yLength, 72);
        snapshot.AssertUnchanged($"ForwardTraining with y of {yLength}");
        AssertBehavesLikeTwin(layer);
    }

    [Theory]
    [InlineData(47)]
    [InlineData(49)]
    public void ForwardInference_YOfWrongLength(int yLength)
    {
        GuardedBatchNorm layer = TrainedBatchNorm();
        float[] y = LayerSnapshot.Sentinel(yLength);
        var snapshot = new LayerSnapshot(layer, y);
        AssertArgument(() => layer.ForwardInference(XEval, y), yLength, Len);
        snapshot.AssertUnchanged($"ForwardInference with y of {yLength}");
        AssertBehavesLikeTwin(layer);
    }

    [Fact]
    public void ForwardTraining_OneValuePerChannel_OnFreshInstance()
    {
        var layer = new GuardedBatchNorm1d();
        float[] y = LayerSnapshot.Sentinel(4);
        var snapshot = new LayerSnapshot(layer, y);
#pragma warning disable NG1003 // deliberate: a batch of one is the bad input under test
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(() => layer.ForwardTraining(new float[] { 1, 2, 3, 4 }, y));
#pragma warning restore NG1003
        AssertMentions(ex, 1);
        snapshot.AssertUnchanged("ForwardTraining with a batch of one");
        Assert.Equal(0, layer.BatchesTracked);
        Assert.False(layer.HasRunningStatistics);
        // The failed call is not a training forward.
        Assert.ThrowsAny<InvalidOperationException>(() => layer.Backward(new float[4], new float[4], new float[4]));
    }

    [Fact]
    public void ForwardTraining_OneValuePerChannel_AfterValidStep()
    {
        GuardedBatchNorm1d layer = TrainedBatchNorm1d();
        float[] y = LayerSnapshot.Sentinel(4);
        var snapshot = new LayerSnapshot(layer, y);
#pragma warning disable NG1003 // deliberate: a batch of one is the bad input under test
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(() => layer.ForwardTraining(new float[] { 1, 2, 3, 4 }, y));
#pragma warning restore NG1003
        AssertMentions(ex, 1);
        snapshot.AssertUnchanged("ForwardTraining with a batch of one");

        GuardedBatchNorm1d twin = TrainedBatchNorm1d();
        var dxA = new float[12];
        var dxB = new float[12];
        layer.Backward(X1d, Dy1d, dxA);
        twin.Backward(X1d, Dy1d, dxB);
        Tolerance.AssertIdentical("dx", dxB, dxA);
        Tolerance.AssertIdentical("GammaGrad", twin.GammaGrad, layer.GammaGrad);
        Tolerance.AssertIdentical("BetaGrad", twin.BetaGrad, layer.BetaGrad);
    }

    [Fact]
    public void ForwardTraining_BatchOfOneWithSpatialDims_IsAllowed()
    {
        // N = 1 but H·W = 6 values per channel: PyTorch accepts this, and so must NormGen.
        var layer = new GuardedBatchNorm();
        var y = new float[Sample];
        layer.ForwardTraining(X.AsSpan(0, Sample), y);
        Assert.Equal(1, layer.BatchesTracked);
        var reference = ReferenceNorm.Compute(NormLayout.BatchNorm(1, 4, 6), TestData.ToDouble<float>(X.AsSpan(0, Sample)), null, null, null, 1e-5);
        Tolerance.AssertClose("y", (ReadOnlySpan<float>)y, reference.Y, 1e-5);
    }

    // ---------- BatchNorm: Backward ----------

    [Fact]
    public void Backward_BeforeAnyForward_Throws()
    {
        var layer = new GuardedBatchNorm();
        float[] dx = LayerSnapshot.Sentinel(Len);
        var snapshot = new LayerSnapshot(layer, dx);
        Assert.ThrowsAny<InvalidOperationException>(() => layer.Backward(X, Dy, dx));
        snapshot.AssertUnchanged("Backward before any forward");
    }

    [Fact]
    public void Backward_AfterOnlyInferenceForward_Throws()
    {
        var layer = new GuardedBatchNorm();
        layer.LoadRunningStatistics(new float[] { 0.5f, -1, 2, 0 }, new float[] { 1, 2, 0.5f, 3 });
        var y = new float[Len];
        layer.ForwardInference(X, y);
        float[] dx = LayerSnapshot.Sentinel(Len);
        var snapshot = new LayerSnapshot(layer, dx);
        Assert.ThrowsAny<InvalidOperationException>(() => layer.Backward(X, Dy, dx));
        snapshot.AssertUnchanged("Backward after only ForwardInference");
    }

    [Fact]
    public void Backward_WithXOfAnotherLengthThanTheForward()
    {
        GuardedBatchNorm layer = TrainedBatchNorm();
        float[] dx = LayerSnapshot.Sentinel(72);
        var snapshot = new LayerSnapshot(layer, dx);
        AssertArgument(() => layer.Backward(new float[72], new float[72], dx), 72, Len);
        snapshot.AssertUnchanged("Backward with x of 72 after a forward of 48");
        AssertBehavesLikeTwin(layer);
    }

    [Theory]
    [InlineData(46, Len)]
    [InlineData(Len, 47)]
    [InlineData(Len, 49)]
    public void Backward_WithDyOrDxOfWrongLength(int dyLength, int dxLength)
    {
        GuardedBatchNorm layer = TrainedBatchNorm();
        float[] dx = LayerSnapshot.Sentinel(dxLength);
        var snapshot = new LayerSnapshot(layer, dx);
        var dy = new float[dyLength];
        Array.Fill(dy, 1f);
        AssertArgument(() => layer.Backward(X, dy, dx), dyLength != Len ? dyLength : dxLength, Len);
        snapshot.AssertUnchanged($"Backward with dy of {dyLength}, dx of {dxLength}");
        AssertBehavesLikeTwin(layer);
    }

    // ---------- BatchNorm: LoadRunningStatistics ----------

    [Theory]
    [InlineData(5, 4, 5)]
    [InlineData(4, 3, 3)]
    [InlineData(0, 4, 0)]
    public void LoadRunningStatistics_WrongLength(int meanLength, int varLength, int wrong)
    {
        GuardedBatchNorm layer = TrainedBatchNorm();
        float[] none = LayerSnapshot.Sentinel(0);
        var snapshot = new LayerSnapshot(layer, none);
        float[] mean = TestData.Filled<float>(meanLength, 0.25), variance = TestData.Filled<float>(varLength, 2);
        AssertArgument(() => layer.LoadRunningStatistics(mean, variance), wrong, 4);
        snapshot.AssertUnchanged($"LoadRunningStatistics({meanLength}, {varLength})");
        AssertBehavesLikeTwin(layer);
    }

    [Fact]
    public void LoadRunningStatistics_NegativeVariance()
    {
        GuardedBatchNorm layer = TrainedBatchNorm();
        var snapshot = new LayerSnapshot(layer, LayerSnapshot.Sentinel(0));
        // The mean is valid and the bad entry is the last: nothing may be loaded partially.
        Assert.ThrowsAny<ArgumentException>(() =>
            layer.LoadRunningStatistics(new float[] { 5, 6, 7, 8 }, new float[] { 1, 2, 3, -0.5f }));
        snapshot.AssertUnchanged("LoadRunningStatistics with a negative variance");
        AssertBehavesLikeTwin(layer);
    }

    [Fact]
    public void LoadRunningStatistics_NegativeVariance_OnFreshInstance_LeavesNoStatistics()
    {
        var layer = new GuardedBatchNorm();
        Assert.ThrowsAny<ArgumentException>(() =>
            layer.LoadRunningStatistics(new float[] { 5, 6, 7, 8 }, new float[] { -1, 2, 3, 4 }));
        Assert.False(layer.HasRunningStatistics);
        Tolerance.AssertIdentical("RunningMean", new float[4], layer.RunningMean);
        Tolerance.AssertIdentical("RunningVar", new float[] { 1, 1, 1, 1 }, layer.RunningVar);
    }

    // ---------- per-sample (LayerNorm) ----------

    [Theory]
    [InlineData(50)]
    [InlineData(0)]
    public void Forward_LengthNotAPositiveMultipleOfSampleSize(int length)
    {
        GuardedLayerNorm layer = TrainedLayerNorm();
        float[] y = LayerSnapshot.Sentinel(length);
        var snapshot = new LayerSnapshot(layer, y);
        AssertArgument(() => layer.Forward(new float[length], y), length, Sample);
        snapshot.AssertUnchanged($"Forward with {length} values");
        AssertBehavesLikeTwin(layer);
    }

    [Fact]
    public void Forward_YOfWrongLength()
    {
        GuardedLayerNorm layer = TrainedLayerNorm();
        float[] y = LayerSnapshot.Sentinel(71);
        var snapshot = new LayerSnapshot(layer, y);
        AssertArgument(() => layer.Forward(new float[72], y), 71, 72);
        snapshot.AssertUnchanged("Forward with y of 71");
        AssertBehavesLikeTwin(layer);
    }

    [Fact]
    public void PerSampleBackward_BeforeForward_Throws()
    {
        var layer = new GuardedLayerNorm();
        float[] dx = LayerSnapshot.Sentinel(Len);
        var snapshot = new LayerSnapshot(layer, dx);
        Assert.ThrowsAny<InvalidOperationException>(() => layer.Backward(X, Dy, dx));
        snapshot.AssertUnchanged("Backward before Forward");
    }

    [Theory]
    [InlineData(72, 72, 72, 72)]
    [InlineData(Len, 46, Len, 46)]
    [InlineData(Len, Len, 47, 47)]
    public void PerSampleBackward_WrongLengths(int xLength, int dyLength, int dxLength, int wrong)
    {
        GuardedLayerNorm layer = TrainedLayerNorm();
        float[] dx = LayerSnapshot.Sentinel(dxLength);
        var snapshot = new LayerSnapshot(layer, dx);
        float[] x = xLength == Len ? X : new float[xLength];
        AssertArgument(() => layer.Backward(x, new float[dyLength], dx), wrong, Len);
        snapshot.AssertUnchanged($"Backward({xLength}, {dyLength}, {dxLength})");
        AssertBehavesLikeTwin(layer);
    }

    // ---------- helpers ----------

    private static GuardedBatchNorm TrainedBatchNorm()
    {
        var layer = new GuardedBatchNorm();
        TestData.To<float>(new[] { 1.25, 0.75, -0.5, 2.0 }).CopyTo(layer.Gamma);
        TestData.To<float>(new[] { 0.1, -0.2, 0.3, 0.0 }).CopyTo(layer.Beta);
        var y = new float[Len];
        layer.ForwardTraining(X, y);
        layer.Backward(X, Dy, new float[Len]);   // non-zero gradients
        return layer;
    }

    private static GuardedBatchNorm1d TrainedBatchNorm1d()
    {
        var layer = new GuardedBatchNorm1d();
        TestData.To<float>(new[] { 1.25, 0.75, -0.5, 2.0 }).CopyTo(layer.Gamma);
        TestData.To<float>(new[] { 0.1, -0.2, 0.3, 0.0 }).CopyTo(layer.Beta);
        layer.ForwardTraining(X1d, new float[12]);
        layer.Backward(X1d, Dy1d, new float[12]);
        return layer;
    }

    private static GuardedLayerNorm TrainedLayerNorm()
    {
        var layer = new GuardedLayerNorm();
        TestData.To<float>(TestData.Uniform(new Random(13), 24, 0.5, 1.5)).CopyTo(layer.Gamma);
        TestData.To<float>(TestData.Uniform(new Random(14), 24, -0.5, 0.5)).CopyTo(layer.Beta);
        layer.Forward(X, new float[Len]);
        layer.Backward(X, Dy, new float[Len]);
        return layer;
    }

    /// <summary>Backward of the recorded forward and an inference forward give what a layer that never saw the bad call gives.</summary>
    private static void AssertBehavesLikeTwin(GuardedBatchNorm layer)
    {
        GuardedBatchNorm twin = TrainedBatchNorm();
        var dxA = new float[Len];
        var dxB = new float[Len];
        layer.Backward(X, Dy, dxA);
        twin.Backward(X, Dy, dxB);
        Tolerance.AssertIdentical("dx of the next Backward", dxB, dxA);
        Tolerance.AssertIdentical("GammaGrad after the next Backward", twin.GammaGrad, layer.GammaGrad);
        Tolerance.AssertIdentical("BetaGrad after the next Backward", twin.BetaGrad, layer.BetaGrad);
        var yA = new float[Len];
        var yB = new float[Len];
        layer.ForwardInference(XEval, yA);
        twin.ForwardInference(XEval, yB);
        Tolerance.AssertIdentical("y of the next ForwardInference", yB, yA);
        Assert.Equal(twin.BatchesTracked, layer.BatchesTracked);
    }

    private static void AssertBehavesLikeTwin(GuardedLayerNorm layer)
    {
        GuardedLayerNorm twin = TrainedLayerNorm();
        var dxA = new float[Len];
        var dxB = new float[Len];
        layer.Backward(X, Dy, dxA);
        twin.Backward(X, Dy, dxB);
        Tolerance.AssertIdentical("dx of the next Backward", dxB, dxA);
        Tolerance.AssertIdentical("GammaGrad after the next Backward", twin.GammaGrad, layer.GammaGrad);
        Tolerance.AssertIdentical("BetaGrad after the next Backward", twin.BetaGrad, layer.BetaGrad);
    }

    private static void AssertArgument(Action call, int actual, int expected)
    {
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(call);
        AssertMentions(ex, actual, expected);
    }

    /// <summary>The message contains each number as a whole number (48 does not match 480).</summary>
    private static void AssertMentions(Exception ex, params int[] numbers)
    {
        foreach (int n in numbers)
        {
            Assert.True(Regex.IsMatch(ex.Message, $@"(?<![0-9]){n}(?![0-9])"),
                $"{ex.GetType().Name} message does not mention {n}: \"{ex.Message}\"");
        }
    }
}
