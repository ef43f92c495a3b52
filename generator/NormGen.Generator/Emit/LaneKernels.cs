using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// Kernels for layouts whose innermost segment is kept (channels-last BatchNorm, BatchNorm1d on (N, C)):
/// neighbouring values belong to neighbouring statistics, so the data is streamed in memory order and each
/// vector lane accumulates its own statistic in a per-statistic array.
/// </summary>
internal static class LaneKernels
{
    /// <summary>The orchestrators the API calls and the chunk kernels they run.</summary>
    public static IReadOnlyList<KernelMethod> Methods(KernelContext ctx)
    {
        string t = ctx.T;
        bool rms = ctx.Spec.IsRms;
        var methods = new List<KernelMethod>
        {
            new("NormalizeWithOwnStatistics",
                "Computes each statistic (per-chunk partial sums, added in chunk order) into the given arrays, then normalizes x into y.",
                EmitStatisticsOrchestrator,
                $"global::System.ReadOnlySpan<{t}> x, global::System.Span<{t}> y, int batch, double[] meanOut, double[] invStdOut, double[] varianceOut"),
            KernelMethod.Chunk("SumsChunk",
                rms ? "One chunk of rows: Σx² per statistic into this chunk's partial sums." : "One chunk of rows: Σx per statistic into this chunk's partial sums.",
                "x", KernelMethod.Unused, KernelMethod.Unused, ctx.IsColumnLayout ? ColumnKernels.EmitSums : EmitSumsChunk),
        };
        if (ctx.IsColumnLayout && !rms)
        {
            methods.Add(KernelMethod.Chunk("PivotsChunk",
                "One chunk of columns: their pivots, the mean of 32 rows spread over the batch (ColumnPivots).",
                "x", KernelMethod.Unused, KernelMethod.Unused, EmitPivotsChunk));
        }
        if (!rms)
        {
            methods.Add(KernelMethod.Chunk("SquaredDeviationsChunk",
                "One chunk of rows: Σ(x − mean)² per statistic into this chunk's partial sums.",
                "x", KernelMethod.Unused, KernelMethod.Unused, ctx.IsColumnLayout ? ColumnKernels.EmitSquaredDeviations : EmitSquaredDeviationsChunk));
        }
        methods.Add(new("NormalizeWithStatistics",
            "Normalizes x into y with the given per-statistic mean and 1/std, in one pass shared out over the threads.",
            EmitNormalizeOrchestrator,
            $"global::System.ReadOnlySpan<{t}> x, global::System.Span<{t}> y, int batch, double[] meanIn, double[] invStdIn"));
        if (KeepsInferenceFold(ctx))
        {
            methods.Add(new("NormalizeWithRunningStatistics",
                "Normalizes x into y with InferenceMean and InferenceInvStd, folded with γ and β only when they or the running statistics have changed.",
                EmitRunningStatisticsOrchestrator,
                $"global::System.ReadOnlySpan<{t}> x, global::System.Span<{t}> y, int batch, bool statisticsChanged"));
        }
        methods.Add(KernelMethod.Chunk("NormalizeChunk",
            "One chunk of rows: y from the per-statistic scale and mean its orchestrator prepared (NormalizeWithStatistics or NormalizeWithRunningStatistics).",
            "x", KernelMethod.Unused, "y", ctx.IsColumnLayout && PerStatisticShift(ctx) ? ColumnKernels.EmitNormalize : EmitNormalizeChunk));
        methods.Add(new("BackwardKernel",
            "dx from dy and the saved statistics; adds the parameter gradients to GammaGrad/BetaGrad.",
            EmitBackwardOrchestrator,
            $"global::System.ReadOnlySpan<{t}> x, global::System.ReadOnlySpan<{t}> dy, global::System.Span<{t}> dx, int batch"));
        methods.Add(KernelMethod.Chunk("BackwardSumsChunk",
            ctx.IsColumnLayout
                ? "One chunk of rows: per column Σdy·x̂ and Σdy (dγ and dβ, without γ) into this chunk's two rows of partial sums."
                : "One chunk of rows: per statistic Σg and Σg·x̂, per parameter Σdy·x̂ and Σdy, into this chunk's partial sums.",
            "x", "dy", KernelMethod.Unused, ctx.IsColumnLayout ? ColumnKernels.EmitBackwardSums : EmitBackwardSumsChunk));
        methods.Add(KernelMethod.Chunk("BackwardDxChunk",
            "One chunk of rows: dx = dy·γ·invStd − (x − mean)·slope − offset with the per-statistic slope and offset.",
            "x", "dy", "dx", ctx.IsColumnLayout && !rms ? ColumnKernels.EmitDx : EmitBackwardDxChunk));
        return methods;
    }

    private static void EmitStatisticsOrchestrator(CodeWriter w, KernelContext ctx)
    {
        if (ctx.IsColumnLayout && !ctx.Spec.IsRms)
        {
            EmitColumnStatisticsOrchestrator(w, ctx);
        }
        else
        {
            EmitTwoPassStatisticsOrchestrator(w, ctx);
        }
        w.Line();
        w.Line("NormalizeWithStatistics(state, x, y, batch, meanOut, invStdOut);");
    }

    /// <summary>The statistics from Σx (or Σx² for RMSNorm), then Σ(x − mean)²: the lane kernels' two passes over x.</summary>
    private static void EmitTwoPassStatisticsOrchestrator(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        w.Line($"int count = {ctx.StatisticsCount};");
        w.Line($"int chunks = {ctx.ChunkCount};");
        w.Line("double[] partials = global::NormGen.Internal.Buffers.AtLeast(ref state.LanePartials, chunks * count);");
        w.Line("state.ActiveMean = meanOut;");
        GroupMajorKernels.EmitInvCount(w, ctx);
        w.Line();
        w.Line(rms
            ? "// Σx² per statistic: each chunk of rows sums into its own partials, added in chunk order."
            : "// Σx per statistic: each chunk of rows sums into its own partials, added in chunk order.");
        w.Line(KernelMethod.Run("SumsChunk", "x", "default", "default"));
        EmitFoldPartials(w, "partials", "count", 1);
        if (rms)
        {
            w.Line("// Per statistic: variance = mean(x²) (no mean is subtracted) and invStd = 1/sqrt(variance + ε).");
            w.Line("global::System.Array.Clear(meanOut, 0, count);");
            w.Line($"{SumStatistics}.Variance(partials, invCount, {Double(ctx.Spec.Epsilon)}, varianceOut, invStdOut, count);");
        }
        else
        {
            w.Line($"{ctx.T}[] meanHi = global::NormGen.Internal.Buffers.AtLeast(ref state.LaneMeanHi, count);");
            if (ctx.IsFloat)
            {
                w.Line("float[] meanLo = global::NormGen.Internal.Buffers.AtLeast(ref state.LaneMeanLo, count);");
                w.Line("// Per statistic: the first mean, and its high and low float parts for the second pass.");
                w.Line($"{SumStatistics}.Means(partials, invCount, meanOut, meanHi, meanLo, count);");
            }
            else
            {
                w.Line("// Per statistic: the first mean (meanHi, the same for double data, is what the second pass reads).");
                w.Line($"{SumStatistics}.Means(partials, invCount, meanOut, meanHi, count);");
            }
            w.Line();
            w.Line("// Σ(x − mean)² per statistic: a second pass (never E[x²] − E[x]², which cancels for large means).");
            w.Line(KernelMethod.Run("SquaredDeviationsChunk", "x", "default", "default"));
            EmitFoldPartials(w, "partials", "count", 1);
            w.Line("// Per statistic: variance and invStd = 1/sqrt(variance + ε).");
            w.Line($"{SumStatistics}.Variance(partials, invCount, {Double(ctx.Spec.Epsilon)}, varianceOut, invStdOut, count);");
        }
    }

