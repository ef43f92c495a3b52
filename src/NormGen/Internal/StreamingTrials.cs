using System;

namespace NormGen.Internal;

/// <summary>
/// Decides, for the calls whose sizes leave it open (<see cref="Threading.MayStreamOutput"/>), whether a layer writes its
/// output past the cache, by timing the layer's own calls both ways. Such a call's share is larger than a core's cache,
/// but the whole call could stay in the last-level cache from one call to the next: where it does, writing through the
/// cache is faster (the next call finds its output's lines there); where it does not — other layers' data, or other
/// tenants of the machine, push it out in between — every ordinary store first reads its line from memory, and
/// non-temporal stores, which skip that read, are faster. Sizes cannot tell the two apart; the time of the call can.
/// Measured on an Intel Xeon VM (GroupNorm(8) x[32,64,32,32] forward, 16 MiB a call, one thread): with the data in the
/// L3 both ways took 1.2× a plain copy's time; with four such calls' data cycled through (from memory) through the
/// cache took 1.72× and streamed 1.28×. On the AMD EPYC, where the L3 held such calls, through the cache was 1.3–2.2×
/// faster (<see cref="Threading.CacheResidentCallBytes"/>).
/// </summary>
/// <remarks>
/// Each kind of call (kernel, bytes, threads), after <see cref="WarmUpCalls"/> through the cache, cycles through
/// <see cref="Period"/> calls: <see cref="TrialCalls"/> through the cache, as many streamed, then the rest the faster
/// way. The first call of each run of trials only moves the data to where that way leaves it and is not counted; the
/// others count by their fastest (the least disturbed by the rest of the machine). Streaming must win by
/// <see cref="StreamingMargin"/>: writing through the cache also leaves the output in the L3 for the next layer, which
/// the layer's own time does not see. The two ways write the same bits, so the choice changes the time of a call only,
/// never its results. Used by the calling thread of one layer's calls.
/// </remarks>
internal sealed class StreamingTrials
{
    /// <summary>Calls in each of the two runs of trials.</summary>
    public const int TrialCalls = 4;

    /// <summary>Calls from one round of trials to the next (the data's place can change: another phase of training, other
    /// tenants). The trials of the slower way cost about 4 calls in 1,024 a little time.</summary>
    public const int Period = 1024;

    /// <summary>
    /// Calls of a new kind that go through the cache before its first trials: a layer's first calls also start the helper
    /// threads and compile the code they run, and a trial among them would time that (at two threads on the Intel VM the
    /// first cached trials took twice the call's time, and streaming was chosen where it was 1.06× slower).
    /// </summary>
    public const int WarmUpCalls = 16;

    /// <summary>How much faster streaming must be to be chosen: 1.1×.</summary>
    public const double StreamingMargin = 1.1;

    // The kinds of call followed, each with its own round of trials: a layer's training forward, inference and backward
    // take up to five (BatchNorm's forward and backward are two passes each), and a layer called at two batch sizes
    // (training and evaluation) up to twice as many. A new kind replaces the one followed longest (_nextReplaced).
    private readonly Kind[] _kinds = [new(), new(), new(), new(), new(), new(), new(), new()];
    private int _nextReplaced;

    /// <summary>One kind of call: its key, how far it is into its round, the fastest trial each way, and the choice.</summary>
    private sealed class Kind
    {
        public object? Kernel;
        public long Bytes;
        public int Threads;
        public int Calls;
        public long FastestCached;
        public long FastestStreamed;
        public bool Streams;
    }

    /// <summary>
    /// Whether this call streams its output, for a call of <paramref name="kernel"/> over <paramref name="bytes"/> on
    /// <paramref name="threads"/> threads; <paramref name="kind"/> identifies it for <see cref="Record"/>.
    /// </summary>
    public bool Choose(object kernel, long bytes, int threads, out int kind)
    {
        kind = Find(kernel, bytes, threads);
        Kind k = _kinds[kind];
        int phase = k.Calls % Period;
        if (phase < TrialCalls)
        {
            return false;
        }
        if (phase < 2 * TrialCalls)
        {
            return true;
        }
        if (phase == 2 * TrialCalls)
        {
            k.Streams = k.FastestStreamed * StreamingMargin < k.FastestCached;
        }
        return k.Streams;
    }

    /// <summary>Records how long the call that <see cref="Choose"/> sent one way took (in any unit, the same every call).</summary>
    public void Record(int kind, bool streamed, long elapsed)
    {
        Kind k = _kinds[kind];
        int phase = k.Calls % Period;
        if (phase == 0)
        {
            k.FastestCached = long.MaxValue;
            k.FastestStreamed = long.MaxValue;
        }
        // The first call of each run of trials is not counted: it pays for moving the data from where the other way left it.
        if (phase > 0 && phase < TrialCalls && !streamed)
        {
            k.FastestCached = Math.Min(k.FastestCached, elapsed);
        }
        else if (phase > TrialCalls && phase < 2 * TrialCalls && streamed)
        {
            k.FastestStreamed = Math.Min(k.FastestStreamed, elapsed);
        }
        k.Calls = phase + 1;
    }

    private int Find(object kernel, long bytes, int threads)
    {
        for (int i = 0; i < _kinds.Length; i++)
        {
            Kind k = _kinds[i];
            if (ReferenceEquals(k.Kernel, kernel) && k.Bytes == bytes && k.Threads == threads)
            {
                return i;
            }
        }
        // A kind not followed yet replaces the one followed longest (its trials start again if it comes back).
        int replaced = _nextReplaced;
        _nextReplaced = (replaced + 1) % _kinds.Length;
        Kind fresh = _kinds[replaced];
        fresh.Kernel = kernel;
        fresh.Bytes = bytes;
        fresh.Threads = threads;
        // The warm-up calls are the last of a round that chose the cache: the trials start when they are done.
        fresh.Calls = Period - WarmUpCalls;
        fresh.Streams = false;
        return replaced;
    }
}
