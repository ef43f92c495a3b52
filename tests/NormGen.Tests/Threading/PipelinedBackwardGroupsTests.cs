using System;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// Where dx streams (here: x, dy and dx past what the L3 holds, on processors with AVX), the backward of channels-first
/// BatchNorm over maps of 512 values and more is a pipeline: each run of a channel's gradient-sums pass also writes the
/// same run of the previous channel's dx. dx, dγ and dβ must match the double reference, and dx the same bits wherever
/// it starts within a cache line (the runs' partial lines are written apart from the loop), in place (dx over dy) and
/// at two threads.
/// </summary>
public sealed class PipelinedBackwardGroupsTests
{
    /// <summary>110 samples of 16 channels of 1024 floats: 6.9 MiB a tensor; 8 chunks of 2 channels (one pipelined channel each).</summary>
    private const int Batch = 110;

    [Fact]
    public void BatchNorm_on_32x32_maps()
    {
        long bytes = Batch * 16 * 1024 * sizeof(float);
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx.IsSupported, NormGen.Internal.Threading.StreamsOutput(2 * bytes, bytes, 3 * bytes));
        var layout = NormLayout.BatchNorm(Batch, 16, 1024);
        var layer = new PipelinedBackwardBatchNorm { MaxDegreeOfParallelism = 1 };
        BatchReferenceCheck.AssertMatches(layer, layer, layer, layout, new Random(5201), offset: 3.0, Tolerance.FloatFloor);

        var rng = new Random(5202);
        float[] x = TestData.To<float>(TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 3, 2)));
        float[] dy = TestData.To<float>(TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 0, 1)));
        float[] Backward(int threads, int offset, bool inPlace)
        {
            var fresh = new PipelinedBackwardBatchNorm { MaxDegreeOfParallelism = threads };
            fresh.ForwardTraining(x, new float[x.Length]);
            if (inPlace)
            {
                float[] both = (float[])dy.Clone();
                fresh.Backward(x, both, both);
                return both;
            }
            var dx = new float[x.Length + offset];
            fresh.Backward(x, dy, dx.AsSpan(offset, x.Length));
            return dx.AsSpan(offset, x.Length).ToArray();
        }

        float[] expected = Backward(threads: 1, offset: 0, inPlace: false);
        foreach (int offset in new[] { 3, 8 })
        {
            SameBits.Assert<float>("dx", expected, "dx at its array's start", Backward(1, offset, false), $"dx {offset} values further");
        }
        SameBits.Assert<float>("dx", expected, "into separate memory", Backward(1, 0, inPlace: true), "in place (dx over dy)");
        SameBits.Assert<float>("dx", expected, "1 thread", Backward(2, 0, false), "2 threads");
    }
}
