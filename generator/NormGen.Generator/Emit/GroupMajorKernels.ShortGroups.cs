using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// The forward and backward over short groups (InstanceNorm on small maps, LayerNorm over up to 512 floats) a vector's
/// width of groups at a time. A short group's statistics are a chain of dependent steps — the pivot's horizontal sum,
/// the sums' horizontal sums, a square root, a division — longer than the group's own loads and stores, so group after
/// group the kernel waits on that chain (InstanceNorm x[8,256,8,8] forward: 47 of its 65 µs). Here each group's sums
/// stay in a vector; the block's horizontal sums, means, variances and 1/std are then computed side by side, one group a
/// lane; then each group's y (or dx). InstanceNorm x[8,256,8,8] forward 65 → 39 µs and backward 82 → 51 µs at one
/// thread; the statistics within float rounding of the group-by-group ones, and each group's the same wherever it sits
/// in a block.
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>The most bytes a short group holds: a block of them stays in the L1 cache from its sums to its y.</summary>
    private const int MaxShortGroupBytes = 2048;

    /// <summary>
    /// Groups that go a block at a time: each a single run of a constant length from one vector to
    /// <see cref="MaxShortGroupBytes"/> (for float data within one float block, so the sums need no flush), one after
    /// another in memory (every dim but the innermost kept, the batch dim outermost). Such rows do not take the
    /// pipelined forward (<see cref="PipelinesRows"/>), which was as fast or slower on them.
    /// </summary>
    internal static bool BatchesShortGroups(KernelContext ctx) =>
        ctx.Layout.GroupMajor
        && OuterReduced(ctx).Count == 0
        && ctx.Kept.Count > 0 && ctx.ChunkSegment == ctx.Kept[0] && ctx.Kept.Skip(1).All(s => !s.Batch)
        && ConstantRunLength(ctx) is int run
        && run >= ctx.Width && run * ctx.ElementBytes <= MaxShortGroupBytes && run <= VectorLoop.FloatBlock;

    /// <summary>
    /// The backward over short groups a block at a time, where γ (if any) is constant along the run (InstanceNorm, and
    /// LayerNorm or RMSNorm without γ): each group's Σdy and Σdy·x̂ stay in vectors, the block's horizontal sums are
    /// computed side by side, then each group's parameter sums and dx. (With γ along the run, dγ and dβ are summed per
    /// element beside the group's sums, which then cost more than the horizontal sums.)
    /// </summary>
    internal static bool BatchesShortGroupsBackward(KernelContext ctx) =>
        BatchesShortGroups(ctx) && !(SegmentLoops.AffineAlongRun(ctx) && ctx.HasGamma);

    /// <summary>The body of <c>StatisticsAndNormalizeChunk</c> for <see cref="BatchesShortGroups"/>.</summary>
    private static void EmitShortGroups(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        int run = ConstantRunLength(ctx)!.Value;
        int block = ctx.Width;
        bool tail = run % ctx.Width != 0;
        string[] sums = rms ? ["sumSq"] : ["sumD", "sumD2"];

        w.Line($"// Short groups, {block} at a time: each group's sums stay in a vector, then the block's horizontal sums and");
        w.Line("// statistics are computed side by side, one group a lane (rather than one group's chain of dependent steps after");
        w.Line("// another's), then each group's y.");
        DeclareLaneSums(w, ctx, sums, tail, totals: false);
        if (!rms)
        {
            w.Line($"global::System.Span<{LaneVector(ctx)}> pivotValues = stackalloc {LaneVector(ctx)}[{block}];");
            w.Line($"global::System.Span<{ctx.T}> pivots = stackalloc {ctx.T}[{block}];");
            w.Line($"global::System.Span<double> means = stackalloc double[{block}];");
        }
        w.Line($"global::System.Span<double> variances = stackalloc double[{block}];");
        w.Line($"global::System.Span<double> invStds = stackalloc double[{block}];");
        ForEachBlock(w, ctx, () =>
        {
            string groupStart = $"(blockFirst + global::System.Math.Min(k, lastInBlock)) * {Int(run)}";
            if (!rms)
            {
                EmitShortGroupPivots(w, ctx, run, groupStart);
                w.Line();
            }
            w.Line(rms
                ? "// Each group's Σx², in a vector."
                : "// Each group's Σd and Σd² with d = x − pivot, in vectors (never E[x²] − E[x]², which cancels for large means).");
            using (w.Block($"for (int k = 0; k < {block}; k++)"))
            {
                w.Line($"int start = {groupStart};");
                if (!rms)
                {
                    w.Line($"{ctx.T} pivot = pivots[k];");
                    w.Line($"var pivotV = {Simd}.Splat(pivot);");
                }
                EmitGroupLaneSums(w, ctx, sums, tail,
                    rms ? SquareSums(ctx) : DeviationSums(ctx),
                    rms ? SquareSumsScalar : DeviationSumsScalar);
            }
            w.Line();
            EmitShortGroupStatistics(w, ctx, tail);
            w.Line();
            w.Line("// Each group's statistics, then its y.");
            using (w.Block("for (int k = 0; k < blockCount; k++)"))
            {
                EmitGroupPlace(w, ctx);
                w.Line(rms ? "const double mean = 0.0;" : "double mean = means[k];");
                w.Line("double invStd = invStds[k];");
                w.Line("meanOut[stat] = mean;");
                w.Line("invStdOut[stat] = invStd;");
                w.Line("varianceOut[stat] = variances[k];");
                EmitNormalizeGroup(w, ctx, splitMean: true);
            }
        });
    }

    /// <summary>
    /// Each group's pivot, into <c>pivots</c>: the lane mean of a vector of its values. For runs of
    /// <see cref="PivotSpreadRunLength"/> values and more, its first vector and the one at its middle added (the mean of
    /// 2·width values from two places): on smooth data (x = 3·sin(i/100) + 1) the first vector's mean lay over a standard
    /// deviation from the group's for about half the groups, each then summed twice (InstanceNorm x[8,256,8,8] and
    /// LayerNorm(64) forward 2.7× faster that way, LayerNorm(384) and (512) 1.35–1.5×; on random data 0.94–0.99×, the
    /// second load's cost; four vectors cost more there, 0.93–0.96×, and a gather of 8 spread values 0.76–0.95×). Shorter runs: the first vector.
    /// </summary>
    private static void EmitShortGroupPivots(CodeWriter w, KernelContext ctx, int run, string groupStart)
    {
        int block = ctx.Width;
        if (run >= PivotSpreadRunLength)
        {
            int half = run / 2;
            w.Line($"// The pivots: the mean of each group's first {ctx.Width} values and of the {ctx.Width} at its middle (from value {half}). A smooth row's first");
            w.Line("// values often lie together, further than a standard deviation from its mean, and would cost a second pass.");
            using (w.Block($"for (int k = 0; k < {block}; k++)"))
            {
                w.Line($"int start = {groupStart};");
                w.Line($"pivotValues[k] = {Simd}.Load(ref xRef, start) + {Simd}.Load(ref xRef, start + {Int(half)});");
            }
            w.Line($"{Simd}.Store({Simd}.LaneMeans(pivotValues) * {ctx.Literal(0.5)}, pivots, 0);");
            return;
        }
        w.Line($"// The pivots: the mean of each group's first {ctx.Width} values.");
        using (w.Block($"for (int k = 0; k < {block}; k++)"))
        {
            w.Line($"pivotValues[k] = {Simd}.Load(ref xRef, {groupStart});");
        }
        w.Line($"{Simd}.Store({Simd}.LaneMeans(pivotValues), pivots, 0);");
    }

    /// <summary>
    /// The block's statistics, four groups a vector of doubles: mean = pivot + Σd/n and variance = Σd²/n − (Σd/n)² (or the
    /// mean square), then 1/std. A group whose pivot lies more than a standard deviation from its mean (rare) is summed
    /// again about the mean found, as group by group.
    /// </summary>
    private static void EmitShortGroupStatistics(CodeWriter w, KernelContext ctx, bool tail)
    {
        bool rms = ctx.Spec.IsRms;
        int block = ctx.Width;
        string Sums(string name) => tail
            ? $"({Simd}.LaneSumsWidened({name}s, set) + {Simd}.LoadWidened({name}Tails, set))"
            : $"{Simd}.LaneSumsWidened({name}s, set)";
        string epsilon = Double(ctx.Spec.Epsilon);
        w.Line(rms
            ? "// The block's mean squares and 1/std, four groups a vector."
            : "// The block's means, variances and 1/std, four groups a vector.");
        if (!rms)
        {
            w.Line("int retry = 0;");
        }
        using (w.Block($"for (int set = 0; set < {block}; set += 4)"))
        {
            if (rms)
            {
                w.Line($"var variance = {Sums("sumSq")} * invCount;");
            }
            else
            {
                w.Line($"var meanShift = {Sums("sumD")} * invCount;");
                w.Line($"var mean = {Simd}.LoadWidened(pivots, set) + meanShift;");
                w.Line($"var variance = {Simd}.AtLeastZero({Sums("sumD2")} * invCount - meanShift * meanShift);");
                w.Line($"retry |= {Simd}.NotAtMost(meanShift * meanShift, variance) << set;");
                w.Line($"{Simd}.Store(mean, means, set);");
            }
            w.Line($"{Simd}.Store(variance, variances, set);");
            w.Line($"{Simd}.Store({Simd}.InvSqrt(variance, {epsilon}), invStds, set);");
        }
        if (rms)
        {
            return;
        }
        using (w.Block("if (retry != 0)"))
        {
            using (w.Block("for (int k = 0; k < blockCount; k++)"))
            {
                using (w.Block("if ((retry & (1 << k)) == 0)"))
                {
                    w.Line("continue;");
                }
                w.Line("// This group's first values lie far out: Σd and Σd² again about the mean found (the corrected two-pass algorithm).");
                w.Line($"int start = (blockFirst + k) * {Int(ConstantRunLength(ctx)!.Value)};");
                w.Line($"{ctx.T} pivot = ({ctx.T})means[k];");
                w.Line($"var pivotV = {Simd}.Splat(pivot);");
                EmitBlockedSums(w, ctx, ["sumD", "sumD2"], DeviationSums(ctx), DeviationSumsScalar);
                w.Line("double meanShift = sumD * invCount;");
                w.Line("means[k] = pivot + meanShift;");
                w.Line("double variance = global::System.Math.Max(sumD2 * invCount - meanShift * meanShift, 0.0);");
                w.Line("variances[k] = variance;");
                w.Line($"invStds[k] = 1.0 / global::System.Math.Sqrt(variance + {epsilon});");
            }
        }
    }

    /// <summary>The body of <c>BackwardChunk</c> for <see cref="BatchesShortGroupsBackward"/>.</summary>
    private static void EmitShortGroupsBackward(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        int run = ConstantRunLength(ctx)!.Value;
        int block = ctx.Width;
        bool tail = run % ctx.Width != 0;
        string[] sums = ["runDy", "runDyXhat"];

        w.Line($"// Short groups, {block} at a time: each group's Σdy and Σdy·x̂ stay in vectors, then the block's horizontal sums");
        w.Line("// are computed side by side, one group a lane (rather than one group's chain of dependent steps after another's),");
        w.Line("// then each group's parameter sums and dx.");
        DeclareLaneSums(w, ctx, sums, tail, totals: true);
        ForEachBlock(w, ctx, () =>
        {
            w.Line("// Each group's Σdy and Σdy·x̂, x̂ = (x − mean)·invStd, in vectors.");
            using (w.Block($"for (int k = 0; k < {block}; k++)"))
            {
                w.Line("int stat = blockFirst + global::System.Math.Min(k, lastInBlock);");
                w.Line($"int start = stat * {Int(run)};");
                EmitSavedStatistics(w, ctx);
                EmitGroupLaneSums(w, ctx, sums, tail,
                    (lane, index) => [
                        $"var dy{lane} = {Simd}.Load(ref dyRef, start + {index});",
                        $"runDyBlock{lane} += dy{lane};",
                        $"runDyXhatBlock{lane} = {Simd}.MultiplyAdd(dy{lane}, {CenteredX(ctx, VectorShape.Narrow(ctx), index)} * invStdV, runDyXhatBlock{lane});"],
                    [
                        "double dyValue = NormGenSimd.At(ref dyRef, start + i);",
                        rms ? "double xhatValue = NormGenSimd.At(ref xRef, start + i) * invStd;" : "double xhatValue = (NormGenSimd.At(ref xRef, start + i) - mean) * invStd;",
                        "runDy += dyValue;",
                        "runDyXhat += dyValue * xhatValue;"]);
            }
            w.Line();
            w.Line("// The block's horizontal sums, four groups a vector.");
            using (w.Block($"for (int set = 0; set < {block}; set += 4)"))
            {
                foreach (string name in sums)
                {
                    string total = tail
                        ? $"{Simd}.LaneSumsWidened({name}s, set) + {Simd}.LoadWidened({name}Tails, set)"
                        : $"{Simd}.LaneSumsWidened({name}s, set)";
                    w.Line($"{Simd}.Store({total}, {name}Totals, set);");
                }
            }
            w.Line();
            w.Line("// Each group's Σg = γ·Σdy and Σg·x̂ = γ·Σdy·x̂, its sums for GammaGrad and BetaGrad, then its dx.");
            using (w.Block("for (int k = 0; k < blockCount; k++)"))
            {
                EmitGroupPlace(w, ctx);
                EmitSavedStatistics(w, ctx, invStdSplat: false);
                w.Line("double runDy = runDyTotals[k];");
                w.Line("double runDyXhat = runDyXhatTotals[k];");
                EmitAddRunGradientSums(w, ctx, declare: true);
                EmitGroupDx(w, ctx);
            }
        });
    }

    /// <summary>The vector type of a lane sum.</summary>
    private static string LaneVector(KernelContext ctx) => $"global::System.Runtime.Intrinsics.Vector256<{ctx.T}>";

    /// <summary>
    /// For each sum, a block's vectors (<c>names</c>), and where <paramref name="tail"/> its scalar tails' totals
    /// (<c>nameTails</c>); with <paramref name="totals"/>, the horizontal sums (<c>nameTotals</c>).
    /// </summary>
    private static void DeclareLaneSums(CodeWriter w, KernelContext ctx, string[] sums, bool tail, bool totals)
    {
        int block = ctx.Width;
        foreach (string name in sums)
        {
            w.Line($"global::System.Span<{LaneVector(ctx)}> {name}s = stackalloc {LaneVector(ctx)}[{block}];");
            if (totals)
            {
                w.Line($"global::System.Span<double> {name}Totals = stackalloc double[{block}];");
            }
            if (tail)
            {
                w.Line($"global::System.Span<double> {name}Tails = stackalloc double[{block}];");
            }
        }
    }

    /// <summary>The loop over this chunk's groups a block at a time, with <c>blockFirst</c>, <c>blockCount</c> and <c>lastInBlock</c>.</summary>
    private static void ForEachBlock(CodeWriter w, KernelContext ctx, System.Action body)
    {
        int block = ctx.Width;
        (string first, string end) = ctx.ChunkGroupRange;
        w.Line($"int groupLast = {end};");
        using (w.Block($"for (int blockFirst = {first}; blockFirst < groupLast; blockFirst += {block})"))
        {
            w.Line($"int blockCount = global::System.Math.Min({block}, groupLast - blockFirst);");
            w.Line("// A block past the chunk's last group repeats that group in its other lanes (read, never written).");
            w.Line("int lastInBlock = blockCount - 1;");
            body();
        }
    }

    /// <summary>
    /// Group k's sums over its run in four vectors each (a scalar tail in double), then into the block's vectors: the four
    /// added pairwise, the tail's total beside them.
    /// </summary>
    private static void EmitGroupLaneSums(CodeWriter w, KernelContext ctx, string[] sums, bool tail, System.Func<int, string, IEnumerable<string>> vector, string[] scalar)
    {
        int run = ConstantRunLength(ctx)!.Value;
        foreach (string name in sums)
        {
            if (tail)
            {
                w.Line($"double {name} = 0.0;");
            }
            w.Line($"var {name}Block0 = {Simd}.Splat({(ctx.IsFloat ? "0f" : "0.0")}); var {name}Block1 = {name}Block0; var {name}Block2 = {name}Block0; var {name}Block3 = {name}Block0;");
        }
        VectorLoop.Emit(w, ctx, run, Int(run), vector, _ => scalar);
        foreach (string name in sums)
        {
            w.Line($"{name}s[k] = ({name}Block0 + {name}Block1) + ({name}Block2 + {name}Block3);");
            if (tail)
            {
                w.Line($"{name}Tails[k] = {name};");
            }
        }
    }

    /// <summary>Group k of the block: its flat index <c>group</c> (also <c>stat</c>), <c>start</c>, and <c>param</c> with γ.</summary>
    private static void EmitGroupPlace(CodeWriter w, KernelContext ctx)
    {
        w.Line("int group = blockFirst + k;");
        SegmentLoops.EmitKeptIndices(w, ctx, "group", onlyAffine: true);
        w.Line("int stat = group;");
        w.Line($"int start = group * {Int(ConstantRunLength(ctx)!.Value)};");
        if (ctx.HasGamma)
        {
            w.Line($"int param = {SegmentLoops.ParameterOffset(ctx)};");
        }
    }

    /// <summary>
    /// The group's saved mean (its float parts; RMSNorm has none) and 1/std, with their splats (1/std's only where
    /// <paramref name="invStdSplat"/>: dx with γ constant along the run folds it into its gain).
    /// </summary>
    private static void EmitSavedStatistics(CodeWriter w, KernelContext ctx, bool invStdSplat = true)
    {
        if (!ctx.Spec.IsRms)
        {
            w.Line("double mean = state.SavedMean[stat];");
        }
        w.Line("double invStd = state.SavedInvStd[stat];");
        if (!ctx.Spec.IsRms)
        {
            EmitMeanSplit(w, ctx);
        }
        if (invStdSplat)
        {
            w.Line($"var invStdV = {Simd}.Splat(({ctx.T})invStd);");
        }
    }
}
