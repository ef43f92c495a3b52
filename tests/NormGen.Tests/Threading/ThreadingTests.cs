using System;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>Runs alone, so that the thread-count tests really get the helper threads.</summary>
[CollectionDefinition(nameof(ThreadingTests), DisableParallelization = true)]
public sealed class ThreadingTestsCollection
{
}

/// <summary>
/// Large inputs run on several threads: the results must be bit-identical to one thread (the work is split into the
/// same chunks whatever the thread count, and partial sums are added in chunk order), and calls allocate nothing
/// once the layer has seen its batch size.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class ThreadingTests
{
    private delegate void Run(int degree, float[] x, float[] dy, float[] y, float[] dx, float[] gammaGrad, float[] betaGrad, float[] running);

    /// <summary>Channels-first BatchNorm: a training forward and a backward; the running statistic is RunningVar.</summary>
    private static readonly Run RunBatchNorm = (degree, x, dy, y, dx, gg, bg, running) =>
    {
        var layer = new ThreadedBatchNorm { MaxDegreeOfParallelism = degree };
        layer.ForwardTraining(x, y);
        layer.Backward(x, dy, dx);
        layer.GammaGrad.CopyTo(gg);
        layer.BetaGrad.CopyTo(bg);
        layer.RunningVar.CopyTo(running);
    };

    /// <summary>LayerNorm: a forward and a backward (no running statistics).</summary>
    private static readonly Run RunLayerNorm = (degree, x, dy, y, dx, gg, bg, _) =>
    {
        var layer = new ThreadedLayerNorm { MaxDegreeOfParallelism = degree };
        layer.Forward(x, y);
        layer.Backward(x, dy, dx);
        layer.GammaGrad.CopyTo(gg);
        layer.BetaGrad.CopyTo(bg);
    };

    [Fact]
    public void BatchNorm_channels_first_is_bit_identical_for_any_thread_count() =>
        AssertIdentical(32 * ThreadedBatchNorm.SampleSize, ThreadedBatchNorm.ParameterSize, RunBatchNorm);

    [Fact]
    public void BatchNorm_channels_last_is_bit_identical_for_any_thread_count() =>
        AssertIdentical(64 * ThreadedChannelsLastBatchNorm.SampleSize, ThreadedChannelsLastBatchNorm.ParameterSize, (degree, x, dy, y, dx, gg, bg, running) =>
        {
            var layer = new ThreadedChannelsLastBatchNorm { MaxDegreeOfParallelism = degree };
            layer.ForwardTraining(x, y);
            layer.Backward(x, dy, dx);
            layer.GammaGrad.CopyTo(gg);
            layer.BetaGrad.CopyTo(bg);
            layer.RunningMean.CopyTo(running);
        });

    [Fact]
    public void LayerNorm_is_bit_identical_for_any_thread_count() =>
        AssertIdentical(1024 * ThreadedLayerNorm.SampleSize, ThreadedLayerNorm.ParameterSize, RunLayerNorm);

    [Fact]
    public void GroupNorm_is_bit_identical_for_any_thread_count() =>
        AssertIdentical(32 * ThreadedGroupNorm.SampleSize, ThreadedGroupNorm.ParameterSize, (degree, x, dy, y, dx, gg, bg, _) =>
        {
            var layer = new ThreadedGroupNorm { MaxDegreeOfParallelism = degree };
            layer.Forward(x, y);
            layer.Backward(x, dy, dx);
            layer.GammaGrad.CopyTo(gg);
            layer.BetaGrad.CopyTo(bg);
        });

    [Fact]
    public void RmsNorm_is_bit_identical_for_any_thread_count() =>
        AssertIdentical(2048 * ThreadedRmsNorm.SampleSize, ThreadedRmsNorm.ParameterSize, (degree, x, dy, y, dx, gg, _, _) =>
        {
            var layer = new ThreadedRmsNorm { MaxDegreeOfParallelism = degree };
            layer.Forward(x, y);
            layer.Backward(x, dy, dx);
            layer.GammaGrad.CopyTo(gg);
        });

    [Fact]
    public void InstanceNorm_channels_last_is_bit_identical_for_any_thread_count() =>
        AssertIdentical(128 * ThreadedChannelsLastInstanceNorm.SampleSize, ThreadedChannelsLastInstanceNorm.ParameterSize, (degree, x, dy, y, dx, gg, bg, _) =>
        {
            var layer = new ThreadedChannelsLastInstanceNorm { MaxDegreeOfParallelism = degree };
            layer.Forward(x, y);
            layer.Backward(x, dy, dx);
            layer.GammaGrad.CopyTo(gg);
            layer.BetaGrad.CopyTo(bg);
        });

    [Fact]
    public void LayerNorm_below_the_lane_threshold_runs_as_two_chunks_bit_identical_for_any_thread_count()
    {
        // Group-major kernels (one parallel pass per call) split from OnePassParallelThreshold values, a quarter of the
        // lane kernels' threshold: 96 rows of 512 are two chunks of 48 rows, whose GammaGrad/BetaGrad partial sums add up.
        int length = 96 * ThreadedLayerNorm.SampleSize;
        Assert.InRange(length, NormGen.Internal.Threading.OnePassParallelThreshold, NormGen.Internal.Threading.ParallelThreshold - 1);
        Assert.Equal(2, NormGen.Internal.Threading.ChunkCount(96, length, NormGen.Internal.Threading.OnePassParallelThreshold));
        AssertIdentical(length, ThreadedLayerNorm.ParameterSize, RunLayerNorm, NormGen.Internal.Threading.OnePassParallelThreshold);
    }

    [Fact]
    public void BatchNorm_channels_first_below_the_lane_threshold_is_bit_identical_for_any_thread_count()
    {
        // 3 samples of 16 channels × 32×32: two chunks of 8 channels, each channel's statistics whole in one chunk.
        int length = 3 * ThreadedBatchNorm.SampleSize;
        Assert.InRange(length, NormGen.Internal.Threading.OnePassParallelThreshold, NormGen.Internal.Threading.ParallelThreshold - 1);
        Assert.Equal(2, NormGen.Internal.Threading.ChunkCount(16, length, NormGen.Internal.Threading.OnePassParallelThreshold));
        AssertIdentical(length, ThreadedBatchNorm.ParameterSize, RunBatchNorm, NormGen.Internal.Threading.OnePassParallelThreshold);
    }

    [Fact]
    public void BatchNorm1d_split_in_two_chunks_is_bit_identical_for_any_thread_count()
    {
        // Between ParallelThreshold and twice that, a call is split into two chunks (not eight).
        int length = 192 * ThreadedBatchNorm1d.SampleSize;
        Assert.InRange(length, NormGen.Internal.Threading.ParallelThreshold, (2 * NormGen.Internal.Threading.ParallelThreshold) - 1);
        Assert.Equal(2, NormGen.Internal.Threading.ChunkCount(192, length, NormGen.Internal.Threading.ParallelThreshold));
        AssertIdentical(length, ThreadedBatchNorm1d.ParameterSize, (degree, x, dy, y, dx, gg, bg, running) =>
        {
            var layer = new ThreadedBatchNorm1d { MaxDegreeOfParallelism = degree };
            layer.ForwardTraining(x, y);
            layer.Backward(x, dy, dx);
            layer.GammaGrad.CopyTo(gg);
            layer.BetaGrad.CopyTo(bg);
            layer.RunningVar.CopyTo(running);
        });
    }

    [Fact]
    public void BatchNorm1d_with_its_pivots_in_chunks_is_bit_identical_for_any_thread_count()
    {
        // 64 rows of 2100: the pivots' pass (32 rows × 2100 columns sampled) runs in two chunks of columns.
        int length = 64 * WideColumnTailBatchNorm1d.SampleSize;
        Assert.Equal(2, ColumnPivots.ChunkCount(length, WideColumnTailBatchNorm1d.SampleSize));
        AssertIdentical(length, WideColumnTailBatchNorm1d.ParameterSize, (degree, x, dy, y, dx, gg, bg, running) =>
        {
            var layer = new WideColumnTailBatchNorm1d { MaxDegreeOfParallelism = degree };
            layer.ForwardTraining(x, y);
            layer.Backward(x, dy, dx);
            layer.GammaGrad.CopyTo(gg);
            layer.BetaGrad.CopyTo(bg);
            layer.RunningMean.CopyTo(running);
        });
    }

    [Fact]
    public void Results_do_not_depend_on_the_order_the_chunks_run_in()
    {
        // On one thread a layer's runner alternates the chunk order call by call. The second layer of each pair first
        // makes one inference call (one kernel pass), so every pass of its training forward and backward runs its chunks
        // in the other order than the first layer's do. Same x, same dy: the same y and dx bits.
        int length = 32 * ThreadedBatchNorm.SampleSize;
        float[] x = TestData.RampedFloats(length, 31, period: 13);
        float[] dy = TestData.RampedFloats(length, 32, period: 13);
        float[] scratch = new float[length];
        void Check(string name, Func<(Action<float[]> Train, Action Infer, Action<float[]> Backward)> make)
        {
            float[] y1 = new float[length], y2 = new float[length], dx1 = new float[length], dx2 = new float[length];
            var first = make();
            first.Train(y1);
            first.Backward(dx1);
            var second = make();
            second.Infer();
            second.Train(y2);
            second.Backward(dx2);
            SameBits.Assert<float>($"{name} y", y1, "chunks first to last", y2, "chunks last to first");
            SameBits.Assert<float>($"{name} dx", dx1, "chunks first to last", dx2, "chunks last to first");
        }
        Check("BatchNorm", () =>
        {
            var l = new ThreadedBatchNorm { MaxDegreeOfParallelism = 1 };
            return (y => l.ForwardTraining(x, y), () => l.ForwardInference(x, scratch), dx => l.Backward(x, dy, dx));
        });
        Check("channels-last BatchNorm", () =>
        {
            var l = new ThreadedChannelsLastBatchNorm { MaxDegreeOfParallelism = 1 };
            return (y => l.ForwardTraining(x, y), () => l.ForwardInference(x, scratch), dx => l.Backward(x, dy, dx));
        });
        Check("LayerNorm", () =>
        {
            var l = new ThreadedLayerNorm { MaxDegreeOfParallelism = 1 };
            return (y => l.Forward(x, y), () => l.Forward(x, scratch), dx => l.Backward(x, dy, dx));
        });
        Check("GroupNorm", () =>
        {
            var l = new ThreadedGroupNorm { MaxDegreeOfParallelism = 1 };
            return (y => l.Forward(x, y), () => l.Forward(x, scratch), dx => l.Backward(x, dy, dx));
        });
    }

    [Fact]
    public void Layers_called_from_several_threads_at_once_give_the_one_thread_results()
    {
        // Four callers at once: one gets the helper threads, the others find them busy and run their calls alone, taking
        // every chunk of the ranges no helper claims. Each round's results must be the one-thread bits.
        int length = 32 * ThreadedBatchNorm.SampleSize;
        float[] x = TestData.RampedFloats(length, 21, period: 13);
        float[] dy = TestData.RampedFloats(length, 22, period: 13);
        var reference = new ThreadedBatchNorm { MaxDegreeOfParallelism = 1 };
        float[] y1 = new float[length], dx1 = new float[length], yInference1 = new float[length];
        reference.ForwardTraining(x, y1);
        reference.Backward(x, dy, dx1);
        reference.ForwardInference(x, yInference1);
        float[] gammaGrad1 = reference.GammaGrad.ToArray();

        var callers = new System.Threading.Thread[4];
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var start = new System.Threading.Barrier(callers.Length);
        for (int c = 0; c < callers.Length; c++)
        {
            callers[c] = new System.Threading.Thread(() =>
            {
                try
                {
                    float[] y = new float[length], dx = new float[length], yInference = new float[length];
                    start.SignalAndWait();
                    for (int round = 0; round < 8; round++)
                    {
                        var layer = new ThreadedBatchNorm { MaxDegreeOfParallelism = 2 };
                        layer.ForwardTraining(x, y);
                        layer.Backward(x, dy, dx);
                        layer.ForwardInference(x, yInference);
                        SameBits.Assert<float>("y", y1, "with 1 thread", y, $"round {round}, concurrent");
                        SameBits.Assert<float>("dx", dx1, "with 1 thread", dx, $"round {round}, concurrent");
                        SameBits.Assert<float>("inference y", yInference1, "with 1 thread", yInference, $"round {round}, concurrent");
                        SameBits.Assert<float>("GammaGrad", gammaGrad1, "with 1 thread", layer.GammaGrad, $"round {round}, concurrent");
                    }
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                }
            });
            callers[c].Start();
        }
        foreach (var caller in callers)
        {
            caller.Join();
        }
        Assert.Empty(failures);
    }

    [Fact]
    public void Calls_allocate_nothing_after_the_first()
    {
        const int degree = 2;
        var bn = new ThreadedBatchNorm { MaxDegreeOfParallelism = degree };
        var ln = new ThreadedLayerNorm { MaxDegreeOfParallelism = degree };
        var cl = new ThreadedChannelsLastBatchNorm { MaxDegreeOfParallelism = degree };
        float[] x = TestData.RampedFloats(32 * ThreadedBatchNorm.SampleSize, 1, period: 13);
        float[] dy = TestData.RampedFloats(x.Length, 2, period: 13);
        float[] y = new float[x.Length];
        float[] dx = new float[x.Length];
        void Step()
        {
            bn.ForwardTraining(x, y);
            bn.Backward(x, dy, dx);
            bn.ForwardInference(x, y);
            ln.Forward(x, y);
            ln.Backward(x, dy, dx);
            cl.ForwardTraining(x, y);
            cl.Backward(x, dy, dx);
            cl.ForwardInference(x, y);
        }
        // Past tiered compilation (30 calls) so that the JIT's own work is over before measuring.
        for (int i = 0; i < 40; i++)
        {
            Step();
        }
        // The calling thread's count: the test host's own threads allocate now and then, which a process-wide count
        // would blame on the layers. (The helper threads allocate nothing either: NormGen.Internal.WorkerTeam hands
        // them work through semaphores, and a clean process counts 0 bytes in total over 1000 calls.) The runtime
        // itself may allocate a few bytes once (finishing a method's tiered compilation, say), so the test takes the
        // least of three windows: an allocation made by every call would show in all three.
        long allocated = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++)
            {
                Step();
            }
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(allocated == 0, $"5 rounds of calls allocated at least {allocated} bytes in each of 3 windows; expected 0.");
    }

    [Fact]
    public void MaxDegreeOfParallelism_below_one_is_rejected()
    {
        var layer = new ThreadedLayerNorm();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => layer.MaxDegreeOfParallelism = 0);
        Assert.Contains("at least 1", error.Message);
        Assert.Equal(Environment.ProcessorCount, layer.MaxDegreeOfParallelism);
    }

    private static void AssertIdentical(int length, int parameters, Run run, int threshold = NormGen.Internal.Threading.ParallelThreshold)
    {
        // Smaller inputs run on the caller's thread alone, which would make this test pass without testing anything.
        Assert.True(length >= threshold, $"{length} values run on one thread; use at least {threshold}.");
        float[] x = TestData.RampedFloats(length, 11, period: 13);
        float[] dy = TestData.RampedFloats(length, 12, period: 13);
        var outputs = new float[3][][];
        int[] degrees = [1, 2, 3];
        for (int d = 0; d < degrees.Length; d++)
        {
            outputs[d] = [new float[length], new float[length], new float[parameters], new float[parameters], new float[parameters]];
            run(degrees[d], x, dy, outputs[d][0], outputs[d][1], outputs[d][2], outputs[d][3], outputs[d][4]);
        }
        string[] names = ["y", "dx", "GammaGrad", "BetaGrad", "running statistics"];
        Assert.Contains(outputs[0][0], v => v != 0);
        for (int d = 1; d < degrees.Length; d++)
        {
            for (int k = 0; k < names.Length; k++)
            {
                SameBits.Assert<float>(names[k], outputs[0][k], "with 1 thread", outputs[d][k], $"with {degrees[d]} threads");
            }
        }
    }
}
