using System;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// Where dx streams (here: x, dy and dx past what the L3 holds, on processors with AVX) and the processor has AVX-512,
/// the backward of channels-first BatchNorm over maps of 512 values and more is a pipeline: each run of a channel's
/// gradient-sums pass also writes the same run of the previous channel's dx; so is GroupNorm's over groups of such runs,
/// at two threads and more. dx, dγ and dβ must match the double reference, and dx the same bits wherever it starts
/// within a cache line (the runs' partial lines are written apart from the loop; on 28×28 maps, a run's last line on a
/// line-aligned dx by the loop after the iterations), in place (dx over dy) and at one and two threads (for GroupNorm:
/// group by group against the pipeline).
/// </summary>
public sealed class PipelinedBackwardGroupsTests
{
    /// <summary>110 samples of 16 channels of 1024 floats: 6.9 MiB a tensor; 8 chunks of 2 channels (one pipelined channel each).</summary>
    [Fact]
    public void BatchNorm_on_32x32_maps() =>
        AssertPipelinedBatchNorm(threads => new PipelinedBackwardBatchNorm { MaxDegreeOfParallelism = threads }, NormLayout.BatchNorm(110, 16, 1024), 5201);

    /// <summary>
    /// 144 samples of 16 channels of 784 floats (28×28): 6.9 MiB a tensor; runs that are no whole number of the sums'
    /// iterations, whose last lines the loop after them writes.
    /// </summary>
    [Fact]
    public void BatchNorm_on_28x28_maps() =>
        AssertPipelinedBatchNorm(threads => new PipelinedBackwardBatchNorm28 { MaxDegreeOfParallelism = threads }, NormLayout.BatchNorm(144, 16, 784), 5211);

    private static void AssertPipelinedBatchNorm<TLayer>(Func<int, TLayer> create, NormLayout layout, int seed)
        where TLayer : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float>
    {
        long bytes = layout.Length * (long)sizeof(float);
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx.IsSupported, NormGen.Internal.Threading.StreamsOutput(2 * bytes, bytes, 3 * bytes));
        TLayer layer = create(1);
        BatchReferenceCheck.AssertMatches(layer, layer, layer, layout, new Random(seed), offset: 3.0, Tolerance.FloatFloor);