    /// <summary>
    /// Rows × columns (BatchNorm1d, channels-last BatchNorm): one pass of Σd and Σd² about a pivot per column, the mean of
    /// 32 rows spread over the batch; where some column's pivot lies more than a standard deviation from its mean (rare),
    /// the first mean from every row, then Σd and Σd² about it, as before.
    /// </summary>
    private static void EmitColumnStatisticsOrchestrator(CodeWriter w, KernelContext ctx)
    {
        // Training needs two rows: a call can be small only where two rows are (or, without a batch dim, where x is).
        bool canBeSmall = ctx.Layout.HasBatch
            ? 2 * ctx.Layout.Segments[1].Size <= SmallColumnsMaxValues
            : ctx.Layout.SampleSize <= SmallColumnsMaxValues;
        if (canBeSmall)
        {
            using (w.Block($"if (x.Length <= {SmallColumnsMaxValues})"))
            {
                w.Line("// A call this small: each tile of four columns' mean and Σ(x − mean)², then y, all in double — the pivots, the");
                w.Line("// fold and the chunk runs below would cost more than the values.");
                string gamma = ctx.HasGamma ? "state.Gamma" : "null";
                string beta = ctx.HasBeta ? "state.Beta" : "null";
                w.Line($"global::NormGen.Internal.SmallColumns.Normalize(x, y, {ctx.Layout.Segments[1].Size}, {gamma}, {beta}, {Double(ctx.Spec.Epsilon)}, meanOut, invStdOut, varianceOut);");
                w.Line("return;");
            }
        }
        w.Line($"int count = {ctx.StatisticsCount};");
        w.Line($"int chunks = {ctx.ChunkCount};");
        w.Line($"int laneStride = count + {StateEmitter.PartialPadding};");
        w.Line("double[] partials = global::NormGen.Internal.Buffers.AtLeast(ref state.LanePartials, chunks * 2 * laneStride);");
        int? narrow = ColumnKernels.NarrowPeriod(ctx);
        w.Line($"{ctx.T}[] meanHi = global::NormGen.Internal.Buffers.AtLeast(ref state.LaneMeanHi, {(narrow is int n ? Int(n) : "count")});");
        w.Line("state.ActiveMean = meanOut;");
        GroupMajorKernels.EmitInvCount(w, ctx);
        w.Line();
        w.Line($"// One pass: Σd and Σd² per column with d = x − pivot, the pivot the mean of {ColumnPivotRows} rows spread over the batch");
        w.Line("// (rounded to the element type). Then mean = pivot + Σd/n and variance = Σd²/n − (Σd/n)² (never E[x²] − E[x]²),");
        w.Line("// as accurate as the corrected two-pass algorithm wherever the pivot lies within a standard deviation of the mean.");
        w.Line("// The pivots in chunks of columns, shared out like the passes after them (the same values for any chunks).");
        w.Line("int pivotChunks = global::NormGen.Internal.ColumnPivots.ChunkCount(x.Length, count);");
        w.Line(KernelMethod.Run("PivotsChunk", "x", "default", "default", "pivotChunks"));
        EmitShareGroupPivots(w, ctx, "meanHi");
        EmitNarrowRepeat(w, narrow, "the pivots", "meanHi");
        w.Line(KernelMethod.Run("SquaredDeviationsChunk", "x", "default", "default"));
        EmitFoldPartials(w, "partials", "laneStride", 2);
        EmitSumGroups(w, ctx, "partials", "laneStride", 2);
        using (w.Block("if (!global::NormGen.Internal.ColumnPivots.WithinStandardDeviation(partials, laneStride, invCount, count))"))
        {
            w.Line("// Some column's pivot lies further out (rare): its first mean from every row, then Σd and Σd² about it (the");
            w.Line("// corrected two-pass algorithm), for every column.");
            w.Line(KernelMethod.Run("SumsChunk", "x", "default", "default"));
            EmitFoldPartials(w, "partials", "count", 1);
            EmitSumGroups(w, ctx, "partials", "count", 1);
            if (ctx.IsFloat)
            {
                w.Line("float[] meanLo = global::NormGen.Internal.Buffers.AtLeast(ref state.LaneMeanLo, count);");
                w.Line($"{SumStatistics}.Means(partials, invCount, meanOut, meanHi, meanLo, count);");
            }
            else
            {
                w.Line($"{SumStatistics}.Means(partials, invCount, meanOut, meanHi, count);");
            }
            EmitNarrowRepeat(w, narrow, "the first means", "meanHi");
            w.Line(KernelMethod.Run("SquaredDeviationsChunk", "x", "default", "default"));
            EmitFoldPartials(w, "partials", "laneStride", 2);
            EmitSumGroups(w, ctx, "partials", "laneStride", 2);
        }
        w.Line($"{SumStatistics}.CorrectedVariance(partials, laneStride, invCount, meanHi, {Double(ctx.Spec.Epsilon)}, meanOut, varianceOut, invStdOut, count);");
    }

    /// <summary>GroupNorm channels-last: every column's pivot (or first mean) its group's, so that the group's sums add.</summary>
    private static void EmitShareGroupPivots(CodeWriter w, KernelContext ctx, string pivots)
    {
        if (ctx.ColumnGroup > 1)
        {
            w.Line($"// Groups of {Int(ctx.ColumnGroup)} columns share a statistic: each column's pivot becomes its group's.");
            w.Line($"global::NormGen.Internal.ColumnGroups.SharePivots({pivots}, count, {Int(ctx.ColumnGroup)});");
        }
    }

