using System.Collections.Generic;
using System.Linq;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// GroupNorm's forward over groups of channels whose y streams past the cache, as a two-stage pipeline like its backward
/// (<see cref="EmitPipelinedBackwardGroups"/>): each run of a group's statistics pass also writes the same run of the
/// previous group's y, so the one group's reads overlap the other's non-temporal stores. Group by group, the statistics
/// pass reads a group and then the y pass only writes, and neither keeps both directions of the memory busy: in a hand
/// prototype on an Intel Xeon VM (GroupNorm(8) x[32,64,32,32], one thread, medians) the pipeline took 1.17× a copy's
/// time against 1.40× group by group with the same buffers every call, and 0.93× against 1.09× from memory (where
/// <c>Span.CopyTo</c> was slower than a loop of non-temporal stores). The previous group's y goes out in 512-bit
/// vectors, a cache line each, so the pipeline runs where the processor has AVX-512.
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>
    /// Groups whose forward takes the pipeline: float GroupNorm with γ constant along each run (a channel), groups one
    /// after another in memory of at most <see cref="PipelinedGroupBytes"/> (<see cref="AdjacentGroups"/>), and runs a
    /// whole number of float blocks (<see cref="VectorLoop.FloatBlock"/>), so that the sums run by run flush their
    /// blocks where the group-by-group pass, which sums the group as one run, flushes them: the same bits either way.
    /// </summary>
    internal static bool PipelinesForwardGroups(KernelContext ctx) =>
        ctx.IsFloat
        && !ctx.Spec.IsRms
        && !SegmentLoops.AffineAlongRun(ctx)
        && OuterReduced(ctx).Count > 0
        && !ChannelGroups(ctx)
        && AdjacentGroups(ctx)
        && ContiguousGroupLength(ctx) is not null
        && ConstantRunLength(ctx) is int run
        && run % VectorLoop.FloatBlock == 0;

    /// <summary>
    /// The body of <c>StatisticsAndNormalizeChunk</c> for <see cref="PipelinesForwardGroups"/>: each group's statistics
    /// pass writes the previous group's y run by run where <c>pipelined</c>; otherwise (y in the cache, no AVX-512, the
    /// chunk's first and last groups, a second attempt at a group's statistics) the previous group's y alone, as group by
    /// group. The same values either way.
    /// </summary>
    private static void EmitPipelinedForwardGroups(CodeWriter w, KernelContext ctx)
    {
        // One loop over the chunk's groups: the statistics index of GroupNorm's (sample, group).
        (string first, string last) = ctx.ChunkGroupRange;
        int run = ConstantRunLength(ctx)!.Value;
        string groupStride = Int(ctx.Kept[ctx.Kept.Count - 1].Stride);
        var outerReduced = OuterReduced(ctx);
        string runOffset = ctx.Offset(outerReduced.Select(s => (s, s.Stride)));
        // The previous group's run's index in γ and β: its group's part (none where every group has the same γ,
        // GroupNorm(1)) and the run's.
        (string groupParam, bool groupParamVaries, string previousRunParam) = PreviousGroupParameters(ctx, used: ctx.HasGamma || ctx.HasBeta);

        w.Line("// Groups whose y streams past the cache in a two-stage pipeline where the processor has AVX-512: the statistics");
        w.Line("// pass over a group also writes the previous group's y, run by run, in 512-bit vectors, so the one group's reads");
        w.Line("// overlap the other's writes. In the cache or without AVX-512, group by group, with the same values.");
        w.Line("bool pipelines = global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && streaming;");
        w.Line(groupParamVaries ? "int previousGroupStart = 0, previousGroupParam = 0;" : "int previousGroupStart = 0;");
        w.Line("double previousMean = 0.0, previousInvStd = 0.0;");
        using (w.Block($"for (int stat = {first}; stat <= {last}; stat++)"))
        {
            w.Line($"bool pipelined = pipelines && stat > {first} && stat < {last};");
            using (w.Block($"if (stat > {first} && !pipelined)"))
            {
                w.Line("// The previous group's y, which no pipelined pass wrote.");
                EmitMeanSplit(w, ctx, source: "previousMean", prefix: "previousMean", withLow: false);
                SegmentLoops.Emit(w, ctx, outerReduced, body: () =>
                {
                    w.Line($"int start = previousGroupStart + {runOffset};");
                    EmitPreviousRunScaleAndShift(w, ctx, previousRunParam);
                    VectorLoop.EmitStores(w, ctx, run, Int(run), "yRef",
                        (s, index) => PreviousRunValue(ctx, s, index, "start"),
                        scalar: _ => [],
                        splats: FoldedRunSplats(ctx, Previous));
                });
            }
            using (w.Block($"if (stat < {last})"))
            {
                SegmentLoops.EmitKeptIndices(w, ctx, "stat", onlyAffine: true);
                w.Line($"int groupStart = stat * {groupStride};");
                EmitMeanAndVariance(w, ctx, pipelinedPass: (sums, scalar, names) =>
                {
                    w.Line("// Σd and Σd² over this group run by run, and beside each run the previous group's same run's y in 512-bit");
                    w.Line("// vectors (the same values as its own pass).");
                    EmitMeanSplit(w, ctx, source: "previousMean", prefix: "previousMean", withLow: false);
                    ForEachRun(w, ctx, withParam: false, body: () =>
                    {
                        w.Line($"int previousStart = start - {groupStride};");
                        EmitPreviousRunScaleAndShift(w, ctx, previousRunParam);
                        w.Line(VectorLoop.WideSplats(ctx, FoldedRunSplats(ctx, Previous)));
                        PreviousRowVector narrow = (index, start, _) => PreviousRunValue(ctx, VectorShape.Narrow(ctx), index, start);
                        EmitPreviousRowEdges(w, ctx, run, "yRef", narrow);
                        IEnumerable<string> previousLines = PreviousLineStores(ctx, "yRef", (index, start, _) => PreviousRunValue(ctx, VectorShape.Wide(ctx), index, start), VectorShape.Wide(ctx));
                        VectorLoop.Emit(w, ctx, run, Int(run),
                            (lane, index) => lane == Unroll - 1 ? sums(lane, index).Concat(previousLines) : sums(lane, index),
                            scalar,
                            FlushBlockedSums(w, names));
                        EmitPreviousRowRemainder(w, ctx, "yRef", narrow, unit: "group's run");
                    });
                });
                EmitSaveStatistics(w, ctx);
                w.Line("previousGroupStart = groupStart;");
                w.Line("previousMean = mean;");
                w.Line("previousInvStd = invStd;");
                if (groupParamVaries)
                {
                    w.Line($"previousGroupParam = {groupParam};");
                }
            }
        }
    }

    /// <summary>
    /// The previous group's scale and shift for the run whose γ and β are at <paramref name="paramIndex"/>: the expressions
    /// of its own y pass (<see cref="FoldedScale"/>, <see cref="FoldedShift"/>) with the previous group's locals.
    /// </summary>
    private static void EmitPreviousRunScaleAndShift(CodeWriter w, KernelContext ctx, string paramIndex)
    {
        w.Line($"double previousScale = {FoldedScale(ctx, paramIndex, Previous)};");
        w.Line($"var previousScaleV = {Simd}.Splat(({ctx.T})previousScale);");
        string beta = ctx.HasBeta ? $"NormGenSimd.At(ref betaRef, {paramIndex})" : "0.0";
        w.Line($"var previousShiftV = {Simd}.Splat(({ctx.T})({FoldedShift(ctx, beta, Previous)}));");
    }

    /// <summary>The prefix of the previous group's locals (<c>previousMean</c>, <c>previousScale</c>, …).</summary>
    private const string Previous = "previous";

    /// <summary>One vector of the previous group's y at <paramref name="index"/> past <paramref name="start"/>: its own y pass's expression.</summary>
    private static string PreviousRunValue(KernelContext ctx, VectorShape s, string index, string start) =>
        FoldedRunValue(ctx, s, index, Previous, start);
}
