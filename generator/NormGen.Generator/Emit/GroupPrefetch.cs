using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// Software prefetching in the group-major kernels: which lines a pass asks for ahead of its use, and how far ahead.
/// The prefetches are spread over a pass, two cache lines an iteration, rather than issued all at once before it: a
/// burst fills the core's line-fill buffers and stalls the loads of the run being computed (measured: LayerNorm
/// backward x[8192,768] 14–23 % faster, BatchNorm2d backward x[32,64,32,32] about 10 %).
/// </summary>
internal static class GroupPrefetch
{
    /// <summary>The longest run whose successor is prefetched by hand; the hardware prefetcher follows longer ones.</summary>
    private const int LimitBytes = 16 * 1024;

    /// <summary>
    /// How far ahead (in elements) the first pass over a group prefetches: to the next group where a group is a single
    /// run and groups are adjacent (LayerNorm rows). Null where runs are longer than <see cref="LimitBytes"/> or of
    /// run-time length, for groups of several runs (BatchNorm), whose next run is one sample further: asking for it
    /// by hand was slower than leaving it to the hardware (measured without it: BatchNorm2d training and backward
    /// 1.03–1.14× faster on x[32,64,32,32], x[8,256,14,14] and x[128,32,8,8]), for the long rows whose forward
    /// prefetches later (<see cref="LongRowBytes"/>), and for RMSNorm's forward over such rows, which asks for none (on the
    /// AMD EPYC machine x[256,4096] 1.3× / 1.24× faster without the L1 prefetch, 1 / 2 threads, and only 1.06× with
    /// LayerNorm's L2 prefetch instead; it had kept the L1 prefetch on the Intel VM).
    /// </summary>
    /// <param name="ownStatistics">The pass belongs to the forward that computes its own statistics (a statistics pass, then y).</param>
    public static int? Distance(KernelContext ctx, bool ownStatistics)
    {
        if (RunBytes(ctx) is not int bytes || bytes > LimitBytes || GroupMajorKernels.OuterReduced(ctx).Count > 0)
        {
            return null;
        }
        bool longRmsForward = ownStatistics && ctx.Spec.IsRms && bytes >= LongRowBytes;
        return AdjacentRows(ctx) && !PrefetchesLongRowLater(ctx, ownStatistics) && !longRmsForward ? GroupMajorKernels.ConstantRunLength(ctx) : null;
    }

    /// <summary>
    /// The shortest row (a group of one run, groups adjacent) whose successor the forward with its own statistics
    /// prefetches into L2 rather than L1. The forward reads a row twice (statistics, then y), the second time beside γ
    /// and β: with 8–16 KiB rows the three fill the 48 KiB L1, and the next row, asked into L1, would evict them before
    /// the y pass reads them. (Measured, 1 thread: LayerNorm x[1024,4096] forward 1.1–1.45× faster than with the L1
    /// prefetch; 768-value rows, 3 KiB, were slower so, and the backward, whose two passes read x and dy, 1.0–1.1× slower,
    /// so both keep the L1 prefetch.)
    /// </summary>
    private const int LongRowBytes = 8 * 1024;

    /// <summary>Whether this pass's kernel prefetches the next row into L2 (see <see cref="LongRowBytes"/>).</summary>
    private static bool PrefetchesLongRowLater(KernelContext ctx, bool ownStatistics) =>
        ownStatistics && !ctx.Spec.IsRms && RunBytes(ctx) is int bytes && bytes >= LongRowBytes && bytes <= LimitBytes
        && GroupMajorKernels.OuterReduced(ctx).Count == 0 && AdjacentRows(ctx);

    /// <summary>Whether each group is the rows' next one in memory: no kept dim inside a reduced one, and no batch dim.</summary>
    private static bool AdjacentRows(KernelContext ctx) =>
        ctx.Layout.Segments.SkipWhile(s => !s.Reduced).All(s => s.Reduced && !s.Batch);

