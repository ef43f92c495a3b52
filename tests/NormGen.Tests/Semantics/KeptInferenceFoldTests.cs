using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Semantics;

// The layouts whose ForwardInference keeps its folded hi, scale and shift between calls: a flat period of rows
// (10 columns, 8 rows a period), a wrapped run (1001 columns, the constants run on past the last column), whole tiles
// of doubles, channels-last, and no affine parameters.
[Normalize(Shape = "N,C=10", Axes = "N")]
internal partial class KeptFoldPeriodBn1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=1001", Axes = "N")]
internal partial class KeptFoldWrappedBn1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=64", Axes = "N", ElementType = typeof(double))]
internal partial class KeptFoldDoubleBn1d : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

[Normalize(Shape = "N,H=3,W=3,C=24", Axes = "NHW")]
internal partial class KeptFoldChannelsLast : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=10", Axes = "N", Affine = false)]
internal partial class KeptFoldPlainBn1d : IBatchStatsLayer<float>, IRunningStatsLayer<float> { }

// Channels first (group-major, y in memory order from constants folded ahead), float and double.
[Normalize(Shape = "N,C=6,H=3,W=3", Axes = "NHW")]
internal partial class KeptFoldBn2d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=5,H=4,W=4", Axes = "NHW", ElementType = typeof(double))]
internal partial class KeptFoldDoubleBn2d : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

/// <summary>
/// ForwardInference folds the running statistics, γ and β into per-statistic constants once and keeps them while none of
/// those change. A kept fold that missed a change (a write to any of the four, a LoadRunningStatistics, a training step)
/// or that training's own fold overwrote would give other bits than a new layer given the same state, which folds anew:
/// each step below compares the two bit for bit, and the first also against the double-precision formula.
/// </summary>
public class KeptInferenceFoldTests
{
    [Fact]
    public void PeriodOfRows() => Run(() => new KeptFoldPeriodBn1d(), rows => NormLayout.BatchNorm(rows, 10, 1));

    [Fact]
    public void WrappedRows() => Run(() => new KeptFoldWrappedBn1d(), rows => NormLayout.BatchNorm(rows, 1001, 1));

    [Fact]
    public void DoubleTiles() => Run(() => new KeptFoldDoubleBn1d(), rows => NormLayout.BatchNorm(rows, 64, 1));

    [Fact]
    public void ChannelsLast() => Run(() => new KeptFoldChannelsLast(), rows => NormLayout.BatchNormChannelsLast(rows, 9, 24));

    [Fact]
    public void NoAffineParameters() => Run(() => new KeptFoldPlainBn1d(), rows => NormLayout.BatchNorm(rows, 10, 1));

    [Fact]
    public void ChannelsFirst() => Run(() => new KeptFoldBn2d(), rows => NormLayout.BatchNorm(rows, 6, 9));

    [Fact]
    public void DoubleChannelsFirst() => Run(() => new KeptFoldDoubleBn2d(), rows => NormLayout.BatchNorm(rows, 5, 16));

