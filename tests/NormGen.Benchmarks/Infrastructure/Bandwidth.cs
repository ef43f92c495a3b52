using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using BenchmarkDotNet.Attributes;
using NormGen.Benchmarks.Cases;

namespace NormGen.Benchmarks.Infrastructure;

/// <summary>
/// This machine's memory bandwidth at a working-set size, and the floor of each case/operation: the time
/// a plain copy takes to move the bytes the operation must move, at the operation's working-set size
/// (copy src → dst of bytes/2 each, so src+dst = the bytes read + written, and the working set matches:
/// a cache-resident case gets a cache floor, a large one a memory floor). Measured with a Stopwatch:
/// the best per-call time over several batches after a warm-up (a floor is the fastest the machine goes).
/// </summary>
public static class Floors
{
    public sealed record Floor(CaseSpec Case, string Op, long Bytes, double OneThreadNs, double TwoThreadNs)
    {
        public double BestNs(int threads) => threads >= 2 ? Math.Min(OneThreadNs, TwoThreadNs) : OneThreadNs;
    }

    public sealed record Point(long WorkingSetBytes, double ReadGBs, double CopyGBs, double Copy2TGBs);

    private static readonly Dictionary<(string, string), Floor> Measured = new();

    public static IReadOnlyDictionary<(string Case, string Op), Floor> All => Measured;

    public static Floor? Get(string caseName, string op) => Measured.TryGetValue((caseName, op), out Floor? f) ? f : null;

    /// <summary>Measures the floors of the given cases; <paramref name="budgetMs"/> is the time per measurement.</summary>
    public static IReadOnlyList<Floor> MeasureCases(IEnumerable<CaseSpec> cases, double budgetMs)
    {
        var list = new List<Floor>();
        using var pair = new ThreadPair();
        foreach (CaseSpec spec in cases)
            foreach (string op in spec.Operations)
            {
                long bytes = spec.MinimumBytes(op);
                double t1 = BestOf(3, () => CopyNs(bytes / 2, 1, budgetMs, pair));
                double t2 = BestOf(3, () => CopyNs(bytes / 2, 2, budgetMs, pair));
                var f = new Floor(spec, op, bytes, t1, t2);
                Measured[(spec.Name, op)] = f;
                list.Add(f);
            }
        return list;
    }

    /// <summary>Read (sum) and copy bandwidth at working-set sizes from L1 to DRAM.</summary>
    public static IReadOnlyList<Point> MeasureCurve(double budgetMs)
    {
        var points = new List<Point>();
        using var pair = new ThreadPair();
        foreach (long kib in new long[] { 16, 64, 256, 1024, 4096, 16384, 65536, 262144 })
        {
            long bytes = kib * 1024;
            double read = ReadNs(bytes, budgetMs);
            double copy = BestOf(3, () => CopyNs(bytes / 2, 1, budgetMs, pair));
            double copy2 = BestOf(3, () => CopyNs(bytes / 2, 2, budgetMs, pair));
            points.Add(new Point(bytes, bytes / read, bytes / copy, bytes / copy2));
        }
        return points;
    }

    /// <summary>
    /// The least of <paramref name="times"/> measurements, each on fresh buffers. A floor is a lower bound, and anything
    /// else running (a moment of other work on one of the two cores, say) only ever makes a copy slower: one disturbed
    /// 2-thread measurement once made floors 1.5–3× too high, which would have flattered the kernels measured against them.
    /// </summary>
    private static double BestOf(int times, Func<double> measure)
    {
        double best = double.MaxValue;
        for (int i = 0; i < times; i++)
        {
            best = Math.Min(best, measure());
        }
        return best;
    }

    /// <summary>Best per-call nanoseconds of copying <paramref name="bytesEach"/> bytes from one buffer to another.</summary>
    public static double CopyNs(long bytesEach, int threads, double budgetMs, ThreadPair pair)
    {
        using var copy = new FloorCopy(bytesEach, threads, pair);
        return BestNs(copy.Run, budgetMs);
    }

    private static double ReadNs(long bytes, double budgetMs)
    {
        int n = (int)(bytes / sizeof(float));
        using var buf = new AlignedBuffer(n);
        buf.Span.Fill(0.5f);
        float sink = 0;
        double ns = BestNs(() => sink += StreamSum(buf.ReadOnly), budgetMs);
        GC.KeepAlive(sink);
        return ns;
    }