    /// <summary>GroupNorm channels-last: each column's merged sums become its group's (the group's columns added).</summary>
    private static void EmitSumGroups(CodeWriter w, KernelContext ctx, string partials, string stride, int rows)
    {
        if (ctx.ColumnGroup > 1)
        {
            w.Line($"// Each column's sums become its group's: the statistics that follow are the group's, in each of its columns.");
            w.Line($"global::NormGen.Internal.ColumnGroups.SumGroups({partials}, {stride}, {rows}, count, {Int(ctx.ColumnGroup)});");
        }
    }

    /// <summary>Rows narrower than a vector (<see cref="ColumnKernels.NarrowPeriod"/>): the per-column arrays repeated over the period the narrow passes read.</summary>
    private static void EmitNarrowRepeat(CodeWriter w, int? period, string what, params string[] arrays)
    {
        if (period is int values)
        {
            w.Line($"// Rows narrower than a vector: {what} repeated over the narrow passes' period of {Int(values)} values.");
            EmitRepeat(w, Int(values), arrays);
        }
    }

    /// <summary>The runtime's <c>SmallColumns.MaxValues</c>: calls of at most this many values skip the column kernels.</summary>
    private const int SmallColumnsMaxValues = 256;

    /// <summary>The rows a column's pivot is the mean of (the runtime's <c>ColumnPivots.SampleRows</c>).</summary>
    private const int ColumnPivotRows = 32;

    /// <summary>
    /// Adds every chunk's partial rows into the first chunk's, in chunk order (the same sums for any number of threads),
    /// with the runtime's vector loop. Each chunk has <paramref name="rows"/> rows of <c>count</c> values, <paramref name="stride"/> apart.
    /// </summary>
    private static void EmitFoldPartials(CodeWriter w, string partials, string stride, int rows)
    {
        w.Line("// The chunks' partial sums, added into the first chunk's in chunk order.");
        w.Line($"{SumStatistics}.AddChunkRows({partials}, {stride}, {rows}, chunks, count);");
    }

    /// <summary>The runtime's vectorized steps from partial sums to statistics (NormGen.Internal.SumStatistics).</summary>
    private const string SumStatistics = "global::NormGen.Internal.SumStatistics";

    private static void EmitChunkPartials(CodeWriter w, KernelContext ctx, string array, string name)
    {
        w.Line($"int count = {ctx.StatisticsCount};");
        PartialSums.EmitRow(w, array, name);
    }

    private static void EmitSumsChunk(CodeWriter w, KernelContext ctx)
    {
        EmitChunkPartials(w, ctx, "LanePartials", "sumRef");
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        SegmentLoops.EmitChunkRange(w, ctx);
        if (ctx.Spec.IsRms)
        {
            w.Line("// Σx² per statistic, in memory order: the lanes of one vector belong to neighbouring statistics.");
            ForEachRun(w, ctx, () => Loop(w, ctx,
                (lane, index) => [$"var v{lane} = {Simd}.Load(ref xRef, start + {index});", $"{Simd}.AddWidenedTo(ref sumRef, stat + {index}, v{lane} * v{lane});"],
                ["double v = NormGenSimd.At(ref xRef, start + i);", "NormGenSimd.At(ref sumRef, stat + i) += v * v;"]), withParam: false);
        }
        else
        {
            w.Line("// Σx per statistic, in memory order: the lanes of one vector belong to neighbouring statistics.");
            ForEachRun(w, ctx, () => Loop(w, ctx,
                (lane, index) => [$"{Simd}.AddWidenedTo(ref sumRef, stat + {index}, {Simd}.Load(ref xRef, start + {index}));"],
                ["NormGenSimd.At(ref sumRef, stat + i) += NormGenSimd.At(ref xRef, start + i);"]), withParam: false);
        }
    }

    private static void EmitSquaredDeviationsChunk(CodeWriter w, KernelContext ctx)
    {
        EmitChunkPartials(w, ctx, "LanePartials", "sumRef");
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        PartialSums.EmitMeanReferences(w, ctx);
        w.Line("double[] meanOut = state.ActiveMean;");
        SegmentLoops.EmitChunkRange(w, ctx);
        w.Line("// Σ(x − mean)² per statistic, in memory order.");
        ForEachRun(w, ctx, () => Loop(w, ctx,
            (lane, index) => [$"var d{lane} = {Centered(ctx, index)};", $"{Simd}.AddWidenedTo(ref sumRef, stat + {index}, d{lane} * d{lane});"],
            ["double d = NormGenSimd.At(ref xRef, start + i) - meanOut[stat + i];", "NormGenSimd.At(ref sumRef, stat + i) += d * d;"]), withParam: false);
    }

    /// <summary>Body of <c>NormalizeWithStatistics(x, y, batch, meanIn, invStdIn)</c>: per-statistic preparation, then the chunks.</summary>
    private static void EmitNormalizeOrchestrator(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        bool fold = FoldsGamma(ctx);
        w.Line($"int count = {ctx.StatisticsCount};");
        if (PerStatisticShift(ctx))
        {
            EmitFold(w, ctx, "Lane", "state.MeansFolded", forThisCallOnly: true);
            EmitActiveFold(w, "meanHi", "scale", "shift");
        }
        else
        {
            w.Line($"{ctx.T}[] scale = global::NormGen.Internal.Buffers.AtLeast(ref state.LaneScale, count);");
            if (!rms)
            {
                DeclareMeanSplit(w, ctx);
            }
            w.Line(fold
                ? "// Per statistic: the mean (as hi + lo for float data) and invStd·γ folded into one scale."
                : "// Per statistic: the mean (as hi + lo for float data) and invStd.");
            using (w.Block("for (int stat = 0; stat < count; stat++)"))
            {
                if (!rms)
                {
                    w.Line("double mean = meanIn[stat];");
                    SplitMean(w, ctx);
                }
                w.Line(fold ? $"scale[stat] = ({ctx.T})(invStdIn[stat] * state.Gamma[stat]);" : $"scale[stat] = ({ctx.T})invStdIn[stat];");
            }
        }
        EmitRunNormalize(w, ctx);
    }

    /// <summary>
    /// ForwardInference's orchestrator where the y pass reads folded hi, scale and shift: those are folded into the
    /// Inference* arrays by the first call and kept until the running statistics, γ or β change (a BatchNorm1d over 4,096
    /// columns folds 4,096 constants a call, more work than normalizing a batch of one).
    /// </summary>
    private static void EmitRunningStatisticsOrchestrator(CodeWriter w, KernelContext ctx)
    {
        w.Line($"int count = {ctx.StatisticsCount};");
        w.Line("double[] meanIn = state.InferenceMean;");
        w.Line("double[] invStdIn = state.InferenceInvStd;");
        using (KeptFold.FoldAgainIf(w, ctx, "count", trainingFoldsHereToo: false))
        {
            EmitFold(w, ctx, "Inference", "state.InferenceMeansFolded", forThisCallOnly: false);
        }
        EmitActiveFold(w, "state.InferenceMeanHi", "state.InferenceScale", "state.InferenceShift");
        if (ColumnKernels.WrapExtension(ctx) is not null)
        {
            w.Line("state.MeansFolded = state.InferenceMeansFolded;");
        }
        EmitRunNormalize(w, ctx);
    }

