using System;
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
/// first use, each waiting on its own semaphore. Handing them work allocates nothing (the thread pool's queue
/// allocates now and then). One call at a time uses the team; a call that finds it busy runs on its own thread,
/// which gives the same results, since the chunks and the order of their partial sums do not depend on threads.
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

    /// <summary>Called by the owner of the work once every helper has finished.</summary>
    public static void Release() => Volatile.Write(ref _busy, 0);

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
        private readonly SemaphoreSlim _signal = new(0);
        private readonly int _slot;
        private ISharedWork? _work;

        public Worker(int index)
        {
            _slot = index + 1;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"NormGen worker {index + 1}" };
            thread.Start();
        }

        public void Give(ISharedWork work)
        {
            Volatile.Write(ref _work, work);
            _signal.Release();
        }

        private void Loop()
        {
            while (true)
            {
                _signal.Wait();
                ISharedWork work = Volatile.Read(ref _work)!;
                _work = null;
                work.Help(_slot);
            }
        }
    }
}