    private static double BestNs(Action once, double budgetMs)
    {
        for (int i = 0; i < 3; i++) once();
        var sw = Stopwatch.StartNew();
        long reps = 1;
        while (true)
        {
            sw.Restart();
            for (long i = 0; i < reps; i++) once();
            if (sw.Elapsed.TotalMilliseconds >= budgetMs / 10 || reps > 1L << 30) break;
            reps *= 2;
        }
        double best = double.MaxValue;
        for (int batch = 0; batch < 7; batch++)
        {
            sw.Restart();
            for (long i = 0; i < reps; i++) once();
            best = Math.Min(best, sw.Elapsed.TotalNanoseconds / reps);
        }
        return best;
    }

    /// <summary>
    /// The streaming read: a sum with four independent vector accumulators (the widest vectors the machine
    /// accelerates), so the loop is bound by loads, not by the add latency.
    /// </summary>
    public static float StreamSum(ReadOnlySpan<float> data)
    {
        ref float start = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(data);
        nuint n = (nuint)data.Length, i = 0;
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            var a0 = System.Runtime.Intrinsics.Vector512<float>.Zero;
            var a1 = a0;
            var a2 = a0;
            var a3 = a0;
            for (; i + 64 <= n; i += 64)
            {
                a0 += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref start, i);
                a1 += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref start, i + 16);
                a2 += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref start, i + 32);
                a3 += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref start, i + 48);
            }
            float s = System.Runtime.Intrinsics.Vector512.Sum((a0 + a1) + (a2 + a3));
            for (; i < n; i++) s += System.Runtime.CompilerServices.Unsafe.Add(ref start, i);
            return s;
        }
        else
        {
            var a0 = System.Runtime.Intrinsics.Vector256<float>.Zero;
            var a1 = a0;
            var a2 = a0;
            var a3 = a0;
            for (; i + 32 <= n; i += 32)
            {
                a0 += System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref start, i);
                a1 += System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref start, i + 8);
                a2 += System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref start, i + 16);
                a3 += System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref start, i + 24);
            }
            float s = System.Runtime.Intrinsics.Vector256.Sum((a0 + a1) + (a2 + a3));
            for (; i < n; i++) s += System.Runtime.CompilerServices.Unsafe.Add(ref start, i);
            return s;
        }
    }

    /// <summary>A second thread that runs <see cref="Work"/> on <see cref="Start"/>, spinning in between (no pool latency).</summary>
    public sealed class ThreadPair : IDisposable
    {
        private readonly Thread _thread;
        private volatile int _go, _done;
        private volatile bool _stop;

        public ThreadPair()
        {
            _thread = new Thread(Loop) { IsBackground = true, Name = "floor-copy-2" };
            _thread.Start();
        }

        public Action Work { get; set; } = () => { };

        public void Start()
        {
            _done = 0;
            _go = 1;
        }

        public void Wait()
        {
            var spin = new SpinWait();
            while (_done == 0) spin.SpinOnce(-1);
        }

        private void Loop()
        {
            var spin = new SpinWait();
            while (!_stop)
            {
                if (_go == 1)
                {
                    _go = 0;
                    Work();
                    _done = 1;
                    spin.Reset();
                }
                else if (spin.Count < 100000) spin.SpinOnce(-1);
                else Thread.Sleep(1);
            }
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }
    }
}

/// <summary>
/// Memory bandwidth as a BenchmarkDotNet benchmark: streaming read (sum of a float array) and copy
/// (Span.CopyTo, i.e. Buffer.Memmove) at working-set sizes from L1 to DRAM. GB/s = WorkingSetKiB·1024 / Mean.
/// </summary>
public class Bandwidth
{
    private AlignedBuffer? _a, _b;

    [Params(32, 256, 1024, 8192, 32768, 262144)]
    public int WorkingSetKiB { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int floats = WorkingSetKiB * 1024 / sizeof(float);
        _a = new AlignedBuffer(floats);
        _a.Span.Fill(0.5f);
        _b = new AlignedBuffer(floats / 2);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a?.Dispose();
        _b?.Dispose();
    }

    /// <summary>Reads the whole working set once (a sum).</summary>
    [Benchmark]
    public float Read() => Floors.StreamSum(_a!.ReadOnly);

    /// <summary>Copies half the working set into the other half's worth of a second buffer (memcpy).</summary>
    [Benchmark]
    public void Copy() => _a!.ReadOnly.Slice(0, _b!.Length).CopyTo(_b.Span);

    /// <summary>The same copy through <see cref="Buffer.MemoryCopy"/>.</summary>
    [Benchmark]
    public unsafe void MemoryCopy() => Buffer.MemoryCopy(_a!.Pointer, _b!.Pointer, _b.Bytes, _b.Bytes);
}
