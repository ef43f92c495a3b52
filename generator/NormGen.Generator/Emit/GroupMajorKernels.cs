using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// Kernels for layouts whose innermost segment is reduced (LayerNorm, GroupNorm, InstanceNorm, RMSNorm,
/// channels-first BatchNorm). Each statistics group is a set of contiguous runs; a group is processed whole —
/// mean, variance, normalization — while it sits in cache, so memory is streamed once.
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>The orchestrators the API calls and the chunk kernels they run.</summary>
    public static IReadOnlyList<KernelMethod> Methods(KernelContext ctx)
    {
        string t = ctx.T;
        var methods = new List<KernelMethod>
        {
            new("NormalizeWithOwnStatistics",
                "Computes each group's statistics into the given arrays and normalizes x into y with them, the groups shared out over the threads.",
                (w, c) =>
                {
                    w.Line("state.ActiveMean = meanOut;");
                    w.Line("state.ActiveInvStd = invStdOut;");
                    w.Line("state.ActiveVariance = varianceOut;");
                    if (SplitsAcrossSamples(c))
                    {
                        EmitSampleSplitForwardBranch(w, c);
                    }
                    w.Line($"int chunks = {c.ChunkCount};");
                    w.Line(KernelMethod.Run("StatisticsAndNormalizeChunk", "x", "default", "y"));
                },
                $"global::System.ReadOnlySpan<{t}> x, global::System.Span<{t}> y, int batch, double[] meanOut, double[] invStdOut, double[] varianceOut"),
            KernelMethod.Chunk("StatisticsAndNormalizeChunk",
                "One chunk of groups: each group's mean and variance (saved to state.Active*), then its y.",
                "x", KernelMethod.Unused, "y", EmitStatisticsAndNormalize),
        };
        if (ctx.Spec.HasRunningStats)
        {
            bool folds = FoldsOncePerCall(ctx);
            string xy = $"global::System.ReadOnlySpan<{t}> x, global::System.Span<{t}> y, int batch";
            if (!folds || SplitsAcrossSamples(ctx))
            {
                // ForwardInference's orchestrator, or (where the constants are folded ahead) the sample-split training's.
                methods.Add(new("NormalizeWithStatistics",
                    InMemoryOrder(ctx)
                        ? $"Normalizes x into y with the given per-group mean and 1/std, in one pass in memory order, the {MemoryOrderUnits(ctx)} shared out over the threads."
                        : "Normalizes x into y with the given per-group mean and 1/std, in one pass, the groups shared out over the threads.",
                    (w, c) =>
                    {
                        if (folds)
                        {
                            w.Line("// Per statistic: the mean's high part, scale = invStd·γ and shift = β − (mean's low part)·scale, into the arrays");
                            w.Line("// inference keeps its own fold in, which the next inference therefore folds again.");
                            w.Line($"global::NormGen.Internal.Statistics.FoldScaleShift(meanIn, invStdIn, {KeptFold.Parameters(c)}, state.FoldedMeanHi, state.FoldedScale, state.FoldedShift, {c.StatisticsCount});");
                            w.Line("state.InferenceFoldKept = false;");
                        }
                        else
                        {
                            w.Line("state.ActiveMean = meanIn;");
                            w.Line("state.ActiveInvStd = invStdIn;");
                        }
                        EmitRunNormalize(w, c);
                    },
                    $"{xy}, double[] meanIn, double[] invStdIn"));
            }
            if (folds)
            {
                // The sample-split training folds its batch statistics into the same arrays; a flag tells inference.
                bool shared = SplitsAcrossSamples(ctx);
                methods.Add(new("NormalizeWithRunningStatistics",
                    "Normalizes x into y with InferenceMean and InferenceInvStd, folded with γ and β only when they or the running statistics have changed"
                    + (shared ? " (or a training call folded into the same arrays)" : "") + $", in one pass in memory order, the {MemoryOrderUnits(ctx)} shared out over the threads.",
                    (w, c) =>
                    {
                        using (KeptFold.FoldAgainIf(w, c, c.StatisticsCount, trainingFoldsHereToo: shared))
                        {
                            w.Line("// Per statistic: the mean's high part, scale = invStd·γ and shift = β − (mean's low part)·scale.");
                            w.Line($"global::NormGen.Internal.Statistics.FoldScaleShift(state.InferenceMean, state.InferenceInvStd, {KeptFold.Parameters(c)}, state.FoldedMeanHi, state.FoldedScale, state.FoldedShift, {c.StatisticsCount});");
                            if (shared)
                            {
                                w.Line("state.InferenceFoldKept = true;");
                            }
                        }
                        EmitRunNormalize(w, c);
                    },
                    $"{xy}, bool statisticsChanged"));
            }
            methods.Add(KernelMethod.Chunk("NormalizeChunk",
                FoldsOncePerCall(ctx) ? $"One chunk of {MemoryOrderUnits(ctx)}: y from each statistic's hi, scale and shift in state.Folded*."
                    : InMemoryOrder(ctx) ? $"One chunk of {MemoryOrderUnits(ctx)}: y from the statistics in state.Active*." : "One chunk of groups: y from the statistics in state.Active*.",
                "x", KernelMethod.Unused, "y", EmitNormalizeWithStatistics));
        }
        methods.Add(new("BackwardKernel",
            "dx from dy and the saved statistics, the groups shared out over the threads; adds the parameter gradients to GammaGrad/BetaGrad.",
            (w, c) =>
            {
                if (SplitsAcrossSamples(c))
                {
                    EmitSampleSplitBackwardBranch(w, c);
                }
                w.Line($"int chunks = {c.ChunkCount};");
                if (SumsParametersByColumns(c) && EmitColumnPassBranch(w, c))
                {
                    return;
                }
                EmitPartialsSetup(w, c);
                w.Line(KernelMethod.Run("BackwardChunk", "x", "dy", "dx"));
                bool direct = AddsParameterBlockDirectly(c);
                if (direct)
                {
                    w.Line("// One chunk of fewer than " + ParameterBlockGroups + " groups added its dγ" + (c.HasBeta ? " and dβ" : "") + " straight into the gradients (see BackwardChunk).");
                }
                using (w.BlockIf(direct ? $"if (!({DirectCondition(c, "chunks == 1")}))" : null))
                {
                    EmitPartialsMerge(w, c);
                }
            },
            $"global::System.ReadOnlySpan<{t}> x, global::System.ReadOnlySpan<{t}> dy, global::System.Span<{t}> dx, int batch"));
        if (!AlwaysSumsParametersByColumns(ctx))
        {
            methods.Add(KernelMethod.Chunk("BackwardChunk",
                "One chunk of groups: dx, and this chunk's sums for GammaGrad/BetaGrad.",
                "x", "dy", "dx", (w, c) => EmitBackward(w, c, columnPass: false)));
        }
        if (SumsParametersByColumns(ctx))
        {
            methods.Add(KernelMethod.Chunk("BackwardDxChunk",
                "One chunk of groups: dx alone (the parameter gradients take a pass of their own, ParameterGradientsChunk).",
                "x", "dy", "dx", (w, c) => EmitBackward(w, c, columnPass: true)));
            methods.Add(KernelMethod.Chunk("ParameterGradientsChunk",
                "One chunk of columns: GammaGrad/BetaGrad += each column's sums of dy·x̂ and dy over every row, in row order.",
                "x", "dy", KernelMethod.Unused, EmitParameterColumns));
        }
        if (SplitsAcrossSamples(ctx))
        {
            methods.AddRange(SampleSplitMethods(ctx));
        }
        return methods;
    }

    /// <summary>Per-chunk parameter sums (each chunk zeroes its own rows), so that threads never add into the same place.</summary>
    public static void EmitPartialsSetup(CodeWriter w, KernelContext ctx)
    {
        if (ctx.HasGamma)
        {
            w.Line("// Room for every chunk's rows of parameter sums (each chunk zeroes its own).");
            w.Line("int partialsLength = chunks * 2 * NormGenState.PartialStride;");
            w.Line("global::NormGen.Internal.Buffers.AtLeast(ref state.ParameterPartials, partialsLength);");
            if (AddsParametersEveryGroup(ctx))
            {
                w.Line("global::NormGen.Internal.Buffers.AtLeast(ref state.ParameterBlock, partialsLength);");
            }
        }
    }

    /// <summary>
    /// Whether every group adds a term per parameter into its chunk's rows (γ runs along the group, as in LayerNorm and
    /// RMSNorm): such layers sum those terms in a <c>ParameterBlock</c> and keep a page between the chunks' rows
    /// (<see cref="StateEmitter.ParameterRowPadding"/>).
    /// </summary>
    internal static bool AddsParametersEveryGroup(KernelContext ctx) => ctx.Layout.GroupMajor && SegmentLoops.AffineAlongRun(ctx);

    /// <summary>The chunks' parameter sums into GammaGrad/BetaGrad, in chunk order: the same for any number of threads.</summary>
    public static void EmitPartialsMerge(CodeWriter w, KernelContext ctx)
    {
        if (!ctx.HasGamma)
        {
            return;
        }
        w.Line("// The chunks' parameter sums, added in chunk order (the same for any number of threads), into GammaGrad and BetaGrad.");
        w.Line($"global::NormGen.Internal.ParameterGradients.AddChunkSums(state.ParameterPartials, NormGenState.PartialStride, chunks, state.GammaGrad, {(ctx.HasBeta ? "state.BetaGrad" : "null")});");
    }

    /// <summary>Body of the chunk kernel behind <c>NormalizeWithOwnStatistics</c>: statistics into <c>state.Active*</c>, then y.</summary>
    public static void EmitStatisticsAndNormalize(CodeWriter w, KernelContext ctx)
    {
        w.Line("double[] meanOut = state.ActiveMean;");
        w.Line("double[] invStdOut = state.ActiveInvStd;");
        w.Line("double[] varianceOut = state.ActiveVariance;");
        EmitReferences(w, ctx, backward: false);
        EmitInvCount(w, ctx);
        SegmentLoops.EmitChunkRange(w, ctx);
        if (GroupsSideBySide(ctx))
        {
            if (!SumsStatisticsSideBySide(ctx))
            {
                w.Line(GroupComment(ctx, "mean and variance (y follows for the chunk's groups side by side)"));
            }
            EmitSideBySideForward(w, ctx);
            return;
        }
        w.Line(GroupComment(ctx, ctx.Spec.IsRms ? "mean square, then y" : "mean and variance, then y"));
        if (BatchesShortGroups(ctx))
        {
            EmitShortGroups(w, ctx);
            return;
        }
        if (PipelinesRows(ctx))
        {
            EmitPipelinedRows(w, ctx);
            return;
        }
        if (PipelinesForwardGroups(ctx))
        {
            EmitPipelinedForwardGroups(w, ctx);
            return;
        }
        ForEachGroup(w, ctx, prefetch: true, ownStatistics: true, body: () =>
        {
            if (ctx.Spec.IsRms)
            {
                w.Line(ctx.IsFloat
                    ? $"// Mean square: Σx², in float over blocks of at most {VectorLoop.FloatBlock} values, each block added in double."
                    : "// Mean square: Σx².");
                EmitBlockedSums(w, ctx, ["sumSq"],
                    (lane, index) => [.. GroupPrefetch.Next(ctx, true, lane, index, "xRef"), .. SquareSums(VectorShape.Narrow(ctx), lane, index)],
                    SquareSumsScalar,
                    wide: new(["sumSq"], [], (pair, index) => [.. GroupPrefetch.Next(ctx, true, pair, index, "xRef"), .. SquareSums(VectorShape.Wide(ctx), pair, index)]));
                w.Line("double variance = sumSq * invCount;");
                w.Line("const double mean = 0.0;");
            }
            else
            {
                EmitMeanAndVariance(w, ctx);
            }
            EmitSaveStatistics(w, ctx);
            w.Line();
            EmitNormalizeGroup(w, ctx, splitMean: true);
        });
    }

    /// <summary>A group's <c>invStd</c> from its <c>variance</c>, and its mean, 1/std and variance saved to the <c>*Out</c> arrays.</summary>
    private static void EmitSaveStatistics(CodeWriter w, KernelContext ctx)
    {
        w.Line($"double invStd = 1.0 / global::System.Math.Sqrt(variance + {Double(ctx.Spec.Epsilon)});");
        w.Line("meanOut[stat] = mean;");
        w.Line("invStdOut[stat] = invStd;");
        w.Line("varianceOut[stat] = variance;");
    }

    /// <summary>
    /// A group's <c>mean</c> and <c>variance</c> in one pass about a pivot (twice where the pivot lies far out).
    /// <paramref name="pipelinedPass"/>, where given, emits the first attempt's loop under <c>pipelined</c> instead: the same
    /// sums in the same order, with other work beside them (<see cref="EmitPipelinedRows"/>).
    /// </summary>
    private static void EmitMeanAndVariance(CodeWriter w, KernelContext ctx, System.Action<System.Func<int, string, IEnumerable<string>>, System.Func<string, IEnumerable<string>>, string[]>? pipelinedPass = null)
    {
        EmitPivot(w, ctx);
        w.Line();
        w.Line("// Mean and variance from Σd and Σd² with d = x − pivot (never E[x²] − E[x]², which cancels for large means):");
        w.Line("// mean = pivot + Σd/n, variance = Σd²/n − (Σd/n)². With the pivot within a standard deviation of the mean this");
        w.Line("// is as accurate as the corrected two-pass algorithm, in one pass; a group whose pivot lies further out");
        w.Line("// (rare) is summed again about the mean found, which is that algorithm.");
        w.Line("double mean, variance;");
        using (w.Block("for (int attempt = 0; ; attempt++)"))
        {
            w.Line($"var pivotV = {Simd}.Splat(pivot);");
            string[] names = ["sumD", "sumD2"];
            System.Func<int, string, IEnumerable<string>> prefetches = (lane, index) => [
                .. GroupPrefetch.Next(ctx, true, lane, index, "xRef"),
                .. GroupPrefetch.NextRow(ctx, lane, index, "xRef")];
            System.Func<int, string, IEnumerable<string>> vector = (lane, index) => [.. prefetches(lane, index), .. DeviationSums(VectorShape.Narrow(ctx), lane, index)];
            string[] scalar = DeviationSumsScalar;
            if (pipelinedPass is null)
            {
                EmitBlockedSums(w, ctx, names, vector, scalar, wide: WideDeviationSums(ctx, prefetches), tail: DeviationTerms);
            }
            else
            {
                DeclareBlockedSums(w, ctx, names);
                using (w.Block("if (pipelined && attempt == 0)"))
                {
                    // Without the long rows' L2 prefetch of the next row: the pipeline's own stores keep the memory busy
                    // (LayerNorm x[1024,4096] forward 1.07× faster without it).
                    pipelinedPass((lane, index) => [.. GroupPrefetch.Next(ctx, true, lane, index, "xRef"), .. DeviationSums(VectorShape.Narrow(ctx), lane, index)], _ => scalar, names);
                }
                using (w.Block("else"))
                {
                    EmitBlockedSums(w, ctx, names, vector, scalar, declare: false, wide: WideDeviationSums(ctx, prefetches), tail: DeviationTerms);
                }
            }
            w.Line("double meanShift = sumD * invCount;");
            w.Line("mean = pivot + meanShift;");
            w.Line("variance = global::System.Math.Max(sumD2 * invCount - meanShift * meanShift, 0.0);");
            using (w.Block("if (meanShift * meanShift <= variance || attempt == 1)"))
            {
                w.Line("break;");
            }
            w.Line($"pivot = ({ctx.T})mean;");
        }
    }

    /// <summary>One vector of the pivot pass: d = x − pivot added to <c>sumDBlock</c>, d² to <c>sumD2Block</c> (lane <paramref name="lane"/>).</summary>
    private static IEnumerable<string> DeviationSums(VectorShape shape, int lane, string index) => [
        $"var d{lane} = {Simd}.{shape.Load}(ref xRef, start + {index}) - {shape.Of("pivot")};",
        $"{shape.Sum("sumD", lane)} += d{lane};",
        $"{shape.Sum("sumD2", lane)} = {Simd}.MultiplyAdd(d{lane}, d{lane}, {shape.Sum("sumD2", lane)});"];

    /// <summary><see cref="DeviationSums(VectorShape, int, string)"/> in 256-bit vectors.</summary>
    private static System.Func<int, string, IEnumerable<string>> DeviationSums(KernelContext ctx) =>
        (lane, index) => DeviationSums(VectorShape.Narrow(ctx), lane, index);

    /// <summary>
    /// The 512-bit twin of the pivot pass (<see cref="DeviationSums(VectorShape, int, string)"/>), each vector after
    /// <paramref name="before"/>'s statements for it (prefetches, given the pair of 256-bit lanes it covers).
    /// </summary>
    private static WideSums WideDeviationSums(KernelContext ctx, System.Func<int, string, IEnumerable<string>>? before = null) =>
        new(["sumD", "sumD2"], ["pivot"], (pair, index) => [.. before?.Invoke(pair, index) ?? [], .. DeviationSums(VectorShape.Wide(ctx), pair, index)]);

    /// <summary>One value of the pivot pass's scalar tail, into the double totals <c>sumD</c> and <c>sumD2</c>.</summary>
    private static string[] DeviationSumsScalar => DeviationTerms.Lines("i", "");

    /// <summary>The pivot pass's terms of one value (d and d²), for its scalar tail and for a run's last values summed as a tree.</summary>
    private static readonly ScalarTerms DeviationTerms = new(
        (index, suffix) => [$"double d{suffix} = NormGenSimd.At(ref xRef, start + {index}) - pivot;"],
        [("sumD", suffix => $"d{suffix}"), ("sumD2", suffix => $"d{suffix} * d{suffix}")]);

    /// <summary>One vector of RMSNorm's mean-square pass: x² added to <c>sumSqBlock</c> (lane <paramref name="lane"/>).</summary>
    private static IEnumerable<string> SquareSums(VectorShape shape, int lane, string index) => [
        $"var v{lane} = {Simd}.{shape.Load}(ref xRef, start + {index});",
        $"{shape.Sum("sumSq", lane)} = {Simd}.MultiplyAdd(v{lane}, v{lane}, {shape.Sum("sumSq", lane)});"];

    /// <summary><see cref="SquareSums(VectorShape, int, string)"/> in 256-bit vectors.</summary>
    private static System.Func<int, string, IEnumerable<string>> SquareSums(KernelContext ctx) =>
        (lane, index) => SquareSums(VectorShape.Narrow(ctx), lane, index);

    /// <summary>One value of the mean-square pass's scalar tail, into the double total <c>sumSq</c>.</summary>
    private static readonly string[] SquareSumsScalar = ["double v = NormGenSimd.At(ref xRef, start + i);", "sumSq += v * v;"];

    /// <summary>
    /// Runs from which the pivot comes from 8 vectors spread along the first run rather than its first vector: 64 values,
    /// so that the 8 vectors do not overlap. On a smooth map (GroupNorm(32) x[8,256,28,28], x = 3·sin(i/100) + 1) the first
    /// vector's mean lay over a standard deviation from the group's for about half the groups (3·|sin| > 2.1 at their
    /// start), each then summed twice.
    /// </summary>
    private const int PivotSpreadRunLength = 64;

    /// <summary>
    /// The pivot of the statistics pass: the mean of 8 vectors of the group's values, spread along its first run (runs of
    /// <see cref="PivotSpreadRunLength"/> values and more; <c>Simd.SpreadMean</c>), else its first values (one vector of
    /// its first run, or the whole run where shorter); rounded to the element type so that x − pivot is exact for x near
    /// it. Drawn from the same distribution as the rest of the group, the mean of 8 values already lies within a standard
    /// deviation of the group's almost always (for independent normal values, all but 0.5 % of groups), which is what one
    /// pass needs; whole vectors also cover data with a period that divides the spread's stride (8 single values there
    /// were all of one phase: LayerNorm(1000) rows of a period-5 pattern took two passes, 1.4× the time).
    /// </summary>
    private static void EmitPivot(CodeWriter w, KernelContext ctx)
    {
        string firstRun = OuterReduced(ctx).Count == 0 ? "start" : "groupStart";
        int width = ctx.Width;
        if (ConstantRunLength(ctx) is int spreadRun && spreadRun >= PivotSpreadRunLength)
        {
            int stride = spreadRun / 8;
            w.Line($"// The pivot: the mean of 8 vectors spread along the group's first run, one every {stride} values. The first values");
            w.Line("// alone often lie together further than a standard deviation from the mean (a smooth map, an image), and a pivot");
            w.Line("// from them would cost a second pass.");
            w.Line($"{ctx.T} pivot = ({ctx.T}){Simd}.SpreadMean(ref xRef, {firstRun}, {stride});");
            return;
        }
        if (ConstantRunLength(ctx) is int run && run >= width)
        {
            w.Line($"// The pivot: the mean of the group's first {width} values.");
            w.Line($"{ctx.T} pivot = ({ctx.T})({Simd}.SumWidened({Simd}.Load(ref xRef, {firstRun})) * {Double(1.0 / width)});");
            return;
        }
        string count = ConstantRunLength(ctx) is int length ? Int(length) : $"global::System.Math.Min({width}, {RunLength(ctx)})";
        w.Line($"// The pivot: the mean of the group's first values (up to {width}).");
        w.Line($"int headCount = {count};");
        w.Line("double head = 0.0;");
        using (w.Block("for (int i = 0; i < headCount; i++)"))
        {
            w.Line($"head += NormGenSimd.At(ref xRef, {firstRun} + i);");
        }
        w.Line($"{ctx.T} pivot = ({ctx.T})(head / headCount);");
    }

    /// <summary>
    /// What the memory-order y pass splits into chunks: its runs (sample × channel) where those are the only outer
    /// segments — a batch of one then still uses every thread (BatchNorm2d x[1,64,56,56] inference: 13 µs on one thread
    /// or two when the samples were split) — else the samples.
    /// </summary>
    private static string MemoryOrderChunkExtent(KernelContext ctx)
    {
        Segment batch = ctx.Layout.Segments[0];
        return ChunksByRuns(ctx) ? $"{ctx.Extent(batch)} * {Int(ctx.Layout.Segments[1].Size)}" : ctx.Extent(batch);
    }

    /// <summary>What the memory-order pass's chunks hold, for the generated summaries.</summary>
    private static string MemoryOrderUnits(KernelContext ctx) => ChunksByRuns(ctx) ? "runs (sample × channel)" : "samples";

    /// <summary>Whether <see cref="MemoryOrderChunkExtent"/> counts runs: the batch and one sized segment outside the run.</summary>
    private static bool ChunksByRuns(KernelContext ctx) => ctx.Layout.Segments.Count == 3 && !ctx.Layout.Segments[1].Batch;

    /// <summary>The y pass over the chunks (of runs or samples in memory order, else of groups).</summary>
    private static void EmitRunNormalize(CodeWriter w, KernelContext ctx)
    {
        w.Line(InMemoryOrder(ctx)
            ? $"int chunks = global::NormGen.Internal.Threading.ChunkCount({MemoryOrderChunkExtent(ctx)}{ctx.ChunkingArguments});"
            : $"int chunks = {ctx.ChunkCount};");
        w.Line(KernelMethod.Run("NormalizeChunk", "x", "default", "y"));
    }

    /// <summary>Body of the chunk kernel behind <c>NormalizeWithStatistics</c>: one pass, the statistics in <c>state.Active*</c>.</summary>
    public static void EmitNormalizeWithStatistics(CodeWriter w, KernelContext ctx)
    {
        bool folded = FoldsOncePerCall(ctx);
        if (!folded)
        {
            w.Line("double[] meanIn = state.ActiveMean;");
            w.Line("double[] invStdIn = state.ActiveInvStd;");
        }
        // Folded statistics already hold γ and β.
        EmitReferences(w, ctx, backward: false, parameters: !folded,
            minPartialRunLines: InMemoryOrder(ctx) ? MemoryOrderMinPartialRunLines : VectorLoop.MinPartialRunLines);
        if (InMemoryOrder(ctx))
        {
            EmitNormalizeInMemoryOrder(w, ctx);
            return;
        }
        SegmentLoops.EmitChunkRange(w, ctx);
        w.Line(GroupComment(ctx, "y from the given statistics"));
        ForEachGroup(w, ctx, prefetch: true, body: () =>
        {
            w.Line("double mean = meanIn[stat];");
            w.Line("double invStd = invStdIn[stat];");
            EmitNormalizeGroup(w, ctx, splitMean: true, prefetch: true);
        });
    }

    /// <summary>
    /// Whether y from known statistics is written in memory order, the chunks splitting the batch: BatchNorm (the batch
    /// dim outermost and reduced, so a group is one run per sample). Group by group, every run would start a new stream
    /// the hardware prefetcher has to find (a run of 8×8 values is 256 bytes); in memory order it follows the data.
    /// </summary>
    private static bool InMemoryOrder(KernelContext ctx) =>
        OuterReduced(ctx).Count > 0 && ctx.Kept.Count > 0 && ctx.Layout.Segments[0] is { Batch: true, Reduced: true };

    /// <summary>
    /// Whether the memory-order pass reads each statistic's hi, scale and shift from arrays folded ahead
    /// (<c>Statistics.FoldScaleShift</c>) rather than computing them in double for every run: where γ and β are indexed
    /// like the statistics (BatchNorm) or absent. A run of 8×8 values is 8 vectors, so the per-run arithmetic cost as
    /// much as the run (x[128,32,8,8]: 1.04–1.09× faster at 1 thread, 1.2× at 2; the same bits). The fold is kept
    /// between calls until the running statistics, γ or β change (NormalizeWithRunningStatistics).
    /// </summary>
    internal static bool FoldsOncePerCall(KernelContext ctx) =>
        ctx.Layout.GroupMajor && ctx.Spec.HasRunningStats && InMemoryOrder(ctx) && LaneKernels.PerStatisticShift(ctx);

    /// <summary>The body of <c>NormalizeChunk</c> in memory order: this chunk's samples, each run with its group's statistics.</summary>
    private static void EmitNormalizeInMemoryOrder(CodeWriter w, KernelContext ctx)
    {
        var outer = ctx.Layout.Segments.Take(ctx.Layout.Segments.Count - 1).ToList();
        Segment batch = outer[0];
        string n = ctx.LoopVariable(batch);
        string extent = MemoryOrderChunkExtent(ctx);
        bool byRuns = ChunksByRuns(ctx);
        w.Line(byRuns
            ? $"// This chunk's share of the {batch.Letters}×{outer[1].Letters} runs in memory order, so that a batch of one still shares its {outer[1].Letters} out (the"
            : $"// This chunk's share of the {batch.Letters} indices (the partition depends on the shape only, not on the threads).");
        if (byRuns)
        {
            w.Line("// partition depends on the shape only, not on the threads).");
        }
        w.Line($"int chunkSize = global::NormGen.Internal.Threading.ChunkSize({extent}{ctx.ChunkingArguments});");
        w.Line("int chunkFirst = chunk * chunkSize;");
        w.Line($"int chunkLast = global::System.Math.Min(chunkFirst + chunkSize, {extent});");
        bool folded = FoldsOncePerCall(ctx);
        if (folded)
        {
            w.Line($"ref {ctx.T} meanHiRef = ref {Simd}.Ref(state.FoldedMeanHi);");
            w.Line($"ref {ctx.T} scaleRef = ref {Simd}.Ref(state.FoldedScale);");
            w.Line($"ref {ctx.T} shiftRef = ref {Simd}.Ref(state.FoldedShift);");
        }
        w.Line("// y from the given statistics in memory order: y is elementwise once the statistics are known. Where the runner says");
        w.Line($"// so (a call taking the chunks last to first, a thread's share a little larger than its L2) the {(byRuns ? "runs" : batch.Letters + " indices")} go last to");
        w.Line("// first too, so that the call starts on the data the previous one ended on, still in this core's cache.");
        w.Line("bool descending = state.Runner.Descending;");
        string index = byRuns ? "run" : n;
        using (w.Block("for (int k = chunkFirst; k < chunkLast; k++)"))
        {
            w.Line($"int {index} = descending ? chunkFirst + chunkLast - 1 - k : k;");
            if (byRuns)
            {
                string inner = ctx.LoopVariable(outer[1]);
                w.Line($"int {n} = run / {Int(outer[1].Size)};");
                w.Line($"int {inner} = run - {n} * {Int(outer[1].Size)};");
            }
            SegmentLoops.Emit(w, ctx, byRuns ? [] : outer.Skip(1).ToList(), body: () =>
            {
                w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
                w.Line($"int start = {ctx.Offset(outer.Select(s => (s, s.Stride)))};");
                if (folded)
                {
                    EmitFoldedRun(w, ctx);
                    return;
                }
                if (ctx.HasGamma)
                {
                    w.Line($"int param = {SegmentLoops.ParameterOffset(ctx)};");
                }
                w.Line("double mean = meanIn[stat];");
                w.Line("double invStd = invStdIn[stat];");
                EmitNormalizeGroup(w, ctx, splitMean: true, oneRun: true);
            });
        }
    }

    /// <summary>One run of the memory-order pass with its statistic's folded hi, scale and shift: y = (x − hi)·scale + shift, fused.</summary>
    private static void EmitFoldedRun(CodeWriter w, KernelContext ctx)
    {
        string fma = ctx.IsFloat ? "global::System.MathF.FusedMultiplyAdd" : "global::System.Math.FusedMultiplyAdd";
        w.Line($"{ctx.T} meanHi = {Simd}.At(ref meanHiRef, stat);");
        w.Line($"{ctx.T} scale = {Simd}.At(ref scaleRef, stat);");
        w.Line($"{ctx.T} shift = {Simd}.At(ref shiftRef, stat);");
        w.Line($"var meanHiV = {Simd}.Splat(meanHi); var scaleV = {Simd}.Splat(scale); var shiftV = {Simd}.Splat(shift);");
        w.Line("// y = (x − hi)·scale + shift: (x − mean)·invStd·γ + β with the mean's low part in the shift (the tail fused alike).");
        VectorLoop.EmitStores(w, ctx, ConstantRunLength(ctx), RunLength(ctx), "yRef",
            (s, index) => $"{Simd}.MultiplyAdd({Simd}.{s.Load}(ref xRef, start + {index}) - {s.Of("meanHi")}, {s.Of("scale")}, {s.Of("shift")})",
            scalar: _ => Lines($"NormGenSimd.At(ref yRef, start + i) = {fma}(NormGenSimd.At(ref xRef, start + i) - meanHi, scale, shift);"),
            minPartialRunLines: MemoryOrderMinPartialRunLines, splats: ["meanHi", "scale", "shift"]);
    }

    /// <summary>Body of the chunk kernel behind <c>BackwardKernel</c>: dx, and this chunk's parameter sums.</summary>
    /// <param name="columnPass">dx alone: the parameter gradients are summed by the column pass (<see cref="EmitParameterColumns"/>).</param>
    public static void EmitBackward(CodeWriter w, KernelContext ctx, bool columnPass)
    {
        bool direct = !columnPass && AddsParameterBlockDirectly(ctx);
        EmitReferences(w, ctx, backward: true, partials: !columnPass, clearPartials: !direct);
        EmitInvCount(w, ctx);
        SegmentLoops.EmitChunkRange(w, ctx);
        if (direct)
        {
            w.Line($"// A call of fewer than {ParameterBlockGroups} groups (a few rows) is one chunk, whose rows add dγ{(ctx.HasBeta ? " and dβ" : "")} straight into");
            w.Line($"// GammaGrad{(ctx.HasBeta ? " and BetaGrad" : "")}, without a block, partial rows or their merge.");
            w.Line($"bool direct = {DirectCondition(ctx, $"chunkLast - chunkFirst == {ctx.ChunkExtent}")};");
            using (w.Block("if (!direct)"))
            {
                PartialSums.EmitClearParameterRows(w, ctx);
            }
        }
        if (BatchesShortGroupsBackward(ctx) && !columnPass)
        {
            w.Line(GroupComment(ctx, "the two gradient sums, then dx"));
            EmitShortGroupsBackward(w, ctx);
            return;
        }
        bool blockedParameters = SegmentLoops.AffineAlongRun(ctx) && ctx.HasGamma && !columnPass;
        if (blockedParameters)
        {
            // No clearing here: every flush (after each block, and at the chunk's end) leaves the block rows zero, and a
            // new array starts zero, so each chunk finds its rows zero.
            w.Line($"// dγ and dβ summed in the element type over blocks of {ParameterBlockGroups} groups, then added in double (each");
            w.Line("// flush leaves the block zero for the next block and the next call)" + (direct ? "; a direct call's rows add" : "."));
            if (direct)
            {
                w.Line("// them straight into the gradients instead.");
            }
            string gammaBlock = $"{Simd}.At(ref {Simd}.Ref(state.ParameterBlock), chunk * 2 * NormGenState.PartialStride)";
            string betaBlock = $"{Simd}.At(ref {Simd}.Ref(state.ParameterBlock), ((chunk * 2) + 1) * NormGenState.PartialStride)";
            w.Line($"ref {ctx.T} gammaBlockRef = ref {(direct ? $"direct ? ref {Simd}.Ref(state.GammaGrad) : ref " : "")}{gammaBlock};");
            if (ctx.HasBeta)
            {
                w.Line($"ref {ctx.T} betaBlockRef = ref {(direct ? $"direct ? ref {Simd}.Ref(state.BetaGrad) : ref " : "")}{betaBlock};");
            }
            w.Line("int blockGroups = 0;");
        }
        if (!columnPass && GroupsSideBySide(ctx))
        {
            EmitSideBySideBackward(w, ctx);
            return;
        }
        w.Line(GroupComment(ctx, "the two gradient sums, then dx"));
        GroupPrefetch.EmitBackwardAhead(w, ctx);
        if (blockedParameters && PipelinesBackwardRows(ctx))
        {
            EmitPipelinedBackwardRows(w, ctx);
        }
        else if (!columnPass && PipelinesBackwardGroups(ctx))
        {
            EmitPipelinedBackwardGroups(w, ctx);
        }
        else
        {
            EmitBackwardGroups(w, ctx, columnPass, blockedParameters);
        }
        if (blockedParameters)
        {
            using (w.Block(direct ? "if (blockGroups != 0 && !direct)" : "if (blockGroups != 0)"))
            {
                EmitFlushParameterBlock(w, ctx);
            }
        }
    }

    /// <summary>
    /// Whether a call of one chunk of fewer than <see cref="ParameterBlockGroups"/> groups (LayerNorm and RMSNorm on a few
    /// rows) adds each row's dγ/dβ straight into GammaGrad/BetaGrad, in the element type, instead of into a zeroed block
    /// that partial rows in double then carry to the gradients: for so few rows the double sums buy no accuracy, and the
    /// block's zeroing and second pass cost as much as the row. Alternating builds, one thread, against the block added
    /// at the chunk's end (itself against partial rows: LayerNorm x[1,768] backward 0.5–0.6 → 0.2–0.3 µs): LayerNorm
    /// x[1,768] 0.90–1.02× → 1.44–1.48× TensorPrimitives, x[4,768] 1.44–1.47× → 1.65×, RMSNorm x[1,4096] 0.92–0.93× →
    /// 1.19–1.21× (1.2 → 0.9 µs), x[4,4096] 1.09–1.11× → 1.16–1.24×.
    /// </summary>
    /// <remarks>
    /// Rows of whole vectors only: a row's last values after its whole vectors add to the partial rows directly. Layers
    /// that sum their parameters by columns (<see cref="SumsParametersByColumns"/>) take that pass for few rows instead.
    /// </remarks>
    internal static bool AddsParameterBlockDirectly(KernelContext ctx) =>
        SegmentLoops.AffineAlongRun(ctx) && ctx.HasGamma && !SumsParametersByColumns(ctx) && ctx.ChunkSegment is not null
        && ConstantRunLength(ctx) is int run && run % ctx.Width == 0;

    /// <summary>The condition for <see cref="AddsParameterBlockDirectly"/>, given <paramref name="wholeCall"/>: the one chunk is the whole call.</summary>
    private static string DirectCondition(KernelContext ctx, string wholeCall) =>
        $"{wholeCall} && {ctx.ChunkExtent} < {ParameterBlockGroups}";

    /// <summary>The backward's groups one after another: each group's two gradient sums, then its dx.</summary>
    private static void EmitBackwardGroups(CodeWriter w, KernelContext ctx, bool columnPass, bool blockedParameters)
    {
        ForEachGroup(w, ctx, prefetch: true, backward: true, afterGroup: blockedParameters ? () =>
        {
            using (w.Block($"if (++blockGroups == {ParameterBlockGroups})"))
            {
                EmitFlushParameterBlock(w, ctx);
                w.Line("blockGroups = 0;");
            }
        } : null, body: () =>
        {
            // RMSNorm has no mean (x̂ = x·invStd).
            if (!ctx.Spec.IsRms)
            {
                w.Line("double mean = state.SavedMean[stat];");
            }
            w.Line("double invStd = state.SavedInvStd[stat];");
            if (!ctx.Spec.IsRms)
            {
                EmitMeanSplit(w, ctx);
            }
            w.Line($"var invStdV = {Simd}.Splat(({ctx.T})invStd);");
            w.Line();
            string sums = ctx.Spec.IsRms ? "Σg·x̂ over the group, g = γ·dy and x̂ = x·invStd" : "Σg and Σg·x̂ over the group, g = γ·dy and x̂ = (x − mean)·invStd";
            string? gradients = !ctx.HasGamma || columnPass ? null : ctx.HasBeta ? "GammaGrad and BetaGrad" : "GammaGrad";
            w.Line(gradients is null ? $"// {sums}." : $"// {sums}; with them the sums for {gradients}.");
            System.Func<int, string, IEnumerable<string>> prefetches = (lane, index) => GroupPrefetch.NextInBackward(ctx, lane, index, "xRef", "dyRef");
            if (SegmentLoops.AffineAlongRun(ctx) && ctx.HasGamma)
            {
                // The 512-bit twin of the sums loop, unless the loop is the 256-bit branch beside rows in registers (which
                // runs where the processor has no AVX-512, so a twin there would be dead code).
                void SumsAlongRun(bool wide)
                {
                    DeclareBlockedSums(w, ctx, GradientSumsAlongRunNames(ctx));
                    ForEachRun(w, ctx, () =>
                        VectorLoop.Emit(w, ctx, ConstantRunLength(ctx), RunLength(ctx),
                            (lane, index) => prefetches(lane, index).Concat(GradientSumsAlongRun(ctx, lane, index, columnPass)),
                            _ => GradientSumsAlongRunScalar(ctx, columnPass),
                            FlushBlockedSums(w, GradientSumsAlongRunNames(ctx)),
                            wide && WholeLineRows(ctx) ? WideGradientSumsAlongRun(ctx, columnPass, prefetches) : null));
                }
                if (RowInRegistersVectors(ctx) is int vectors)
                {
                    using (w.Block("if (global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)"))
                    {
                        EmitRowInRegistersBackward(w, ctx, vectors, columnPass);
                    }
                    using (w.Block("else"))
                    {
                        SumsAlongRun(wide: false);
                        EmitGroupDx(w, ctx, wide: false);
                    }
                    return;
                }
                SumsAlongRun(wide: true);
            }
            else if (!OuterReduced(ctx).Any(s => s.Affine) && RunsPerBlock(ctx) is int runs)
            {
                // γ is the same for every run of the group (BatchNorm): Σdy and Σdy·x̂ over the whole group, then γ once.
                DeclareBlockedSums(w, ctx, "groupDy", "groupDyXhat");
                EmitSumsAcrossRuns(w, ctx, runs, ["groupDy", "groupDyXhat"],
                    (lane, index) => prefetches(lane, index).Concat(GroupGradientSums(ctx, lane, index)),
                    GroupGradientSumsScalar(ctx), GroupGradientTerms(ctx), WideGradientSums(ctx, "groupDy", prefetches));
                EmitGroupGradientTerms(w, ctx);
            }
            else
            {
                w.Line("double sumG = 0.0;");
                w.Line("double sumGXhat = 0.0;");
                ForEachRun(w, ctx, () => EmitRunGradientSums(w, ctx,
                    (lane, index) => prefetches(lane, index).Concat(RunGradientSums(ctx, lane, index)),
                    wide: WideGradientSums(ctx, "runDy", prefetches)));
            }
            EmitGroupDx(w, ctx);
        });
    }

    /// <summary>One vector of a group's Σdy and Σdy·x̂ where γ is the group's (BatchNorm): into <c>groupDyBlock</c>/<c>groupDyXhatBlock</c>.</summary>
    private static IEnumerable<string> GroupGradientSums(KernelContext ctx, int lane, string index) => GradientSums(ctx, VectorShape.Narrow(ctx), "groupDy", lane, index);

    /// <summary>The scalar tail of <see cref="GroupGradientSums"/>, into the double <c>groupDy</c> and <c>groupDyXhat</c>.</summary>
    private static string[] GroupGradientSumsScalar(KernelContext ctx) => GroupGradientTerms(ctx).Lines("i", "Value");

    /// <summary>The terms of one value of Σdy and Σdy·x̂ (dy, dy·x̂), for the scalar tail and for a run's last values summed as a tree.</summary>
    private static ScalarTerms GroupGradientTerms(KernelContext ctx) => new(
        (index, suffix) => [$"double dy{suffix} = NormGenSimd.At(ref dyRef, start + {index});", XhatScalar(ctx, index, $"xhat{suffix}")],
        [("groupDy", suffix => $"dy{suffix}"), ("groupDyXhat", suffix => $"dy{suffix} * xhat{suffix}")]);

    /// <summary>
    /// From a group's <c>groupDy</c> and <c>groupDyXhat</c> (Σdy and Σdy·x̂) where γ is the group's: <c>gamma</c>, Σg and
    /// Σg·x̂ (<c>sumG</c>, <c>sumGXhat</c>), and the group's terms of this chunk's GammaGrad/BetaGrad sums.
    /// </summary>
    private static void EmitGroupGradientTerms(CodeWriter w, KernelContext ctx)
    {
        string paramIndex = SegmentLoops.ParameterOffset(ctx);
        w.Line(ctx.HasGamma ? $"double gamma = NormGenSimd.At(ref gammaRef, {paramIndex});" : "const double gamma = 1.0;");
        w.Line("double sumG = gamma * groupDy;");
        w.Line("double sumGXhat = gamma * groupDyXhat;");
        if (ctx.HasGamma)
        {
            w.Line($"NormGenSimd.At(ref gammaSumRef, {paramIndex}) += groupDyXhat;");
        }
        if (ctx.HasBeta)
        {
            w.Line($"NormGenSimd.At(ref betaSumRef, {paramIndex}) += groupDy;");
        }
    }

    /// <summary>One vector of a run's Σdy and Σdy·x̂ where γ is constant along the run (BatchNorm, GroupNorm, InstanceNorm).</summary>
    private static IEnumerable<string> RunGradientSums(KernelContext ctx, int lane, string index) => GradientSums(ctx, VectorShape.Narrow(ctx), "runDy", lane, index);

    /// <summary>
    /// One vector of Σdy and Σdy·x̂ where γ is constant along the run, in the given shape: into the partial sums of
    /// <paramref name="name"/> (Σdy) and <paramref name="name"/>Xhat (Σdy·x̂).
    /// </summary>
    private static IEnumerable<string> GradientSums(KernelContext ctx, VectorShape shape, string name, int lane, string index) => [
        $"var dy{lane} = {Simd}.{shape.Load}(ref dyRef, start + {index});",
        $"{shape.Sum(name, lane)} += dy{lane};",
        $"{shape.Sum(name + "Xhat", lane)} = {Simd}.MultiplyAdd(dy{lane}, {CenteredX(ctx, shape, index)} * {shape.Of("invStd")}, {shape.Sum(name + "Xhat", lane)});"];

    /// <summary>
    /// The 512-bit twin of <see cref="GradientSums"/> into <paramref name="name"/>'s partial sums, each vector between
    /// <paramref name="before"/>'s statements for it (prefetches, given the pair of 256-bit lanes it covers) and
    /// <paramref name="after"/>'s (the pipeline's stores beside the sums).
    /// </summary>
    private static WideSums WideGradientSums(KernelContext ctx, string name, System.Func<int, string, IEnumerable<string>>? before = null, System.Func<int, string, IEnumerable<string>>? after = null) =>
        new([name, name + "Xhat"], [.. MeanSplats(ctx), "invStd"], (pair, index) => [
            .. before?.Invoke(pair, index) ?? [], .. GradientSums(ctx, VectorShape.Wide(ctx), name, pair, index), .. after?.Invoke(pair, index) ?? []]);

    /// <summary>The scalar twin of <see cref="RunGradientSums"/> at <c>i</c>.</summary>
    private static string[] RunGradientSumsScalar(KernelContext ctx) => [
        "double dyValue = NormGenSimd.At(ref dyRef, start + i);",
        XhatScalar(ctx),
        "runDy += dyValue;",
        "runDyXhat += dyValue * xhatValue;"];

    /// <summary>
    /// One run's Σdy and Σdy·x̂ (<c>runDy</c>, <c>runDyXhat</c>) in a loop whose vector lines are <paramref name="vector"/>
    /// (<see cref="RunGradientSums"/> and what goes beside them), then their terms of the group's sums and of dγ and dβ;
    /// <paramref name="afterLoop"/> emits what follows the loop before those terms.
    /// </summary>
    private static void EmitRunGradientSums(CodeWriter w, KernelContext ctx, System.Func<int, string, IEnumerable<string>> vector, System.Action? afterLoop = null, WideSums? wide = null)
    {
        EmitRunGradientSumsLoop(w, ctx, vector, wide);
        afterLoop?.Invoke();
        EmitAddRunGradientSums(w, ctx);
    }

    /// <summary>
    /// The loop of <see cref="EmitRunGradientSums"/> alone: one run's <c>runDy</c> and <c>runDyXhat</c>. The sample-split
    /// backward sums its runs with it too, so that its sums are those of group by group, bit for bit.
    /// </summary>
    private static void EmitRunGradientSumsLoop(CodeWriter w, KernelContext ctx, System.Func<int, string, IEnumerable<string>> vector, WideSums? wide)
    {
        DeclareBlockedSums(w, ctx, "runDy", "runDyXhat");
        VectorLoop.Emit(w, ctx, ConstantRunLength(ctx), RunLength(ctx), vector, _ => RunGradientSumsScalar(ctx), FlushBlockedSums(w, "runDy", "runDyXhat"), wide);
    }

    /// <summary>
    /// After a run's sums: Σg and Σg·x̂ of the group (g = γ·dy, γ the run's; added to, or with <paramref name="declare"/>
    /// declared as, <c>sumG</c> and <c>sumGXhat</c>), and the run's terms of dγ and dβ.
    /// </summary>
    private static void EmitAddRunGradientSums(CodeWriter w, KernelContext ctx, bool declare = false)
    {
        w.Line(ctx.HasGamma ? "double gamma = NormGenSimd.At(ref gammaRef, param);" : "const double gamma = 1.0;");
        w.Line(declare ? "double sumG = gamma * runDy;" : "sumG += gamma * runDy;");
        w.Line(declare ? "double sumGXhat = gamma * runDyXhat;" : "sumGXhat += gamma * runDyXhat;");
        if (ctx.HasGamma)
        {
            w.Line("NormGenSimd.At(ref gammaSumRef, param) += runDyXhat;");
        }
        if (ctx.HasBeta)
        {
            w.Line("NormGenSimd.At(ref betaSumRef, param) += runDy;");
        }
    }

    /// <summary>
    /// One vector of the backward's sums where γ varies along the run (LayerNorm, RMSNorm): Σg and Σg·x̂ (g = γ·dy; Σg·x̂
    /// alone for RMSNorm), and, unless a column pass sums them, each column's dγ and dβ terms added into the chunk's
    /// block rows.
    /// </summary>
    private static IEnumerable<string> GradientSumsAlongRun(KernelContext ctx, int lane, string index, bool columnPass) =>
        GradientSumsAlongRun(ctx, VectorShape.Narrow(ctx), lane, index, columnPass);

    /// <summary><see cref="GradientSumsAlongRun(KernelContext, int, string, bool)"/> in the given vector shape.</summary>
    private static IEnumerable<string> GradientSumsAlongRun(KernelContext ctx, VectorShape shape, int lane, string index, bool columnPass) => [
        .. Lines(
            $"var dy{lane} = {Simd}.{shape.Load}(ref dyRef, start + {index});",
            $"var xhat{lane} = {CenteredX(ctx, shape, index)} * {shape.Of("invStd")};",
            $"var g{lane} = dy{lane} * {Simd}.{shape.Load}(ref gammaRef, param + {index});",
            ctx.Spec.IsRms ? null : $"{shape.Sum("sumG", lane)} += g{lane};",
            $"{shape.Sum("sumGXhat", lane)} = {Simd}.MultiplyAdd(g{lane}, xhat{lane}, {shape.Sum("sumGXhat", lane)});"),
        .. columnPass ? [] : ParameterBlockTerms(ctx, shape, $"dy{lane}", $"xhat{lane}", $"param + {index}")];

    /// <summary>
    /// One vector's dγ and dβ terms (dy·x̂ and dy), added in the given shape into the chunk's block rows at
    /// <paramref name="param"/>.
    /// </summary>
    private static IEnumerable<string> ParameterBlockTerms(KernelContext ctx, VectorShape shape, string dy, string xhat, string param) => Lines(
        $"{Simd}.Store({Simd}.MultiplyAdd({dy}, {xhat}, {Simd}.{shape.Load}(ref gammaBlockRef, {param})), ref gammaBlockRef, {param});",
        ctx.HasBeta ? $"{Simd}.Store({Simd}.{shape.Load}(ref betaBlockRef, {param}) + {dy}, ref betaBlockRef, {param});" : null);

    /// <summary>
    /// The 512-bit twin of <see cref="GradientSumsAlongRun(KernelContext, int, string, bool)"/>, each vector between
    /// <paramref name="before"/>'s statements for it (prefetches) and <paramref name="after"/>'s (the pipeline's stores
    /// beside the sums). Its dγ/dβ terms are elementwise and its sums pairs of the 256-bit ones, so the same bits. Taken
    /// where dx stays in the caches: on calls whose dx streams to memory (x read from memory too) it was slower than the
    /// 256-bit loop (alternating builds, one thread: LayerNorm x[1024,4096] backward 1.44 → 1.75 ms), where it made
    /// cache-resident ones faster (RMSNorm x[16,4096] 16.6 → 15.2 µs, x[256,4096] 313 → 295 µs).
    /// </summary>
    private static WideSums WideGradientSumsAlongRun(KernelContext ctx, bool columnPass, System.Func<int, string, IEnumerable<string>>? before = null, System.Func<int, string, IEnumerable<string>>? after = null) =>
        new(GradientSumsAlongRunNames(ctx), [.. MeanSplats(ctx), "invStd"], (pair, index) => [
            .. before?.Invoke(pair, index) ?? [], .. GradientSumsAlongRun(ctx, VectorShape.Wide(ctx), pair, index, columnPass), .. after?.Invoke(pair, index) ?? []])
        { Condition = "!streaming" };

    /// <summary>
    /// Whether each row (one run) is a whole number of cache lines, so every row starts at the same offset in a line as
    /// the first: the 512-bit twin of the sums along the row is taken only then. Rows of 1,000 floats start 32 bytes into
    /// a line every other row, where each 512-bit load would span two lines (LayerNorm x[64,1000] backward 1.05–1.1×
    /// slower with the twin, one thread).
    /// </summary>
    private static bool WholeLineRows(KernelContext ctx) => ConstantRunLength(ctx) is int run && run % ctx.LineElements == 0;

    /// <summary>The sums <see cref="GradientSumsAlongRun(KernelContext, int, string, bool)"/> adds to: Σg·x̂, and Σg unless RMSNorm.</summary>
    private static string[] GradientSumsAlongRunNames(KernelContext ctx) => ctx.Spec.IsRms ? ["sumGXhat"] : ["sumG", "sumGXhat"];

    /// <summary>
    /// The scalar x̂ of the backward's sums, declared as <paramref name="name"/> for the value at <paramref name="index"/>
    /// (<c>xhatValue</c> at <c>i</c>, a scalar loop's): (x − mean)·invStd, or x·invStd for RMSNorm (no mean).
    /// </summary>
    private static string XhatScalar(KernelContext ctx, string index = "i", string name = "xhatValue") => ctx.Spec.IsRms
        ? $"double {name} = NormGenSimd.At(ref xRef, start + {index}) * invStd;"
        : $"double {name} = (NormGenSimd.At(ref xRef, start + {index}) - mean) * invStd;";

    /// <summary>The scalar twin of <see cref="GradientSumsAlongRun"/> at <c>i</c>.</summary>
    private static IEnumerable<string> GradientSumsAlongRunScalar(KernelContext ctx, bool columnPass) => Lines(
        "double dyValue = NormGenSimd.At(ref dyRef, start + i);",
        XhatScalar(ctx),
        "double gValue = dyValue * NormGenSimd.At(ref gammaRef, param + i);",
        ctx.Spec.IsRms ? null : "sumG += gValue;",
        "sumGXhat += gValue * xhatValue;",
        columnPass ? null : "NormGenSimd.At(ref gammaSumRef, param + i) += dyValue * xhatValue;",
        ctx.HasBeta && !columnPass ? "NormGenSimd.At(ref betaSumRef, param + i) += dyValue;" : null);

    /// <summary>
    /// dx's two group constants as broadcast vectors, slope = invStd²·Σg·x̂/n and offset = invStd·Σg/n (none for RMSNorm),
    /// of the group whose names <paramref name="row"/> prefixes (<c>previousSlopeV</c> from <c>previousInvStd</c>, …): one
    /// formula for every pass that writes a group's dx, so each gives the same bits.
    /// </summary>
    private static void EmitSlopeAndOffset(CodeWriter w, KernelContext ctx, string row = "")
    {
        string invStd = Named(row, "invStd");
        w.Line($"var {Named(row, "slope")}V = {Simd}.Splat(({ctx.T})({invStd} * {invStd} * {Named(row, "sumGXhat")} * invCount));");
        if (!ctx.Spec.IsRms)
        {
            w.Line($"var {Named(row, "offset")}V = {Simd}.Splat(({ctx.T})({invStd} * {Named(row, "sumG")} * invCount));");
        }
    }

    /// <summary>
    /// dx at <paramref name="index"/> in the given shape where γ varies along the run: dy·γ·invStd − (x − mean)·slope −
    /// offset (RMSNorm: dy·γ·invStd − x·slope), of the run at <c>start</c>; with a <paramref name="row"/> prefix, of the
    /// run at <c>{row}Start</c> with that row's broadcast vectors (<c>previousInvStdV</c>, …).
    /// </summary>
    /// <param name="start">Where the index counts from in x and dy (default: the row's start).</param>
    /// <param name="gammaIndex">The index in γ past <c>param</c> (default: <paramref name="index"/>).</param>
    private static string DxAlongRun(KernelContext ctx, VectorShape s, string index, string row = "", string? start = null, string? gammaIndex = null)
    {
        start ??= Named(row, "start");
        string x = $"{Simd}.{s.Load}(ref xRef, {start} + {index})";
        string centered = ctx.Spec.IsRms ? x : Centered(ctx, s, x, Named(row, "mean"));
        string offset = ctx.Spec.IsRms ? "" : $" - {s.Of(Named(row, "offset"))}";
        return $"{Simd}.{s.Load}(ref dyRef, {start} + {index}) * {Simd}.{s.Load}(ref gammaRef, param + {gammaIndex ?? index}) * {s.Of(Named(row, "invStd"))} - {centered} * {s.Of(Named(row, "slope"))}{offset}";
    }

    /// <summary>
    /// dx at <paramref name="index"/> in the given shape where γ is constant along the run: dy·gain − (x − mean)·slope −
    /// offset with gain = γ·invStd (RMSNorm: dy·gain − x·slope), of the run at <paramref name="start"/>, with the
    /// broadcast vectors of <paramref name="row"/> (as <see cref="DxAlongRun"/>).
    /// </summary>
    private static string DxWithGain(KernelContext ctx, VectorShape s, string index, string row = "", string start = "start")
    {
        string x = $"{Simd}.{s.Load}(ref xRef, {start} + {index})";
        string centered = ctx.Spec.IsRms ? x : Centered(ctx, s, x, Named(row, "mean"));
        string offset = ctx.Spec.IsRms ? "" : $" - {s.Of(Named(row, "offset"))}";
        return $"{Simd}.{s.Load}(ref dyRef, {start} + {index}) * {s.Of(Named(row, "gain"))} - {centered} * {s.Of(Named(row, "slope"))}{offset}";
    }

    /// <summary><paramref name="name"/> for the row <paramref name="row"/> names (camel case: previous + start = previousStart).</summary>
    private static string Named(string row, string name) => row.Length == 0 ? name : row + char.ToUpperInvariant(name[0]) + name.Substring(1);

    /// <summary>Groups whose dγ/dβ terms a block sums in the element type before adding them in double.</summary>
    private const int ParameterBlockGroups = 8;

    /// <summary>
    /// Adds the block's dγ/dβ sums to the chunk's double partial sums and clears them: in 512-bit vectors where the sums
    /// write the block in them (<see cref="WritesParameterBlockWide"/>) and the processor has AVX-512, so that the next
    /// row's 512-bit loads do not each wait for two 256-bit stores of zeros to reach the cache (a load covering two
    /// stores cannot take its value from them; LayerNorm x[4096,64] backward 58 → 54 µs).
    /// </summary>
    private static void EmitFlushParameterBlock(CodeWriter w, KernelContext ctx)
    {
        var names = ctx.HasBeta ? new[] { ("gammaBlockRef", "gammaSumRef"), ("betaBlockRef", "betaSumRef") } : new[] { ("gammaBlockRef", "gammaSumRef") };
        string zero = ctx.IsFloat ? "0f" : "0.0";
        // The block's vectors at an index in the given shape: added (widened) to the double sums, then cleared.
        IEnumerable<string> flush(VectorShape shape, string index) => names.SelectMany(n => new[]
        {
            $"{Simd}.AddWidenedTo(ref {n.Item2}, {index}, {Simd}.{shape.Load}(ref {n.Item1}, {index}));",
            $"{Simd}.Store({Simd}.{shape.Splat}({zero}), ref {n.Item1}, {index});",
        });
        void narrow() => VectorLoop.Emit(w, ctx, ctx.Layout.ParameterSize, KernelContext.Int(ctx.Layout.ParameterSize),
            (lane, index) => flush(VectorShape.Narrow(ctx), index),
            _ => names.SelectMany(n => new[]
            {
                $"NormGenSimd.At(ref {n.Item2}, i) += NormGenSimd.At(ref {n.Item1}, i);",
                $"NormGenSimd.At(ref {n.Item1}, i) = {zero};",
            }));
        if (!WritesParameterBlockWide(ctx))
        {
            narrow();
            return;
        }
        var wide = VectorShape.Wide(ctx);
        using (w.Block("if (global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)"))
        {
            using (w.Block($"for (int i = 0; i < {Int(ctx.Layout.ParameterSize)}; i += {wide.Width})"))
            {
                foreach (string line in flush(wide, "i"))
                {
                    w.Line(line);
                }
            }
        }
        using (w.Block("else"))
        {
            narrow();
        }
    }

    /// <summary>
    /// Whether the backward's sums write the dγ/dβ block in 512-bit vectors where the processor has AVX-512 (rows in
    /// registers, or the 512-bit twin of the sums loop), in whole vectors of a parameter row.
    /// </summary>
    private static bool WritesParameterBlockWide(KernelContext ctx) =>
        ctx.Layout.ParameterSize % VectorShape.Wide(ctx).Width == 0
        && (RowInRegistersVectors(ctx) is not null || VectorLoop.GetsWideSums(ctx, ConstantRunLength(ctx)));

    /// <summary>
    /// A group's dx from <c>sumG</c> and <c>sumGXhat</c> (Σg and Σg·x̂) and its <c>mean</c> and <c>invStd</c> (with their
    /// splats), over its runs.
    /// </summary>
    /// <param name="wide">With the output loops' 512-bit twin (not in the 256-bit branch beside rows in registers).</param>
    private static void EmitGroupDx(CodeWriter w, KernelContext ctx, bool wide = true)
    {
        bool rms = ctx.Spec.IsRms;
        w.Line();
        w.Line(rms
            ? "// dx = invStd·(g − x̂·mean(g·x̂)), written as dy·γ·invStd − x·slope."
            : "// dx = invStd·(g − mean(g) − x̂·mean(g·x̂)), written as dy·γ·invStd − (x − mean)·slope − offset.");
        EmitSlopeAndOffset(w, ctx);
        // The broadcast vectors both dx expressions use; the first adds invStd, the second gain.
        string[] dxSplats = rms ? ["slope"] : [.. MeanSplats(ctx), "slope", "offset"];
        string offsetScalar = rms ? "" : " - invStd * sumG * invCount";
        // RMSNorm has no mean (its saved one is 0).
        string centeredScalar = rms ? "NormGenSimd.At(ref xRef, start + i)" : "(NormGenSimd.At(ref xRef, start + i) - mean)";
        if (OuterReduced(ctx).Count > 0)
        {
            w.Line("// The runs last to first: the sums pass has just read them first to last, so the first runs read here are the");
            w.Line("// ones still in the cache (the last read).");
        }
        ForEachRun(w, ctx, descending: true, body: () =>
        {
            if (SegmentLoops.AffineAlongRun(ctx) && ctx.HasGamma)
            {
                VectorLoop.EmitStores(w, ctx, ConstantRunLength(ctx), RunLength(ctx), "dxRef",
                    (s, index) => DxAlongRun(ctx, s, index),
                    splats: wide ? [.. dxSplats, "invStd"] : null,
                    scalar: _ => Lines($"NormGenSimd.At(ref dxRef, start + i) = ({ctx.T})(NormGenSimd.At(ref dyRef, start + i) * NormGenSimd.At(ref gammaRef, param + i) * invStd - {centeredScalar} * invStd * invStd * sumGXhat * invCount{offsetScalar});"));
            }
            else
            {
                w.Line(ctx.HasGamma ? "double gain = invStd * NormGenSimd.At(ref gammaRef, param);" : "double gain = invStd;");
                w.Line($"var gainV = {Simd}.Splat(({ctx.T})gain);");
                VectorLoop.EmitStores(w, ctx, ConstantRunLength(ctx), RunLength(ctx), "dxRef",
                    (s, index) => DxWithGain(ctx, s, index),
                    splats: wide ? [.. dxSplats, "gain"] : null,
                    scalar: _ => Lines($"NormGenSimd.At(ref dxRef, start + i) = ({ctx.T})(NormGenSimd.At(ref dyRef, start + i) * gain - {centeredScalar} * invStd * invStd * sumGXhat * invCount{offsetScalar});"));
            }
        });
    }

    /// <summary>y = (x − mean)·invStd·γ + β over one group, with invStd·γ folded into one scale where γ is constant along a run.</summary>
    /// <param name="oneRun">The caller loops over the runs and has set <c>start</c> and <c>param</c>: emit one run's code.</param>
    /// <param name="groupByGroupEdges">With <paramref name="oneRun"/>: the run's partial lines as group by group writes them (the same bits), not as the memory-order pass does.</param>
    private static void EmitNormalizeGroup(CodeWriter w, KernelContext ctx, bool splitMean, bool prefetch = false, bool oneRun = false, bool groupByGroupEdges = false)
    {
        void Runs(System.Action body, bool withParam = true)
        {
            if (oneRun)
            {
                body();
            }
            else
            {
                ForEachRun(w, ctx, body, withParam);
            }
        }
        IEnumerable<string> next(int lane, string index) => prefetch ? GroupPrefetch.Next(ctx, false, lane, index, "xRef") : [];
        int minPartialRunLines = oneRun && !groupByGroupEdges ? MemoryOrderMinPartialRunLines : VectorLoop.MinPartialRunLines;
        bool rms = ctx.Spec.IsRms;
        bool affineAlongRun = SegmentLoops.AffineAlongRun(ctx) && ctx.HasGamma;
        if (splitMean && !rms)
        {
            // The low part is needed only where γ varies along the run; elsewhere it is folded into the shift.
            EmitMeanSplit(w, ctx, withLow: affineAlongRun);
        }
        w.Line(rms
            ? (ctx.HasGamma ? "// y = x·invStd·γ" : "// y = x·invStd")
            : ctx.HasBeta ? "// y = (x − mean)·invStd·γ + β" : ctx.HasGamma ? "// y = (x − mean)·invStd·γ" : "// y = (x − mean)·invStd");
        string centeredScalar = rms ? "NormGenSimd.At(ref xRef, start + i)" : "(NormGenSimd.At(ref xRef, start + i) - mean)";
        if (affineAlongRun)
        {
            w.Line($"var invStdV = {Simd}.Splat(({ctx.T})invStd);");
            string affine(VectorShape s, string index) => ctx.HasBeta
                ? $"{Simd}.MultiplyAdd({CenteredX(ctx, s, index)} * {s.Of("invStd")}, {Simd}.{s.Load}(ref gammaRef, param + {index}), {Simd}.{s.Load}(ref betaRef, param + {index}))"
                : $"{CenteredX(ctx, s, index)} * {s.Of("invStd")} * {Simd}.{s.Load}(ref gammaRef, param + {index})";
            string betaScalar = ctx.HasBeta ? " + NormGenSimd.At(ref betaRef, param + i)" : "";
            Runs(() => VectorLoop.EmitStores(w, ctx, ConstantRunLength(ctx), RunLength(ctx), "yRef", affine,
                before: index => next(0, index),
                scalar: _ => Lines($"NormGenSimd.At(ref yRef, start + i) = ({ctx.T})({centeredScalar} * invStd * NormGenSimd.At(ref gammaRef, param + i){betaScalar});"),
                minPartialRunLines: minPartialRunLines, splats: [.. MeanSplats(ctx), "invStd"]));
            return;
        }
        var runSplats = FoldedRunSplats(ctx);

        // γ and β are constant along each run. Where no reduced dim indexes them (BatchNorm, InstanceNorm) they are
        // constant over the whole group, so scale and shift are computed once per group rather than once per run.
        bool perGroup = !OuterReduced(ctx).Any(s => s.Affine);
        // (A group that is a single run already has its index in `param`.)
        string paramIndex = perGroup && OuterReduced(ctx).Count > 0 && !oneRun ? SegmentLoops.ParameterOffset(ctx) : "param";
        string beta = ctx.HasBeta ? "beta" : "0.0";
        void EmitScaleAndShift()
        {
            w.Line($"double scale = {FoldedScale(ctx, paramIndex)};");
            w.Line($"var scaleV = {Simd}.Splat(({ctx.T})scale);");
            if (ctx.HasBeta)
            {
                w.Line($"double beta = NormGenSimd.At(ref betaRef, {paramIndex});");
            }
            if (HasFoldedShift(ctx))
            {
                w.Line($"double shift = {FoldedShift(ctx, beta)};");
                w.Line($"var shiftV = {Simd}.Splat(({ctx.T})shift);");
            }
        }
        void EmitRun()
        {
            string betaScalar = ctx.HasBeta ? " + beta" : "";
            VectorLoop.EmitStores(w, ctx, ConstantRunLength(ctx), RunLength(ctx), "yRef",
                (s, index) => FoldedRunValue(ctx, s, index),
                before: index => next(0, index), splats: runSplats,
                scalar: _ => Lines($"NormGenSimd.At(ref yRef, start + i) = ({ctx.T})({centeredScalar} * scale{betaScalar});"),
                minPartialRunLines: minPartialRunLines);
        }
        if (perGroup)
        {
            EmitScaleAndShift();
            Runs(EmitRun, withParam: false);
        }
        else
        {
            Runs(() =>
            {
                EmitScaleAndShift();
                EmitRun();
            });
        }
    }

    /// <summary>
    /// Whether a run's y where γ is constant along it, y = (x − hi)·scale + shift, has a shift: β, or for float data the
    /// mean's low part folded into one (((x − hi) − lo)·scale + β = (x − hi)·scale + (β − lo·scale)).
    /// </summary>
    private static bool HasFoldedShift(KernelContext ctx) => ctx.HasBeta || (ctx.IsFloat && !ctx.Spec.IsRms);

    /// <summary>
    /// The broadcast vectors of <see cref="FoldedRunValue"/>: the mean's high part (or the mean; none for RMSNorm), scale,
    /// shift, named for <paramref name="prefix"/> (<see cref="Prefixed"/>).
    /// </summary>
    private static string[] FoldedRunSplats(KernelContext ctx, string prefix = "") =>
        [.. ctx.Spec.IsRms ? [] : new[] { Prefixed(prefix, ctx.IsFloat ? "meanHi" : "mean") }, Prefixed(prefix, "scale"), .. HasFoldedShift(ctx) ? new[] { Prefixed(prefix, "shift") } : []];

    /// <summary>
    /// One vector of a run's y where γ is constant along it: (x − hi)·scale + shift, fused (x·scale for RMSNorm without β),
    /// x counted from <paramref name="start"/>; the broadcast vectors named for <paramref name="prefix"/> (the previous
    /// group's in the forward pipeline, which must compute the very same expression).
    /// </summary>
    private static string FoldedRunValue(KernelContext ctx, VectorShape s, string index, string prefix = "", string start = "start")
    {
        string x = $"{Simd}.{s.Load}(ref xRef, {start} + {index})";
        string centered = ctx.Spec.IsRms ? x : $"({x} - {s.Of(Prefixed(prefix, ctx.IsFloat ? "meanHi" : "mean"))})";
        string scale = s.Of(Prefixed(prefix, "scale"));
        return HasFoldedShift(ctx) ? $"{Simd}.MultiplyAdd({centered}, {scale}, {s.Of(Prefixed(prefix, "shift"))})" : $"{centered} * {scale}";
    }

    /// <summary>The double scale of <see cref="FoldedRunValue"/>: invStd·γ, γ at <paramref name="paramIndex"/>.</summary>
    private static string FoldedScale(KernelContext ctx, string paramIndex, string prefix = "") =>
        ctx.HasGamma ? $"{Prefixed(prefix, "invStd")} * NormGenSimd.At(ref gammaRef, {paramIndex})" : Prefixed(prefix, "invStd");

    /// <summary>The double shift of <see cref="FoldedRunValue"/> from the double β (<paramref name="beta"/>), <c>scale</c>, <c>mean</c> and <c>meanHi</c>.</summary>
    private static string FoldedShift(KernelContext ctx, string beta, string prefix = "") =>
        ctx.IsFloat && !ctx.Spec.IsRms ? $"{beta} - ({Prefixed(prefix, "mean")} - {Prefixed(prefix, "meanHi")}) * {Prefixed(prefix, "scale")}" : beta;

    /// <summary>A local's name for <paramref name="prefix"/>: the name itself without one, else camel-cased after it (previous + meanHi → previousMeanHi).</summary>
    private static string Prefixed(string prefix, string name) =>
        prefix.Length == 0 ? name : prefix + char.ToUpperInvariant(name[0]) + name.Substring(1);

    /// <summary>
    /// Float data: the double mean as hi + lo floats, so <c>(x − hi) − lo</c> is x − mean to float accuracy even when
    /// the mean is large (x − hi is exact for x near the mean). Double data: the mean itself.
    /// </summary>
    private static void EmitMeanSplit(CodeWriter w, KernelContext ctx, string source = "mean", string prefix = "mean", bool withLow = true)
    {
        if (ctx.IsFloat)
        {
            w.Line($"float {prefix}Hi = (float){source};");
            w.Line($"var {prefix}HiV = NormGenSimd.Splat({prefix}Hi);");
            if (withLow)
            {
                w.Line($"var {prefix}LoV = NormGenSimd.Splat((float)({source} - {prefix}Hi));");
            }
        }
        else
        {
            w.Line($"var {prefix}V = NormGenSimd.Splat({source});");
        }
    }

    /// <summary>The vector expression x − mean.</summary>
    public static string Centered(KernelContext ctx, string value, string prefix = "mean") =>
        Centered(ctx, VectorShape.Narrow(ctx), value, prefix);

    /// <summary>The vector expression x − mean in the given vector shape.</summary>
    public static string Centered(KernelContext ctx, VectorShape shape, string value, string prefix = "mean") =>
        ctx.IsFloat ? $"({value} - {shape.Of(prefix + "Hi")} - {shape.Of(prefix + "Lo")})" : $"({value} - {shape.Of(prefix)})";

    /// <summary>x − mean at <c>start + index</c>, loaded in the given shape; x alone for RMSNorm, which has no mean.</summary>
    private static string CenteredX(KernelContext ctx, VectorShape shape, string index)
    {
        string x = $"{Simd}.{shape.Load}(ref xRef, start + {index})";
        return ctx.Spec.IsRms ? x : Centered(ctx, shape, x);
    }

    /// <summary>
    /// The broadcast vectors of the mean <see cref="CenteredX"/> uses (none for RMSNorm), named as <see cref="EmitMeanSplit"/>
    /// names them for <paramref name="prefix"/>.
    /// </summary>
    private static string[] MeanSplats(KernelContext ctx, string prefix = "mean") =>
        ctx.Spec.IsRms ? [] : ctx.IsFloat ? [prefix + "Hi", prefix + "Lo"] : [prefix];

    /// <summary>
    /// Sums over the group's runs kept in four vectors of the element type per name (<c>nameBlock0..3</c>), added to the
    /// double <c>name</c> after every block of values (float) or at the end of each run; scalar tails add to <c>name</c>
    /// directly, or, given <paramref name="tail"/> and across short runs, as a tree (<see cref="EmitSumsAcrossRuns"/>).
    /// </summary>
    private static void EmitBlockedSums(CodeWriter w, KernelContext ctx, string[] names, System.Func<int, string, IEnumerable<string>> vector, string[] scalar, bool declare = true, WideSums? wide = null, ScalarTerms? tail = null)
    {
        if (declare)
        {
            DeclareBlockedSums(w, ctx, names);
        }
        if (ContiguousGroupLength(ctx) is int groupLength)
        {
            using (w.Block($"// The group's runs lie one after another in memory: the sums go over them as one run of {groupLength} values."))
            {
                w.Line("int start = groupStart;");
                VectorLoop.Emit(w, ctx, groupLength, Int(groupLength), vector, _ => scalar, FlushBlockedSums(w, names), wide);
            }
            return;
        }
        if (RunsPerBlock(ctx) is int runs)
        {
            EmitSumsAcrossRuns(w, ctx, runs, names, vector, scalar, tail, wide);
            return;
        }
        ForEachRun(w, ctx, () => VectorLoop.Emit(w, ctx, ConstantRunLength(ctx), RunLength(ctx), vector, _ => scalar, FlushBlockedSums(w, names), wide), withParam: false);
    }

    /// <summary>
    /// The length of a group of several runs that lie one after another in memory (GroupNorm: the channels of a group,
    /// each a run because γ is per channel), or null. Sums that need no γ (the statistics pass) go over such a group as one
    /// run: a loop per run, with a float block ending at each run's end, cost as much again as the sums on 28×28 maps
    /// (GroupNorm(32) x[8,256,28,28], statistics pass alone at one thread: 87 µs in runs, 64 as one run, 54 with the
    /// 512-bit twin; a plain read of x 51).
    /// </summary>
    private static int? ContiguousGroupLength(KernelContext ctx) =>
        OuterReduced(ctx).Count > 0 && ConstantRunLength(ctx) is int
        && ctx.Layout.Segments.SkipWhile(s => !s.Reduced).All(s => s.Reduced && !s.Batch)
            ? ctx.Layout.Segments.Where(s => s.Reduced).Aggregate(1, (size, s) => size * s.Size)
            : null;

    /// <summary>
    /// Groups of many short runs (BatchNorm on 8×8 or 14×14 maps): adding the vector sums to the double totals after
    /// every run would cost as much as the run itself, so the sums run on across <paramref name="runs"/> runs — for
    /// float data at most <see cref="VectorLoop.FloatBlock"/> values a block, as within a run — or, for double data,
    /// across the whole group. The sums <paramref name="names"/> are declared before; <paramref name="tail"/>, where
    /// given, sums each run's last values (after its whole vectors) as a tree.
    /// </summary>
    private static void EmitSumsAcrossRuns(CodeWriter w, KernelContext ctx, int runs, string[] names, System.Func<int, string, IEnumerable<string>> vector, string[] scalar, ScalarTerms? tail, WideSums? wide)
    {
        int length = ConstantRunLength(ctx)!.Value;
        string counter = $"{names[0]}Runs";
        if (ctx.IsFloat)
        {
            w.Line($"// Runs of {length} values: the float sums span {runs} runs ({runs * length} values) before they are added in double.");
            w.Line($"int {counter} = 0;");
        }
        if (wide is not null && KeepsWideSumsAcrossRuns(ctx, length))
        {
            int wholeIterations = length - (length % (ctx.Width * Unroll));
            using (w.Block($"if ({VectorLoop.WideSumsCondition(wide)})"))
            {
                w.Line("// 512-bit vectors (AVX-512) kept across the runs, each holding two of the 256-bit loop's partial sums side by side:");
                w.Line("// every lane adds the same values in the same order as there, so the sums are the same.");
                VectorLoop.EmitWideSumsJoined(w, ctx, wide);
                ForEachRun(w, ctx, () =>
                {
                    VectorLoop.EmitWideLoop(w, ctx, 0, wholeIterations, wide);
                    VectorLoop.EmitTail(w, wholeIterations, length, _ => scalar, tail);
                    EmitFlushAfterRuns(FlushWideBlockedSums(w, ctx, wide.Sums));
                }, withParam: false);
                VectorLoop.EmitWideSumsSplit(w, ctx, wide);
            }
            using (w.Block("else"))
            {
                EmitRunByRun(wideTwin: null);
            }
        }
        else
        {
            EmitRunByRun(wide);
        }
        FlushBlockedSums(w, names)();

        void EmitRunByRun(WideSums? wideTwin) => ForEachRun(w, ctx, () =>
        {
            VectorLoop.Emit(w, ctx, length, RunLength(ctx), vector, _ => scalar, wide: wideTwin, tail: tail);
            EmitFlushAfterRuns(FlushBlockedSums(w, names));
        }, withParam: false);

        // Float sums go to the double totals every `runs` runs (double sums only at the group's end).
        void EmitFlushAfterRuns(System.Action flush)
        {
            if (ctx.IsFloat)
            {
                using (w.Block($"if (++{counter} == {runs})"))
                {
                    flush();
                    w.Line($"{counter} = 0;");
                }
            }
        }
    }

    /// <summary>
    /// Whether the sums across a group's runs keep their 512-bit twin's partial sums from run to run: runs whose vectors
    /// are all in whole unrolled iterations (a scalar tail may follow), as many as the twin needs (14×14 maps: 6
    /// iterations and 4 values). Joined from the 256-bit sums and split back at every run, the twin cost a few shuffles
    /// per sum per run; kept, once per group. With the tail summed as a tree (<see cref="VectorLoop.EmitTail"/>), against
    /// the run-by-run twin in one process on the Intel VM: BatchNorm2d x[8,256,14,14] backward 0.99–1.06× as fast at one
    /// thread (median of eight runs 1.01×), 1.01–1.09× at two (1.06×); x[2,256,14,14] 1.02–1.04× at one; training
    /// 1.00–1.02×. A profile with the data in the L2 had put a fifth of the backward in the runs' scalar tails.
    /// </summary>
    private static bool KeepsWideSumsAcrossRuns(KernelContext ctx, int length) =>
        VectorLoop.GetsWideSums(ctx, length) && length % (ctx.Width * Unroll) < ctx.Width;

    /// <summary>
    /// Runs a group's sums span before they are added in double: several where the group has several runs of a constant
    /// length of at most half a float block (any number for double data); null where each run flushes its own sums.
    /// </summary>
    private static int? RunsPerBlock(KernelContext ctx)
    {
        if (OuterReduced(ctx).Count == 0 || ConstantRunLength(ctx) is not int length)
        {
            return null;
        }
        if (!ctx.IsFloat)
        {
            return int.MaxValue;
        }
        return length * 2 <= VectorLoop.FloatBlock ? VectorLoop.FloatBlock / length : null;
    }

    /// <summary>For each name, a double total <c>name</c> and four vectors <c>nameBlock0..3</c> of partial sums.</summary>
    private static void DeclareBlockedSums(CodeWriter w, KernelContext ctx, params string[] names)
    {
        foreach (string name in names)
        {
            w.Line($"double {name} = 0.0;");
            DeclarePartialSums(w, ctx, name);
        }
    }

    /// <summary>The four partial-sum vectors of <see cref="DeclareBlockedSums"/> alone, for a loop whose flush keeps each block's sums.</summary>
    private static void DeclarePartialSums(CodeWriter w, KernelContext ctx, string name)
    {
        string zero = ctx.IsFloat ? "0f" : "0.0";
        w.Line($"var {name}Block0 = {Simd}.Splat({zero}); var {name}Block1 = {name}Block0; var {name}Block2 = {name}Block0; var {name}Block3 = {name}Block0;");
    }

    /// <summary><see cref="FlushBlockedSums"/> for the 512-bit twin's partial sums (<c>nameBlocks01</c>, <c>nameBlocks23</c>): the same additions.</summary>
    private static System.Action FlushWideBlockedSums(CodeWriter w, KernelContext ctx, IEnumerable<string> names) => () =>
    {
        var shape = VectorShape.Wide(ctx);
        foreach (string name in names)
        {
            w.Line($"{name} += {Simd}.SumWidened({shape.Sum(name, 0)}, {shape.Sum(name, 1)});");
            w.Line($"{shape.Sum(name, 0)} = {shape.Sum(name, 1)} = default;");
        }
    };

    /// <summary>Adds the partial-sum vectors to their double totals and clears them.</summary>
    /// <remarks>The vectors are cleared even after a run's last block: a group's next run adds to them again.</remarks>
    private static System.Action FlushBlockedSums(CodeWriter w, params string[] names) => () =>
    {
        foreach (string name in names)
        {
            w.Line($"{name} += {Simd}.SumWidened({name}Block0, {name}Block1, {name}Block2, {name}Block3);");
            w.Line($"{name}Block0 = {name}Block1 = {name}Block2 = {name}Block3 = default;");
        }
    };

    /// <summary>
    /// The flag the output stores take. The runner sets it for calls larger than the cache, but a non-temporal store to
    /// part of a line that ordinary stores also write flushes the write-combining buffers (BatchNorm on 14×14 maps,
    /// 784-byte runs: 1.1–2.4× slower streaming than not), so it may only stream where every line is written whole:
    /// <paramref name="lines"/> says whether the kernel's stores do that.
    /// </summary>
    internal static void EmitStreaming(CodeWriter w, string output, OutputLines lines)
    {
        switch (lines)
        {
            case OutputLines.EdgesApart:
                w.Line($"// Outputs larger than the cache bypass it (non-temporal stores, no read of each line first); the runner decides and pins {output}.");
                w.Line("bool streaming = state.Runner.StreamsOutput;");
                break;
            case OutputLines.WholeIfAligned:
                w.Line($"// Outputs larger than the cache bypass it (non-temporal stores, no read of each line first); the runner decides and pins {output}.");
                w.Line($"// The stores fill whole cache lines only where {output} starts on one.");
                w.Line($"bool streaming = state.Runner.StreamsOutput && {Simd}.IsLineAligned(ref {output}Ref);");
                break;
            default:
                w.Line("// Ordinary stores only: the runs do not fill whole cache lines, and a line written partly with non-temporal");
                w.Line("// stores and partly with ordinary ones flushes the write-combining buffers.");
                w.Line($"bool streaming = {Simd}.NotStreaming;");
                break;
        }
    }

    /// <summary>How a group-major kernel's output stores cover cache lines (see <see cref="EmitStreaming"/>).</summary>
    internal static OutputLines GroupOutputLines(KernelContext ctx, int minPartialRunLines = VectorLoop.MinPartialRunLines)
    {
        int line = ctx.LineElements;
        return ConstantRunLength(ctx) is not int run ? OutputLines.Partial
            : VectorLoop.WritesEdgesApart(ctx, run, minPartialRunLines) ? OutputLines.EdgesApart
            : run % line == 0 ? OutputLines.WholeIfAligned
            : OutputLines.Partial;
    }

    /// <summary>
    /// The memory-order pass (BatchNorm inference) keeps the plain loop for runs that end inside a line up to 8 lines:
    /// with a few vectors of work per run, the edges cost more than they save (x[64,128,7,7] 1.1–1.18× slower with them;
    /// x[8,256,14,14], 12 lines, 1.27× faster).
    /// </summary>
    internal const int MemoryOrderMinPartialRunLines = 8;

    /// <summary>References to the data, so the loops index without bounds checks (the lengths were checked once).</summary>
    private static void EmitReferences(CodeWriter w, KernelContext ctx, bool backward, bool parameters = true, int minPartialRunLines = VectorLoop.MinPartialRunLines, bool partials = true, bool clearPartials = true)
    {
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        if (backward)
        {
            w.Line($"ref {ctx.T} dyRef = ref {Simd}.Ref(dy);");
            w.Line($"ref {ctx.T} dxRef = ref {Simd}.Ref(dx);");
        }
        else
        {
            w.Line($"ref {ctx.T} yRef = ref {Simd}.Ref(y);");
        }
        EmitStreaming(w, backward ? "dx" : "y", GroupOutputLines(ctx, minPartialRunLines));
        if (ctx.HasGamma && parameters)
        {
            w.Line($"ref {ctx.T} gammaRef = ref {Simd}.Ref(state.Gamma);");
        }
        if (ctx.HasBeta && !backward && parameters)
        {
            w.Line($"ref {ctx.T} betaRef = ref {Simd}.Ref(state.Beta);");
        }
        if (backward && partials)
        {
            PartialSums.EmitParameterRows(w, ctx, clearPartials);
        }
    }

    public static void EmitInvCount(CodeWriter w, KernelContext ctx)
    {
        w.Line(ctx.Layout.GroupSizeScalesWithBatch
            ? $"double invCount = 1.0 / ({ctx.GroupSize});"
            : $"const double invCount = 1.0 / {ctx.GroupSize};");
    }

    /// <summary>The loops over the statistics groups, with <c>stat</c> (the group's index) and <c>groupStart</c>.</summary>
    /// <param name="ownStatistics">The forward that computes its own statistics (see <see cref="GroupPrefetch.Distance"/>).</param>
    /// <param name="backward">The backward's passes, whose first pass asks for the lines <c>ahead</c> values on (<see cref="GroupPrefetch.EmitBackwardAhead"/>).</param>
    private static void ForEachGroup(CodeWriter w, KernelContext ctx, System.Action body, bool prefetch = false, System.Action? afterGroup = null, bool ownStatistics = false, bool backward = false)
    {
        SegmentLoops.Emit(w, ctx, ctx.Kept, chunked: true, body: () =>
        {
            w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
            string groupStart = ctx.Offset(ctx.Kept.Select(s => (s, s.Stride)));
            bool singleRun = OuterReduced(ctx).Count == 0;
            w.Line(singleRun ? $"int start = {groupStart};" : $"int groupStart = {groupStart};");
            if (prefetch && GroupPrefetch.Distance(ctx, ownStatistics) is int distance)
            {
                w.Line(backward
                    ? RowInRegistersVectors(ctx) is null
                        ? "// The first pass over this group also asks for the lines `ahead` values on, two cache lines an iteration."
                        : "// The 256-bit sums pass below also asks for the lines `ahead` values on, two cache lines an iteration."
                    : $"// The first pass over this group also asks for the next group's {distance} values, two cache lines an iteration.");
            }
            else if (prefetch && ownStatistics && GroupPrefetch.NextRowDistance(ctx) is int nextRow)
            {
                w.Line($"// The statistics pass over this group also asks for the next group's {nextRow} values, into L2.");
            }
            if (singleRun && ctx.HasGamma)
            {
                // The group is one contiguous run: its Gamma/Beta index is the group's.
                w.Line($"int param = {SegmentLoops.ParameterOffset(ctx)};");
            }
            body();
            afterGroup?.Invoke();
        });
    }

    /// <summary>The loops over the contiguous runs of one group, with <c>start</c> (and <c>param</c>, the run's Gamma/Beta index).</summary>
    /// <param name="descending">The runs last to first (every loop counts down).</param>
    private static void ForEachRun(CodeWriter w, KernelContext ctx, System.Action body, bool withParam = true, bool descending = false)
    {
        var outerReduced = OuterReduced(ctx);
        if (outerReduced.Count == 0)
        {
            body();
            return;
        }
        SegmentLoops.Emit(w, ctx, outerReduced, descending: descending, body: () =>
        {
            w.Line($"int start = groupStart + {ctx.Offset(outerReduced.Select(s => (s, s.Stride)))};");
            if (ctx.HasGamma && withParam)
            {
                w.Line($"int param = {SegmentLoops.ParameterOffset(ctx)};");
            }
            body();
        });
    }

    /// <summary>The reduced segments outside the innermost one: a group is one run per combination of their indices.</summary>
    internal static List<Segment> OuterReduced(KernelContext ctx) =>
        ctx.Layout.Segments.Take(ctx.Layout.Segments.Count - 1).Where(s => s.Reduced).ToList();

    /// <summary>The length of a run, where it does not depend on the batch.</summary>
    internal static int? ConstantRunLength(KernelContext ctx) => ctx.Layout.Inner.Batch ? null : ctx.Layout.Inner.Size;

    /// <summary>Whether some output loop of the layer's kernels has a Vector512 twin (the run-by-run passes, or the memory-order one).</summary>
    internal static bool HasWideOutputLoop(KernelContext ctx) =>
        VectorLoop.GetsWideLoop(ctx, ConstantRunLength(ctx))
        || (ctx.Spec.HasRunningStats && InMemoryOrder(ctx) && VectorLoop.GetsWideLoop(ctx, ConstantRunLength(ctx), MemoryOrderMinPartialRunLines));

    /// <summary>
    /// Whether the group-by-group sums loops (the statistics pass, the backward's gradient sums) have a Vector512 twin:
    /// runs of a constant length of at least <see cref="VectorLoop.MinWideSumsIterations"/> unrolled iterations, or
    /// groups that long whose runs the statistics pass sums as one (<see cref="ContiguousGroupLength"/>).
    /// </summary>
    internal static bool HasWideSumsLoop(KernelContext ctx) =>
        VectorLoop.GetsWideSums(ctx, ConstantRunLength(ctx)) || VectorLoop.GetsWideSums(ctx, ContiguousGroupLength(ctx));

    /// <summary>Whether the sums over a group's short runs keep their 512-bit partial sums from run to run (<see cref="EmitSumsAcrossRuns"/>).</summary>
    internal static bool KeepsWideSumsAcrossRuns(KernelContext ctx) =>
        RunsPerBlock(ctx) is int && ConstantRunLength(ctx) is int length && KeepsWideSumsAcrossRuns(ctx, length);

    private static string RunLength(KernelContext ctx) => ctx.Extent(ctx.Layout.Inner);

    private static string GroupComment(KernelContext ctx, string passes)
    {
        Layout layout = ctx.Layout;
        string groups = ctx.Kept.Count == 0
            ? "One statistics group: every value"
            : $"One statistics group per ({string.Join(", ", ctx.Kept.Select(s => s.Letters))})";
        var reduced = layout.Segments.Where(s => s.Reduced).ToList();
        int runs = reduced.Count - 1;
        string shape = runs == 0
            ? $"{ctx.Extent(layout.Inner)} contiguous values"
            : $"{string.Join(" × ", reduced.Take(runs).Select(s => ctx.Extent(s)))} runs of {ctx.Extent(layout.Inner)} contiguous values";
        return $"// {groups}: {shape}. Each group is processed whole while it is in cache: {passes}.";
    }

    private static IEnumerable<string> Lines(params string?[] lines) => lines.Where(l => l is not null)!;
}
