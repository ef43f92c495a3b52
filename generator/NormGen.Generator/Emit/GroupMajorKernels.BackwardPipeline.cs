using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// The backward over long rows read from beyond a core's cache (LayerNorm and RMSNorm over 16 KiB and more) as a
/// two-stage pipeline: the gradient-sums pass over a row also writes the previous row's dx. Row by row, the sums pass
/// only reads (x and dy) and the dx pass mostly writes, each waiting on the other; and x, dy, γ and the dγ/dβ block rows
/// of one row no longer fit the L1 cache together. Side by side in one loop the reads of one row overlap the writes of
/// the other. Where the call stays in the L3 (dx through the cache) that pays on the AMD EPYC machine: RMSNorm
/// x[256,4096] backward 1.1× / 1.7× faster than row by row (1 / 2 threads, alternating builds). Where dx streams to
/// memory it does not: there the pipeline made LayerNorm x[1024,4096] backward 2.2× / 2.1× and RMSNorm x[1024,4096]
/// 2.5× / 2.1× slower than row by row, so those calls take the row-by-row passes. (On the Intel VM the streamed pipeline
/// had been 1.10–1.18× faster.) Rows of 3 KiB were 2× slower pipelined, so rows under 16 KiB keep the row-by-row passes.
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>
    /// Rows whose backward takes the pipeline (where a thread's share is past its core's cache and dx does not stream):
    /// each group a single run of a constant length of at least <see cref="MinPipelinedBackwardRowBytes"/> and a whole
    /// number of unrolled iterations, one kept segment (the chunked loop over rows), γ along the row, and dγ/dβ summed
    /// beside dx (not by a column pass).
    /// </summary>
    internal static bool PipelinesBackwardRows(KernelContext ctx) =>
        ctx.HasGamma && SegmentLoops.AffineAlongRun(ctx)
        && SingleRunRows(ctx) is int run
        && run * ctx.ElementBytes >= MinPipelinedBackwardRowBytes
        && run % (ctx.Width * Unroll) == 0;

    /// <summary>Rows of 16 KiB and more: x, dy, γ and the two block rows of one row are more than the 48 KiB L1 cache.</summary>
    private const int MinPipelinedBackwardRowBytes = 16 * 1024;

    /// <summary>
    /// The rows of <c>BackwardChunk</c> for <see cref="PipelinesBackwardRows"/>: row n's sums pass writes row n − 1's dx
    /// where <c>pipelined</c>; otherwise (a thread's share in its core's cache, dx streamed, the chunk's first and last
    /// rows) the row-by-row passes run, which compute the same values. The block rows are flushed after every <see cref="ParameterBlockGroups"/>
    /// rows' sums, as row by row.
    /// </summary>
    private static void EmitPipelinedBackwardRows(CodeWriter w, KernelContext ctx)
    {
        Segment rows = ctx.Kept[0];
        string n = ctx.LoopVariable(rows);
        int run = ConstantRunLength(ctx)!.Value;
        string rowStart = ctx.Offset(ctx.Kept.Select(s => (s, s.Stride)));
        string param = SegmentLoops.ParameterOffset(ctx);

        w.Line($"// Rows read from the L3 in a two-stage pipeline: the sums pass over row {n} also writes row {n} − 1's dx, so the one");
        w.Line("// row's reads overlap the other's writes. In the core's cache, or where dx streams to memory, the row-by-row passes,");
        w.Line("// with the same values.");
        w.Line("bool pipelines = state.Runner.ExceedsCoreCache && !streaming;");
        // RMSNorm has no mean and no Σg.
        bool rms = ctx.Spec.IsRms;
        w.Line(rms
            ? "double previousInvStd = 0.0, previousSumGXhat = 0.0;"
            : "double previousMean = 0.0, previousInvStd = 0.0, previousSumG = 0.0, previousSumGXhat = 0.0;");
        using (w.Block($"for (int {n} = chunkFirst; {n} <= chunkLast; {n}++)"))
        {
            w.Line($"bool pipelined = pipelines && {n} > chunkFirst && {n} < chunkLast;");
            w.Line($"int rowStart = {rowStart};");
            using (w.Block($"if ({n} > chunkFirst && !pipelined)"))
            {
                w.Line($"// Row {n} − 1's dx, which no pipelined pass wrote.");
                w.Line($"int start = rowStart - {Int(run)};");
                w.Line($"int param = {param};");
                w.Line(rms
                    ? "double invStd = previousInvStd, sumGXhat = previousSumGXhat;"
                    : "double mean = previousMean, invStd = previousInvStd, sumG = previousSumG, sumGXhat = previousSumGXhat;");
                if (!rms)
                {
                    EmitMeanSplit(w, ctx);
                }
                w.Line($"var invStdV = {Simd}.Splat(({ctx.T})invStd);");
                EmitGroupDx(w, ctx);
            }
            using (w.Block($"if ({n} < chunkLast)"))
            {
                w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
                w.Line("int start = rowStart;");
                w.Line($"int param = {param};");
                if (!rms)
                {
                    w.Line("double mean = state.SavedMean[stat];");
                }
                w.Line("double invStd = state.SavedInvStd[stat];");
                if (!rms)
                {
                    EmitMeanSplit(w, ctx);
                }
                w.Line($"var invStdV = {Simd}.Splat(({ctx.T})invStd);");
                w.Line();
                w.Line(rms
                    ? "// Σg·x̂ over the row, g = γ·dy and x̂ = x·invStd; with them the sums for GammaGrad."
                    : "// Σg and Σg·x̂ over the row, g = γ·dy and x̂ = (x − mean)·invStd; with them the sums for GammaGrad and BetaGrad.");
                string[] sums = GradientSumsAlongRunNames(ctx);
                DeclareBlockedSums(w, ctx, sums);
                using (w.Block("if (pipelined)"))
                {
                    EmitPreviousRowSetup(w, ctx, run);
                    w.Line($"// The sums, and beside them the previous row's dx, {ctx.Width * Unroll} values an iteration (the same values as its own pass).");
                    VectorLoop.Emit(w, ctx, run, Int(run),
                        (lane, index) => lane == Unroll - 1
                            ? GradientSumsAlongRun(ctx, lane, index, columnPass: false).Concat(PreviousRowDx(ctx))
                            : GradientSumsAlongRun(ctx, lane, index, columnPass: false),
                        _ => GradientSumsAlongRunScalar(ctx, columnPass: false),
                        FlushBlockedSums(w, sums),
                        // A pipelined row never streams dx (see pipelines above): the twin needs no other condition.
                        WideGradientSumsAlongRun(ctx, columnPass: false, after: (pair, _) => pair == 1 ? PreviousRowDx(ctx) : []) with { Condition = null });
                    EmitPreviousRowRemainder(w, ctx, "dxRef", PreviousDx(ctx));
                }
                using (w.Block("else"))
                {
                    System.Func<int, string, IEnumerable<string>> prefetches = (lane, index) => GroupPrefetch.NextInBackward(ctx, lane, index, "xRef", "dyRef");
                    VectorLoop.Emit(w, ctx, run, Int(run),
                        (lane, index) => prefetches(lane, index).Concat(GradientSumsAlongRun(ctx, lane, index, columnPass: false)),
                        _ => GradientSumsAlongRunScalar(ctx, columnPass: false),
                        FlushBlockedSums(w, sums),
                        WideGradientSumsAlongRun(ctx, columnPass: false, prefetches));
                }
                if (!rms)
                {
                    w.Line("previousMean = mean;");
                }
                w.Line("previousInvStd = invStd;");
                if (!rms)
                {
                    w.Line("previousSumG = sumG;");
                }
                w.Line("previousSumGXhat = sumGXhat;");
                using (w.Block($"if (++blockGroups == {ParameterBlockGroups})"))
                {
                    EmitFlushParameterBlock(w, ctx);
                    w.Line("blockGroups = 0;");
                }
            }
        }
    }

    /// <summary>
    /// Before a pipelined sums pass: the previous row's broadcast vectors, computed as its own dx pass computes them, and
    /// its partial end lines (<see cref="EmitPreviousRowEdges"/>).
    /// </summary>
    private static void EmitPreviousRowSetup(CodeWriter w, KernelContext ctx, int run)
    {
        w.Line($"// Row {ctx.LoopVariable(ctx.Kept[0])} − 1's dx: its broadcast vectors, as its own pass computes them.");
        w.Line($"int previousStart = start - {Int(run)};");
        if (!ctx.Spec.IsRms)
        {
            EmitMeanSplit(w, ctx, source: "previousMean", prefix: "previousMean");
        }
        w.Line($"var previousInvStdV = {Simd}.Splat(({ctx.T})previousInvStd);");
        EmitSlopeAndOffset(w, ctx, "previous");
        EmitPreviousRowEdges(w, ctx, run, "dxRef", PreviousDx(ctx));
    }

    /// <summary>After an unrolled iteration of the pipelined sums at <c>i</c>: the previous row's dx over the same number of values.</summary>
    private static IEnumerable<string> PreviousRowDx(KernelContext ctx) => PreviousLineStores(ctx, "dxRef", PreviousDx(ctx));

    /// <summary>The previous row's dx vector (<see cref="DxAlongRun"/> with its broadcast vectors).</summary>
    private static PreviousRowVector PreviousDx(KernelContext ctx) =>
        (index, start, gammaIndex) => DxAlongRun(ctx, VectorShape.Narrow(ctx), index, "previous", start, gammaIndex);
}