    /// <summary>
    /// meanHi, scale and shift: the Lane* or Inference* arrays (<paramref name="prefix"/>), folded from meanIn, invStdIn,
    /// γ and β and repeated as the y pass reads them; <paramref name="meansFolded"/> is told whether every hi is 0.
    /// </summary>
    /// <param name="forThisCallOnly">Read by this call alone (training), so repeated only as far as it reaches; a kept fold
    /// is repeated over the whole period, for any later batch.</param>
    private static void EmitFold(CodeWriter w, KernelContext ctx, string prefix, string meansFolded, bool forThisCallOnly)
    {
        int? period = ColumnKernels.FlatPeriod(ctx);
        int? extension = ColumnKernels.WrapExtension(ctx);
        string length = period is int p ? Int(p) : extension is int e ? $"count + {Int(e)}" : "count";
        string arguments = $"meanIn, invStdIn, {KeptFold.Parameters(ctx)}, meanHi, scale, shift, count";
        w.Line($"{ctx.T}[] meanHi = global::NormGen.Internal.Buffers.AtLeast(ref state.{prefix}MeanHi, {length});");
        w.Line($"{ctx.T}[] scale = global::NormGen.Internal.Buffers.AtLeast(ref state.{prefix}Scale, {length});");
        w.Line($"{ctx.T}[] shift = global::NormGen.Internal.Buffers.AtLeast(ref state.{prefix}Shift, {length});");
        if (extension is null)
        {
            w.Line("// Per statistic: the mean's high part, scale = invStd·γ and shift = β − (mean's low part)·scale, so y = (x − hi)·scale + shift.");
            w.Line($"global::NormGen.Internal.Statistics.FoldScaleShift({arguments});");
        }
        else
        {
            w.Line("// Per statistic: scale = invStd·γ; where the mean lies within 16 standard deviations of zero, hi = 0 and");
            w.Line("// shift = β − mean·scale (PyTorch's x·scale + shift), elsewhere hi = the mean's high part and shift = β − (mean's");
            w.Line("// low part)·scale: y = (x − hi)·scale + shift either way. Where every hi is 0 the y pass leaves it out.");
            w.Line($"{meansFolded} = global::NormGen.Internal.Statistics.FoldScaleShiftNearZero({arguments});");
        }
        if (period is not null || extension is not null)
        {
            if (period is int values && forThisCallOnly)
            {
                // A call shorter than the period reads no further than its own length.
                w.Line($"// Repeated over the flat y pass's period of {Int(values)} values (or the call's, when shorter), which reads them at each");
                w.Line("// value's offset in it.");
                w.Line($"int repeated = global::System.Math.Min({Int(values)}, x.Length);");
                EmitRepeat(w, "repeated", "meanHi", "scale", "shift");
            }
            else
            {
                w.Line(period is not null
                    ? $"// Repeated over the {length} values of the flat y pass's period, which reads them at each value's offset in it."
                    : "// The first values again past the last column, where the y pass's steps into the next row read them.");
                EmitRepeat(w, length, "meanHi", "scale", "shift");
            }
        }
    }

    private static void EmitActiveFold(CodeWriter w, string meanHi, string scale, string shift)
    {
        w.Line($"state.ActiveMeanHi = {meanHi};");
        w.Line($"state.ActiveScale = {scale};");
        w.Line($"state.ActiveShift = {shift};");
    }

    /// <summary>The y pass over the chunks of rows, with meanIn and invStdIn as the active statistics.</summary>
    private static void EmitRunNormalize(CodeWriter w, KernelContext ctx)
    {
        w.Line("state.ActiveMean = meanIn;");
        w.Line("state.ActiveInvStd = invStdIn;");
        w.Line("// No partial sums here: the chunks of a pass that only writes y, split from a smaller size than the sums'.");
        w.Line($"int chunks = {ctx.OutputChunkCount};");
        w.Line(KernelMethod.Run("NormalizeChunk", "x", "default", "y"));
    }

