using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// The backward over groups of several long runs streamed from memory (channels-first BatchNorm with maps of 512 values
/// and more) as a two-stage pipeline, as for long rows (<see cref="EmitPipelinedBackwardRows"/>): each run of a
/// group's gradient-sums pass also writes the same run of the previous group's dx, so the one group's reads from memory
/// overlap the other's writes. Alternating builds, 9 runs each, medians: BatchNorm2d x[32,64,32,32] backward 1.11 →
/// 0.97 ms at 1 thread (into a separate dx: 1.10 → 0.97); at 2 threads within this VM's noise (0.55 ms before, 0.51–0.58
/// after; a hand-written version measured 528 → 458 µs).
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>
    /// Groups whose backward takes the pipeline (where the runner streams the output): one kept segment (the chunked
    /// loop over groups, the next group a constant stride further), several runs per group of a constant length of at
    /// least <see cref="VectorLoop.MinAlignedRunLines"/> lines and a whole number of unrolled iterations, each run's
    /// sums added on their own (runs over half a float block), and γ the same for the whole group. Groups along the batch
    /// dim (GroupNorm(1)) keep the group-by-group passes: with γ per channel the pipeline measured no gain there.
    /// </summary>
    internal static bool PipelinesBackwardGroups(KernelContext ctx) =>
        !ctx.Spec.IsRms
        && !SegmentLoops.AffineAlongRun(ctx)
        && OuterReduced(ctx).Count > 0 && !OuterReduced(ctx).Any(s => s.Affine)
        && RunsPerBlock(ctx) is null
        && ctx.Kept.Count == 1 && ctx.ChunkSegment == ctx.Kept[0] && !ctx.Kept[0].Batch
        && ConstantRunLength(ctx) is int run
        && run >= VectorLoop.MinAlignedRunLines * ctx.LineElements
        && run % (ctx.Width * Unroll) == 0;

    /// <summary>
    /// The groups of <c>BackwardChunk</c> for <see cref="PipelinesBackwardGroups"/>: group g's sums pass writes group
    /// g − 1's dx run by run where <c>pipelined</c>; otherwise (output in the cache, the chunk's first and last groups)
    /// group g − 1's dx alone, last run first, as group by group. The same values either way.
    /// </summary>
    private static void EmitPipelinedBackwardGroups(CodeWriter w, KernelContext ctx)
    {
        Segment groups = ctx.Kept[0];
        string g = ctx.LoopVariable(groups);
        int run = ConstantRunLength(ctx)!.Value;
        string groupStride = Int(groups.Stride);
        var outerReduced = OuterReduced(ctx);
        string runOffset = ctx.Offset(outerReduced.Select(s => (s, s.Stride)));

        w.Line($"// Groups streamed from memory in a two-stage pipeline: the sums pass over group {g} also writes group {g} − 1's");
        w.Line("// dx, run by run, so the one group's reads overlap the other's writes. In the cache, group by group, with the same values.");
        w.Line("bool pipelines = streaming;");
        w.Line("int previousGroupStart = 0;");
        w.Line("double previousMean = 0.0, previousInvStd = 0.0, previousGain = 0.0, previousSumG = 0.0, previousSumGXhat = 0.0;");
        using (w.Block($"for (int {g} = chunkFirst; {g} <= chunkLast; {g}++)"))
        {
            w.Line($"bool pipelined = pipelines && {g} > chunkFirst && {g} < chunkLast;");
            using (w.Block($"if ({g} > chunkFirst && !pipelined)"))
            {
                w.Line($"// Group {g} − 1's dx, which no pipelined pass wrote: its runs last to first (its sums pass read them first to last).");
                EmitPreviousGroupSplats(w, ctx);
                SegmentLoops.Emit(w, ctx, outerReduced, descending: true, body: () =>
                {
                    w.Line($"int start = previousGroupStart + {runOffset};");
                    VectorLoop.EmitStores(w, ctx, run, Int(run), "dxRef",
                        (s, index) => DxWithGain(ctx, s, index, "previous"),
                        scalar: _ => [],
                        splats: [.. MeanSplats(ctx, "previousMean"), "previousSlope", "previousOffset", "previousGain"]);
                });
            }
            using (w.Block($"if ({g} < chunkLast)"))
            {
                w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
                w.Line($"int groupStart = {ctx.Offset(ctx.Kept.Select(s => (s, s.Stride)))};");
                w.Line("double mean = state.SavedMean[stat];");
                w.Line("double invStd = state.SavedInvStd[stat];");
                EmitMeanSplit(w, ctx);
                w.Line($"var invStdV = {Simd}.Splat(({ctx.T})invStd);");
                w.Line();
                w.Line("// Σg and Σg·x̂ over the group, g = γ·dy and x̂ = (x − mean)·invStd; with them the sums for GammaGrad and BetaGrad.");
                w.Line("double sumG = 0.0;");
                w.Line("double sumGXhat = 0.0;");
                using (w.Block("if (pipelined)"))
                {
                    w.Line($"// Group {g} − 1's broadcast vectors, as its own dx pass computes them.");
                    EmitPreviousGroupSplats(w, ctx);
                    ForEachRun(w, ctx, () =>
                    {
                        w.Line($"// The same run of group {g} − 1.");
                        w.Line($"int previousStart = start - {groupStride};");
                        EmitPreviousRowEdges(w, ctx, run, "dxRef", PreviousGroupDx(ctx));
                        w.Line($"// The run's sums, and beside them the previous group's run's dx, {ctx.Width * Unroll} values an iteration.");
                        EmitRunGradientSums(w, ctx,
                            (lane, index) => lane == Unroll - 1
                                ? RunGradientSums(ctx, lane, index).Concat(PreviousLineStores(ctx, "dxRef", PreviousGroupDx(ctx)))
                                : RunGradientSums(ctx, lane, index),
                            afterLoop: () => EmitPreviousRowRemainder(w, ctx, "dxRef", PreviousGroupDx(ctx)));
                    });
                }
                using (w.Block("else"))
                {
                    ForEachRun(w, ctx, () => EmitRunGradientSums(w, ctx, (lane, index) => RunGradientSums(ctx, lane, index)));
                }
                w.Line("previousGroupStart = groupStart;");
                w.Line("previousMean = mean;");
                w.Line("previousInvStd = invStd;");
                w.Line(ctx.HasGamma ? $"previousGain = invStd * NormGenSimd.At(ref gammaRef, {SegmentLoops.ParameterOffset(ctx)});" : "previousGain = invStd;");
                w.Line("previousSumG = sumG;");
                w.Line("previousSumGXhat = sumGXhat;");
            }
        }
    }

    /// <summary>
    /// The previous group's broadcast vectors for its dx: mean (split), gain = γ·invStd, slope and offset, computed as
    /// <see cref="EmitGroupDx"/> computes them.
    /// </summary>
    private static void EmitPreviousGroupSplats(CodeWriter w, KernelContext ctx)
    {
        EmitMeanSplit(w, ctx, source: "previousMean", prefix: "previousMean");
        w.Line($"var previousGainV = {Simd}.Splat(({ctx.T})previousGain);");
        EmitSlopeAndOffset(w, ctx, "previous");
    }

    /// <summary>The previous group's dx vector (<see cref="DxWithGain"/> with its broadcast vectors).</summary>
    private static PreviousRowVector PreviousGroupDx(KernelContext ctx) =>
        (index, start, _) => DxWithGain(ctx, VectorShape.Narrow(ctx), index, "previous", start);
}