    /// <summary>
    /// How far ahead the forward's statistics pass over the long rows of <see cref="LongRowBytes"/> asks for the next row,
    /// into L2 (null for other layouts). Groups of
    /// several runs (BatchNorm, GroupNorm) no longer ask for the next group's runs by hand: the hardware prefetcher
    /// streams the runs that follow the ones read, and asking for a whole group ahead pushed the current group's x and dy
    /// out of L2 before its second pass (alternating builds, 1 thread, without it: backward of GroupNorm(1)
    /// x[8,64,56,56] 1.45× faster, BatchNorm2d x[256,3,32,32] 1.35×, GroupNorm(32) x[16,256,16,16] 1.12×, BatchNorm2d
    /// x[32,64,32,32] the same, GroupNorm(8) x[32,64,32,32] 1.05× slower; forward, the statistics pass's: 1.0–1.19×
    /// faster).
    /// </summary>
    public static int? NextRowDistance(KernelContext ctx) =>
        PrefetchesLongRowLater(ctx, ownStatistics: true) ? GroupMajorKernels.ConstantRunLength(ctx) : null;

    /// <summary>A run's size in bytes, where the run length is a constant.</summary>
    private static int? RunBytes(KernelContext ctx) =>
        GroupMajorKernels.ConstantRunLength(ctx) is int run ? run * ctx.ElementBytes : null;

    /// <summary>Lane 0 of each unrolled iteration: prefetches of the lines <see cref="Distance"/> ahead of the ones this iteration reads.</summary>
    public static IEnumerable<string> Next(KernelContext ctx, bool ownStatistics, int lane, string index, params string[] arrays) =>
        lane == 0 && Distance(ctx, ownStatistics) is int distance ? Lines(ctx, "Prefetch", Int(distance), index, arrays) : [];

    /// <summary>
    /// The backward's gradient-sums pass: prefetches <c>ahead</c> elements ahead (<see cref="EmitBackwardAhead"/>) of the
    /// lines this iteration reads, where the backward prefetches at all.
    /// </summary>
    public static IEnumerable<string> NextInBackward(KernelContext ctx, int lane, string index, params string[] arrays) =>
        lane == 0 && Distance(ctx, ownStatistics: false) is int ? Lines(ctx, "Prefetch", "ahead", index, arrays) : [];

    /// <summary>
    /// <c>int ahead</c>, how far the backward's gradient-sums pass asks for the rows after its own, where it prefetches:
    /// two rows when the call runs on one thread, one when two threads share the memory bandwidth. (Alternating builds,
    /// LayerNorm and RMSNorm x[8192,768] backward, against one row: 1 thread 1.15–1.28× and 1.07–1.16× faster; 2 threads
    /// 0.97–1.07× and 0.86–0.91×; three rows were no better than two.)
    /// </summary>
    public static void EmitBackwardAhead(CodeWriter w, KernelContext ctx)
    {
        if (Distance(ctx, ownStatistics: false) is int row)
        {
            w.Line("// How far ahead the gradient-sums pass asks for rows: two on one thread, one where two threads share the memory.");
            w.Line($"int ahead = state.Runner.RunsAlone ? {Int(2 * row)} : {Int(row)};");
        }
    }

    /// <summary>Lane 0 of each unrolled iteration of the forward's statistics pass: L2 prefetches of the next long row's lines corresponding to the ones this iteration reads.</summary>
    public static IEnumerable<string> NextRow(KernelContext ctx, int lane, string index, params string[] arrays) =>
        lane == 0 && NextRowDistance(ctx) is int distance ? Lines(ctx, "PrefetchToL2", Int(distance), index, arrays) : [];

    /// <summary>One prefetch per cache line of an unrolled iteration, <paramref name="distance"/> (a constant or a local) elements ahead, per array.</summary>
    private static IEnumerable<string> Lines(KernelContext ctx, string method, string distance, string index, string[] arrays)
    {
        int lineElements = ctx.LineElements;
        int iterationElements = ctx.Width * Unroll;
        foreach (string array in arrays)
        {
            for (int line = 0; line < iterationElements; line += lineElements)
            {
                yield return $"{Simd}.{method}(ref {array}, start + {distance} + {index}{(line == 0 ? "" : $" + {line}")});";
            }
        }
    }
}
