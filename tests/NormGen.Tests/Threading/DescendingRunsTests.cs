using System;
using Xunit;

namespace NormGen.Tests.Threading;

// 64 runs of 3,136 floats a sample: a batch of one is 784 KiB of x and as much of y, 1.6 MiB a call.
[Normalize(Shape = "N,C=64,H=56,W=56", Axes = "NHW")]
internal partial class DescendingRunsBatchNorm { }

/// <summary>
/// The memory-order inference runs its runs last to first on every other call where a thread's share is a little larger
/// than its L2 (<see cref="NormGen.Internal.Threading.DescendingRunsPay"/>). Both directions must write every run, with
/// the same bits: each call writes into a fresh output full of NaN, and every call, ascending or descending, at one
/// thread (1.6 MiB: descending on every other call) must equal the same input at two threads (0.8 MiB a thread: never
/// descending) bit for bit, and the double-precision formula.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class DescendingRunsTests
{
    [Fact]
    public void Runs_go_last_to_first_only_for_shares_a_little_larger_than_the_L2()
    {
        const long KiB = 1L << 10, MiB = 1L << 20;
        Assert.True(NormGen.Internal.Threading.DescendingRunsPay(1568 * KiB));
        Assert.True(NormGen.Internal.Threading.DescendingRunsPay(4 * MiB));
        // In the L2 already, and far past it (its first runs long evicted by the call's own data).
        Assert.False(NormGen.Internal.Threading.DescendingRunsPay(784 * KiB));
        Assert.False(NormGen.Internal.Threading.DescendingRunsPay(16 * MiB));
    }

    [Fact]
    public void Inference_writes_every_run_in_either_direction_with_the_same_bits()
    {
        const int Channels = 64, Run = 56 * 56;
        var random = new Random(64);
        float[] x = new float[Channels * Run];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(random.NextDouble() * 6 - 2 + (i / Run) % 5);
        }
        float[] mean = new float[Channels], variance = new float[Channels];
        for (int c = 0; c < Channels; c++)
        {
            mean[c] = (float)(random.NextDouble() * 4 - 2);
            variance[c] = (float)(random.NextDouble() * 3 + 0.25);
        }
        DescendingRunsBatchNorm Layer(int threads)
        {
            var layer = new DescendingRunsBatchNorm { MaxDegreeOfParallelism = threads };
            for (int c = 0; c < Channels; c++)
            {
                layer.Gamma[c] = 0.5f + c / 64f;
                layer.Beta[c] = c % 3 - 1;
            }
            layer.LoadRunningStatistics(mean, variance);
            return layer;
        }
        long share = 2L * x.Length * sizeof(float);
        Assert.True(NormGen.Internal.Threading.DescendingRunsPay(share), "one thread's share must take the descending runs");
        Assert.False(NormGen.Internal.Threading.DescendingRunsPay(share / 2), "two threads' shares must not");

        float[] ascending = Infer(Layer(2), x);
        var oneThread = Layer(1);
        for (int call = 0; call < 4; call++)
        {
            SameBits.Assert<float>("y", ascending, "at two threads (ascending)", Infer(oneThread, x), $"call {call} at one thread");
        }
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / Run;
            double expected = (x[i] - (double)mean[c]) / Math.Sqrt(variance[c] + 1e-5) * oneThread.Gamma[c] + oneThread.Beta[c];
            Assert.True(Math.Abs(ascending[i] - expected) <= 1e-5 * (1 + Math.Abs(expected)), $"y[{i}] = {ascending[i]}, expected {expected}");
        }
    }

    private static float[] Infer(DescendingRunsBatchNorm layer, float[] x)
    {
        float[] y = new float[x.Length];
        Array.Fill(y, float.NaN);
        layer.ForwardInference(x, y);
        return y;
    }
}