    private static void EmitNormalizeChunk(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        bool fold = FoldsGamma(ctx);
        w.Line("double[] meanIn = state.ActiveMean;");
        w.Line("double[] invStdIn = state.ActiveInvStd;");
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        w.Line($"ref {ctx.T} yRef = ref {Simd}.Ref(y);");
        GroupMajorKernels.EmitStreaming(w, "y", InnerLines(ctx));
        bool perStatisticShift = PerStatisticShift(ctx);
        w.Line($"ref {ctx.T} scaleRef = ref {Simd}.Ref(state.{(perStatisticShift ? "ActiveScale" : "LaneScale")});");
        if (!rms)
        {
            PartialSums.EmitMeanReferences(w, ctx, withLow: !perStatisticShift, meanHi: perStatisticShift ? "ActiveMeanHi" : "LaneMeanHi");
        }
        SegmentLoops.EmitChunkRange(w, ctx, outputPass: true);
        w.Line();
        if (perStatisticShift)
        {
            w.Line($"ref {ctx.T} shiftRef = ref {Simd}.Ref(state.ActiveShift);");
            w.Line("// y = (x − hi)·scale + shift per statistic: (x − mean)·invStd·γ + β with the mean's low part in the shift.");
            ForEachRun(w, ctx, () => Loop(w, ctx,
                (lane, index) => [$"{Simd}.StoreOutput({Simd}.MultiplyAdd({Simd}.Load(ref xRef, start + {index}) - {Simd}.Load(ref meanHiRef, stat + {index}), {Simd}.Load(ref scaleRef, stat + {index}), {Simd}.Load(ref shiftRef, stat + {index})), ref yRef, start + {index}, streaming);"],
                [$"NormGenSimd.At(ref yRef, start + i) = ({ctx.T})((NormGenSimd.At(ref xRef, start + i) - meanIn[stat + i]) * invStdIn[stat + i]{(FoldsGamma(ctx) ? " * state.Gamma[stat + i]" : "")}{(ctx.HasBeta ? " + state.Beta[stat + i]" : "")});"]),
                withParam: false);
            return;
        }
        EmitParameterReferences(w, ctx, gamma: ctx.HasGamma && !fold, beta: ctx.HasBeta);
        w.Line(rms ? "// y = x·invStd·γ" : ctx.HasBeta ? "// y = (x − mean)·invStd·γ + β" : ctx.HasGamma ? "// y = (x − mean)·invStd·γ" : "// y = (x − mean)·invStd");
        ForEachRun(w, ctx, () =>
        {
            string gamma = "";
            string gammaScalar = "";
            string beta = "";
            string betaScalar = "";
            bool alongRun = SegmentLoops.AffineAlongRun(ctx);
            if (ctx.HasGamma && !fold)
            {
                if (!alongRun)
                {
                    w.Line($"var gammaV = {Simd}.Splat(NormGenSimd.At(ref gammaRef, param));");
                }
                gamma = alongRun ? $" * {Simd}.Load(ref gammaRef, param + {{0}})" : " * gammaV";
                gammaScalar = alongRun ? " * NormGenSimd.At(ref gammaRef, param + i)" : " * NormGenSimd.At(ref gammaRef, param)";
            }
            if (ctx.HasBeta)
            {
                if (!alongRun)
                {
                    w.Line($"var betaV = {Simd}.Splat(NormGenSimd.At(ref betaRef, param));");
                }
                beta = alongRun ? $" + {Simd}.Load(ref betaRef, param + {{0}})" : " + betaV";
                betaScalar = alongRun ? " + NormGenSimd.At(ref betaRef, param + i)" : " + NormGenSimd.At(ref betaRef, param)";
            }
            string centered(string index) => rms ? $"{Simd}.Load(ref xRef, start + {index})" : Centered(ctx, index);
            string centeredScalar = rms ? "(double)NormGenSimd.At(ref xRef, start + i)" : "(NormGenSimd.At(ref xRef, start + i) - meanIn[stat + i])";
            Loop(w, ctx,
                (lane, index) => [$"{Simd}.StoreOutput({centered(index)} * {Simd}.Load(ref scaleRef, stat + {index}){gamma.Replace("{0}", index)}{beta.Replace("{0}", index)}, ref yRef, start + {index}, streaming);"],
                [$"NormGenSimd.At(ref yRef, start + i) = ({ctx.T})({centeredScalar} * (invStdIn[stat + i]{(fold ? " * state.Gamma[stat + i]" : "")}){gammaScalar}{betaScalar});"]);
        }, withParam: !fold || ctx.HasBeta);
    }

    /// <summary>The pivots of one chunk of columns into LaneMeanHi (ColumnPivots splits the columns).</summary>
    private static void EmitPivotsChunk(CodeWriter w, KernelContext ctx) =>
        w.Line($"global::NormGen.Internal.ColumnPivots.ComputeChunk(x, {ctx.StatisticsCount}, state.LaneMeanHi, chunk);");