    /// <param name="layoutOf">The layout of a batch of the given size (its statistics are the channels).</param>
    private static void Run<T>(Func<IBatchStatsLayer<T>> create, Func<int, NormLayout> layoutOf)
        where T : unmanaged, INumber<T>
    {
        int statistics = layoutOf(1).GroupCount;
        int sampleSize = layoutOf(1).Length;
        var random = new Random(sampleSize);
        IBatchStatsLayer<T> layer = create();
        var running = (IRunningStatsLayer<T>)layer;
        var affine = layer as IAffineLayer<T>;
        if (affine is not null)
        {
            Values<T>(random, statistics, 0.5, 2).CopyTo(affine.Gamma);
            Values<T>(random, statistics, -1, 1).CopyTo(affine.Beta);
        }
        running.LoadRunningStatistics(Values<T>(random, statistics, -3, 3), Values<T>(random, statistics, 0.25, 4));

        int batch = 5;
        T[] x = Values<T>(random, batch * sampleSize, -4, 4);
        // A new layer with the layer's γ and β: it has no fold to keep.
        IBatchStatsLayer<T> Fresh()
        {
            IBatchStatsLayer<T> fresh = create();
            if (affine is not null)
            {
                affine.Gamma.CopyTo(((IAffineLayer<T>)fresh).Gamma);
                affine.Beta.CopyTo(((IAffineLayer<T>)fresh).Beta);
            }
            return fresh;
        }
        void Check(string after)
        {
            var y = new T[x.Length];
            layer.ForwardInference(x, y);
            IBatchStatsLayer<T> fresh = Fresh();
            ((IRunningStatsLayer<T>)fresh).LoadRunningStatistics(running.RunningMean, running.RunningVar);
            var expected = new T[x.Length];
            fresh.ForwardInference(x, expected);
            Tolerance.AssertIdentical($"y after {after}", expected, y);
        }

        Check("the first call");
        double[] reference = ReferenceNorm.Normalize(layoutOf(batch),
            TestData.ToDouble<T>(x), TestData.ToDouble<T>(running.RunningMean), TestData.ToDouble<T>(running.RunningVar),
            affine is null ? null : TestData.ToDouble<T>(affine.Gamma), affine is null ? null : TestData.ToDouble<T>(affine.Beta), 1e-5);
        var first = new T[x.Length];
        layer.ForwardInference(x, first);
        Tolerance.AssertClose("y against the formula", (ReadOnlySpan<T>)first, reference, typeof(T) == typeof(float) ? 1e-5 : 1e-12);

        Check("the same call again");
        running.RunningVar[statistics - 1] = T.CreateChecked(0.5);
        Check("a write to the last RunningVar");
        running.RunningMean[0] = T.CreateChecked(-1.5);
        Check("a write to the first RunningMean");
        if (affine is not null)
        {
            affine.Gamma[statistics / 2] = T.CreateChecked(-0.75);
            Check("a write to Gamma");
            affine.Beta[statistics - 1] = T.CreateChecked(2.5);
            Check("a write to Beta");
        }
        T[] meanBefore = running.RunningMean.ToArray(), varianceBefore = running.RunningVar.ToArray();
        T[] trainingX = Values<T>(random, 3 * sampleSize, -1, 5), trainingY = new T[3 * sampleSize];
        layer.ForwardTraining(trainingX, trainingY);
        Check("a training step (new running statistics, and training's own fold)");
        // The running statistics of before, bit for bit: only the training step between may make this inference fold again.
        running.LoadRunningStatistics(meanBefore, varianceBefore);
        Check("a training step, then the running statistics of before it");
        var dx = new T[trainingX.Length];
        layer.Backward(trainingX, Values<T>(random, trainingX.Length, -1, 1), dx);
        Check("a backward step");

        // Training after inference folds its own constants: the same bits as a new layer's training with this state.
        var trainingAgain = new T[trainingY.Length];
        IBatchStatsLayer<T> freshTrainer = Fresh();
        var freshTrainingY = new T[trainingY.Length];
        freshTrainer.ForwardTraining(trainingX, freshTrainingY);
        layer.ForwardTraining(trainingX, trainingAgain);
        Tolerance.AssertIdentical("training y after inference", freshTrainingY, trainingAgain);
        Check("a second training step");

        foreach (int rows in new[] { 1, 17, 2 })
        {
            x = Values<T>(random, rows * sampleSize, -4, 4);
            Check($"a batch of {rows}");
        }
        running.LoadRunningStatistics(Values<T>(random, statistics, -2, 2), Values<T>(random, statistics, 0.5, 2));
        Check("another LoadRunningStatistics");
    }

    /// <summary>count values uniform in [low, high), in the element type.</summary>
    private static T[] Values<T>(Random random, int count, double low, double high)
        where T : unmanaged, INumber<T> => TestData.To<T>(TestData.Uniform(random, count, low, high));
}
