using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// The forward over short rows (LayerNorm) as a two-stage pipeline: the statistics pass over a row also writes the
/// previous row's y. Row by row, the y pass waits on the row's statistics and the next statistics pass cannot start
/// before it ends; side by side in one loop the two rows' work overlaps (LayerNorm x[64,768] forward 10.6 → 8.55 µs,
/// x[64,1000] 13.1 → 10.9 µs, with 512-bit y stores; with 256-bit ones a hand-written version was no faster than row by
/// row, so the pipeline runs only where the processor has AVX-512).
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>
    /// Rows that take the pipeline: each group a single run of a constant length, long enough for the other output loops' 512-bit
    /// twins (<see cref="VectorLoop.MinWideRunLines"/>), one kept segment (the chunked loop over rows), γ and β along the
    /// row (affine LayerNorm), and no short group: rows up to 2 KiB go side by side instead (<see cref="BatchesShortGroups"/>;
    /// alternating builds, 1 thread: LayerNorm x[512,128] 19.3 → 16.0 µs, x[256,256] 1.05× faster, rows of 384 and 512
    /// the same). Rows under <see cref="LongPipelinedRowBytes"/> run it where y stays in the cache (two rows, γ and β fit
    /// the L1 cache); longer rows, a whole number of unrolled iterations, where y streams past it (<see cref="PipelinesLongRows"/>).
    /// RMSNorm and rows without γ and β keep the row-by-row passes.
    /// </summary>
    internal static bool PipelinesRows(KernelContext ctx) =>
        !BatchesShortGroups(ctx)
        && !ctx.Spec.IsRms
        && ctx.HasGamma && ctx.HasBeta && SegmentLoops.AffineAlongRun(ctx)
        && SingleRunRows(ctx) is int run
        && run >= VectorLoop.MinWideRunLines * ctx.LineElements
        && (run * ctx.ElementBytes < LongPipelinedRowBytes || run % (ctx.Width * Unroll) == 0);

    /// <summary>
    /// The run length where each group is one run of a constant length and the only kept segment is the chunked loop
    /// over the groups (rows one after another, as LayerNorm's); else null. The layouts the row pipelines take.
    /// </summary>
    internal static int? SingleRunRows(KernelContext ctx) =>
        OuterReduced(ctx).Count == 0 && ctx.Kept.Count == 1 && ctx.ChunkSegment == ctx.Kept[0] ? ConstantRunLength(ctx) : null;

    /// <summary>Rows of 8 KiB and more: two of them beside γ and β would fill the L1 cache.</summary>
    private const int LongPipelinedRowBytes = 8 * 1024;

    /// <summary>
    /// Whether <see cref="PipelinesRows"/>' rows are long ones, pipelined where y streams past the cache rather than
    /// where it stays in it: the statistics pass reads the next row from memory while the y stores of the row before go
    /// out (alternating builds, medians: LayerNorm x[1024,4096] forward 1.57 → 1.41 ms at 1 thread, 0.81 → 0.73 ms at 2;
    /// x[256,16384] 1.22× / 1.28× faster, x[4096,2048] 1.07× / 1.17×). Their
    /// pipelined pass asks for no next row (with the L2 prefetch of the row-by-row pass, 1.07× slower), and writes the
    /// previous row's whole cache lines beside the sums, its partial end lines first, as <see cref="EmitPreviousRowEdges"/>.
    /// </summary>
    internal static bool PipelinesLongRows(KernelContext ctx) =>
        ConstantRunLength(ctx) is int run && run * ctx.ElementBytes >= LongPipelinedRowBytes;

    /// <summary>
    /// The body of <c>StatisticsAndNormalizeChunk</c> for <see cref="PipelinesRows"/>: row n's statistics pass writes row
    /// n − 1's y where <c>pipelined</c>; otherwise (no AVX-512, streamed outputs, the chunk's first and last rows, a
    /// second attempt at a row's statistics) the row-by-row passes run, which compute the same values.
    /// </summary>
    private static void EmitPipelinedRows(CodeWriter w, KernelContext ctx)
    {
        Segment rows = ctx.Kept[0];
        string n = ctx.LoopVariable(rows);
        int run = ConstantRunLength(ctx)!.Value;
        string rowStart = ctx.Offset(ctx.Kept.Select(s => (s, s.Stride)));
        string param = SegmentLoops.ParameterOffset(ctx);
        var wide = VectorShape.Wide(ctx);

        bool longRows = PipelinesLongRows(ctx);
        if (longRows)
        {
            w.Line("// Rows in a two-stage pipeline where the processor has AVX-512 and y streams past the cache: the statistics");
            w.Line($"// pass over row {n} also writes row {n} − 1's y, so the one row's reads from memory overlap the other's writes.");
            w.Line("// Elsewhere the row-by-row passes run, with the same values.");
        }
        else
        {
            w.Line("// Rows in a two-stage pipeline where the processor has AVX-512 and y stays in the cache: the statistics pass");
            w.Line($"// over row {n} also writes row {n} − 1's y, so the two rows' work overlaps. Elsewhere the row-by-row passes run,");
            w.Line("// with the same values.");
        }
        w.Line($"bool pipelines = global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && {(longRows ? "streaming" : "!streaming")};");
        w.Line("double previousMean = 0.0;");
        w.Line("double previousInvStd = 0.0;");
        using (w.Block($"for (int {n} = chunkFirst; {n} <= chunkLast; {n}++)"))
        {
            w.Line($"bool pipelined = pipelines && {n} > chunkFirst && {n} < chunkLast;");
            w.Line($"int rowStart = {rowStart};");
            using (w.Block($"if ({n} > chunkFirst && !pipelined)"))
            {
                w.Line($"// Row {n} − 1's y, which no pipelined pass wrote.");
                w.Line($"int start = rowStart - {Int(run)};");
                w.Line($"int param = {param};");
                w.Line("double mean = previousMean;");
                w.Line("double invStd = previousInvStd;");
                EmitNormalizeGroup(w, ctx, splitMean: true);
            }
            using (w.Block($"if ({n} < chunkLast)"))
            {
                w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
                w.Line("int start = rowStart;");
                w.Line($"int param = {param};");
                if (GroupPrefetch.Distance(ctx, ownStatistics: true) is int distance)
                {
                    w.Line($"// The statistics pass over this row also asks for the next row's {distance} values, two cache lines an iteration.");
                }
                w.Line($"// Row {n} − 1's mean and 1/std, for its y in the pipelined pass.");
                w.Line($"int previousStart = start - {Int(run)};");
                EmitMeanSplit(w, ctx, source: "previousMean", prefix: "previousMean");
                w.Line($"var previousInvStdV = {Simd}.Splat(({ctx.T})previousInvStd);");
                EmitMeanAndVariance(w, ctx, pipelinedPass: (sums, scalar, names) =>
                {
                    w.Line("// Σd and Σd² over this row, and the previous row's y in 512-bit vectors beside them (the same values as its own pass).");
                    w.Line(VectorLoop.WideSplats(ctx, MeanSplats(ctx, "previousMean").Append("previousInvStd")));
                    if (longRows)
                    {
                        EmitPreviousRowEdges(w, ctx, run, "yRef", (index, start, gammaIndex) => PreviousRowValue(ctx, VectorShape.Narrow(ctx), index, start, gammaIndex));
                        // After lane 3, the whole unrolled iteration's values as two 512-bit vectors, on whole cache lines.
                        VectorLoop.Emit(w, ctx, run, Int(run),
                            (lane, index) => lane == Unroll - 1
                                ? sums(lane, index).Concat(Guarded([PreviousLineStore(ctx, wide, "i"), PreviousLineStore(ctx, wide, $"i + {wide.Width}")]))
                                : sums(lane, index),
                            scalar,
                            FlushBlockedSums(w, names));
                        EmitPreviousRowRemainder(w, ctx, "yRef", (index, start, gammaIndex) => PreviousRowValue(ctx, VectorShape.Narrow(ctx), index, start, gammaIndex));
                        return;
                    }
                    // Lanes 1 and 3 occur only in whole unrolled iterations (at i + width and i + 3·width): after them, the
                    // 512-bit vectors at i and i + 2·width.
                    VectorLoop.Emit(w, ctx, run, Int(run),
                        (lane, index) => lane % 2 == 1 ? sums(lane, index).Concat([PreviousRowStore(ctx, wide, lane == 1 ? "i" : $"i + {2 * ctx.Width}")]) : sums(lane, index),
                        scalar,
                        FlushBlockedSums(w, names));
                    EmitPreviousRowTail(w, ctx, run);
                });
                w.Line($"double invStd = 1.0 / global::System.Math.Sqrt(variance + {Double(ctx.Spec.Epsilon)});");
                w.Line("meanOut[stat] = mean;");
                w.Line("invStdOut[stat] = invStd;");
                w.Line("varianceOut[stat] = variance;");
                w.Line("previousMean = mean;");
                w.Line("previousInvStd = invStd;");
            }
        }
    }

    /// <summary>
    /// The previous row's y after its last whole unrolled iteration (fewer than one iteration of values), in 256-bit
    /// vectors: every value is loaded before any is stored (y may be x), the last partial vector's lanes alone written.
    /// </summary>
    private static void EmitPreviousRowTail(CodeWriter w, KernelContext ctx, int run)
    {
        int width = ctx.Width;
        int unrolledEnd = run - (run % (width * Unroll));
        if (unrolledEnd == run)
        {
            return;
        }
        var narrow = VectorShape.Narrow(ctx);
        int wholeEnd = run - (run % width);
        var values = new List<(string Name, int Index)>();
        for (int index = unrolledEnd; index < wholeEnd; index += width)
        {
            values.Add(($"tail{values.Count}", index));
        }
        bool partial = wholeEnd < run;
        w.Line($"// The previous row's values from {unrolledEnd} on, past the unrolled iterations: all loaded before any is stored (y may be x).");
        foreach ((string name, int index) in values)
        {
            w.Line($"var {name} = {PreviousRowValue(ctx, narrow, Int(index))};");
        }
        if (partial)
        {
            w.Line($"var tailLast = {PreviousRowValue(ctx, narrow, Int(run - width))};");
        }
        foreach ((string name, int index) in values)
        {
            w.Line($"{Simd}.StoreOutput({name}, ref yRef, previousStart + {index}, streaming);");
        }
        if (partial)
        {
            w.Line($"{Simd}.StoreTail(tailLast, tailLast, ref yRef, previousStart + {run}, {run - wholeEnd});");
        }
    }

    /// <summary>
    /// The previous row's y at <paramref name="index"/> in the given shape: the expression of its own y pass; x counted from
    /// <paramref name="start"/> (default <c>previousStart</c>), γ and β from <c>param</c> + <paramref name="gammaIndex"/>
    /// (default: the index).
    /// </summary>
    private static string PreviousRowValue(KernelContext ctx, VectorShape shape, string index, string start = "previousStart", string? gammaIndex = null)
    {
        string x = $"{Simd}.{shape.Load}(ref xRef, {start} + {index})";
        string scaled = $"{Centered(ctx, shape, x, "previousMean")} * {shape.Of("previousInvStd")}";
        return $"{Simd}.MultiplyAdd({scaled}, {Simd}.{shape.Load}(ref gammaRef, param + {gammaIndex ?? index}), {Simd}.{shape.Load}(ref betaRef, param + {gammaIndex ?? index}))";
    }

    /// <summary>One 512-bit vector of a long previous row's y at <c>previousLineStart</c> + <paramref name="index"/> (on a cache line).</summary>
    private static string PreviousLineStore(KernelContext ctx, VectorShape wide, string index) =>
        $"{Simd}.StoreOutput({PreviousRowValue(ctx, wide, index, "previousLineStart", $"previousFirst + {index}")}, ref yRef, previousLineStart + {index}, streaming);";

    /// <summary>One 512-bit vector of the previous row's y at <paramref name="index"/>: the expression of its own y pass.</summary>
    private static string PreviousRowStore(KernelContext ctx, VectorShape wide, string index) =>
        $"{Simd}.StoreOutput({PreviousRowValue(ctx, wide, index)}, ref yRef, previousStart + {index}, streaming);";
}
