using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// The runner runs every chunk of a call exactly once, on one thread or several, and on one thread it alternates the
/// order call by call (first to last, then last to first), so that each call starts on the data the previous one
/// touched last.
/// </summary>
[Collection(nameof(NormGen.Tests.Threading.ThreadingTests))]
public sealed class ChunkRunnerTests
{
    private sealed class Recorder
    {
        public readonly List<int> Order = new();
        public int[] Counts = new int[8];
        public readonly HashSet<int> Threads = new();
    }

    private static void Record(Recorder recorder, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int batch, int chunk)
    {
        lock (recorder.Order)
        {
            recorder.Order.Add(chunk);
            recorder.Threads.Add(Environment.CurrentManagedThreadId);
        }
        Interlocked.Increment(ref recorder.Counts[chunk]);
    }

    [Fact]
    public void On_one_thread_calls_alternate_between_first_to_last_and_last_to_first()
    {
        var runner = new ChunkRunner<Recorder, float>();
        float[] data = new float[16];
        var orders = new List<int[]>();
        for (int call = 0; call < 4; call++)
        {
            var recorder = new Recorder();
            runner.Run(Record, recorder, data, data, data, batch: 1, chunks: 5, degree: 1);
            orders.Add(recorder.Order.ToArray());
        }
        int[] forward = [0, 1, 2, 3, 4];
        int[] backward = [4, 3, 2, 1, 0];
        Assert.Equal(new[] { forward, backward, forward, backward }, orders);
    }

    private sealed class AloneRecorder
    {
        public ChunkRunner<AloneRecorder, float>? Runner;
        public readonly List<bool> RunsAlone = new();
        public readonly HashSet<int> Threads = new();
    }

    private static void RecordAlone(AloneRecorder recorder, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int batch, int chunk)
    {
        Thread.Sleep(1);
        lock (recorder.RunsAlone)
        {
            recorder.RunsAlone.Add(recorder.Runner!.RunsAlone);
            recorder.Threads.Add(Environment.CurrentManagedThreadId);
        }
    }

    /// <summary>
    /// The kernels read RunsAlone to ask for rows further ahead when no other core shares the memory bandwidth: true in
    /// every chunk of a one-thread call, and false in every chunk of a call that two threads share.
    /// </summary>
    [Fact]
    public void RunsAlone_is_true_in_a_one_thread_call_and_false_where_two_threads_share_it()
    {
        var runner = new ChunkRunner<AloneRecorder, float>();
        float[] data = new float[16];
        var alone = new AloneRecorder { Runner = runner };
        runner.Run(RecordAlone, alone, data, data, data, batch: 1, chunks: 4, degree: 1);
        Assert.Equal([true, true, true, true], alone.RunsAlone);

        bool sawShared = false;
        for (int call = 0; call < 5; call++)
        {
            var shared = new AloneRecorder { Runner = runner };
            runner.Run(RecordAlone, shared, data, data, data, batch: 1, chunks: 8, degree: Environment.ProcessorCount);
            // Chunks on two threads never say alone (a started helper that found no chunk left leaves one thread id).
            if (shared.Threads.Count > 1)
            {
                sawShared = true;
                Assert.All(shared.RunsAlone, Assert.False);
            }
        }
        Assert.Equal(Environment.ProcessorCount > 1, sawShared);
    }

    [Fact]
    public void On_several_threads_every_chunk_runs_exactly_once_in_every_call()
    {
        var runner = new ChunkRunner<Recorder, float>();
        float[] data = new float[16];
        for (int call = 0; call < 200; call++)
        {
            var recorder = new Recorder();
            runner.Run(Record, recorder, data, data, data, batch: 1, chunks: 8, degree: Environment.ProcessorCount);
            Assert.All(recorder.Counts, count => Assert.Equal(1, count));
        }
    }

    /// <summary>
    /// Helpers poll for work for a while after a call, then sleep: calls that come while they poll, and calls after they
    /// have gone to sleep, each run every chunk once, and a sleeping helper is woken to take part (chunks of 2 ms each,
    /// so the caller cannot finish them all before it wakes).
    /// </summary>
    [Fact]
    public void Calls_reach_polling_and_sleeping_helpers_alike()
    {
        var runner = new ChunkRunner<Recorder, float>();
        float[] data = new float[16];
        int callsWithHelp = 0;
        for (int call = 0; call < 12; call++)
        {
            var recorder = new Recorder();
            runner.Run(SlowRecord, recorder, data, data, data, batch: 1, chunks: 4, degree: 2);
            Assert.All(recorder.Counts.AsSpan(0, 4).ToArray(), count => Assert.Equal(1, count));
            callsWithHelp += recorder.Threads.Count > 1 ? 1 : 0;
            if (call % 3 == 2)
            {
                Thread.Sleep(5);   // longer than the helpers poll: they go to sleep
            }
        }
        if (Environment.ProcessorCount > 1)
        {
            Assert.True(callsWithHelp >= 6, $"a helper took part in {callsWithHelp} of 12 calls");
        }
    }

    private static void SlowRecord(Recorder recorder, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int batch, int chunk)
    {
        Thread.Sleep(2);
        Record(recorder, a, b, c, batch, chunk);
    }
}
