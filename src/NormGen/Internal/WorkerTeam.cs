using System;
using System.Diagnostics;
using System.Threading;

namespace NormGen.Internal;

/// <summary>A piece of work the helper threads share: each calls <see cref="Help"/> once.</summary>
internal interface ISharedWork
{
    /// <summary>Does this helper's part; <paramref name="slot"/> is 1 for the first helper, 2 for the second, … (0 is the caller).</summary>
    void Help(int slot);
}

/// <summary>
/// The process's helper threads for the generated kernels: ProcessorCount − 1 background threads, started on
/// first use. After each piece of work a helper polls for the next for a short while, then sleeps on its own
/// semaphore. Handing them work allocates nothing (the thread pool's queue allocates now and then). One call at a time uses the team, from
/// <see cref="TryStart"/> until its last helper has returned (which may be after the call itself has returned, see
/// <see cref="ChunkRunner{TState, T}"/>); a call that finds it busy runs on its own thread, which gives the same results,
/// since the chunks and the order of their partial sums do not depend on threads.
/// </summary>
internal static class WorkerTeam
{
    private static readonly object StartLock = new();
    private static Worker[]? _workers;
    private static int _busy;

    /// <summary>Asks up to <paramref name="helpers"/> threads to call <paramref name="work"/>.Help(slot), the
    /// first with slot 1, and always the same threads for the same slots; returns how many will.</summary>
    public static int TryStart(ISharedWork work, int helpers)
    {
        if (helpers <= 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            return 0;
        }
        Worker[] workers = _workers ?? Start();
        int count = Math.Min(helpers, workers.Length);
        for (int i = 0; i < count; i++)
        {
            workers[i].Give(work);
        }
        if (count == 0)
        {
            Volatile.Write(ref _busy, 0);
        }
        return count;
    }

    /// <summary>Called by the last helper to finish the work (or by its owner when none started): the team is free.</summary>
    public static void Release() => Volatile.Write(ref _busy, 0);

    /// <summary>Tests only: run by a helper between waking for work and taking it, to hold a helper back as a late wake-up would.</summary>
    internal static Action? HelperWokenForTests;

    private static Worker[] Start()
    {
        lock (StartLock)
        {
            if (_workers is null)
            {
                var workers = new Worker[Math.Max(0, Environment.ProcessorCount - 1)];
                for (int i = 0; i < workers.Length; i++)
                {
                    workers[i] = new Worker(i);
                }
                _workers = workers;
            }
            return _workers;
        }
    }

    private sealed class Worker
    {
        // A worker's states. Posted: work is waiting for it. Idle: it is looking for work without sleeping. Asleep: it
        // waits on its semaphore, and whoever posts work must release it.
        private const int Idle = 0, Posted = 1, Asleep = 2;

        private readonly SemaphoreSlim _signal = new(0);
        private readonly int _slot;
        private ISharedWork? _work;
        private int _state = Idle;

        public Worker(int index)
        {
            _slot = index + 1;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"NormGen worker {index + 1}" };
            thread.Start();
        }

        public void Give(ISharedWork work)
        {
            Volatile.Write(ref _work, work);
            if (Interlocked.Exchange(ref _state, Posted) == Asleep)
            {
                _signal.Release();
            }
        }

        private void Loop()
        {
            while (true)
            {
                if (!AwaitWorkAwake() && Interlocked.CompareExchange(ref _state, Asleep, Idle) == Idle)
                {
                    _signal.Wait();
                }
                Volatile.Write(ref _state, Idle);
                ISharedWork work = Volatile.Read(ref _work)!;
                _work = null;
                HelperWokenForTests?.Invoke();
                work.Help(_slot);
            }
        }

        /// <summary>
        /// Polls for work for up to <see cref="AwakeMicroseconds"/> after the last, as OpenMP runtimes' threads do by
        /// default; false when none came. A layer called in a loop, with other work between its calls, then hands each call to
        /// a helper that is running rather than one that must be woken: waking a sleeping thread takes longer than a
        /// cache-resident call's share, so the caller used to run most chunks itself (BatchNorm1d x[256,512] inference at two
        /// threads with 30 µs of other work between calls: 14–28 µs, no faster than one thread's 14.5; polling: 9–11 µs).
        /// </summary>
        private bool AwaitWorkAwake()
        {
            long until = Stopwatch.GetTimestamp() + AwakeTicks;
            while (Volatile.Read(ref _state) != Posted)
            {
                Thread.SpinWait(1);
                if (Stopwatch.GetTimestamp() > until)
                {
                    return false;
                }
            }
            return true;
        }

        private static readonly long AwakeTicks = Stopwatch.Frequency * AwakeMicroseconds / 1_000_000;
    }

    /// <summary>How long a helper keeps polling for work after its last before it sleeps (it pauses between polls, so a
    /// hyperthread sharing its core keeps most of the core).</summary>
    private const long AwakeMicroseconds = 100;
}
