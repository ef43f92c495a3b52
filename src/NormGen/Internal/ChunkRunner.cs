using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using System.Threading;

namespace NormGen.Internal;

/// <summary>One chunk of a generated kernel: the spans of the call, the batch, and which chunk to process.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate void ChunkKernel<TState, T>(TState state, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int batch, int chunk);

/// <summary>
/// Runs the chunks of a generated kernel on up to <c>degree</c> threads (the caller's included) without
/// allocating: the layer owns one runner, which NormGen's helper threads (<see cref="WorkerTeam"/>) share. The chunks are a
/// fixed partition of the work chosen by the generated code from the shape alone, and each chunk writes only
/// its own outputs and partial sums, so results are bit-identical for every degree of parallelism.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed unsafe class ChunkRunner<TState, T> : ISharedWork
    where TState : class
    where T : unmanaged
{
    private readonly ManualResetEventSlim _chunksDone = new(false);
    private ChunkKernel<TState, T>? _kernel;
    private TState? _state;
    private T* _a;
    private T* _b;
    private T* _c;
    private int _lengthA;
    private int _lengthB;
    private int _lengthC;
    private int _batch;
    private readonly ChunkClaims _claims = new();

    // The trials of streaming for the calls whose sizes leave it open, this layer's own (see StreamingTrials), and the
    // kind of call whose trial the current call is (-1 where its sizes decided).
    private readonly StreamingTrials _trials = new();
    private int _trialKind = -1;

    // Every other call runs the chunks last to first (each thread its own range, from its end). A layer's data a little
    // larger than a core's L2 would otherwise be read in the same order every call, and the least recently used lines,
    // the first ones a call reads, are exactly the ones evicted: every read would miss. Starting where the previous
    // call ended finds the most recently used data still in the cache (BatchNorm2d x[128,32,8,8] inference on one
    // thread 1.3× faster, x[8,256,14,14] inference and backward 1.13–1.15×). Chunks never depend on one another's
    // order, so the results are the same.
    private bool _backwards;

    // A helper enters a call through its door (_door counts those that did) until the caller, done with every chunk, closes
    // it. The caller waits for the helpers that entered to leave, as they are past their last chunk; one that had not
    // entered yet — woken late, or its core taken by another process's threads — is not waited for: it finds the door
    // closed and leaves without touching the claims (_lateHelpers counts those still to come; until they have, this
    // runner's calls run on the caller's thread, since the door must stay closed for them). The last helper to return,
    // entered or late, frees the team for the next call of any layer (_postedHelpers).
    private const int DoorClosed = 1 << 30;
    private int _door;
    private int _helpersLeft;
    private int _lateHelpers;
    private int _postedHelpers;

    // Chunks of the current call not yet finished, by whichever thread claimed them.
    private int _chunksLeft;

    /// <summary>
    /// True while one thread's share of a call's output <c>c</c>, or of all its spans together, is larger than the cache
    /// (<see cref="Threading.StreamsOutput"/>, or where the sizes leave it open, <see cref="StreamingTrials"/>) and the
    /// output is pinned by <see cref="Run"/>: the kernels then write it with <see cref="Simd.StoreOutput{T}(System.Runtime.Intrinsics.Vector256{T}, ref T, int, bool)"/>'s
    /// non-temporal stores. Read by the kernels, once per chunk.
    /// </summary>
    public bool StreamsOutput { get; private set; }

    /// <summary>
    /// True while one thread's share of the call is larger than a core's cache (<see cref="Threading.ExceedsCoreCache"/>),
    /// whether or not the output streams: the long-row backward pipeline runs then, where the output does not stream. Read
    /// by the kernels, once per chunk.
    /// </summary>
    public bool ExceedsCoreCache { get; private set; }

    /// <summary>
    /// True while the call runs on the calling thread alone (one thread allowed, or no helper free): a pass over rows from
    /// memory may then ask for its next rows further ahead, since no other core shares the memory bandwidth. Read by
    /// the kernels, once per chunk.
    /// </summary>
    public bool RunsAlone { get; private set; }

    /// <summary>
    /// True while the call runs its chunks last to first (every other call, see <c>_backwards</c>) and a thread's share is
    /// a little larger than its core's L2 (<see cref="Threading.DescendingRunsPay"/>). A kernel whose pieces of work within
    /// a chunk are independent of their order (the memory-order inference pass: each run elementwise) then runs them last
    /// to first too, so the call starts on the very runs the previous call ended on, not merely on its last chunk. Read
    /// by the kernels, once per chunk.
    /// </summary>
    public bool Descending { get; private set; }

    /// <summary>Runs <paramref name="kernel"/> for every chunk in [0, <paramref name="chunks"/>).</summary>
    public void Run(ChunkKernel<TState, T> kernel, TState state, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int batch, int chunks, int degree)
    {
        int helpers = Math.Min(degree, chunks) - 1;
        if (helpers > 0 && Volatile.Read(ref _lateHelpers) != 0)
        {
            // A helper of an earlier call has not arrived yet: the door stays closed until it has.
            helpers = 0;
        }
        int threads = Math.Max(1, helpers + 1);

        // The spans are pinned for the whole call (pinning is a flag on a local): helpers read them through pointers, and
        // non-temporal stores need an address that the garbage collector cannot move.
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            bool backwards = _backwards;
            _backwards = !backwards;
            MeasureShares(kernel, a.Length, b.Length, c.Length, threads, backwards);
            // Only the calls whose sizes leave streaming open are timed (a timestamp is a tenth of the smallest calls).
            long started = _trialKind >= 0 ? Stopwatch.GetTimestamp() : 0;
            if (helpers <= 0)
            {
                for (int i = 0; i < chunks; i++)
                {
                    kernel(state, a, b, c, batch, backwards ? chunks - 1 - i : i);
                }
                FinishStreaming();
                RecordTrial(started);
                return;
            }

            _kernel = kernel;
            _state = state;
            _a = pa;
            _lengthA = a.Length;
            _b = pb;
            _lengthB = b.Length;
            _c = pc;
            _lengthC = c.Length;
            _batch = batch;
            _claims.Reset(chunks, threads, backwards);
            _chunksLeft = chunks;
            _chunksDone.Reset();
            _helpersLeft = 0;
            Volatile.Write(ref _door, 0);
            Volatile.Write(ref _postedHelpers, helpers);
            int helping = WorkerTeam.TryStart(this, helpers);
            if (helping == 0)
            {
                // No helper is free (another call has them): this thread runs every chunk, so its share is the whole call.
                MeasureShares(kernel, a.Length, b.Length, c.Length, threads: 1, backwards);
            }
            if (helping < helpers && Interlocked.Add(ref _postedHelpers, helping - helpers) == 0 && helping > 0)
            {
                // The helpers that did start have already returned.
                WorkerTeam.Release();
            }
            ProcessChunks(slot: 0);

            // The spans stay pinned until every chunk a helper claimed is finished, and every helper that entered has left
            // the claims. A helper that had not entered is not waited for (one woken late, or descheduled by another
            // process's threads, would hold the call up by its wake-up: 0.1–4 ms on this machine's VMs, against a few µs
            // for a cache-resident call).
            WaitForChunks();
            int entered = Interlocked.Or(ref _door, DoorClosed);
            if (helping > entered)
            {
                Interlocked.Add(ref _lateHelpers, helping - entered);
            }
            var spin = new SpinWait();
            while (Volatile.Read(ref _helpersLeft) != entered)
            {
                spin.SpinOnce();
            }
            _kernel = null;
            _state = null;
            _a = _b = _c = null;
            FinishStreaming();
            RecordTrial(started);
        }
    }

    /// <summary>Records the current call's time where it was a trial (or followed one) of <see cref="StreamingTrials"/>.</summary>
    private void RecordTrial(long started)
    {
        // A call that became a trial only when it found no helper free (started 0) is not counted.
        if (_trialKind >= 0 && started != 0)
        {
            _trials.Record(_trialKind, StreamsOutput, Stopwatch.GetTimestamp() - started);
        }
    }

    /// <summary>
    /// Waits until no chunk is left: polls for up to <see cref="PollMicroseconds"/> (a helper finishing a chunk it began
    /// beside the caller's), then sleeps until the last chunk's thread wakes it.
    /// </summary>
    private void WaitForChunks()
    {
        if (Volatile.Read(ref _chunksLeft) == 0)
        {
            return;
        }
        long until = Stopwatch.GetTimestamp() + PollTicks;
        while (Volatile.Read(ref _chunksLeft) != 0)
        {
            Thread.SpinWait(1);
            if (Stopwatch.GetTimestamp() > until)
            {
                _chunksDone.Wait();
                return;
            }
        }
    }

    /// <summary>How long the caller polls for the helpers' last chunks before it sleeps: waking a sleeping thread takes
    /// longer than a cache-resident chunk.</summary>
    private const long PollMicroseconds = 50;

    private static readonly long PollTicks = Stopwatch.Frequency * PollMicroseconds / 1_000_000;

    /// <summary>
    /// Sets <see cref="StreamsOutput"/>, <see cref="ExceedsCoreCache"/>, <see cref="RunsAlone"/> and <see cref="Descending"/> for a call that <paramref name="threads"/>
    /// threads share: each keeps to its own range of chunks (<see cref="ChunkClaims"/>), so what must fit a core's cache is
    /// one thread's share of the data; what must fit the last-level cache, shared by the cores, is the whole call.
    /// <paramref name="backwards"/>: the call takes its chunks last to first.
    /// </summary>
    private void MeasureShares(ChunkKernel<TState, T> kernel, int lengthA, int lengthB, int lengthC, int threads, bool backwards)
    {
        long inputBytes = ((long)lengthA + lengthB) * sizeof(T);
        long outputBytes = (long)lengthC * sizeof(T);
        // One thread's share; no division for the one-thread calls of tiny inputs, which pay for every cycle here.
        long inputShare = threads == 1 ? inputBytes : inputBytes / threads;
        long outputShare = threads == 1 ? outputBytes : outputBytes / threads;
        StreamsOutput = Threading.StreamsOutput(inputShare, outputShare, inputBytes + outputBytes);
        _trialKind = -1;
        if (Threading.MayStreamOutput(inputShare, outputShare, inputBytes + outputBytes))
        {
            StreamsOutput = _trials.Choose(kernel, inputBytes + outputBytes, threads, out _trialKind);
        }
        ExceedsCoreCache = Threading.ExceedsCoreCache(inputShare, outputShare);
        RunsAlone = threads == 1;
        Descending = backwards && Threading.DescendingRunsPay(inputShare + outputShare);
    }

    /// <summary>Makes this thread's non-temporal stores visible before the output is handed back or the chunk reported done.</summary>
    private void FinishStreaming()
    {
        if (StreamsOutput)
        {
            Sse.StoreFence();
        }
    }

    void ISharedWork.Help(int slot)
    {
        if ((Interlocked.Increment(ref _door) & DoorClosed) != 0)
        {
            // Late: the caller has finished the call without this helper.
            LeaveTeam();
            Interlocked.Decrement(ref _lateHelpers);
            return;
        }
        ProcessChunks(slot);
        LeaveTeam();
        Interlocked.Increment(ref _helpersLeft);
    }

    /// <summary>The last of a call's helpers to return frees the team (before it signals the caller, who may start the next call).</summary>
    private void LeaveTeam()
    {
        if (Interlocked.Decrement(ref _postedHelpers) == 0)
        {
            WorkerTeam.Release();
        }
    }

    /// <summary>
    /// Runs chunks until none is left to claim. Another thread's last chunk, which <see cref="ChunkClaims.Claim"/> leaves
    /// to that thread once it has begun its range, is taken only if the thread has not claimed it within the time this
    /// one took per chunk (<see cref="WaitForLastChunk"/>): it is running its chunks, not held back.
    /// </summary>
    private void ProcessChunks(int slot)
    {
        // Only a call whose ranges hold more than one chunk can leave a last chunk to its owner: its threads time their
        // chunks, to know how long to wait for it; smaller calls take no time.
        long began = _claims.SomeRangeHoldsSeveral ? Stopwatch.GetTimestamp() : 0;
        int done = 0;
        while (true)
        {
            int chunk = _claims.Claim(slot, out int lastOf);
            if (chunk < 0)
            {
                if (lastOf < 0)
                {
                    return;
                }
                chunk = WaitForLastChunk(lastOf, done > 0 ? (Stopwatch.GetTimestamp() - began) / done : 0);
                if (chunk < 0)
                {
                    // Its owner claimed it; another thread's range may still hold chunks.
                    continue;
                }
            }
            _kernel!(_state!, new ReadOnlySpan<T>(_a, _lengthA), new ReadOnlySpan<T>(_b, _lengthB), new Span<T>(_c, _lengthC), _batch, chunk);
            FinishStreaming();
            done++;
            if (Interlocked.Decrement(ref _chunksLeft) == 0)
            {
                _chunksDone.Set();
            }
        }
    }

    /// <summary>
    /// Gives <paramref name="owner"/> up to <paramref name="patienceTicks"/> to claim the last chunk of its range; takes it
    /// (and returns it) if the owner has not by then, else returns −1.
    /// </summary>
    private int WaitForLastChunk(int owner, long patienceTicks)
    {
        long until = Stopwatch.GetTimestamp() + patienceTicks;
        while (!_claims.RangeClaimed(owner))
        {
            if (Stopwatch.GetTimestamp() >= until)
            {
                return _claims.ClaimLast(owner);
            }
            Thread.SpinWait(8);
        }
        return -1;
    }
}