    /// <summary>Body of <c>BackwardKernel(x, dy, dx, batch)</c>: per-statistic preparation, the two chunked passes, the merges.</summary>
    private static void EmitBackwardOrchestrator(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        bool alongRun = SegmentLoops.AffineAlongRun(ctx);
        int? dxExtension = ColumnKernels.DxWrapExtension(ctx);
        int? narrow = ColumnKernels.NarrowPeriod(ctx);
        // The wrapped dx pass reads its constants past the last column (room for the first ones again); the narrow passes
        // read them repeated over their period.
        string length = dxExtension is int e ? $"count + {Int(e)}" : narrow is int n ? Int(n) : "count";
        w.Line($"int count = {ctx.StatisticsCount};");
        w.Line($"{ctx.T}[] invStd = global::NormGen.Internal.Buffers.AtLeast(ref state.LaneScale, {length});");
        w.Line($"{ctx.T}[] slope = global::NormGen.Internal.Buffers.AtLeast(ref state.LaneSlope, {length});");
        w.Line($"{ctx.T}[] offset = global::NormGen.Internal.Buffers.AtLeast(ref state.LaneOffset, {length});");
        w.Line($"int chunks = {ctx.ChunkCount};");
        // The column kernels' chunks leave Σdy·x̂ and Σdy without γ (the parameter gradients and, times γ, the statistics'
        // sums); the other lane kernels' leave Σg and Σg·x̂, and the parameter sums in rows of their own.
        bool parameterSums = ctx.IsColumnLayout;
        w.Line(parameterSums
            ? "// Per chunk: its Σdy·x̂ row (dγ), then its Σdy row (dβ), padded as the parameter sums are."
            : "// Per chunk: its Σg row, then its Σg·x̂ row, padded as the parameter sums are.");
        w.Line($"int laneStride = count + {StateEmitter.PartialPadding};");
        w.Line("double[] sums = global::NormGen.Internal.Buffers.AtLeast(ref state.LanePartials, chunks * 2 * laneStride);");
        if (!parameterSums)
        {
            GroupMajorKernels.EmitPartialsSetup(w, ctx);
        }
        if (!rms)
        {
            DeclareMeanSplit(w, ctx, length);
        }
        w.Line(rms
            ? "// Per statistic, in the element type: 1/rms."
            : ctx.IsFloat
                ? "// Per statistic, in floats: the saved mean as hi + lo (so that (x − hi) − lo is exact to float precision) and 1/std."
                : "// Per statistic: the saved mean and 1/std.");
        w.Line(rms
            ? $"global::NormGen.Internal.DxConstants.Narrow({ctx.SavedInvStd}, invStd, count);"
            : ctx.IsFloat
                ? $"global::NormGen.Internal.DxConstants.Narrow({ctx.SavedMean}, {ctx.SavedInvStd}, meanHi, meanLo, invStd, count);"
                : $"global::NormGen.Internal.DxConstants.Narrow({ctx.SavedMean}, {ctx.SavedInvStd}, meanHi, invStd, count);");
        if (!rms)
        {
            EmitNarrowRepeat(w, narrow, "hi", "meanHi");
        }
        GroupMajorKernels.EmitInvCount(w, ctx);
        w.Line();
        if (parameterSums)
        {
            w.Line("// Per column Σdy·x̂ and Σdy (x̂ = (x − mean)·invStd): per chunk, then in chunk order.");
            w.Line(KernelMethod.Run("BackwardSumsChunk", "x", "dy", "default"));
            EmitFoldPartials(w, "sums", "laneStride", 2);
            if (ctx.HasGamma)
            {
                if (ctx.Layer is null)
                {
                    w.Line("// The merged rows are dγ and dβ per column: added to GammaGrad and BetaGrad (the same for any number of threads).");
                    w.Line($"global::NormGen.Internal.ParameterGradients.AddChunkSums(sums, laneStride, 1, state.GammaGrad, {(ctx.HasBeta ? "state.BetaGrad" : "null")});");
                }
                else
                {
                    w.Line("// The merged rows are this sample's dγ and dβ per column: added to the sums over the samples, which");
                    w.Line("// BackwardEachSample adds to GammaGrad and BetaGrad (the same for any number of threads).");
                    w.Line("global::NormGen.Internal.ParameterGradients.AddSampleSums(sums, state.SampleParameterSums, laneStride, count);");
                }
            }
        }
        else
        {
            w.Line("// Per statistic Σg and Σg·x̂ (g = γ·dy, x̂ = (x − mean)·invStd); per parameter Σdy·x̂ and Σdy: per chunk, then in chunk order.");
            w.Line(KernelMethod.Run("BackwardSumsChunk", "x", "dy", "default"));
            GroupMajorKernels.EmitPartialsMerge(w, ctx);
            EmitFoldPartials(w, "sums", "laneStride", 2);
        }
        w.Line();
        w.Line(rms
            ? "// dx = invStd·(g − x̂·mean(g·x̂)) = dy·γ·invStd − x·slope"
            : "// dx = invStd·(g − mean(g) − x̂·mean(g·x̂)) = dy·γ·invStd − (x − mean)·slope − offset");
        // The row-order and narrow dx passes read per-column constants prepared here rather than computing them per tile.
        bool rowOrderDx = ColumnKernels.DxFromPreparedConstants(ctx);
        if (rowOrderDx)
        {
            w.Line($"// The {(narrow is null ? "row-order" : "narrow")} dx pass reads {(ctx.HasGamma ? "gain = γ·invStd" : "gain = invStd (LaneScale)")}{(ctx.IsFloat ? " and the offset with the mean's low part folded in" : "")}, per");
            w.Line("// column, computed here as the tiles would compute them in registers.");
            if (ctx.HasGamma)
            {
                w.Line($"{ctx.T}[] gain = global::NormGen.Internal.Buffers.AtLeast(ref state.LaneGain, {length});");
            }
        }
        EmitDxConstants(w, ctx, rowOrderDx, dxExtension is not null, length);
        if (rowOrderDx)
        {
            // (hi was repeated with the sums pass's constants above.)
            EmitNarrowRepeat(w, narrow, "the other dx constants", ctx.HasGamma ? "gain" : "invStd", "slope", "offset");
        }
        w.Line("// No partial sums in the dx pass: its own chunks, split from a smaller size than the sums'.");
        w.Line($"int dxChunks = {ctx.OutputChunkCount};");
        w.Line(KernelMethod.Run("BackwardDxChunk", "x", "dy", "dx", "dxChunks"));
    }

    /// <summary>
    /// The dx pass's per-column slope and offset, and, for the row-order pass, gain with the mean's low part in the offset:
    /// vector loops of the runtime (DxConstants), the same values as the tiles compute in registers. The wrapped pass then
    /// folds the means near zero into the offset (<see cref="EmitFoldedDxMeans"/>).
    /// </summary>
    private static void EmitDxConstants(CodeWriter w, KernelContext ctx, bool rowOrderDx, bool wrapped, string length)
    {
        string centered = ctx.Spec.IsRms ? "false" : "true";
        if (ctx.IsColumnLayout)
        {
            w.Line(ctx.Spec.IsRms
                ? "// Per statistic, from the merged rows: Σg·x̂ = γ·Σdy·x̂ and slope = invStd²·Σg·x̂/n (no offset without a mean)."
                : "// Per statistic, from the merged rows: Σg·x̂ = γ·Σdy·x̂, Σg = γ·Σdy, slope = invStd²·Σg·x̂/n and offset = invStd·Σg/n.");
            string gamma = ctx.HasGamma ? "state.Gamma" : $"global::System.Array.Empty<{ctx.T}>()";
            if (ctx.ColumnGroup > 1)
            {
                w.Line($"// Groups of {Int(ctx.ColumnGroup)} columns share a statistic: Σg and Σg·x̂ summed over each group's columns (γ per column).");
                w.Line("double[] groupSums = global::NormGen.Internal.Buffers.AtLeast(ref state.ColumnGroupSums, 2 * laneStride);");
                w.Line($"global::NormGen.Internal.ColumnGroups.GammaWeightedSums(sums, laneStride, {(ctx.HasGamma ? "state.Gamma" : $"({ctx.T}[]?)null")}, groupSums, count, {Int(ctx.ColumnGroup)});");
                w.Line($"global::NormGen.Internal.DxConstants.SlopeAndOffset({ctx.SavedInvStd}, groupSums, laneStride, invCount, slope, offset, centered: {centered}, count);");
            }
            else
            {
                w.Line($"global::NormGen.Internal.DxConstants.SlopeAndOffsetOfParameterSums({ctx.SavedInvStd}, sums, laneStride, {gamma}, invCount, slope, offset, centered: {centered}, count);");
            }
        }
        else
        {
            w.Line(ctx.Spec.IsRms
                ? "// Per statistic: slope = invStd²·Σg·x̂/n (no offset without a mean)."
                : "// Per statistic: slope = invStd²·Σg·x̂/n and offset = invStd·Σg/n.");
            w.Line($"global::NormGen.Internal.DxConstants.SlopeAndOffset({ctx.SavedInvStd}, sums, laneStride, invCount, slope, offset, centered: {centered}, count);");
        }
        if (rowOrderDx && ctx.HasGamma)
        {
            w.Line("global::NormGen.Internal.DxConstants.Gain(state.Gamma, invStd, gain, count);");
        }
        if (rowOrderDx && ctx.IsFloat)
        {
            w.Line("global::NormGen.Internal.DxConstants.FoldLowPart(offset, meanLo, slope, count);");
        }
        if (wrapped)
        {
            EmitFoldedDxMeans(w, ctx, length);
        }
    }

    /// <summary>
    /// The wrapped dx pass's constants: each mean within Statistics.FoldedMeanLimit standard deviations of zero folded into
    /// the offset (offset = invStd·Σg/n − mean·slope, hi = 0; the others keep the offset with the low part folded in), the
    /// flag saying whether all were, and the first values again past the last column.
    /// </summary>
    private static void EmitFoldedDxMeans(CodeWriter w, KernelContext ctx, string length)
    {
        w.Line("// Where a mean lies within Statistics.FoldedMeanLimit (16) standard deviations of zero, hi = 0 and the whole mean");
        w.Line("// goes into the offset (dx = dy·gain − x·slope − offset); where every one does, the dx pass leaves hi out.");
        w.Line("bool meansFolded = true;");
        using (w.Block("for (int stat = 0; stat < count; stat++)"))
        {
            w.Line($"double s = {ctx.SavedInvStd}[stat];");
            w.Line($"double mean = {ctx.SavedMean}[stat];");
            using (w.Block("if (global::System.Math.Abs(mean) * s <= global::NormGen.Internal.Statistics.FoldedMeanLimit)"))
            {
                w.Line(ctx.IsColumnLayout
                    ? ctx.ColumnGroup > 1
                        ? $"offset[stat] = ({ctx.T})(s * groupSums[stat] * invCount - mean * slope[stat]);"
                        : $"offset[stat] = ({ctx.T})(s * ({(ctx.HasGamma ? "state.Gamma[stat] * " : "")}sums[laneStride + stat]) * invCount - mean * slope[stat]);"
                    : $"offset[stat] = ({ctx.T})(s * sums[stat] * invCount - mean * slope[stat]);");
                w.Line("meanHi[stat] = 0;");
            }
            using (w.Block("else"))
            {
                w.Line("meansFolded = false;");
            }
        }
        w.Line("state.DxMeansFolded = meansFolded;");
        w.Line("// The first values again past the last column, where the dx pass's steps into the next row read them.");
        EmitRepeat(w, length, ctx.HasGamma ? "gain" : "invStd", "meanHi", "slope", "offset");
    }

    /// <summary>Buffers.RepeatPeriod over [0, <paramref name="length"/>) for each of the <paramref name="arrays"/>, period count.</summary>
    private static void EmitRepeat(CodeWriter w, string length, params string[] arrays)
    {
        foreach (string array in arrays)
        {
            w.Line($"global::NormGen.Internal.Buffers.RepeatPeriod({array}, count, {length});");
        }
    }

    private static void EmitBackwardSumsChunk(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        bool alongRun = SegmentLoops.AffineAlongRun(ctx);
        w.Line($"int count = {ctx.StatisticsCount};");
        w.Line($"int laneStride = count + {StateEmitter.PartialPadding};");
        PartialSums.EmitRowPair(w, "LanePartials", "laneStride", "sumGRef", "sumGXhatRef");
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        w.Line($"ref {ctx.T} dyRef = ref {Simd}.Ref(dy);");
        w.Line($"ref {ctx.T} invStdRef = ref {Simd}.Ref(state.LaneScale);");
        if (!rms)
        {
            PartialSums.EmitMeanReferences(w, ctx);
        }
        EmitParameterReferences(w, ctx, gamma: ctx.HasGamma, beta: false);
        PartialSums.EmitParameterRows(w, ctx);
        SegmentLoops.EmitChunkRange(w, ctx);
        w.Line("// Per statistic Σg and Σg·x̂ (g = γ·dy, x̂ = (x − mean)·invStd); per parameter Σdy·x̂ and Σdy for the gradients.");
        string xhatScalar = rms
            ? $"double xhatValue = NormGenSimd.At(ref xRef, start + i) * {ctx.SavedInvStd}[stat + i];"
            : $"double xhatValue = (NormGenSimd.At(ref xRef, start + i) - {ctx.SavedMean}[stat + i]) * {ctx.SavedInvStd}[stat + i];";
        ForEachRun(w, ctx, () =>
        {
            if (ctx.HasGamma && !alongRun)
            {
                w.Line($"var gammaV = {Simd}.Splat(NormGenSimd.At(ref gammaRef, param));");
            }
            string gamma(string index) => !ctx.HasGamma ? "" : alongRun ? $" * {Simd}.Load(ref gammaRef, param + {index})" : " * gammaV";
            string gammaScalar = !ctx.HasGamma ? "" : alongRun ? " * NormGenSimd.At(ref gammaRef, param + i)" : " * NormGenSimd.At(ref gammaRef, param)";
            Loop(w, ctx,
                (lane, index) => Lines(
                    $"var dy{lane} = {Simd}.Load(ref dyRef, start + {index});",
                    $"var xhat{lane} = {(rms ? $"{Simd}.Load(ref xRef, start + {index})" : Centered(ctx, index))} * {Simd}.Load(ref invStdRef, stat + {index});",
                    $"var g{lane} = dy{lane}{gamma(index)};",
                    rms ? null : $"{Simd}.AddWidenedTo(ref sumGRef, stat + {index}, g{lane});",
                    $"{Simd}.AddWidenedTo(ref sumGXhatRef, stat + {index}, g{lane} * xhat{lane});",
                    !ctx.HasGamma ? null : alongRun
                        ? $"{Simd}.AddWidenedTo(ref gammaSumRef, param + {index}, dy{lane} * xhat{lane});"
                        : $"NormGenSimd.At(ref gammaSumRef, param) += {Simd}.SumWidened(dy{lane} * xhat{lane});",
                    !ctx.HasBeta ? null : alongRun
                        ? $"{Simd}.AddWidenedTo(ref betaSumRef, param + {index}, dy{lane});"
                        : $"NormGenSimd.At(ref betaSumRef, param) += {Simd}.SumWidened(dy{lane});"),
                Lines(
                    "double dyValue = NormGenSimd.At(ref dyRef, start + i);",
                    xhatScalar,
                    $"double gValue = dyValue{gammaScalar};",
                    rms ? null : "NormGenSimd.At(ref sumGRef, stat + i) += gValue;",
                    "NormGenSimd.At(ref sumGXhatRef, stat + i) += gValue * xhatValue;",
                    !ctx.HasGamma ? null : alongRun ? "NormGenSimd.At(ref gammaSumRef, param + i) += dyValue * xhatValue;" : "NormGenSimd.At(ref gammaSumRef, param) += dyValue * xhatValue;",
                    !ctx.HasBeta ? null : alongRun ? "NormGenSimd.At(ref betaSumRef, param + i) += dyValue;" : "NormGenSimd.At(ref betaSumRef, param) += dyValue;"));
        });
    }

    private static void EmitBackwardDxChunk(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        bool alongRun = SegmentLoops.AffineAlongRun(ctx);
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        w.Line($"ref {ctx.T} dyRef = ref {Simd}.Ref(dy);");
        w.Line($"ref {ctx.T} dxRef = ref {Simd}.Ref(dx);");
        GroupMajorKernels.EmitStreaming(w, "dx", InnerLines(ctx));
        w.Line($"ref {ctx.T} invStdRef = ref {Simd}.Ref(state.LaneScale);");
        w.Line($"ref {ctx.T} slopeRef = ref {Simd}.Ref(state.LaneSlope);");
        w.Line($"ref {ctx.T} offsetRef = ref {Simd}.Ref(state.LaneOffset);");
        if (!rms)
        {
            PartialSums.EmitMeanReferences(w, ctx);
        }
        EmitParameterReferences(w, ctx, gamma: ctx.HasGamma, beta: false);
        SegmentLoops.EmitChunkRange(w, ctx, outputPass: true);
        ForEachRun(w, ctx, () =>
        {
            if (ctx.HasGamma && !alongRun)
            {
                w.Line($"var gammaV = {Simd}.Splat(NormGenSimd.At(ref gammaRef, param));");
            }
            string gamma(string index) => !ctx.HasGamma ? "" : alongRun ? $" * {Simd}.Load(ref gammaRef, param + {index})" : " * gammaV";
            string gammaScalar = !ctx.HasGamma ? "" : alongRun ? " * NormGenSimd.At(ref gammaRef, param + i)" : " * NormGenSimd.At(ref gammaRef, param)";
            string centered(string index) => rms ? $"{Simd}.Load(ref xRef, start + {index})" : Centered(ctx, index);
            string centeredScalar = rms ? "NormGenSimd.At(ref xRef, start + i)" : $"(NormGenSimd.At(ref xRef, start + i) - {ctx.SavedMean}[stat + i])";
            Loop(w, ctx,
                (lane, index) => [$"{Simd}.StoreOutput({Simd}.Load(ref dyRef, start + {index}){gamma(index)} * {Simd}.Load(ref invStdRef, stat + {index}) - {centered(index)} * {Simd}.Load(ref slopeRef, stat + {index}) - {Simd}.Load(ref offsetRef, stat + {index}), ref dxRef, start + {index}, streaming);"],
                [$"NormGenSimd.At(ref dxRef, start + i) = ({ctx.T})(NormGenSimd.At(ref dyRef, start + i){gammaScalar} * {ctx.SavedInvStd}[stat + i] - {centeredScalar} * NormGenSimd.At(ref slopeRef, stat + i) - NormGenSimd.At(ref offsetRef, stat + i));"]);
        });
    }

    /// <summary>
    /// The lane kernels write in memory order, one run of the innermost dim at a time, with a scalar tail where it is
    /// not whole vectors: whole lines only where the runs are whole lines (and the output starts on one).
    /// </summary>
    private static OutputLines InnerLines(KernelContext ctx) =>
        ctx.Layout.Inner.Batch || ctx.Layout.Inner.Size % ctx.LineElements != 0 ? OutputLines.Partial : OutputLines.WholeIfAligned;

    /// <summary>
    /// Where Gamma and Beta are indexed like the statistics (BatchNorm) or absent, normalizing needs three values per
    /// statistic — the mean's high part, a scale and a shift — and one subtraction and one fused multiply-add per value.
    /// </summary>
    internal static bool PerStatisticShift(KernelContext ctx) => !ctx.Spec.IsRms && (FoldsGamma(ctx) || !ctx.Spec.Affine);

    /// <summary>Whether ForwardInference keeps its folded hi, scale and shift between calls (NormalizeWithRunningStatistics).</summary>
    internal static bool KeepsInferenceFold(KernelContext ctx) => !ctx.Layout.GroupMajor && PerStatisticShift(ctx) && ctx.Spec.HasRunningStats;

    /// <summary>With Gamma spanning exactly the statistics (BatchNorm), invStd·γ folds into one scale per statistic.</summary>
    internal static bool FoldsGamma(KernelContext ctx) =>
        ctx.HasGamma && ctx.Layout.Segments.Where(s => s.Affine).SequenceEqual(ctx.Kept);

    /// <summary>The orchestrators' hi (and, for float data, lo) arrays; the chunk kernels take their own references to them.</summary>
    private static void DeclareMeanSplit(CodeWriter w, KernelContext ctx, string length = "count")
    {
        w.Line($"{ctx.T}[] meanHi = global::NormGen.Internal.Buffers.AtLeast(ref state.LaneMeanHi, {length});");
        if (ctx.IsFloat)
        {
            w.Line("float[] meanLo = global::NormGen.Internal.Buffers.AtLeast(ref state.LaneMeanLo, count);");
        }
    }

    /// <summary>Float data: the mean as hi + lo floats so that (x − hi) − lo is exact to float precision.</summary>
    private static void SplitMean(CodeWriter w, KernelContext ctx)
    {
        w.Line($"meanHi[stat] = ({ctx.T})mean;");
        if (ctx.IsFloat)
        {
            w.Line("meanLo[stat] = (float)(mean - meanHi[stat]);");
        }
    }

    private static string Centered(KernelContext ctx, string index) =>
        ctx.IsFloat
            ? $"({Simd}.Load(ref xRef, start + {index}) - {Simd}.Load(ref meanHiRef, stat + {index}) - {Simd}.Load(ref meanLoRef, stat + {index}))"
            : $"({Simd}.Load(ref xRef, start + {index}) - {Simd}.Load(ref meanHiRef, stat + {index}))";

    private static void EmitParameterReferences(CodeWriter w, KernelContext ctx, bool gamma, bool beta)
    {
        if (gamma)
        {
            w.Line($"ref {ctx.T} gammaRef = ref {Simd}.Ref(state.Gamma);");
        }
        if (beta)
        {
            w.Line($"ref {ctx.T} betaRef = ref {Simd}.Ref(state.Beta);");
        }
    }

    /// <summary>Memory-order loops over every segment but the innermost, with <c>start</c>, <c>stat</c> (first lane's statistic) and <c>param</c>.</summary>
    private static void ForEachRun(CodeWriter w, KernelContext ctx, System.Action body, bool withParam = true)
    {
        var outer = ctx.Layout.Segments.Take(ctx.Layout.Segments.Count - 1).ToList();
        if (outer.Count == 0)
        {
            // The whole input is one run; a block keeps its locals apart from the other passes'.
            using (w.Block("// The whole input is one run."))
            {
                EmitRunLocals();
            }
            return;
        }
        SegmentLoops.Emit(w, ctx, outer, EmitRunLocals, chunked: true);

        void EmitRunLocals()
        {
            w.Line($"int start = {ctx.Offset(outer.Select(s => (s, s.Stride)))};");
            var statTerms = ctx.StatisticTerms().Where(t => t.Segment != ctx.Layout.Inner);
            w.Line($"int stat = {ctx.Offset(statTerms)};");
            if (ctx.HasGamma && withParam)
            {
                w.Line($"int param = {SegmentLoops.ParameterOffset(ctx)};");
            }
            body();
        }
    }

    private static void Loop(CodeWriter w, KernelContext ctx, System.Func<int, string, IEnumerable<string>> vector, IEnumerable<string> scalar) =>
        VectorLoop.Emit(w, ctx, ctx.Layout.Inner.Batch ? null : ctx.Layout.Inner.Size, ctx.Extent(ctx.Layout.Inner), vector, _ => scalar);

    private static IEnumerable<string> Lines(params string?[] lines) => lines.Where(l => l is not null)!;
}