        var rng = new Random(seed + 1);
        float[] x = TestData.To<float>(TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 3, 2)));
        float[] dy = TestData.To<float>(TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 0, 1)));
        float[] Backward(int threads, int offsetBytes, bool inPlace)
        {
            TLayer fresh = create(threads);
            fresh.ForwardTraining(x, new float[x.Length]);
            return Dx(fresh.Backward, x, dy, offsetBytes, inPlace);
        }

        // dx on a cache line, and 12 and 32 bytes past one (the runs' partial lines written apart from the loop).
        float[] expected = Backward(threads: 1, offsetBytes: 0, inPlace: false);
        foreach (int offsetBytes in new[] { 12, 32 })
        {
            SameBits.Assert<float>("dx", expected, "dx on a cache line", Backward(1, offsetBytes, false), $"dx {offsetBytes} bytes past one");
        }
        SameBits.Assert<float>("dx", expected, "into separate memory", Backward(1, 0, inPlace: true), "in place (dx over dy)");
        SameBits.Assert<float>("dx", expected, "1 thread", Backward(2, 0, false), "2 threads");
    }

    /// <summary>GroupNorm(4, 32): 56 samples of 4 groups of 8 channels of 1024 floats, 7 MiB a tensor; 8 chunks of 7 samples.</summary>
    [Fact]
    public void GroupNorm_groups_of_channels_on_32x32_maps() =>
        AssertPipelinedGroupNorm(threads => new PipelinedBackwardGroupNorm { MaxDegreeOfParallelism = threads }, PipelinedBackwardGroupNorm.SampleSize,
            NormLayout.GroupNorm(56, 32, 4, 1024), channels: 32, new Random(5203));

    /// <summary>GroupNorm(1, 8): 224 samples, each one group of 8 channels of 1024 floats, 7 MiB a tensor (the chunked loop is the group's own).</summary>
    [Fact]
    public void GroupNorm_one_group_a_sample_on_32x32_maps() =>
        AssertPipelinedGroupNorm(threads => new PipelinedBackwardSampleGroupNorm { MaxDegreeOfParallelism = threads }, PipelinedBackwardSampleGroupNorm.SampleSize,
            NormLayout.GroupNorm(224, 8, 1, 1024), channels: 8, new Random(5204));

    /// <summary>
    /// dx, dγ and dβ of a GroupNorm whose backward streams dx against the double reference at two threads (pipelined where
    /// the processor has AVX-512), and the same bits at one thread (group by group), with dx on a cache line, 12 and 32
    /// bytes past one, and in place.
    /// </summary>
    private static void AssertPipelinedGroupNorm<TLayer>(Func<int, TLayer> create, int sampleSize, NormLayout layout, int channels, Random rng)
        where TLayer : IPerSampleLayer<float>, IAffineLayer<float>
    {
        long bytes = layout.Length * (long)sizeof(float);
        // The premise: at two threads, each thread's share streams (its dx share is past a core's cache, the call past the L3).
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx.IsSupported, NormGen.Internal.Threading.StreamsOutput(bytes, bytes / 2, 3 * bytes));
        Assert.Equal(0, layout.Length % sampleSize);
        double[] x = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 3, 2));
        double[] dy = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 0, 1));
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, channels, 0.5, 1.5));
        double[] beta = TestData.RoundToFloat(TestData.Uniform(rng, channels, -0.5, 0.5));
        var reference = ReferenceNorm.Compute(layout, x, dy, gamma, beta, 1e-5);
        float[] xs = TestData.To<float>(x);
        float[] dys = TestData.To<float>(dy);
        (float[] Dx, float[] GammaGrad, float[] BetaGrad) Backward(int threads, int offsetBytes, bool inPlace)
        {
            TLayer layer = create(threads);
            TestData.To<float>(gamma).CopyTo(layer.Gamma);
            TestData.To<float>(beta).CopyTo(layer.Beta);
            layer.Forward(xs, new float[xs.Length]);
            float[] dx = Dx(layer.Backward, xs, dys, offsetBytes, inPlace);
            return (dx, layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray());
        }

        var pipelined = Backward(threads: 2, offsetBytes: 0, inPlace: false);
        Tolerance.AssertClose("dx", (ReadOnlySpan<float>)pipelined.Dx, reference.Dx, Tolerance.FloatFloor);
        Tolerance.AssertClose("dγ", (ReadOnlySpan<float>)pipelined.GammaGrad, reference.DGamma, Tolerance.FloatFloor);
        Tolerance.AssertClose("dβ", (ReadOnlySpan<float>)pipelined.BetaGrad, reference.DBeta, Tolerance.FloatFloor);
        var groupByGroup = Backward(threads: 1, offsetBytes: 0, inPlace: false);
        SameBits.Assert<float>("dx", groupByGroup.Dx, "1 thread (group by group)", pipelined.Dx, "2 threads (pipelined)");
        SameBits.Assert<float>("dγ", groupByGroup.GammaGrad, "1 thread", pipelined.GammaGrad, "2 threads");
        SameBits.Assert<float>("dβ", groupByGroup.BetaGrad, "1 thread", pipelined.BetaGrad, "2 threads");
        foreach (int offsetBytes in new[] { 12, 32 })
        {
            SameBits.Assert<float>("dx", pipelined.Dx, "dx on a cache line", Backward(2, offsetBytes, false).Dx, $"dx {offsetBytes} bytes past one");
        }
        SameBits.Assert<float>("dx", pipelined.Dx, "into separate memory", Backward(2, 0, inPlace: true).Dx, "in place (dx over dy)");
    }

    /// <summary>
    /// One backward's dx: into a buffer <paramref name="offsetBytes"/> past a cache line, or in place over a copy of dy
    /// (<paramref name="inPlace"/>).
    /// </summary>
    private static float[] Dx(BackwardFn<float> backward, float[] x, float[] dy, int offsetBytes, bool inPlace)
    {
        if (inPlace)
        {
            float[] both = (float[])dy.Clone();
            backward(x, both, both);
            return both;
        }
        Span<float> dx = LineOffset.Span<float>(x.Length, offsetBytes);
        backward(x, dy, dx);
        return dx.ToArray();
    }
}
