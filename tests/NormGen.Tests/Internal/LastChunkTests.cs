using System;
using System.Threading;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// A thread that runs out of chunks leaves the last chunk of a thread that is still running its range to that thread for
/// about one chunk's time (taking it moves that chunk's data into the other core's cache for the next call), and takes it
/// only when the owner is held up in a chunk longer than that. Each call here is two threads on a fresh runner (first to
/// last: the caller owns chunks 0–3, the helper 4–7).
/// </summary>
[Collection(nameof(NormGen.Tests.Threading.ThreadingTests))]
public sealed class LastChunkTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private sealed class Call : IDisposable
    {
        public readonly int Caller = Environment.CurrentManagedThreadId;
        public readonly int[] RanOn = new int[8];
        public readonly ManualResetEventSlim Signal = new();
        public bool TimedOut;

        public bool OnCaller(int chunk) => RanOn[chunk] == Caller;

        public void Dispose() => Signal.Dispose();
    }

    /// <summary>
    /// The caller's chunks take 40 ms each, so it waits up to about that long for the helper's last chunk; the helper's
    /// second-to-last chunk (6) ends 5 ms after the caller's last (3). The caller must not take chunk 7 in those 5 ms.
    /// </summary>
    [Fact]
    public void A_helper_running_its_range_keeps_its_last_chunk()
    {
        if (Environment.ProcessorCount < 2)
        {
            return; // No helper threads on one core.
        }
        ForCallsWithHelper(KeepsLast, "a chunk waited for an event that never came", call =>
        {
            Assert.All(new[] { 0, 1, 2, 3 }, chunk => Assert.True(call.OnCaller(chunk)));
            Assert.All(new[] { 5, 6, 7 }, chunk => Assert.Equal(call.RanOn[4], call.RanOn[chunk]));
        });
    }

    private static void KeepsLast(Call call, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int batch, int chunk)
    {
        call.RanOn[chunk] = Environment.CurrentManagedThreadId;
        if (chunk < 4)
        {
            Thread.Sleep(40);
            if (chunk == 3)
            {
                call.Signal.Set();
            }
        }
        else if (chunk == 6 && !call.OnCaller(6))
        {
            call.TimedOut |= !call.Signal.Wait(Patience);
            Thread.Sleep(5);
        }
    }

    /// <summary>
    /// The helper's first chunk (4) cannot end until chunk 7 has run: the caller takes 5 and 6, waits about one of its
    /// chunks' time (20 ms) for the helper to claim 7, then takes it, and the call ends.
    /// </summary>
    [Fact]
    public void A_helper_held_up_in_a_chunk_loses_its_last_chunk_to_the_caller()
    {
        if (Environment.ProcessorCount < 2)
        {
            return;
        }
        ForCallsWithHelper(LosesLast, "the caller never took the held-up helper's last chunk", call =>
            Assert.All(new[] { 0, 1, 2, 3, 5, 6, 7 }, chunk => Assert.True(call.OnCaller(chunk), $"chunk {chunk} ran on the helper")));
    }

    private static void LosesLast(Call call, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int batch, int chunk)
    {
        call.RanOn[chunk] = Environment.CurrentManagedThreadId;
        if (chunk == 4 && !call.OnCaller(4))
        {
            call.TimedOut |= !call.Signal.Wait(Patience);
        }
        else if (chunk == 7)
        {
            call.Signal.Set();
        }
        else if (call.OnCaller(chunk))
        {
            Thread.Sleep(20);
        }
    }

    /// <summary>
    /// Runs calls of <paramref name="kernel"/> (8 chunks, two threads, a fresh runner each) until two had a helper take
    /// part, at most five, and checks those; a call whose helper was busy elsewhere ran alone and proves nothing.
    /// </summary>
    private static void ForCallsWithHelper(ChunkKernel<Call, float> kernel, string timedOut, Action<Call> check)
    {
        int callsWithHelper = 0;
        for (int attempt = 0; attempt < 5 && callsWithHelper < 2; attempt++)
        {
            using var call = new Call();
            new ChunkRunner<Call, float>().Run(kernel, call, default, default, default, batch: 1, chunks: 8, degree: 2);
            Assert.False(call.TimedOut, timedOut);
            if (call.OnCaller(4))
            {
                continue;
            }
            callsWithHelper++;
            check(call);
        }
        Assert.True(callsWithHelper > 0, "no helper took part in five calls");
    }
}
