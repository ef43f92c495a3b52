using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// BatchNorm with few channels, each larger than a core's cache, splits every channel across the samples in training and
/// backward (per-chunk sums merged in chunk order). The results must match the double reference as closely as the
/// channel-by-channel kernels do, be bit-identical for any thread count, and keep the far-pivot retry.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class SampleSplitTests
{
    private const double Eps = BatchReferenceCheck.Eps;

    // 136 samples of 3 channels of 64×64 floats: 2.2 MB a channel. 262 samples of 2 channels of 1001 doubles: 2,098,096
    // bytes a channel, just over the 2 MiB (2,097,152) threshold.
    private const int FloatBatch = 136;
    private const int DoubleBatch = 262;

    [Fact]
    public void The_test_batches_take_the_sample_split_path_and_one_sample_fewer_would_not_for_doubles()
    {
        Assert.True(NormGen.Internal.Threading.SplitsGroupsAcrossSamples((long)FloatBatch * 4096 * sizeof(float)));
        Assert.True(NormGen.Internal.Threading.SplitsGroupsAcrossSamples((long)DoubleBatch * 1001 * sizeof(double)));
        Assert.False(NormGen.Internal.Threading.SplitsGroupsAcrossSamples((long)(DoubleBatch - 1) * 1001 * sizeof(double)));
    }

    [Fact]
    public void Float_training_and_backward_match_the_double_reference()
    {
        var layer = new SampleSplitBatchNorm();
        BatchReferenceCheck.AssertMatches(layer, layer, layer, NormLayout.BatchNorm(FloatBatch, 3, 4096), new Random(3001), offset: 3.0, Tolerance.FloatFloor);
    }

    [Fact]
    public void Double_training_and_backward_match_the_double_reference()
    {
        var layer = new SampleSplitDoubleBatchNorm();
        BatchReferenceCheck.AssertMatches(layer, layer, layer, NormLayout.BatchNorm(DoubleBatch, 2, 1001), new Random(3002), offset: 3.0, Tolerance.DoubleRel);
    }

    /// <summary>
    /// The sample-split training writes y through the arrays inference keeps its folded constants in: an inference after
    /// it, with the running statistics reloaded to the bits of before (so that they alone would not fold again), must
    /// fold again and give the bits it gave before the training.
    /// </summary>
    [Fact]
    public void Inference_folds_again_after_a_sample_split_training()
    {
        var rng = new Random(3006);
        var layer = new SampleSplitBatchNorm();
        TestData.To<float>(TestData.Uniform(rng, 3, 0.5, 1.5)).CopyTo(layer.Gamma);
        TestData.To<float>(TestData.Uniform(rng, 3, -0.5, 0.5)).CopyTo(layer.Beta);
        float[] mean = TestData.To<float>(TestData.Uniform(rng, 3, -1, 1)), variance = TestData.To<float>(TestData.Uniform(rng, 3, 0.5, 2));
        layer.LoadRunningStatistics(mean, variance);
        float[] x = TestData.To<float>(TestData.Normal(rng, 2 * 3 * 4096, 0, 1));
        float[] before = new float[x.Length], after = new float[x.Length];
        layer.ForwardInference(x, before);

        layer.ForwardTraining(TestData.To<float>(TestData.Normal(rng, FloatBatch * 3 * 4096, 3, 2)), new float[FloatBatch * 3 * 4096]);
        layer.LoadRunningStatistics(mean, variance);
        layer.ForwardInference(x, after);

        SameBits.Assert<float>("y", before, "before the training", after, "after it");
    }

    [Fact]
    public void Training_and_backward_without_gamma_and_beta_match_the_double_reference()
    {
        var rng = new Random(3005);
        var layout = NormLayout.BatchNorm(FloatBatch, 3, 4096);
        double[] x = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, -2, 0.5));
        double[] dy = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 0, 1));
        var reference = ReferenceNorm.Compute(layout, x, dy, null, null, Eps);
        var layer = new SampleSplitPlainBatchNorm();
        float[] y = new float[x.Length], dx = new float[x.Length];
        layer.ForwardTraining(TestData.To<float>(x), y);
        layer.Backward(TestData.To<float>(x), TestData.To<float>(dy), dx);
        Tolerance.AssertClose("SampleSplitPlainBatchNorm y", (ReadOnlySpan<float>)y, reference.Y, Tolerance.FloatFloor);
        Tolerance.AssertClose("SampleSplitPlainBatchNorm dx", (ReadOnlySpan<float>)dx, reference.Dx, Tolerance.FloatFloor);
    }

    [Fact]
    public void Results_are_bit_identical_for_one_and_two_threads()
    {
        var rng = new Random(3003);
        int length = FloatBatch * SampleSplitBatchNorm.SampleSize;
        float[] x = TestData.To<float>(TestData.Normal(rng, length, 1, 2));
        float[] dy = TestData.To<float>(TestData.Normal(rng, length, 0, 1));
        (float[] Y, float[] Dx, float[] GammaGrad, float[] BetaGrad, float[] RunningVar) Run(int degree)
        {
            var layer = new SampleSplitBatchNorm { MaxDegreeOfParallelism = degree };
            float[] y = new float[length], dx = new float[length];
            layer.ForwardTraining(x, y);
            layer.Backward(x, dy, dx);
            return (y, dx, layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray(), layer.RunningVar.ToArray());
        }
        var one = Run(1);
        var two = Run(2);
        SameBits.Assert<float>("y", one.Y, "1 thread", two.Y, "2 threads");
        SameBits.Assert<float>("dx", one.Dx, "1 thread", two.Dx, "2 threads");
        SameBits.Assert<float>("GammaGrad", one.GammaGrad, "1 thread", two.GammaGrad, "2 threads");
        SameBits.Assert<float>("BetaGrad", one.BetaGrad, "1 thread", two.BetaGrad, "2 threads");
        SameBits.Assert<float>("RunningVar", one.RunningVar, "1 thread", two.RunningVar, "2 threads");

        // In place (y over x, dx over dy): each pass reads what it needs before the output pass writes over it.
        var inPlace = new SampleSplitBatchNorm();
        float[] buffer = (float[])x.Clone();
        inPlace.ForwardTraining(buffer, buffer);
        SameBits.Assert<float>("y", one.Y, "out of place", buffer, "in place");
        inPlace.ZeroGrad();
        float[] gradient = (float[])dy.Clone();
        inPlace.Backward(x, gradient, gradient);
        SameBits.Assert<float>("dx", one.Dx, "out of place", gradient, "in place");
    }

    /// <summary>
    /// Below the 2 MiB a channel, float layers whose runs group by group sums one by one go group by group on one thread
    /// and split the samples where threads would share the channels out unevenly (three over two): the split keeps each
    /// run's (training: each block's) sums and adds them in group by group's order, so y, the running statistics, dx and
    /// the parameter gradients must have the same bits either way — 64×64 maps (whole vectors), and 30×30 maps (a scalar
    /// tail in every run: the backward splits, training stays group by group), with and without γ and β.
    /// </summary>
    [Fact]
    public void Training_and_backward_below_the_threshold_have_the_bits_of_group_by_group_at_any_thread_count()
    {
        AssertBitsAcrossThreads(nameof(SampleSplitBatchNorm), SampleSplitBatchNorm.SampleSize, 3010, degree => new SampleSplitBatchNorm { MaxDegreeOfParallelism = degree });
        AssertBitsAcrossThreads(nameof(UnevenSplitBatchNorm), UnevenSplitBatchNorm.SampleSize, 3011, degree => new UnevenSplitBatchNorm { MaxDegreeOfParallelism = degree });
        AssertBitsAcrossThreads(nameof(SampleSplitPlainBatchNorm), SampleSplitPlainBatchNorm.SampleSize, 3012, degree => new SampleSplitPlainBatchNorm { MaxDegreeOfParallelism = degree });
    }

    /// <summary>The batch of <see cref="Training_and_backward_below_the_threshold_have_the_bits_of_group_by_group_at_any_thread_count"/>: 8 chunks of 8 samples.</summary>
    private const int UnevenBatch = 64;

    /// <summary>
    /// That test compares two paths only where the call splits at two threads and not at one: its 64×64 maps are 1 MiB a
    /// channel at its batch, under the 2 MiB threshold, in eight chunks.
    /// </summary>
    [Fact]
    public void The_uneven_test_batch_splits_at_two_threads_and_not_at_one()
    {
        long channelBytes = (long)UnevenBatch * 4096 * sizeof(float);
        int chunks = NormGen.Internal.Threading.ChunkCount(UnevenBatch, UnevenBatch * SampleSplitBatchNorm.SampleSize, NormGen.Internal.Threading.OnePassParallelThreshold);
        Assert.False(NormGen.Internal.Threading.SplitsGroupsAcrossSamples(channelBytes));
        Assert.False(NormGen.Internal.Threading.SplitsGroupsAcrossSamples(channelBytes, 3, chunks, degree: 1));
        Assert.True(NormGen.Internal.Threading.SplitsGroupsAcrossSamples(channelBytes, 3, chunks, degree: 2));
    }

    [Theory]
    [InlineData(3, 8, 1, false)] // one thread: group by group, whose second pass finds the channel in the cache
    [InlineData(3, 8, 2, true)] // three channels over two threads split 2 : 1
    [InlineData(4, 8, 2, false)] // four over two: even
    [InlineData(2, 8, 4, true)] // fewer channels than threads
    [InlineData(3, 1, 2, false)] // a call too small for more than one chunk
    public void A_layer_whose_paths_give_the_same_bits_splits_where_threads_would_share_the_groups_out_unevenly(int groups, int splitChunks, int degree, bool splits) =>
        Assert.Equal(splits, NormGen.Internal.Threading.SplitsGroupsAcrossSamples(1L << 20, groups, splitChunks, degree));

    [Fact]
    public void A_layer_whose_paths_give_the_same_bits_splits_channels_past_the_threshold_at_any_thread_count() =>
        Assert.True(NormGen.Internal.Threading.SplitsGroupsAcrossSamples((2L << 20) + 1, 4, 8, 1));

    private static void AssertBitsAcrossThreads(string name, int sampleSize, int seed, Func<int, IBatchStatsLayer<float>> create)
    {
        var rng = new Random(seed);
        int length = UnevenBatch * sampleSize;
        float[] x = TestData.To<float>(TestData.Normal(rng, length, 1, 2));
        float[] dy = TestData.To<float>(TestData.Normal(rng, length, 0, 1));
        // Samples 7 and 8 (the last of the first chunk of 8 samples and the first of the next) get x and dy of ±1e15: their
        // runs' sums cancel, and what the samples before them added survives only to the rounding of a sum of 1e17 or more,
        // so that another order of adding the sums (chunk by chunk, or last sample first) changes the float results.
        for (int i = 7 * sampleSize; i < 8 * sampleSize; i++)
        {
            x[i] = dy[i] = 1e15f;
            x[i + sampleSize] = dy[i + sampleSize] = -1e15f;
        }
        (float[] Y, float[] RunningVar, float[] Dx, float[] GammaGrad, float[] BetaGrad) Run(int degree)
        {
            var layer = create(degree);
            float[] y = new float[length], dx = new float[length];
            layer.ForwardTraining(x, y);
            layer.Backward(x, dy, dx);
            float[] runningVar = ((IRunningStatsLayer<float>)layer).RunningVar.ToArray();
            return layer is IAffineLayer<float> affine ? (y, runningVar, dx, affine.GammaGrad.ToArray(), affine.BetaGrad.ToArray()) : (y, runningVar, dx, [], []);
        }
        var one = Run(1);
        // Two threads split (on a machine with two cores or more: the degree is capped at the cores), three share the
        // channels evenly where there are three cores, four split again.
        foreach (int degree in new[] { 2, 3, 4 })
        {
            var other = Run(degree);
            string label = $"{degree} threads";
            SameBits.Assert<float>($"{name} y", one.Y, "1 thread", other.Y, label);
            SameBits.Assert<float>($"{name} RunningVar", one.RunningVar, "1 thread", other.RunningVar, label);
            SameBits.Assert<float>($"{name} dx", one.Dx, "1 thread", other.Dx, label);
            SameBits.Assert<float>($"{name} GammaGrad", one.GammaGrad, "1 thread", other.GammaGrad, label);
            SameBits.Assert<float>($"{name} BetaGrad", one.BetaGrad, "1 thread", other.BetaGrad, label);
        }
    }

    [Fact]
    public void Channels_whose_first_sample_starts_far_out_are_summed_again_about_their_mean()
    {
        // Values of std 0.01 with the first 8 of each channel's first run (its pivot) 1.0 higher: about 260 standard
        // deviations of the channel out. One pass about that pivot would lose K² = 557,056 / 8 times more of the variance
        // to rounding; summed again about the mean found, y is within 5e-7 of the reference (as FarPivotTests).
        var rng = new Random(3004);
        var layout = NormLayout.BatchNorm(FloatBatch, 3, 4096);
        double[] x = TestData.Normal(rng, layout.Length, 0, 0.01);
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < 8; i++)
            {
                x[(c * 4096) + i] += 1.0;
            }
        }
        x = TestData.RoundToFloat(x);
        var layer = new SampleSplitBatchNorm();
        var reference = ReferenceNorm.Compute(layout, x, null, null, null, Eps);
        var y = new float[x.Length];
        layer.ForwardTraining(TestData.To<float>(x), y);
        Tolerance.AssertClose("SampleSplitBatchNorm y", (ReadOnlySpan<float>)y, reference.Y, 5e-7);
    }
}
