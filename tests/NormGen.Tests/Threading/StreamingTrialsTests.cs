using System;
using System.Runtime.Intrinsics.X86;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// Calls whose sizes leave streaming open (<see cref="NormGen.Internal.Threading.MayStreamOutput"/>) are timed both ways
/// by <see cref="StreamingTrials"/>: after a warm-up through the cache, four calls through the cache, four streamed, then
/// the faster way (streaming only by a margin) until the next round. The way must never change the results.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class StreamingTrialsTests
{
    private static readonly object Forward = new();
    private static readonly object Backward = new();
    private const long Bytes = 12L << 20;

    [Fact]
    public void A_new_kind_of_call_warms_up_through_the_cache_before_its_trials()
    {
        // Streaming looks faster from the first call, but those calls start threads and compile code: no trial yet.
        var trials = new StreamingTrials();
        for (int call = 0; call < StreamingTrials.WarmUpCalls; call++)
        {
            Assert.False(Call(trials, Forward, cached: 100, streamed: 10), $"warm-up call {call} streamed");
        }
        Assert.Equal([false, false, false, false, true, true, true, true], RunTrials(trials, Forward, cached: 100, streamed: 10));
    }

    [Fact]
    public void Four_calls_go_through_the_cache_and_four_stream_then_the_faster_way()
    {
        var trials = new StreamingTrials();
        WarmUp(trials, Forward);
        Assert.Equal([false, false, false, false, true, true, true, true], RunTrials(trials, Forward, cached: 100, streamed: 70));
        for (int call = 2 * StreamingTrials.TrialCalls; call < StreamingTrials.Period; call++)
        {
            Assert.True(Call(trials, Forward, cached: 100, streamed: 70), $"call {call} went through the cache");
        }
        // The next round tries both ways again, and this time the cache wins.
        Assert.Equal([false, false, false, false, true, true, true, true], RunTrials(trials, Forward, cached: 70, streamed: 100));
        Assert.False(Call(trials, Forward, cached: 70, streamed: 100));
    }

    [Fact]
    public void Streaming_must_be_faster_by_the_margin()
    {
        var trials = new StreamingTrials();
        WarmUp(trials, Forward);
        RunTrials(trials, Forward, cached: 100, streamed: 95);
        Assert.False(Call(trials, Forward, cached: 100, streamed: 95), "streaming 1.05× faster was chosen");

        var faster = new StreamingTrials();
        WarmUp(faster, Forward);
        RunTrials(faster, Forward, cached: 100, streamed: 89);
        Assert.True(Call(faster, Forward, cached: 100, streamed: 89), "streaming 1.12× faster was not chosen");
    }

    [Fact]
    public void The_first_call_of_each_way_is_not_counted()
    {
        // The first cached call is fast (the data still where the previous round's last calls left it), the first
        // streamed one slow (moving the data out): neither may decide.
        var trials = new StreamingTrials();
        WarmUp(trials, Forward);
        long[] cached = [10, 100, 100, 100];
        long[] streamed = [1000, 80, 80, 80];
        for (int call = 0; call < 2 * StreamingTrials.TrialCalls; call++)
        {
            bool streams = trials.Choose(Forward, Bytes, 1, out int kind);
            trials.Record(kind, streams, streams ? streamed[call - StreamingTrials.TrialCalls] : cached[call]);
        }
        Assert.True(Call(trials, Forward, cached: 100, streamed: 80));
    }

    [Fact]
    public void Each_kind_of_call_has_its_own_trials()
    {
        var trials = new StreamingTrials();
        // A forward faster streamed and a backward faster through the cache, their calls alternating; the same forward
        // on two threads, and over other sizes, are other kinds.
        for (int call = 0; call < StreamingTrials.WarmUpCalls + 2 * StreamingTrials.TrialCalls; call++)
        {
            Call(trials, Forward, cached: 100, streamed: 50);
            Call(trials, Backward, cached: 50, streamed: 100);
        }
        Assert.True(Call(trials, Forward, cached: 100, streamed: 50));
        Assert.False(Call(trials, Backward, cached: 50, streamed: 100));
        Assert.False(trials.Choose(Forward, Bytes, threads: 2, out _), "another thread count shared the trials");
        Assert.False(trials.Choose(Forward, 2 * Bytes, threads: 1, out _), "another size shared the trials");
    }

    [Fact]
    public void A_kind_not_followed_replaces_the_oldest_and_starts_its_trials_again()
    {
        var trials = new StreamingTrials();
        WarmUp(trials, Forward);
        RunTrials(trials, Forward, cached: 100, streamed: 50);
        Assert.True(Call(trials, Forward, cached: 100, streamed: 50));
        // Eight other kinds: the eighth replaces the forward, which then starts again from its warm-up.
        for (int other = 1; other <= 8; other++)
        {
            trials.Choose(Forward, Bytes + other, 1, out _);
        }
        WarmUp(trials, Forward);
        Assert.Equal([false, false, false, false, true, true, true, true], RunTrials(trials, Forward, cached: 100, streamed: 50));
    }

    [Fact]
    public void Calls_between_the_core_cache_and_the_L3_are_open_and_others_are_not()
    {
        const long MiB = 1L << 20;
        bool avx = Avx.IsSupported;
        // A GroupNorm forward of 8 MiB tensors on one thread (16 MiB a call) and on two: open.
        Assert.Equal(avx, NormGen.Internal.Threading.MayStreamOutput(8 * MiB, 8 * MiB, 16 * MiB));
        Assert.Equal(avx, NormGen.Internal.Threading.MayStreamOutput(4 * MiB, 4 * MiB, 16 * MiB));
        // Shares in a core's cache never stream; calls past the L3, and backwards that keep x and dy in the L2, always do.
        Assert.False(NormGen.Internal.Threading.MayStreamOutput(1 * MiB, 1 * MiB, 2 * MiB));
        Assert.False(NormGen.Internal.Threading.MayStreamOutput(11 * MiB, 11 * MiB, 22 * MiB));
        Assert.False(NormGen.Internal.Threading.MayStreamOutput(2 * MiB, 1 * MiB, 3 * MiB));
        // A statistics pass over 8 MiB writes nothing to stream.
        Assert.False(NormGen.Internal.Threading.MayStreamOutput(8 * MiB, 0, 8 * MiB));
    }

    [Fact]
    public void GroupNorm_writes_the_same_bits_through_the_cache_and_streamed()
    {
        // 48 samples of 8,192 floats: 1.5 MiB tensors, whose forward (3 MiB) and backward (4.5 MiB) on one thread are
        // larger than a core's cache and smaller than the L3, so the calls after the warm-up are trials of both ways.
        const int length = 48 * ThreadedGroupNorm.SampleSize;
        long bytes = (long)length * sizeof(float);
        Assert.Equal(Avx.IsSupported, NormGen.Internal.Threading.MayStreamOutput(bytes, bytes, 2 * bytes));
        Assert.Equal(Avx.IsSupported, NormGen.Internal.Threading.MayStreamOutput(2 * bytes, bytes, 3 * bytes));
        float[] x = TestData.RampedFloats(length, 31);
        float[] dy = TestData.RampedFloats(length, 32);
        var layer = new ThreadedGroupNorm { MaxDegreeOfParallelism = 1 };
        // On cache lines, so that the streamed calls' stores do bypass the cache.
        Span<float> y = LineOffset.Span<float>(length, 0);
        Span<float> dx = LineOffset.Span<float>(length, 0);
        float[]? firstY = null, firstDx = null;
        const int trialsStart = StreamingTrials.WarmUpCalls;
        for (int call = 0; call < trialsStart + 2 * StreamingTrials.TrialCalls + 1; call++)
        {
            y.Clear();
            dx.Clear();
            layer.ZeroGrad();
            layer.Forward(x, y);
            layer.Backward(x, dy, dx);
            if (firstY is null)
            {
                firstY = y.ToArray();
                firstDx = dx.ToArray();
                Assert.Contains(firstY, v => v != 0);
                continue;
            }
            int trial = call - trialsStart;
            string way = trial < StreamingTrials.TrialCalls ? "through the cache" : trial < 2 * StreamingTrials.TrialCalls ? "streamed" : "after the trials";
            SameBits.Assert<float>("y", firstY, "the first call", y.ToArray(), $"call {call} ({way})");
            SameBits.Assert<float>("dx", firstDx!, "the first call", dx.ToArray(), $"call {call} ({way})");
        }
    }

    /// <summary>A new kind's warm-up: its calls go through the cache whatever they take.</summary>
    private static void WarmUp(StreamingTrials trials, object kernel)
    {
        for (int call = 0; call < StreamingTrials.WarmUpCalls; call++)
        {
            Assert.False(Call(trials, kernel, cached: 100, streamed: 10), $"warm-up call {call} streamed");
        }
    }

    private static bool[] RunTrials(StreamingTrials trials, object kernel, long cached, long streamed)
    {
        var ways = new bool[2 * StreamingTrials.TrialCalls];
        for (int call = 0; call < ways.Length; call++)
        {
            ways[call] = Call(trials, kernel, cached, streamed);
        }
        return ways;
    }

    /// <summary>One call: which way it went, recorded with the time that way takes.</summary>
    private static bool Call(StreamingTrials trials, object kernel, long cached, long streamed)
    {
        bool streams = trials.Choose(kernel, Bytes, 1, out int kind);
        trials.Record(kind, streams, streams ? streamed : cached);
        return streams;
    }
}
