using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// The backward over groups of several long runs streamed from memory as a two-stage pipeline, as for long rows
/// (<see cref="EmitPipelinedBackwardRows"/>): each run of a group's gradient-sums pass also writes the same run of the
/// previous group's dx, so the one group's reads from memory overlap the other's writes: channels-first BatchNorm with
/// maps of more than 256 values in whole cache lines (on an Intel Xeon VM, alternating builds, medians: BatchNorm2d
/// x[32,64,32,32] backward 1.11 → 0.97 ms at 1 thread), and GroupNorm's groups of channels. The previous group's dx goes out in 512-bit
/// vectors, a cache line each, so the pipeline runs where the processor has AVX-512: on the AMD EPYC (Zen 5) VM,
/// against 256-bit stores (two to a line), GroupNorm(8) x[32,64,32,32] backward at 1 thread was 1.1× faster and at 2
/// the same, and against group by group BatchNorm2d x[32,64,32,32] backward 1.03× / 1.17× faster (1 / 2 threads).
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>
    /// Groups whose backward takes the pipeline (where the runner streams the output; through the cache it was 1.16–1.27×
    /// slower at two threads and the same at one, BatchNorm2d and GroupNorm(8) x[16,64,32,32], 12 MiB a call, measured in
    /// one process against group by group): several runs per group of a constant length of at least
    /// <see cref="VectorLoop.MinAlignedRunLines"/> lines, each run's sums added on their own (runs over half a float
    /// block), γ constant along a run, and the next group a constant stride further: either channels
    /// (<see cref="ChannelGroups"/>), whose runs must be whole cache lines, or groups that lie one after another in memory
    /// (<see cref="AdjacentGroups"/>), whose runs must be a whole number of unrolled iterations. Measured in one process
    /// against group by group (1 / 2 threads): BatchNorm2d x[32,256,28,28] backward (784 values a run, the last 16 after
    /// the iterations) 1.05–1.08× / 1.02–1.13× faster, x[32,256,20,20] (400) 1.08× / 1.03×, x[48,256,17,17] (289, no
    /// whole lines) 1.16× / 1.16× slower; GroupNorm(32) x[16,256,28,28]'s groups 1.14–1.17× slower at two threads.
    /// </summary>
    internal static bool PipelinesBackwardGroups(KernelContext ctx) =>
        !ctx.Spec.IsRms
        && !SegmentLoops.AffineAlongRun(ctx)
        && OuterReduced(ctx).Count > 0
        && RunsPerBlock(ctx) is null
        && ConstantRunLength(ctx) is int run
        && run >= VectorLoop.MinAlignedRunLines * ctx.LineElements
        && (ChannelGroups(ctx) ? run % ctx.LineElements == 0 : AdjacentGroups(ctx) && run % (ctx.Width * Unroll) == 0);

    /// <summary>Whether the pipeline of <see cref="PipelinesBackwardGroups"/> runs on one thread as well: for channels, not GroupNorm's groups.</summary>
    internal static bool PipelinesBackwardGroupsAlone(KernelContext ctx) => ChannelGroups(ctx);

    /// <summary>
    /// Channels-first BatchNorm: one kept segment, not the batch (the chunked loop over channels), γ the same for the
    /// whole group.
    /// </summary>
    private static bool ChannelGroups(KernelContext ctx) =>
        ctx.Kept.Count == 1 && ctx.ChunkSegment == ctx.Kept[0] && !ctx.Kept[0].Batch && !OuterReduced(ctx).Any(s => s.Affine);

    /// <summary>
    /// GroupNorm: the kept segments lead the layout, so group <c>stat</c> starts at <c>stat</c> groups' values, and the
    /// groups are at most <see cref="PipelinedGroupBytes"/>. These run the pipeline only at two threads and more: with
    /// the runs of one thread's groups alone on the memory bus the group-by-group passes were as fast or faster.
    /// </summary>
    private static bool AdjacentGroups(KernelContext ctx) =>
        ctx.Kept.Count > 0 && ctx.ChunkSegment == ctx.Kept[0]
        && ctx.Layout.Segments.Take(ctx.Kept.Count).All(s => !s.Reduced)
        && (long)ctx.Layout.GroupSizePerBatchUnit * ctx.ElementBytes <= PipelinedGroupBytes;

    /// <summary>
    /// The largest GroupNorm group that takes the pipeline. Measured (pipeline against group by group in one process,
    /// alternating, medians of 40; AMD EPYC Zen 5, 2 vCPUs), at 2 threads: GroupNorm(16) x[32,64,32,32] (16 KiB groups)
    /// 1.16× faster, GroupNorm(8) x[32,64,32,32] (32 KiB) 1.28×, GroupNorm(8) x[16,128,32,32] (64 KiB) 1.30×,
    /// GroupNorm(32) x[2,320,64,64] (160 KiB) 1.07× slower; at 1 thread 1.03–1.08× slower, and 1.27× at 160 KiB.
    /// </summary>
    private const int PipelinedGroupBytes = 64 * 1024;

    /// <summary>
    /// The groups of <c>BackwardChunk</c> for <see cref="PipelinesBackwardGroups"/>: each group's sums pass writes the
    /// previous group's dx run by run where <c>pipelined</c>; otherwise (output in the cache, the chunk's first and last
    /// groups) the previous group's dx alone, last run first, as group by group. The same values either way.
    /// </summary>
    private static void EmitPipelinedBackwardGroups(CodeWriter w, KernelContext ctx)
    {
        int perIndex = ctx.GroupsPerChunkIndex;
        // One loop over the chunk's groups (KernelContext.ChunkGroupRange): the channel itself, or the statistics index of
        // GroupNorm's (sample, group).
        string g = perIndex == 1 ? ctx.LoopVariable(ctx.Kept[0]) : "stat";
        (string first, string last) = ctx.ChunkGroupRange;
        int run = ConstantRunLength(ctx)!.Value;
        string groupStride = Int(ctx.Kept[ctx.Kept.Count - 1].Stride);
        var outerReduced = OuterReduced(ctx);
        string runOffset = ctx.Offset(outerReduced.Select(s => (s, s.Stride)));
        // γ per run (GroupNorm's channels): each run of the previous group takes its own gain, γ at the group's part of the
        // index plus the run's.
        bool gainPerRun = ctx.HasGamma && outerReduced.Any(s => s.Affine);
        (string groupParam, bool groupParamVaries, string previousRunParam) = PreviousGroupParameters(ctx, gainPerRun);

        bool channels = PipelinesBackwardGroupsAlone(ctx);
        w.Line("// Groups streamed from memory in a two-stage pipeline where the processor has AVX-512: the sums pass over a group");
        w.Line("// also writes the previous group's dx, run by run, in 512-bit vectors, so the one group's reads overlap the other's");
        w.Line(channels
            ? "// writes. In the cache or without AVX-512, group by group, with the same values."
            : "// writes. In the cache, without AVX-512 or on one thread, group by group, with the same values.");
        w.Line(channels
            ? "bool pipelines = global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && streaming;"
            : "bool pipelines = global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && streaming && !state.Runner.RunsAlone;");
        w.Line(groupParamVaries ? "int previousGroupStart = 0, previousGroupParam = 0;" : "int previousGroupStart = 0;");
        w.Line(gainPerRun
            ? "double previousMean = 0.0, previousInvStd = 0.0, previousSumG = 0.0, previousSumGXhat = 0.0;"
            : "double previousMean = 0.0, previousInvStd = 0.0, previousGain = 0.0, previousSumG = 0.0, previousSumGXhat = 0.0;");
        using (w.Block($"for (int {g} = {first}; {g} <= {last}; {g}++)"))
        {
            w.Line($"bool pipelined = pipelines && {g} > {first} && {g} < {last};");
            using (w.Block($"if ({g} > {first} && !pipelined)"))
            {
                w.Line("// The previous group's dx, which no pipelined pass wrote: its runs last to first (its sums pass read them first to last).");
                EmitPreviousGroupSplats(w, ctx, gainPerRun);
                SegmentLoops.Emit(w, ctx, outerReduced, descending: true, body: () =>
                {
                    w.Line($"int start = previousGroupStart + {runOffset};");
                    if (gainPerRun)
                    {
                        EmitPreviousRunGain(w, ctx, previousRunParam);
                    }
                    VectorLoop.EmitStores(w, ctx, run, Int(run), "dxRef",
                        (s, index) => DxWithGain(ctx, s, index, "previous"),
                        scalar: _ => [],
                        splats: [.. MeanSplats(ctx, "previousMean"), "previousSlope", "previousOffset", "previousGain"]);
                });
            }
            using (w.Block($"if ({g} < {last})"))
            {
                if (perIndex == 1)
                {
                    w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
                    w.Line($"int groupStart = {ctx.Offset(ctx.Kept.Select(s => (s, s.Stride)))};");
                }
                else
                {
                    SegmentLoops.EmitKeptIndices(w, ctx, g, onlyAffine: true);
                    w.Line($"int groupStart = {g} * {groupStride};");
                }
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
                    w.Line("// The previous group's broadcast vectors, as its own dx pass computes them, and their 512-bit twins.");
                    EmitPreviousGroupSplats(w, ctx, gainPerRun);
                    w.Line(VectorLoop.WideSplats(ctx, [.. MeanSplats(ctx, "previousMean"), "previousSlope", "previousOffset", .. gainPerRun ? System.Array.Empty<string>() : ["previousGain"]]));
                    ForEachRun(w, ctx, () =>
                    {
                        w.Line("// The same run of the previous group.");
                        w.Line($"int previousStart = start - {groupStride};");
                        if (gainPerRun)
                        {
                            EmitPreviousRunGain(w, ctx, previousRunParam);
                            w.Line(VectorLoop.WideSplats(ctx, ["previousGain"]));
                        }
                        EmitPreviousRowEdges(w, ctx, run, "dxRef", PreviousGroupDx(ctx, VectorShape.Narrow(ctx)));
                        w.Line($"// The run's sums, and beside them the previous group's run's dx, {ctx.Width * Unroll} values an iteration.");
                        IEnumerable<string> previousLines = PreviousLineStores(ctx, "dxRef", PreviousGroupDx(ctx, VectorShape.Wide(ctx)), VectorShape.Wide(ctx));
                        EmitRunGradientSums(w, ctx,
                            (lane, index) => lane == Unroll - 1 ? RunGradientSums(ctx, lane, index).Concat(previousLines) : RunGradientSums(ctx, lane, index),
                            afterLoop: () => EmitPreviousRowRemainder(w, ctx, "dxRef", PreviousGroupDx(ctx, VectorShape.Narrow(ctx)), unit: "group's run"),
                            wide: WideGradientSums(ctx, "runDy", after: (pair, _) => pair == 1 ? previousLines : []));
                    });
                }
                using (w.Block("else"))
                {
                    ForEachRun(w, ctx, () => EmitRunGradientSums(w, ctx, (lane, index) => RunGradientSums(ctx, lane, index), wide: WideGradientSums(ctx, "runDy")));
                }
                w.Line("previousGroupStart = groupStart;");
                w.Line("previousMean = mean;");
                w.Line("previousInvStd = invStd;");
                if (groupParamVaries)
                {
                    w.Line($"previousGroupParam = {groupParam};");
                }
                else if (!gainPerRun)
                {
                    w.Line(ctx.HasGamma ? $"previousGain = invStd * NormGenSimd.At(ref gammaRef, {SegmentLoops.ParameterOffset(ctx)});" : "previousGain = invStd;");
                }
                w.Line("previousSumG = sumG;");
                w.Line("previousSumGXhat = sumGXhat;");
            }
        }
    }

    /// <summary>
    /// Where the previous group's runs find their γ (and β) in the pipelines over groups: the group's part of the index
    /// (<c>GroupParam</c>, kept in <c>previousGroupParam</c> where it <c>Varies</c>: <paramref name="used"/> and not
    /// every group the same, as GroupNorm(1)), and the expression of a run's whole index from it and the run's part.
    /// </summary>
    private static (string GroupParam, bool Varies, string PreviousRunParam) PreviousGroupParameters(KernelContext ctx, bool used)
    {
        var outerReduced = OuterReduced(ctx);
        string runParam = ctx.Offset(outerReduced.Where(s => s.Affine).Select(s => (s, s.AffineStride)));
        string groupParam = ctx.Offset(ctx.Kept.Where(s => s.Affine).Select(s => (s, s.AffineStride)));
        bool varies = used && groupParam != "0";
        return (groupParam, varies, varies ? $"previousGroupParam + {runParam}" : runParam);
    }

    /// <summary>
    /// The previous group's gain for the run at <c>start</c> where γ varies by run: γ·invStd, as its own dx pass computes
    /// it, with γ at <paramref name="gammaIndex"/>.
    /// </summary>
    private static void EmitPreviousRunGain(CodeWriter w, KernelContext ctx, string gammaIndex) =>
        w.Line($"var previousGainV = {Simd}.Splat(({ctx.T})(previousInvStd * NormGenSimd.At(ref gammaRef, {gammaIndex})));");

    /// <summary>
    /// The previous group's broadcast vectors for its dx: mean (split), gain = γ·invStd, slope and offset, computed as
    /// <see cref="EmitGroupDx"/> computes them.
    /// </summary>
    /// <param name="gainPerRun">γ varies by run: each run sets its own gain (<see cref="EmitPreviousRunGain"/>).</param>
    private static void EmitPreviousGroupSplats(CodeWriter w, KernelContext ctx, bool gainPerRun)
    {
        EmitMeanSplit(w, ctx, source: "previousMean", prefix: "previousMean");
        if (!gainPerRun)
        {
            w.Line($"var previousGainV = {Simd}.Splat(({ctx.T})previousGain);");
        }
        EmitSlopeAndOffset(w, ctx, "previous");
    }

    /// <summary>The previous group's dx vector in the given shape (<see cref="DxWithGain"/> with its broadcast vectors).</summary>
    private static PreviousRowVector PreviousGroupDx(KernelContext ctx, VectorShape shape) =>
        (index, start, _) => DxWithGain(ctx, shape, index, "previous", start);
}
