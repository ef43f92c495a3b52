using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// Channels-first BatchNorm whose runs are 1–8 cache lines and whose samples lie a multiple of 4 KiB apart (or whose runs
/// are under 4 lines) writes the
/// backward and the training forward's y (and, for runs of under four vectors, its statistics) with the chunk's channels
/// side by side in memory order. Each channel's sums, constants and outputs are those of the group-by-group path, so y,
/// dx, dγ and dβ must have the same bits as a layer that computes the same channels group by group (one more channel,
/// so that its samples are not a multiple of 4 KiB apart, or for runs under 4 lines fewer channels than a call's chunks);
/// and match the double reference, at any thread count and in place.
/// </summary>
public sealed class SideBySideGroupsTests
{
    [Fact]
    public void BatchNorm_on_8x8_maps() =>
        AssertSameAsGroupByGroup<float, MemoryOrderBatchNorm, GroupOrderBatchNorm>(threads => new MemoryOrderBatchNorm { MaxDegreeOfParallelism = threads }, () => new GroupOrderBatchNorm(), batch: 130, channels: 32, referenceChannels: 33, run: 64, Tolerance.FloatFloor);

    [Fact]
    public void BatchNorm_on_10x10_maps_with_partial_vectors() =>
        AssertSameAsGroupByGroup<float, MemoryOrderTailBatchNorm, GroupOrderTailBatchNorm>(threads => new MemoryOrderTailBatchNorm { MaxDegreeOfParallelism = threads }, () => new GroupOrderTailBatchNorm(), batch: 9, channels: 256, referenceChannels: 257, run: 100, Tolerance.FloatFloor);

    // Runs under 4 lines go side by side wherever the samples lie: the reference has fewer channels than a chunk count.
    [Fact]
    public void BatchNorm_on_4x4_maps() =>
        AssertSameAsGroupByGroup<float, MemoryOrderLineBatchNorm, GroupOrderLineBatchNorm>(threads => new MemoryOrderLineBatchNorm { MaxDegreeOfParallelism = threads }, () => new GroupOrderLineBatchNorm(), batch: 37, channels: 256, referenceChannels: 7, run: 16, Tolerance.FloatFloor);

    [Fact]
    public void BatchNorm_on_4x4_maps_whose_samples_are_not_4_KiB_apart() =>
        AssertSameAsGroupByGroup<float, MemoryOrderUnalignedLineBatchNorm, GroupOrderLineBatchNorm>(threads => new MemoryOrderUnalignedLineBatchNorm { MaxDegreeOfParallelism = threads }, () => new GroupOrderLineBatchNorm(), batch: 33, channels: 100, referenceChannels: 7, run: 16, Tolerance.FloatFloor);

    [Fact]
    public void Double_BatchNorm_on_runs_of_two_vectors() =>
        AssertSameAsGroupByGroup<double, MemoryOrderShortDoubleBatchNorm, GroupOrderShortDoubleBatchNorm>(threads => new MemoryOrderShortDoubleBatchNorm { MaxDegreeOfParallelism = threads }, () => new GroupOrderShortDoubleBatchNorm(), batch: 70, channels: 16, referenceChannels: 7, run: 8, 1e-12);

    [Fact]
    public void Double_BatchNorm() =>
        AssertSameAsGroupByGroup<double, MemoryOrderDoubleBatchNorm, GroupOrderDoubleBatchNorm>(threads => new MemoryOrderDoubleBatchNorm { MaxDegreeOfParallelism = threads }, () => new GroupOrderDoubleBatchNorm(), batch: 70, channels: 16, referenceChannels: 17, run: 32, 1e-12);

    private static void AssertSameAsGroupByGroup<T, TLayer, TReference>(Func<int, TLayer> create, Func<TReference> createReference, int batch, int channels, int referenceChannels, int run, double rel)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TLayer : IBatchStatsLayer<T>, IAffineLayer<T>, IRunningStatsLayer<T>
        where TReference : IBatchStatsLayer<T>, IAffineLayer<T>
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

        // The reference layer's channels group by group: the first `shared` of them hold the same data (channel c of sample
        // n at the same place within its run), any further ones filler; each channel's results depend on its data alone.
        int shared = Math.Min(channels, referenceChannels);
        T[] refX = new T[batch * referenceChannels * run], refDy = new T[refX.Length];
        for (int n = 0; n < batch; n++)
        {
            x.AsSpan(n * channels * run, shared * run).CopyTo(refX.AsSpan(n * referenceChannels * run));
            dy.AsSpan(n * channels * run, shared * run).CopyTo(refDy.AsSpan(n * referenceChannels * run));
            for (int c = shared; c < referenceChannels; c++)
            {
                for (int i = 0; i < run; i++)
                {
                    refX[(n * referenceChannels + c) * run + i] = T.CreateChecked(n + i % 5);
                    refDy[(n * referenceChannels + c) * run + i] = T.CreateChecked(i % 3 - 1);
                }
            }
        }
        var groupOrder = createReference();
        gamma.AsSpan(0, shared).CopyTo(groupOrder.Gamma);
        beta.AsSpan(0, shared).CopyTo(groupOrder.Beta);
        T[] refY = new T[refX.Length];
        groupOrder.ForwardTraining(refX, refY);
        T[] refDx = new T[refX.Length];
        groupOrder.Backward(refX, refDy, refDx);
        T[] Shared(T[] sideBySide, int sideBySideChannels)
        {
            T[] result = new T[batch * shared * run];
            for (int n = 0; n < batch; n++)
            {
                sideBySide.AsSpan(n * sideBySideChannels * run, shared * run).CopyTo(result.AsSpan(n * shared * run));
            }
            return result;
        }

        var expected = Backward(1, inPlace: false);
        SameBits.Assert<T>("y", Shared(refY, referenceChannels), "group by group", Shared(expected.Y, channels), "side by side");
        SameBits.Assert<T>("dx", Shared(refDx, referenceChannels), "group by group", Shared(expected.Dx, channels), "side by side");
        SameBits.Assert<T>("GammaGrad", groupOrder.GammaGrad.Slice(0, shared).ToArray(), "group by group", expected.GammaGrad.AsSpan(0, shared).ToArray(), "side by side");
        SameBits.Assert<T>("BetaGrad", groupOrder.BetaGrad.Slice(0, shared).ToArray(), "group by group", expected.BetaGrad.AsSpan(0, shared).ToArray(), "side by side");
        var two = Backward(2, inPlace: false);
        SameBits.Assert<T>("y", expected.Y, "1 thread", two.Y, "2 threads");
        SameBits.Assert<T>("dx", expected.Dx, "1 thread", two.Dx, "2 threads");
        SameBits.Assert<T>("GammaGrad", expected.GammaGrad, "1 thread", two.GammaGrad, "2 threads");
        SameBits.Assert<T>("dx", expected.Dx, "into separate memory", Backward(1, inPlace: true).Dx, "in place (dx over dy)");
    }
}
