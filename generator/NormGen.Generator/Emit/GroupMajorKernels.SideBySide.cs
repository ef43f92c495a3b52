using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// Channels-first BatchNorm over many channels of short runs whose samples lie a multiple of 4 KiB apart
/// (x[128,32,8,8]: 8 KiB apart). Group by group, every run of a channel falls in the same few sets
/// of the L1 and L2 caches (a channel's 128 runs of 8×8 values share 4 of the L1's 64 sets), so the runs evict one
/// another and the lines the sums pass read are gone when dx reads them. Here a chunk's channels go side by side in
/// memory order instead, sample by sample: the training forward's y after each channel's statistics, and the backward,
/// whose channels keep their partial-sum vectors in a small array between their runs, each channel's runs added in the
/// same order and flushed to double after as many runs as group by group, and
/// dx is written with the same constants and formula — the same bits as group by group. (Measured on the gradient sums
/// alone over x[128,32,8,8], one thread: 36–38 µs group by group, 24–26 in memory order, 22 group by group with 33
/// channels, whose samples lie 8448 bytes apart; whole calls, alternating builds, 1 / 2 threads: training forward
/// 2.4× / 2.2× faster, backward 1.07× / 1.3–1.7×.)
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>
    /// The runs this path is for, in bytes: 4 to 8 cache lines. Measured (alternating builds, 1 / 2 threads): 8×8 maps
    /// (256 bytes) 1.07× / 1.7× faster; 14×14 maps (784 bytes, whose runs spread over 13 sets) 0.85× and 4×4 maps
    /// (64 bytes, where loading and storing each group's partial sums costs as much as the run) 0.97×, so those stay
    /// group by group.
    /// </summary>
    private const int MemoryOrderBackwardMinRunBytes = 256, MemoryOrderBackwardMaxRunBytes = 512;

    /// <summary>The distance, in bytes, whose multiples map to the same L1 sets (64 sets of 64-byte lines).</summary>
    private const int CacheSetSpanBytes = 4096;

    /// <summary>
    /// Whether the training forward's y pass and the backward go over a chunk's channels in memory order: BatchNorm folded like inference
    /// (<see cref="FoldsOncePerCall"/>) with enough channels to share out whole (the sample-split path takes fewer), one
    /// kept dim (the chunked channels), runs of <see cref="MemoryOrderBackwardMinRunBytes"/> to
    /// <see cref="MemoryOrderBackwardMaxRunBytes"/> summed several to a float block, and samples a multiple of <see cref="CacheSetSpanBytes"/> apart.
    /// </summary>
    internal static bool GroupsSideBySide(KernelContext ctx) =>
        FoldsOncePerCall(ctx) && !ctx.Spec.IsRms && !ctx.Layout.StatisticsScaleWithBatch
        && ctx.Layout.StatisticsPerBatchUnit >= MaxChunks
        && ctx.Kept.Count == 1 && ctx.ChunkSegment == ctx.Kept[0]
        && OuterReduced(ctx).Count == 1 && !OuterReduced(ctx)[0].Affine
        && ConstantRunLength(ctx) is int run
        && run * ctx.ElementBytes >= MemoryOrderBackwardMinRunBytes && run * ctx.ElementBytes <= MemoryOrderBackwardMaxRunBytes
        && RunsPerBlock(ctx) is int
        && (long)ctx.Layout.SampleSize * ctx.ElementBytes % CacheSetSpanBytes == 0;

    /// <summary>
    /// The body of <c>StatisticsAndNormalizeChunk</c> for <see cref="GroupsSideBySide"/>: each group's statistics group by
    /// group (a pass that only reads is not slowed by the few sets: 12 µs for 1 MiB either way), then y for the chunk's
    /// groups in memory order, each run with its group's scale and shift computed as group by group (the same bits).
    /// </summary>
    private static void EmitSideBySideForward(CodeWriter w, KernelContext ctx)
    {
        ForEachGroup(w, ctx, prefetch: true, ownStatistics: true, body: () =>
        {
            EmitMeanAndVariance(w, ctx);
            EmitSaveStatistics(w, ctx);
        });
        w.Line();
        w.Line("// y for the chunk's groups side by side, sample by sample in memory order: group by group, runs a multiple of 4 KiB");
        w.Line("// apart share a few cache sets and evict one another before y reads them again.");
        ForEachRunSideBySide(w, ctx, () =>
        {
            if (ctx.HasGamma || ctx.HasBeta)
            {
                w.Line($"int param = {SegmentLoops.ParameterOffset(ctx)};");
            }
            w.Line("double mean = meanOut[stat];");
            w.Line("double invStd = invStdOut[stat];");
            EmitNormalizeGroup(w, ctx, splitMean: true, oneRun: true, groupByGroupEdges: true);
        });
    }

    /// <summary>
    /// The loops over the chunk's runs in memory order — samples outside, the chunk's groups inside — with <c>stat</c>
    /// and <c>start</c> for each run; <paramref name="afterSample"/> follows each sample's runs.
    /// </summary>
    /// <param name="descending">Last sample first, and within it the last group first.</param>
    private static void ForEachRunSideBySide(CodeWriter w, KernelContext ctx, System.Action body, bool descending = false, System.Action? afterSample = null)
    {
        Segment channels = ctx.Kept[0];
        Segment samples = OuterReduced(ctx)[0];
        string c = ctx.LoopVariable(channels);
        string n = ctx.LoopVariable(samples);
        string extent = ctx.Extent(samples);
        using (w.Block(descending ? $"for (int {n} = {extent} - 1; {n} >= 0; {n}--)" : $"for (int {n} = 0; {n} < {extent}; {n}++)"))
        {
            using (w.Block(descending ? $"for (int {c} = chunkLast - 1; {c} >= chunkFirst; {c}--)" : $"for (int {c} = chunkFirst; {c} < chunkLast; {c}++)"))
            {
                w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
                w.Line($"int start = {ctx.Offset([(channels, channels.Stride), (samples, samples.Stride)])};");
                body();
            }
            afterSample?.Invoke();
        }
    }

    /// <summary>One statement per partial-sum vector of a group's block (four per name, in the order they lie in <c>blocks</c>), a line per name.</summary>
    private static void BlockVectors(CodeWriter w, string[] names, System.Func<string, int, string> statement)
    {
        for (int n = 0; n < names.Length; n++)
        {
            w.Line(string.Join(" ", Enumerable.Range(0, 4).Select(lane => statement($"{names[n]}Block{lane}", 4 * n + lane))));
        }
    }

    /// <summary>The body of <c>BackwardChunk</c> for <see cref="GroupsSideBySide"/>.</summary>
    private static void EmitSideBySideBackward(CodeWriter w, KernelContext ctx)
    {
        string c = ctx.LoopVariable(ctx.Kept[0]);
        string vector = $"global::System.Runtime.Intrinsics.Vector256<{ctx.T}>";
        int runs = RunsPerBlock(ctx)!.Value;
        string[] names = ["groupDy", "groupDyXhat"];

        w.Line("// The chunk's groups side by side, sample by sample in memory order: group by group, runs a multiple of 4 KiB apart");
        w.Line("// share a few cache sets and evict one another. Each group's partial sums wait in blocks[] between its runs (four");
        w.Line("// vectors per sum) and are added in double after as many runs as group by group: the same sums, the same dx.");
        w.Line("int groups = chunkLast - chunkFirst;");
        w.Line($"global::System.Span<{vector}> blocks = stackalloc {vector}[8 * groups];");
        w.Line("blocks.Clear();");
        w.Line($"ref {vector} blocksRef = ref {Simd}.Ref(blocks);");
        w.Line("global::System.Span<double> totals = stackalloc double[2 * groups];");
        w.Line("totals.Clear();");
        void Flush()
        {
            using (w.Block($"for (int {c} = chunkFirst; {c} < chunkLast; {c}++)"))
            {
                w.Line($"int block = 8 * ({c} - chunkFirst);");
                w.Line($"totals[2 * ({c} - chunkFirst)] += {Simd}.SumWidened(blocks[block], blocks[block + 1], blocks[block + 2], blocks[block + 3]);");
                w.Line($"totals[2 * ({c} - chunkFirst) + 1] += {Simd}.SumWidened(blocks[block + 4], blocks[block + 5], blocks[block + 6], blocks[block + 7]);");
                w.Line("blocks.Slice(block, 8).Clear();");
            }
        }
        if (ctx.IsFloat)
        {
            w.Line($"// Runs of {ConstantRunLength(ctx)} values: the float sums span {runs} runs before they are added in double.");
            w.Line("int blockRuns = 0;");
        }
        ForEachRunSideBySide(w, ctx, afterSample: ctx.IsFloat ? () =>
        {
            using (w.Block($"if (++blockRuns == {runs})"))
            {
                Flush();
                w.Line("blockRuns = 0;");
            }
        } : null, body: () =>
        {
            w.Line("double mean = state.SavedMean[stat];");
            w.Line("double invStd = state.SavedInvStd[stat];");
            EmitMeanSplit(w, ctx);
            w.Line($"var invStdV = {Simd}.Splat(({ctx.T})invStd);");
            w.Line($"ref {vector} block = ref {Simd}.At(ref blocksRef, 8 * ({c} - chunkFirst));");
            BlockVectors(w, names, (name, k) => $"var {name} = {Simd}.At(ref block, {k});");
            w.Line($"ref double groupDy = ref totals[2 * ({c} - chunkFirst)];");
            w.Line($"ref double groupDyXhat = ref totals[2 * ({c} - chunkFirst) + 1];");
            VectorLoop.Emit(w, ctx, ConstantRunLength(ctx), RunLength(ctx),
                (lane, index) => GroupGradientSums(ctx, lane, index), _ => GroupGradientSumsScalar);
            BlockVectors(w, names, (name, k) => $"{Simd}.At(ref block, {k}) = {name};");
        });
        Flush();

        w.Line();
        w.Line("// Each group's dγ and dβ terms and dx's constants: dx = invStd·(g − mean(g) − x̂·mean(g·x̂)), written as");
        w.Line("// dy·gain − (x − mean)·slope − offset.");
        using (w.Block($"for (int {c} = chunkFirst; {c} < chunkLast; {c}++)"))
        {
            w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
            w.Line($"double groupDy = totals[2 * ({c} - chunkFirst)], groupDyXhat = totals[2 * ({c} - chunkFirst) + 1];");
            w.Line("double invStd = state.SavedInvStd[stat];");
            EmitGroupGradientTerms(w, ctx);
            w.Line($"state.SplitGain[stat] = ({ctx.T})(invStd * gamma);");
            w.Line($"state.SplitSlope[stat] = ({ctx.T})(invStd * invStd * sumGXhat * invCount);");
            w.Line($"state.SplitOffset[stat] = ({ctx.T})(invStd * sumG * invCount);");
        }

        w.Line();
        w.Line("// dx in memory order, last sample first: the first runs written are those the sums pass read last.");
        ForEachRunSideBySide(w, ctx, descending: true, body: () => EmitRunDxFromSplitConstants(w, ctx, VectorLoop.MinPartialRunLines));
    }
}
