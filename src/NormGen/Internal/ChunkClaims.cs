using System;
using System.ComponentModel;
using System.Threading;

namespace NormGen.Internal;

/// <summary>
/// Hands out the chunks of one call to its threads. Thread <c>slot</c> of <c>slots</c> owns the contiguous range
/// [slot·chunks/slots, (slot+1)·chunks/slots): it claims those chunks first, then whatever the other threads have not
/// claimed yet of theirs; each range first to last, or, every other call (<see cref="ChunkRunner{TState, T}"/>), last
/// to first. Why ranges rather than one shared counter: a layer called again and again (a training loop, a
/// benchmark) then gives each thread the same chunks on every call, so the thread finds its share of a tensor that fits
/// the caches still in its own core's L2; with one counter each chunk goes to whichever thread asks first, and the data
/// crosses between the cores' caches on every call (BatchNorm2d x[8,256,14,14] inference at 2 threads: 47 → 30 µs,
/// x[128,32,8,8] training 61 → 44 µs). Taking over the others' unclaimed chunks keeps a helper that wakes late, or is
/// descheduled, from holding up the call. Which thread runs a chunk never changes its result.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ChunkClaims
{
    /// <summary>Ints between two threads' counters: one 64-byte line each, so claiming does not bounce a shared line.</summary>
    private const int Stride = 16;

    private int[] _claimed = new int[Math.Min(Environment.ProcessorCount, Threading.MaxChunks) * Stride];
    private int _chunks;
    private int _slots;
    private bool _backwards;

    /// <summary>
    /// Starts a call of <paramref name="chunks"/> chunks shared by <paramref name="slots"/> threads; before any claims. With
    /// <paramref name="backwards"/>, each range is handed out from its last chunk to its first.
    /// </summary>
    public void Reset(int chunks, int slots, bool backwards)
    {
        if (_claimed.Length < slots * Stride)
        {
            _claimed = new int[slots * Stride];
        }
        for (int slot = 0; slot < slots; slot++)
        {
            _claimed[slot * Stride] = 0;
        }
        _chunks = chunks;
        _slots = slots;
        _backwards = backwards;
    }

    /// <summary>The next chunk for the thread of <paramref name="slot"/>: its own first, then the others'; −1 when none is left.</summary>
    public int Claim(int slot)
    {
        for (int step = 0; step < _slots; step++)
        {
            int owner = slot + step < _slots ? slot + step : slot + step - _slots;
            int first = First(owner), end = First(owner + 1);
            ref int claimed = ref _claimed[owner * Stride];
            if (first + Volatile.Read(ref claimed) >= end)
            {
                continue;
            }
            int taken = Interlocked.Increment(ref claimed) - 1;
            if (first + taken < end)
            {
                return _backwards ? end - 1 - taken : first + taken;
            }
        }
        return -1;
    }

    private int First(int slot) => (int)((long)slot * _chunks / _slots);
}
