using System;
using System.Threading;
using NormGen.Internal;

namespace NormGen.Tests;

/// <summary>Whether a call at more than one thread hands a NormGen helper part of its work (the runtime's test hook).</summary>
internal static class HelperWake
{
    /// <summary>
    /// Runs <paramref name="call"/> until a helper wakes for it, at most 50 times, and says whether one did (on a one-core
    /// machine, once, and true). A helper that wakes only after the call has finished without it counts: it was handed
    /// the call. Repeated because the team may still be out with an earlier test's late helper, and the call then runs
    /// alone; the call must give the same results every time.
    /// </summary>
    public static bool For(Action call)
    {
        if (Environment.ProcessorCount == 1)
        {
            call();
            return true;
        }
        using var woken = new ManualResetEventSlim();
        WorkerTeam.HelperWokenForTests = woken.Set;
        try
        {
            for (int attempt = 0; attempt < 50; attempt++)
            {
                if (attempt > 0)
                {
                    Thread.Sleep(1);
                }
                call();
                if (woken.Wait(20))
                {
                    return true;
                }
            }
            return false;
        }
        finally
        {
            WorkerTeam.HelperWokenForTests = null;
        }
    }
}
