using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading;

namespace NormGen.Benchmarks.Infrastructure;

/// <summary>
/// Whether the machine's two threads have a core each: the same arithmetic-only loop (8 independent chains of 256-bit
/// fused multiply-adds, no memory traffic) timed on one thread alone and on two threads at once. Each of two threads
/// runs at about 1.0 of one thread's speed on two physical cores and at 0.5–0.65 on the two hyperthreads of one core,
/// where they share its arithmetic units — the limit of every 2-thread cell whose call stays in the cache.
/// </summary>
public static class CoreSharing
{
    private const long Iterations = 40_000_000;

    /// <summary>
    /// Each of two threads' speed at once, as a fraction of one thread's alone, in each of <paramref name="rounds"/>
    /// rounds: the lowest and the highest. On a VM the two can differ (the host may move the vCPUs between one core's
    /// hyperthreads and two cores from one second to the next).
    /// </summary>
    public static (double Lowest, double Highest) TwoThreadShare(int rounds = 5)
    {
        Work(1000);
        double lowest = double.MaxValue, highest = 0;
        for (int round = 0; round < rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            Work(Iterations);
            double alone = watch.Elapsed.TotalSeconds;

            using var go = new ManualResetEventSlim(false);
            var helper = new Thread(() => { go.Wait(); Work(Iterations); }) { IsBackground = true };
            helper.Start();
            watch.Restart();
            go.Set();
            Work(Iterations);
            helper.Join();
            double share = alone / watch.Elapsed.TotalSeconds;
            lowest = Math.Min(lowest, share);
            highest = Math.Max(highest, share);
        }
        return (lowest, highest);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Work(long iterations)
    {
        var a0 = Vector256.Create(1f);
        Vector256<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        var m = Vector256.Create(0.9999f);
        var c = Vector256.Create(0.0001f);
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c);
            a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c);
            a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c);
            a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c);
            a7 = Vector256.FusedMultiplyAdd(a7, m, c);
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7).ToScalar();
    }
}
