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
/// descheduled, from holding up the call. But a thread that has begun its range keeps its last chunk: another thread
/// that runs out of work is told whose it is (<see cref="Claim"/>'s <c>lastOf</c>), and takes it with
/// <see cref="ClaimLast"/> only if the owner has not claimed it after a while (<see cref="ChunkRunner{TState, T}"/>
/// waits about one chunk's time). Taking it at once saves the call no more than the rest of the chunk the owner is
/// running, and moves that chunk's data into the other core's cache, where the owner's core has to fetch it from on
/// the next call, which made the owner late again: at two threads on the Intel Xeon VM a sixth to two fifths of the
/// calls of BatchNorm2d x[8,256,14,14] and x[128,32,8,8] inference lost a chunk that way, nearly all of them the owner's
/// last, and the calls ran up to 1.5× slower than when the owner kept it. Which thread runs a chunk never changes its
/// result.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ChunkClaims
{
    /// <summary>Ints between two threads' counters: one 64-byte line each, so claiming does not bounce a shared line.</summary>
    private const int Stride = 16;

    /// <summary>Where in a thread's line the flag that it has claimed a chunk of its own range is kept, beside its counter.</summary>
    private const int Began = 1;

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
            _claimed[slot * Stride + Began] = 0;
        }
        _chunks = chunks;
        _slots = slots;
        _backwards = backwards;
    }

    /// <summary>
    /// The next chunk for the thread of <paramref name="slot"/>: its own first, then the others' — but not the last chunk
    /// of a thread that has begun its range, whose slot <paramref name="lastOf"/> names instead (the first such thread after
    /// this one; −1 where there is none, or a chunk is returned). −1 when nothing else is left.
    /// </summary>
    public int Claim(int slot, out int lastOf)
    {
        lastOf = -1;
        for (int step = 0; step < _slots; step++)
        {
            int owner = slot + step < _slots ? slot + step : slot + step - _slots;
            int first = First(owner), end = First(owner + 1);
            ref int claimed = ref _claimed[owner * Stride];
            int seen = Volatile.Read(ref claimed);
            if (first + seen >= end)
            {
                continue;
            }
            if (step == 0)
            {
                // Only this thread writes its flag, once a call.
                if (_claimed[owner * Stride + Began] == 0)
                {
                    Volatile.Write(ref _claimed[owner * Stride + Began], 1);
                }
            }
            else if (first + seen == end - 1 && Volatile.Read(ref _claimed[owner * Stride + Began]) != 0)
            {
                lastOf = lastOf < 0 ? owner : lastOf;
                continue;
            }
            int taken = Interlocked.Increment(ref claimed) - 1;
            if (first + taken < end)
            {
                lastOf = -1;
                return ChunkAt(first, end, taken);
            }
        }
        return -1;
    }

    /// <summary>
    /// The last chunk of <paramref name="owner"/>'s range, which <see cref="Claim"/> left to it, if it has still not
    /// claimed it; else −1.
    /// </summary>
    public int ClaimLast(int owner)
    {
        int first = First(owner), end = First(owner + 1);
        ref int claimed = ref _claimed[owner * Stride];
        if (first + Volatile.Read(ref claimed) >= end)
        {
            return -1;
        }
        int taken = Interlocked.Increment(ref claimed) - 1;
        return first + taken < end ? ChunkAt(first, end, taken) : -1;
    }

    /// <summary>Whether some thread's range holds more than one chunk: only then can <see cref="Claim"/> leave a last chunk to its owner.</summary>
    public bool SomeRangeHoldsSeveral => _chunks > _slots;

    /// <summary>Whether every chunk of <paramref name="owner"/>'s range has been claimed, by it or by another thread.</summary>
    public bool RangeClaimed(int owner) => First(owner) + Volatile.Read(ref _claimed[owner * Stride]) >= First(owner + 1);

    /// <summary>The chunk a range hands out as its <paramref name="taken"/>-th: first to last, or last to first.</summary>
    private int ChunkAt(int first, int end, int taken) => _backwards ? end - 1 - taken : first + taken;

    private int First(int slot) => (int)((long)slot * _chunks / _slots);
}
