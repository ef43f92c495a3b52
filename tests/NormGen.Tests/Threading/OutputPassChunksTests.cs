using System;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// The lane kernels' (BatchNorm1d, channels-last BatchNorm) passes that write y or dx keep no partial sums, so they
/// split into chunks from the one-pass threshold, below the sums passes' own: a BatchNorm1d call of 65,536 values sums
/// in one chunk and writes in two. At two threads each such call must hand a helper part of its work (before, all of
/// it ran on the caller's thread) and give the one-thread bits.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class OutputPassChunksTests
{
    private const int Rows = 64;

    [Theory]
    [InlineData(nameof(ThreadedBatchNorm1d.ForwardInference))]
    [InlineData(nameof(ThreadedBatchNorm1d.ForwardTraining))]
    [InlineData(nameof(ThreadedBatchNorm1d.Backward))]
    public void An_output_pass_of_65536_values_is_shared_out_with_the_one_thread_bits(string call)
    {
        int length = Rows * ThreadedBatchNorm1d.SampleSize;
        int columns = ThreadedBatchNorm1d.SampleSize;
        Assert.Equal(1, NormGen.Internal.Threading.ChunkCount(Rows, length, NormGen.Internal.Threading.ParallelThreshold, statistics: columns));
        Assert.Equal(2, NormGen.Internal.Threading.ChunkCount(Rows, length, NormGen.Internal.Threading.OnePassParallelThreshold, statistics: columns));
        float[] x = TestData.To<float>(TestData.Normal(new Random(61), length, 3.0, 2.0));
        float[] dy = TestData.To<float>(TestData.Normal(new Random(62), length, 0.0, 1.0));

        float[][] one = Outputs(length, columns), two = Outputs(length, columns);
        ThreadedBatchNorm1d alone = Trained(x, one[0]);
        Call(alone, call, x, dy, one);
        ThreadedBatchNorm1d shared = Trained(x, two[0]);
        shared.MaxDegreeOfParallelism = 2;
        Assert.True(HelperWake.For(() => Call(shared, call, x, dy, two)), $"{call} of {length} values ran on one thread at MaxDegreeOfParallelism 2");
        string[] names = [call == nameof(ThreadedBatchNorm1d.Backward) ? "dx" : "y", "GammaGrad", "BetaGrad"];
        for (int k = 0; k < names.Length; k++)
        {
            SameBits.Assert<float>(names[k], one[k], "with 1 thread", two[k], "with 2 threads");
        }
    }

    /// <summary>
    /// BatchNorm2d's inference pass splits its runs (sample × channel), not its samples: one sample of 65,536 values is
    /// two chunks, and at two threads a helper takes one of them, with the one-thread bits (before, a batch of one ran on
    /// one thread). The one-thread result also matches the formula.
    /// </summary>
    [Fact]
    public void A_batch_of_one_shares_its_channels_out_in_inference()
    {
        const int channels = 16, map = 64 * 64;
        var rng = new Random(63);
        double[] mean = TestData.Uniform(rng, channels, -1, 1), variance = TestData.Uniform(rng, channels, 0.5, 2);
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, channels, 0.5, 1.5)), beta = TestData.RoundToFloat(TestData.Uniform(rng, channels, -0.5, 0.5));
        double[] x = TestData.RoundToFloat(TestData.Normal(rng, channels * map, 1, 2));
        float[] Infer(int degree)
        {
            var layer = new OneSampleBatchNorm2d { MaxDegreeOfParallelism = degree };
            TestData.To<float>(gamma).CopyTo(layer.Gamma);
            TestData.To<float>(beta).CopyTo(layer.Beta);
            layer.LoadRunningStatistics(TestData.To<float>(mean), TestData.To<float>(variance));
            var y = new float[x.Length];
            if (degree == 1)
            {
                layer.ForwardInference(TestData.To<float>(x), y);
            }
            else
            {
                Assert.True(HelperWake.For(() => layer.ForwardInference(TestData.To<float>(x), y)), "a batch of one ran on one thread at MaxDegreeOfParallelism 2");
            }
            return y;
        }
        float[] one = Infer(1);
        double[] reference = ReferenceNorm.Normalize(NormLayout.BatchNorm(1, channels, map), x,
            TestData.RoundToFloat(mean), TestData.RoundToFloat(variance), gamma, beta, 1e-5);
        Tolerance.AssertClose("y", (ReadOnlySpan<float>)one, reference, Tolerance.FloatFloor);
        SameBits.Assert<float>("y", one, "with 1 thread", Infer(2), "with 2 threads");
    }

    /// <summary>A layer whose statistics a training forward on one thread has set, so that no helper is out when the call under test starts.</summary>
    private static ThreadedBatchNorm1d Trained(float[] x, float[] y)
    {
        var layer = new ThreadedBatchNorm1d { MaxDegreeOfParallelism = 1 };
        layer.ForwardTraining(x, y);
        return layer;
    }

    /// <summary>The call under test: its output into outputs[0], GammaGrad and BetaGrad (of this call alone) into outputs[1] and [2].</summary>
    private static void Call(ThreadedBatchNorm1d layer, string call, float[] x, float[] dy, float[][] outputs)
    {
        layer.ZeroGrad();
        switch (call)
        {
            case nameof(ThreadedBatchNorm1d.ForwardInference):
                layer.ForwardInference(x, outputs[0]);
                break;
            case nameof(ThreadedBatchNorm1d.ForwardTraining):
                layer.ForwardTraining(x, outputs[0]);
                break;
            default:
                layer.Backward(x, dy, outputs[0]);
                break;
        }
        layer.GammaGrad.CopyTo(outputs[1]);
        layer.BetaGrad.CopyTo(outputs[2]);
    }

    private static float[][] Outputs(int length, int parameters) => [new float[length], new float[parameters], new float[parameters]];
}
