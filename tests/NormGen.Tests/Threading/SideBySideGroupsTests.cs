using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// Channels-first BatchNorm whose runs are 1–8 cache lines and whose samples lie a multiple of 4 KiB apart writes the
/// backward and the training forward's y (and, for runs of under four vectors, its statistics) with the chunk's channels
/// side by side in memory order. Each channel's sums, constants and outputs are those of the group-by-group path, so y,
/// dx, dγ and dβ must have the same bits as a layer of one more channel (its samples not a multiple of 4 KiB apart, so
/// group by group) gives the same channels; and match the double reference, at any thread count and in place.
/// </summary>
public sealed class SideBySideGroupsTests
{
    [Fact]
    public void BatchNorm_on_8x8_maps() =>
        AssertSameAsGroupByGroup<float, MemoryOrderBatchNorm, GroupOrderBatchNorm>(threads => new MemoryOrderBatchNorm { MaxDegreeOfParallelism = threads }, () => new GroupOrderBatchNorm(), batch: 130, channels: 32, run: 64, Tolerance.FloatFloor);

    [Fact]
    public void BatchNorm_on_10x10_maps_with_partial_vectors() =>
        AssertSameAsGroupByGroup<float, MemoryOrderTailBatchNorm, GroupOrderTailBatchNorm>(threads => new MemoryOrderTailBatchNorm { MaxDegreeOfParallelism = threads }, () => new GroupOrderTailBatchNorm(), batch: 9, channels: 256, run: 100, Tolerance.FloatFloor);

    [Fact]
    public void BatchNorm_on_4x4_maps() =>
        AssertSameAsGroupByGroup<float, MemoryOrderLineBatchNorm, GroupOrderLineBatchNorm>(threads => new MemoryOrderLineBatchNorm { MaxDegreeOfParallelism = threads }, () => new GroupOrderLineBatchNorm(), batch: 37, channels: 256, run: 16, Tolerance.FloatFloor);

    [Fact]
    public void Double_BatchNorm() =>
        AssertSameAsGroupByGroup<double, MemoryOrderDoubleBatchNorm, GroupOrderDoubleBatchNorm>(threads => new MemoryOrderDoubleBatchNorm { MaxDegreeOfParallelism = threads }, () => new GroupOrderDoubleBatchNorm(), batch: 70, channels: 16, run: 32, 1e-12);

    private static void AssertSameAsGroupByGroup<T, TLayer, TWider>(Func<int, TLayer> create, Func<TWider> createWider, int batch, int channels, int run, double rel)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TLayer : IBatchStatsLayer<T>, IAffineLayer<T>, IRunningStatsLayer<T>
        where TWider : IBatchStatsLayer<T>, IAffineLayer<T>
    {
        var layout = NormLayout.BatchNorm(batch, channels, run);
        var reference = create(1);
        BatchReferenceCheck.AssertMatches(reference, reference, reference, layout, new Random(5301 + run), offset: 3.0, rel);

        bool isFloat = typeof(T) == typeof(float);
        double[] Values(double[] v) => isFloat ? TestData.RoundToFloat(v) : v;
        var rng = new Random(5302 + run);
        T[] x = TestData.To<T>(Values(TestData.Normal(rng, layout.Length, 3, 2)));
        // Channel 1's first run far from its mean: the pivot of its statistics (the mean of its first values) lies
        // further out than a standard deviation, so it is summed again about the mean found (group by group's second attempt).
        for (int i = 0; i < run; i++)
        {
            x[run + i] = T.CreateChecked(40 + i % 3);
        }
        T[] dy = TestData.To<T>(Values(TestData.Normal(rng, layout.Length, 0, 1)));
        T[] gamma = TestData.To<T>(Values(TestData.Uniform(rng, channels, 0.5, 1.5)));
        T[] beta = TestData.To<T>(Values(TestData.Uniform(rng, channels, -0.5, 0.5)));

        (T[] Y, T[] Dx, T[] GammaGrad, T[] BetaGrad) Backward(int threads, bool inPlace)
        {
            var layer = create(threads);
            gamma.CopyTo(layer.Gamma);
            beta.CopyTo(layer.Beta);
            T[] y = new T[x.Length];
            layer.ForwardTraining(x, y);
            T[] dx = inPlace ? (T[])dy.Clone() : new T[x.Length];
            layer.Backward(x, inPlace ? dx : dy, dx);
            return (y, dx, layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray());
        }

        // The same channels, and one more, group by group: channel c of sample n at the same place within its run.
        int wide = channels + 1;
        T[] wideX = new T[batch * wide * run], wideDy = new T[wideX.Length];
        for (int n = 0; n < batch; n++)
        {
            x.AsSpan(n * channels * run, channels * run).CopyTo(wideX.AsSpan(n * wide * run));
            dy.AsSpan(n * channels * run, channels * run).CopyTo(wideDy.AsSpan(n * wide * run));
            for (int i = 0; i < run; i++)
            {
                wideX[(n * wide + channels) * run + i] = T.CreateChecked(n + i % 5);
                wideDy[(n * wide + channels) * run + i] = T.CreateChecked(i % 3 - 1);
            }
        }
        var wider = createWider();
        gamma.CopyTo(wider.Gamma);
        beta.CopyTo(wider.Beta);
        T[] wideY = new T[wideX.Length];
        wider.ForwardTraining(wideX, wideY);
        T[] wideDx = new T[wideX.Length];
        wider.Backward(wideX, wideDy, wideDx);
        T[] groupOrderY = new T[x.Length], groupOrderDx = new T[x.Length];
        for (int n = 0; n < batch; n++)
        {
            wideY.AsSpan(n * wide * run, channels * run).CopyTo(groupOrderY.AsSpan(n * channels * run));
            wideDx.AsSpan(n * wide * run, channels * run).CopyTo(groupOrderDx.AsSpan(n * channels * run));
        }

        var expected = Backward(1, inPlace: false);
        SameBits.Assert<T>("y", groupOrderY, "group by group", expected.Y, "side by side");
        SameBits.Assert<T>("dx", groupOrderDx, "group by group", expected.Dx, "side by side");
        SameBits.Assert<T>("GammaGrad", wider.GammaGrad.Slice(0, channels).ToArray(), "group by group", expected.GammaGrad, "side by side");
        SameBits.Assert<T>("BetaGrad", wider.BetaGrad.Slice(0, channels).ToArray(), "group by group", expected.BetaGrad, "side by side");
        var two = Backward(2, inPlace: false);
        SameBits.Assert<T>("y", expected.Y, "1 thread", two.Y, "2 threads");
        SameBits.Assert<T>("dx", expected.Dx, "1 thread", two.Dx, "2 threads");
        SameBits.Assert<T>("GammaGrad", expected.GammaGrad, "1 thread", two.GammaGrad, "2 threads");
        SameBits.Assert<T>("dx", expected.Dx, "into separate memory", Backward(1, inPlace: true).Dx, "in place (dx over dy)");
    }
}
