using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// The sample-split path of channels-first BatchNorm with few channels (BatchNorm2d(3) on images, say). Group by group,
/// the threads share out the channels, so three channels split 2 : 1 over two threads and one channel runs on one; and
/// a channel larger than a core's cache is read from memory twice anyway (its sums, then its output). Where each group
/// is that large, training and backward split every channel across the samples instead: each chunk of samples sums
/// every channel's values into its own row of partial sums (one pass over its share, in memory order), the caller adds
/// the rows in chunk order (the same sums for any number of threads), and a second pass over the same chunks — the
/// same threads, so what fits is still in their caches — writes the output. That choice depends on the shape and the
/// batch only, never on the threads. A float layer whose runs group by group sums one by one
/// (<see cref="SampleSplitBackwardMatchesGroupByGroup"/>, <see cref="SampleSplitForwardMatchesGroupByGroup"/>) keeps
/// each run's sums (training: each block's) instead and adds them in group by group's order, so the two paths give the
/// same bits and the threads choose: split wherever they would share the groups out unevenly, group by group on one
/// thread (BatchNorm2d x[256,3,32,32], 1 MiB channels: backward 1.55× and training 1.48× faster split at two threads,
/// 1.28× and 1.14× faster group by group at one).
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>
    /// Whether the layer has the sample-split path: BatchNorm in memory order (the batch dim outermost, γ and β per
    /// channel) with fewer channels than a call's chunks, which group by group cannot keep the threads equally busy.
    /// </summary>
    internal static bool SplitsAcrossSamples(KernelContext ctx) =>
        FoldsOncePerCall(ctx) && !ctx.Spec.IsRms && !ctx.Layout.StatisticsScaleWithBatch
        && ctx.Layout.StatisticsPerBatchUnit < MaxChunks && ConstantRunLength(ctx) is int;

    /// <summary>
    /// Whether the sample-split backward adds its sums as group by group does, so that the two give the same bits and the
    /// threads may choose between them (the four-argument <c>Threading.SplitsGroupsAcrossSamples</c>): each run's Σdy and Σdy·x̂ from
    /// group by group's own loop, kept per sample, then added in sample order with γ applied run by run. Group by group
    /// sums run by run where a run holds more than half a float block (<see cref="RunsPerBlock"/>; shorter runs, and
    /// doubles, are summed across runs), and each sample holds one run of a group where the samples are the only dim
    /// reduced outside the runs.
    /// </summary>
    internal static bool SampleSplitBackwardMatchesGroupByGroup(KernelContext ctx) =>
        SplitsAcrossSamples(ctx) && ctx.IsFloat && RunsPerBlock(ctx) is null && OuterReduced(ctx).Count == 1;

    /// <summary>
    /// Whether the sample-split training adds its sums as group by group does (<see cref="SampleSplitBackwardMatchesGroupByGroup"/>'s
    /// layers whose runs are whole vectors): group by group adds each block's Σd and Σd² to one running total per group,
    /// so the split keeps every block's sums and adds them in the same order; a run's scalar tail, which group by group
    /// adds value by value into that total, would have to be kept value by value.
    /// </summary>
    internal static bool SampleSplitForwardMatchesGroupByGroup(KernelContext ctx) =>
        SampleSplitBackwardMatchesGroupByGroup(ctx) && ConstantRunLength(ctx)!.Value % ctx.Width == 0;

    /// <summary>The float blocks of a run whose sums <see cref="VectorLoop"/> adds one by one: one every 512 values, and the rest.</summary>
    private static int BlocksPerRun(KernelContext ctx) => (ConstantRunLength(ctx)!.Value + VectorLoop.FloatBlock - 1) / VectorLoop.FloatBlock;

    /// <summary>NormGen.Internal.Threading.MaxChunks: the most chunks a call is split into.</summary>
    private const int MaxChunks = 8;

    /// <summary>The run-time test that takes the sample-split path: the groups are larger than a core's cache.</summary>
    private static string SampleSplitCondition(KernelContext ctx) =>
        $"global::NormGen.Internal.Threading.SplitsGroupsAcrossSamples({SampleSplitGroupBytes(ctx)})";

    /// <summary>
    /// The comment and the opening of the branch that takes a sample-split path (<paramref name="method"/>): where the
    /// groups are larger than a core's cache, and where the split gives group by group's bits
    /// (<paramref name="threadsChoose"/>: <see cref="SampleSplitBackwardMatchesGroupByGroup"/>,
    /// <see cref="SampleSplitForwardMatchesGroupByGroup"/>) also where the threads would share the groups out unevenly.
    /// </summary>
    private static CodeWriter.Scope EmitSampleSplitBranch(CodeWriter w, KernelContext ctx, bool threadsChoose, string method)
    {
        if (!threadsChoose)
        {
            w.Line($"// Few groups, each larger than a core's cache: the samples are shared out instead (see {method}).");
            return w.Block($"if ({SampleSplitCondition(ctx)})");
        }
        w.Line("// Few groups, each larger than a core's cache or shared out unevenly over the threads: the samples are shared out");
        w.Line($"// instead (see {method}), which gives the same bits as group by group.");
        return w.Block($"if (global::NormGen.Internal.Threading.SplitsGroupsAcrossSamples({SampleSplitGroupBytes(ctx)}, {Int(ctx.Layout.StatisticsPerBatchUnit)}, {SampleSplitChunkCount(ctx)}, global::NormGen.Internal.Threading.Degree(state.MaxDegreeOfParallelism)))");
    }

    /// <summary>The bytes of one group in a call: the batch times a group's bytes in one sample.</summary>
    private static string SampleSplitGroupBytes(KernelContext ctx) =>
        $"(long)batch * {((long)ctx.Layout.GroupSizePerBatchUnit * ctx.ElementBytes).ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>Partial sums in each chunk's row of <c>state.SplitSums</c>: two per group.</summary>
    private static int SampleSplitRow(KernelContext ctx) => 2 * ctx.Layout.StatisticsPerBatchUnit;

    /// <summary>The sample-split methods, added to <see cref="Methods"/> where <see cref="SplitsAcrossSamples"/>.</summary>
    private static IEnumerable<KernelMethod> SampleSplitMethods(KernelContext ctx)
    {
        string t = ctx.T;
        yield return new("SampleSplitStatistics",
            "Each group's mean and variance into the given arrays, the samples shared out over the threads (few groups, each larger than a core's cache).",
            EmitSampleSplitStatistics,
            $"global::System.ReadOnlySpan<{t}> x, int batch, double[] meanOut, double[] invStdOut, double[] varianceOut");
        yield return KernelMethod.Chunk("SampleSplitSumsChunk",
            SampleSplitForwardMatchesGroupByGroup(ctx)
                ? "One chunk of samples: each float block's Σd and Σd² about its group's pivot, into its run's slots of state.SplitSums."
                : "One chunk of samples: every group's Σd and Σd² about its pivot over these samples, into this chunk's row of state.SplitSums.",
            "x", KernelMethod.Unused, "unusedOutput", EmitSampleSplitSums);
        yield return new("SampleSplitBackward",
            "dx from dy and the saved statistics, the samples shared out over the threads (few groups, each larger than a core's cache); adds the parameter gradients to GammaGrad/BetaGrad.",
            EmitSampleSplitBackward,
            $"global::System.ReadOnlySpan<{t}> x, global::System.ReadOnlySpan<{t}> dy, global::System.Span<{t}> dx, int batch");
        yield return KernelMethod.Chunk("SampleSplitGradientSumsChunk",
            SampleSplitBackwardMatchesGroupByGroup(ctx)
                ? "One chunk of samples: each run's Σdy and Σdy·x̂, into its sample's row of state.SplitSums."
                : "One chunk of samples: every group's Σdy and Σdy·x̂ over these samples, into this chunk's row of state.SplitSums.",
            "x", "dy", "unusedOutput", EmitSampleSplitGradientSums);
        yield return KernelMethod.Chunk("SampleSplitDxChunk",
            "One chunk of samples: dx from each group's gain, slope and offset in state.Split*.",
            "x", "dy", "dx", EmitSampleSplitDx);
    }

    /// <summary>The branch at the top of <c>NormalizeWithOwnStatistics</c> that takes the sample-split path.</summary>
    private static void EmitSampleSplitForwardBranch(CodeWriter w, KernelContext ctx)
    {
        using (EmitSampleSplitBranch(w, ctx, SampleSplitForwardMatchesGroupByGroup(ctx), "SampleSplitStatistics"))
        {
            w.Line("SampleSplitStatistics(state, x, batch, meanOut, invStdOut, varianceOut);");
            w.Line("NormalizeWithStatistics(state, x, y, batch, meanOut, invStdOut);");
            w.Line("return;");
        }
    }

    /// <summary>The branch at the top of <c>BackwardKernel</c> that takes the sample-split path.</summary>
    private static void EmitSampleSplitBackwardBranch(CodeWriter w, KernelContext ctx)
    {
        using (EmitSampleSplitBranch(w, ctx, SampleSplitBackwardMatchesGroupByGroup(ctx), "SampleSplitBackward"))
        {
            w.Line("SampleSplitBackward(state, x, dy, dx, batch);");
            w.Line("return;");
        }
    }

    private static void EmitSampleSplitStatistics(CodeWriter w, KernelContext ctx)
    {
        string groups = Int(ctx.Layout.StatisticsPerBatchUnit);
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        w.Line($"{ctx.T}[] pivots = state.SplitPivots;");
        SegmentLoops.Emit(w, ctx, ctx.Kept, () =>
        {
            w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
            w.Line($"int groupStart = {ctx.Offset(ctx.Kept.Select(s => (s, s.Stride)))};");
            EmitPivot(w, ctx);
            w.Line("pivots[stat] = pivot;");
        });
        EmitInvCount(w, ctx);
        w.Line($"int chunks = {SampleSplitChunkCount(ctx)};");
        bool matches = SampleSplitForwardMatchesGroupByGroup(ctx);
        w.Line(matches
            ? $"global::NormGen.Internal.Buffers.AtLeast(ref state.SplitSums, batch * {Int(SampleSplitRow(ctx) * BlocksPerRun(ctx))});"
            : $"global::NormGen.Internal.Buffers.AtLeast(ref state.SplitSums, chunks * {Int(SampleSplitRow(ctx))});");
        w.Line("// As group by group: mean and variance from Σd and Σd² about the pivot, and the groups whose pivot lies more than a");
        w.Line("// standard deviation out summed again about the mean found.");
        using (w.Block("for (int attempt = 0; ; attempt++)"))
        {
            w.Line(KernelMethod.Run("SampleSplitSumsChunk", "x", "default", "default"));
            w.Line("bool again = false;");
            using (w.Block($"for (int stat = 0; stat < {groups}; stat++)"))
            {
                if (matches)
                {
                    EmitBlockSumsMerge(w, ctx);
                }
                else
                {
                    EmitChunkSumsMerge(w, ctx, "sumD", "sumD2");
                }
                w.Line("double meanShift = sumD * invCount;");
                w.Line("double mean = pivots[stat] + meanShift;");
                w.Line("double variance = global::System.Math.Max(sumD2 * invCount - meanShift * meanShift, 0.0);");
                using (w.Block("if (meanShift * meanShift > variance && attempt == 0)"))
                {
                    w.Line($"pivots[stat] = ({ctx.T})mean;");
                    w.Line("again = true;");
                }
                w.Line("meanOut[stat] = mean;");
                w.Line($"invStdOut[stat] = 1.0 / global::System.Math.Sqrt(variance + {Double(ctx.Spec.Epsilon)});");
                w.Line("varianceOut[stat] = variance;");
            }
            using (w.Block("if (!again)"))
            {
                w.Line("break;");
            }
        }
    }

    private static void EmitSampleSplitSums(CodeWriter w, KernelContext ctx)
    {
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        EmitSampleChunkRange(w, ctx);
        w.Line($"{ctx.T}[] pivots = state.SplitPivots;");
        if (SampleSplitForwardMatchesGroupByGroup(ctx))
        {
            string n = ctx.LoopVariable(ctx.Layout.Segments[0]);
            string groups = Int(ctx.Layout.StatisticsPerBatchUnit);
            w.Line("// Each block's Σd and Σd² from group by group's own loop, stored in its run's pair of slots in state.SplitSums");
            w.Line("// (the run's blocks one after another, the sample's runs group after group).");
            EmitSampleLoops(w, ctx, () =>
            {
                w.Line($"{ctx.T} pivot = pivots[stat];");
                w.Line($"var pivotV = {Simd}.Splat(pivot);");
                w.Line($"int slot = 2 * {Int(BlocksPerRun(ctx))} * ({n} * {groups} + stat);");
                DeclarePartialSums(w, ctx, "sumD");
                DeclarePartialSums(w, ctx, "sumD2");
                VectorLoop.Emit(w, ctx, ConstantRunLength(ctx), RunLength(ctx),
                    DeviationSums(ctx),
                    _ => throw new System.InvalidOperationException("SampleSplitForwardMatchesGroupByGroup takes runs of whole vectors"),
                    () =>
                    {
                        w.Line($"state.SplitSums[slot] = {Simd}.SumWidened(sumDBlock0, sumDBlock1, sumDBlock2, sumDBlock3);");
                        w.Line($"state.SplitSums[slot + 1] = {Simd}.SumWidened(sumD2Block0, sumD2Block1, sumD2Block2, sumD2Block3);");
                        w.Line("sumDBlock0 = sumDBlock1 = sumDBlock2 = sumDBlock3 = default;");
                        w.Line("sumD2Block0 = sumD2Block1 = sumD2Block2 = sumD2Block3 = default;");
                        w.Line("slot += 2;");
                    },
                    WideDeviationSums(ctx));
            });
            return;
        }
        EmitSampleSplitRows(w, ctx, "Σd, then Σd², per group", () =>
        {
            w.Line($"{ctx.T} pivot = pivots[stat];");
            w.Line($"var pivotV = {Simd}.Splat(pivot);");
            DeclareBlockedSums(w, ctx, "sumD", "sumD2");
            VectorLoop.Emit(w, ctx, ConstantRunLength(ctx), RunLength(ctx),
                DeviationSums(ctx),
                _ => DeviationSumsScalar,
                FlushBlockedSums(w, "sumD", "sumD2"),
                WideDeviationSums(ctx));
            return ("sumD", "sumD2");
        });
    }

    /// <summary>
    /// The body of <c>SampleSplitBackward</c>: the chunks' gradient sums, each group's dγ, dβ, gain, slope and offset from
    /// them, then the chunks' dx. Where <see cref="SampleSplitBackwardMatchesGroupByGroup"/>, the chunks store each run's
    /// sums in its sample's row of <c>state.SplitSums</c> and each group adds them in sample order as group by group
    /// does (γ applied run by run); elsewhere each chunk's row of sums, added in chunk order.
    /// </summary>
    private static void EmitSampleSplitBackward(CodeWriter w, KernelContext ctx)
    {
        bool matches = SampleSplitBackwardMatchesGroupByGroup(ctx);
        string groups = Int(ctx.Layout.StatisticsPerBatchUnit);
        string row = Int(SampleSplitRow(ctx));
        w.Line($"int chunks = {SampleSplitChunkCount(ctx)};");
        w.Line($"global::NormGen.Internal.Buffers.AtLeast(ref state.SplitSums, {(matches ? "batch" : "chunks")} * {row});");
        w.Line(KernelMethod.Run("SampleSplitGradientSumsChunk", "x", "dy", "default"));
        EmitInvCount(w, ctx);
        using (w.Block($"for (int stat = 0; stat < {groups}; stat++)"))
        {
            w.Line("double invStd = state.SavedInvStd[stat];");
            w.Line(ctx.HasGamma ? "double gamma = state.Gamma[stat];" : "const double gamma = 1.0;");
            if (matches)
            {
                w.Line("// The runs' sums in sample order, γ applied run by run, as group by group adds them: the same bits for any");
                w.Line("// number of threads, and as the call that goes group by group.");
                w.Line("double sumG = 0.0, sumGXhat = 0.0, sumDy = 0.0, sumDyXhat = 0.0;");
                using (w.Block("for (int n = 0; n < batch; n++)"))
                {
                    w.Line($"double runDy = state.SplitSums[n * {row} + stat], runDyXhat = state.SplitSums[n * {row} + {groups} + stat];");
                    w.Line("sumG += gamma * runDy;");
                    w.Line("sumGXhat += gamma * runDyXhat;");
                    w.Line("sumDy += runDy;");
                    w.Line("sumDyXhat += runDyXhat;");
                }
            }
            else
            {
                EmitChunkSumsMerge(w, ctx, "sumDy", "sumDyXhat");
                w.Line("double sumG = gamma * sumDy, sumGXhat = gamma * sumDyXhat;");
            }
            if (ctx.HasGamma)
            {
                w.Line($"state.GammaGrad[stat] += ({ctx.T})sumDyXhat;");
            }
            if (ctx.HasBeta)
            {
                w.Line($"state.BetaGrad[stat] += ({ctx.T})sumDy;");
            }
            w.Line("// dx = invStd·(g − mean(g) − x̂·mean(g·x̂)) with g = γ·dy, written as dy·gain − (x − mean)·slope − offset.");
            w.Line($"state.SplitGain[stat] = ({ctx.T})(invStd * gamma);");
            w.Line($"state.SplitSlope[stat] = ({ctx.T})(invStd * invStd * sumGXhat * invCount);");
            w.Line($"state.SplitOffset[stat] = ({ctx.T})(invStd * sumG * invCount);");
        }
        w.Line(KernelMethod.Run("SampleSplitDxChunk", "x", "dy", "dx"));
    }

    private static void EmitSampleSplitGradientSums(CodeWriter w, KernelContext ctx)
    {
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        w.Line($"ref {ctx.T} dyRef = ref {Simd}.Ref(dy);");
        EmitSampleChunkRange(w, ctx);
        if (SampleSplitBackwardMatchesGroupByGroup(ctx))
        {
            string n = ctx.LoopVariable(ctx.Layout.Segments[0]);
            string row = Int(SampleSplitRow(ctx));
            w.Line("// Each run's Σdy and Σdy·x̂ from group by group's own loop, stored in its sample's row of state.SplitSums.");
            EmitSampleLoops(w, ctx, () =>
            {
                w.Line("double mean = state.SavedMean[stat];");
                w.Line("double invStd = state.SavedInvStd[stat];");
                EmitMeanSplit(w, ctx);
                w.Line($"var invStdV = {Simd}.Splat(({ctx.T})invStd);");
                EmitRunGradientSumsLoop(w, ctx, (lane, index) => RunGradientSums(ctx, lane, index), WideGradientSums(ctx, "runDy"));
                w.Line($"state.SplitSums[{n} * {row} + stat] = runDy;");
                w.Line($"state.SplitSums[{n} * {row} + {Int(ctx.Layout.StatisticsPerBatchUnit)} + stat] = runDyXhat;");
            });
            return;
        }
        EmitSampleSplitRows(w, ctx, "Σdy, then Σdy·x̂, per group", () =>
        {
            w.Line("double mean = state.SavedMean[stat];");
            w.Line("double invStd = state.SavedInvStd[stat];");
            EmitMeanSplit(w, ctx);
            w.Line($"var invStdV = {Simd}.Splat(({ctx.T})invStd);");
            DeclareBlockedSums(w, ctx, "runDy", "runDyXhat");
            VectorLoop.Emit(w, ctx, ConstantRunLength(ctx), RunLength(ctx),
                (lane, index) => RunGradientSums(ctx, lane, index),
                _ => [
                    "double dyValue = NormGenSimd.At(ref dyRef, start + i);",
                    "runDy += dyValue;",
                    "runDyXhat += dyValue * (NormGenSimd.At(ref xRef, start + i) - mean) * invStd;"],
                FlushBlockedSums(w, "runDy", "runDyXhat"));
            return ("runDy", "runDyXhat");
        });
    }

    private static void EmitSampleSplitDx(CodeWriter w, KernelContext ctx)
    {
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        w.Line($"ref {ctx.T} dyRef = ref {Simd}.Ref(dy);");
        w.Line($"ref {ctx.T} dxRef = ref {Simd}.Ref(dx);");
        EmitStreaming(w, "dx", GroupOutputLines(ctx, MemoryOrderMinPartialRunLines));
        EmitSampleChunkRange(w, ctx);
        w.Line("// dx elementwise once each group's gain, slope and offset are known; this chunk's runs last to first, so the first");
        w.Line("// ones written are those its sums pass read last, still in the cache.");
        EmitSampleLoops(w, ctx, descending: true, body: () => EmitRunDxFromSplitConstants(w, ctx, MemoryOrderMinPartialRunLines));
    }

    /// <summary>
    /// dx of the run at <c>start</c> of group <c>stat</c> from its saved mean and its gain, slope and offset in
    /// <c>state.Split*</c>: dy·gain − (x − mean)·slope − offset (<see cref="DxWithGain"/>, the formula of every dx pass).
    /// </summary>
    private static void EmitRunDxFromSplitConstants(CodeWriter w, KernelContext ctx, int minPartialRunLines)
    {
        w.Line("double mean = state.SavedMean[stat];");
        EmitMeanSplit(w, ctx);
        w.Line($"{ctx.T} gain = state.SplitGain[stat], slope = state.SplitSlope[stat], offset = state.SplitOffset[stat];");
        w.Line($"var gainV = {Simd}.Splat(gain); var slopeV = {Simd}.Splat(slope); var offsetV = {Simd}.Splat(offset);");
        EmitRunDx(w, ctx, minPartialRunLines);
    }

    /// <summary>
    /// dx of the run at <c>start</c>: dy·gain − (x − mean)·slope − offset (<see cref="DxWithGain"/>), from the broadcast
    /// vectors of the mean's parts, gain, slope and offset, and for a scalar tail the double <c>mean</c> and the scalars.
    /// </summary>
    private static void EmitRunDx(CodeWriter w, KernelContext ctx, int minPartialRunLines)
    {
        VectorLoop.EmitStores(w, ctx, ConstantRunLength(ctx), RunLength(ctx), "dxRef",
            (s, index) => DxWithGain(ctx, s, index),
            scalar: _ => Lines($"NormGenSimd.At(ref dxRef, start + i) = ({ctx.T})(NormGenSimd.At(ref dyRef, start + i) * gain - (NormGenSimd.At(ref xRef, start + i) - mean) * slope - offset);"),
            minPartialRunLines: minPartialRunLines, splats: [.. MeanSplats(ctx), "gain", "slope", "offset"]);
    }

    /// <summary>
    /// Group <c>stat</c>'s Σd and Σd² from every block's sums in <c>state.SplitSums</c> (<see cref="EmitSampleSplitSums"/>),
    /// added in group by group's order: sample after sample, each run's blocks in order, into one running total.
    /// </summary>
    private static void EmitBlockSumsMerge(CodeWriter w, KernelContext ctx)
    {
        string blocks = Int(BlocksPerRun(ctx));
        w.Line("// Every block's sums in sample order, as group by group adds them: the same bits for any number of threads, and as");
        w.Line("// the call that goes group by group.");
        w.Line("double sumD = 0.0, sumD2 = 0.0;");
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"int slot = 2 * {blocks} * (n * {Int(ctx.Layout.StatisticsPerBatchUnit)} + stat);");
            using (w.Block($"for (int block = 0; block < {blocks}; block++, slot += 2)"))
            {
                w.Line("sumD += state.SplitSums[slot];");
                w.Line("sumD2 += state.SplitSums[slot + 1];");
            }
        }
    }

    /// <summary>Group <c>stat</c>'s two sums over the chunks' rows of <c>state.SplitSums</c>, as doubles named <paramref name="first"/> and <paramref name="second"/>.</summary>
    private static void EmitChunkSumsMerge(CodeWriter w, KernelContext ctx, string first, string second)
    {
        string row = Int(SampleSplitRow(ctx));
        w.Line("// The chunks' sums in chunk order: the same for any number of threads.");
        w.Line($"double {first} = 0.0, {second} = 0.0;");
        using (w.Block("for (int chunk = 0; chunk < chunks; chunk++)"))
        {
            w.Line($"{first} += state.SplitSums[chunk * {row} + stat];");
            w.Line($"{second} += state.SplitSums[chunk * {row} + {Int(ctx.Layout.StatisticsPerBatchUnit)} + stat];");
        }
    }

    /// <summary>
    /// The loops of a sums chunk: <paramref name="run"/> sums one run and names its two totals, which are added to the
    /// chunk's sums of the run's group (on the stack, so the threads share no line), stored in the chunk's row at the end.
    /// </summary>
    private static void EmitSampleSplitRows(CodeWriter w, KernelContext ctx, string what, System.Func<(string First, string Second)> run)
    {
        string groups = Int(ctx.Layout.StatisticsPerBatchUnit);
        string row = Int(SampleSplitRow(ctx));
        w.Line($"// This chunk's {what}, stored in its row of state.SplitSums at the end.");
        w.Line($"global::System.Span<double> sums = stackalloc double[{row}];");
        w.Line("sums.Clear();");
        EmitSampleLoops(w, ctx, () =>
        {
            var (first, second) = run();
            w.Line($"sums[stat] += {first};");
            w.Line($"sums[{groups} + stat] += {second};");
        });
        w.Line($"sums.CopyTo(global::System.MemoryExtensions.AsSpan(state.SplitSums, chunk * {row}, {row}));");
    }

    /// <summary>The loops over this chunk's samples and, in memory order (or, <paramref name="descending"/>, its reverse), their runs: <c>stat</c> and <c>start</c> for each.</summary>
    private static void EmitSampleLoops(CodeWriter w, KernelContext ctx, System.Action body, bool descending = false)
    {
        var outer = ctx.Layout.Segments.Take(ctx.Layout.Segments.Count - 1).ToList();
        string n = ctx.LoopVariable(outer[0]);
        using (w.Block(descending ? $"for (int {n} = chunkLast - 1; {n} >= chunkFirst; {n}--)" : $"for (int {n} = chunkFirst; {n} < chunkLast; {n}++)"))
        {
            SegmentLoops.Emit(w, ctx, outer.Skip(1).ToList(), descending: descending, body: () =>
            {
                w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
                w.Line($"int start = {ctx.Offset(outer.Select(s => (s, s.Stride)))};");
                body();
            });
        }
    }

    /// <summary>This chunk's samples: the partition of the batch dim that <c>NormalizeChunk</c> uses too.</summary>
    private static void EmitSampleChunkRange(CodeWriter w, KernelContext ctx)
    {
        string extent = ctx.Extent(ctx.Layout.Segments[0]);
        w.Line($"// This chunk's share of the {ctx.Layout.Segments[0].Letters} indices (the partition depends on the shape only, not on the threads).");
        w.Line($"int chunkSize = global::NormGen.Internal.Threading.ChunkSize({extent}{ctx.ChunkingArguments});");
        w.Line("int chunkFirst = chunk * chunkSize;");
        w.Line($"int chunkLast = global::System.Math.Min(chunkFirst + chunkSize, {extent});");
    }

    private static string SampleSplitChunkCount(KernelContext ctx) =>
        $"global::NormGen.Internal.Threading.ChunkCount({ctx.Extent(ctx.Layout.Segments[0])}{ctx.ChunkingArguments})";
}
