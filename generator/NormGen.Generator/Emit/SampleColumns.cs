using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// Per-sample statistics over rows × columns: channels-last InstanceNorm (x[N, H, W, C] normalized over H·W for each
/// sample and channel) and LayerNorm over the channels of (N, C, H, W) (over C for each sample and position, as in
/// ConvNeXt). One sample is BatchNorm1d's layout — rows reduced, one statistic per column — so the layer runs the column
/// kernels (<see cref="ColumnKernels"/>) sample by sample, and keeps the statistics of every sample for Backward; γ and β
/// per column go into those kernels, per row into passes of the layer's own (<see cref="ScalesRows"/>). The lane
/// kernels this replaces updated a per-statistic array for every value (x[1,56,56,64] InstanceNorm: three times the time
/// of the same data channels-first) and ran a batch of one on one thread.
/// </summary>
internal static class SampleColumns
{
    /// <summary>
    /// The context of one sample of <paramref name="layer"/> — its dims after the leading kept ones, rows × columns — where
    /// the layer is [kept samples, reduced rows, kept columns] with γ and β (if any) per column, or per row
    /// (<see cref="ScalesRows"/>: the sample's kernels then normalize without them); otherwise null.
    /// </summary>
    public static KernelContext? Sample(KernelContext layer)
    {
        var segments = layer.Layout.Segments;
        if (layer.Spec.BatchStatistics || layer.Layer is not null)
        {
            return null;
        }
        if (GroupedChannelsLast(layer) is int groupColumns)
        {
            return GroupNormSample(layer, groupColumns);
        }
        if (layer.Layout.GroupMajor || segments.Count != 3)
        {
            return null;
        }
        Segment samples = segments[0], rows = segments[1], columns = segments[2];
        bool affine = layer.Spec.Affine;
        bool fits = !samples.Reduced && !(affine && samples.Affine)
            && rows.Reduced && !rows.Batch
            && !columns.Reduced && !columns.Batch
            && (!affine || rows.Affine != columns.Affine);
        if (!fits)
        {
            return null;
        }
        // Without γ and β, or with them per row (applied by the layer's own passes), the sample's kernels have none.
        bool columnParameters = affine && columns.Affine;
        return SampleContext(layer, sample => sample with
        {
            Affine = columnParameters,
            AffineAxes = columnParameters ? layer.Spec.AffineAxes : "",
        }, columnGroup: 1);
    }

    /// <summary>
    /// The context of one sample: the layer's dims after the leading kept ones (the samples segment, with any size-1 dims
    /// among them), the spec otherwise as <paramref name="adjust"/> makes it; null unless that is a column layout of at
    /// least <see cref="MinSampleValues"/> values.
    /// </summary>
    private static KernelContext? SampleContext(KernelContext layer, System.Func<LayerSpec, LayerSpec> adjust, int columnGroup)
    {
        var dims = layer.Spec.Dims.SkipWhile(d => layer.Spec.Axes.IndexOf(d.Letter) < 0).ToList();
        string shape = string.Join(",", dims.Select(d => $"{d.Letter}={Int(d.Size!.Value)}"));
        LayerSpec sample = adjust(layer.Spec with { Dims = new EquatableArray<Dim>(dims.ToArray()), ShapeText = shape });
        var context = new KernelContext(new Layout(sample), layer.TypeNameWithParameters, layer.AttributeText, layer, columnGroup);
        return context.IsColumnLayout && context.Layout.SampleSize >= MinSampleValues ? context : null;
    }

    /// <summary>
    /// GroupNorm channels-last ([samples, H·W rows, G groups, C/G channels], γ and β per channel or none): the channels per
    /// group, which its sample's column kernels combine (<see cref="KernelContext.ColumnGroup"/>); otherwise null. The
    /// group-major kernels took such a group as H·W runs of C/G values C apart: GroupNorm(32) x[8,32,32,64] forward 2.6 ms
    /// against 43 µs channels-first.
    /// </summary>
    private static int? GroupedChannelsLast(KernelContext layer)
    {
        var segments = layer.Layout.Segments;
        if (layer.Spec.Groups <= 1 || segments.Count != 4)
        {
            return null;
        }
        Segment samples = segments[0], rows = segments[1], groups = segments[2], channels = segments[3];
        bool fits = !samples.Reduced && rows.Reduced && !rows.Batch && !groups.Reduced && groups.Letters == "G"
            && channels.Reduced && channels.Letters == "C" && layer.Spec.Dims[layer.Spec.Dims.Count - 1].Letter == 'C'
            && (!layer.Spec.Affine || layer.Spec.AffineAxes == "C");
        return fits ? channels.Size : null;
    }

    /// <summary>One sample of GroupNorm channels-last: H·W rows of C columns, a statistic per group of adjacent columns.</summary>
    private static KernelContext? GroupNormSample(KernelContext layer, int groupColumns) =>
        SampleContext(layer, sample => sample with
        {
            Axes = layer.Spec.Axes.Replace("C", ""),
            Groups = 1,
            AffineAxes = layer.Spec.Affine ? "C" : "",
        }, groupColumns);

    /// <summary>
    /// γ and β per row of a sample (LayerNorm over the channels of (N, C, H, W), as in ConvNeXt): the sample's kernels
    /// normalize without them; the layer scales and shifts each row of y, and gives Backward γ·dy with dγ and dβ.
    /// </summary>
    public static bool ScalesRows(KernelContext layer) => layer.Spec.Affine && layer.Layout.Segments[1].Affine;

    /// <summary>
    /// The smallest sample that goes through the column kernels: each sample costs a fixed ~0.2 µs of preparation (its
    /// pivots, statistics and fold), so smaller ones keep the lane kernels, which take the whole batch at once. InstanceNorm
    /// x[256,4,4,32] (512 values a sample) forward at one thread: 74 µs with the lane kernels, 97 µs sample by sample.
    /// </summary>
    private const int MinSampleValues = 1024;

    /// <summary>Values in one sample, and the statistics (columns) of one sample.</summary>
    private static (int Values, int Columns) SampleExtent(KernelContext sample) =>
        (sample.Layout.SampleSize, sample.Layout.Segments[1].Size);

    /// <summary>
    /// The runtime's <c>Threading.ParallelThreshold</c>: from this many values a sample's own statistics passes split its
    /// rows into chunks, so the samples go one after the other, each shared out over the threads. Smaller samples are
    /// shared out whole instead, each chunk of samples on a worker state of its own (one hand-off a call, not several a
    /// sample: x[8,28,28,64] ran slower at two threads than at one with its samples' rows shared out).
    /// </summary>
    private const int RowChunkedSampleValues = 1 << 17;

    /// <summary>Whether each sample's rows are shared out over the threads (large samples) rather than whole samples.</summary>
    public static bool SplitsRows(KernelContext sample) => sample.Layout.SampleSize >= RowChunkedSampleValues;

    /// <summary>The layer's orchestrators, which the API calls, and their chunk kernels.</summary>
    public static IReadOnlyList<KernelMethod> Methods(KernelContext layer, KernelContext sample)
    {
        string t = layer.T;
        bool rows = SplitsRows(sample);
        bool scales = ScalesRows(layer);
        var methods = new List<KernelMethod>
        {
            new("NormalizeEachSample",
                (rows
                    ? "Normalizes x into y sample by sample (NormalizeWithOwnStatistics on each, its rows shared out over the threads)"
                    : "Normalizes x into y in chunks of whole samples shared out over the threads (NormalizeSamplesChunk)")
                + (scales ? ", then scales and shifts each row of y by its γ and β" : "")
                + ", keeping every sample's statistics in the given arrays.",
                (w, ctx) => EmitNormalize(w, ctx, sample),
                $"global::System.ReadOnlySpan<{t}> x, global::System.Span<{t}> y, int batch, double[] meanOut, double[] invStdOut, double[] varianceOut"),
            new("BackwardEachSample",
                (rows
                    ? $"dx from dy sample by sample ({(scales ? "γ·dy with the rows' dγ and dβ, then " : "")}BackwardKernel on each, with that sample's saved statistics, its rows shared out over the threads); adds the parameter gradients to GammaGrad/BetaGrad once, summed in double over the samples."
                    : "dx from dy in chunks of whole samples shared out over the threads (BackwardSamplesChunk); adds the parameter gradients to GammaGrad/BetaGrad once, summed in double over the chunks in chunk order."),
                (w, ctx) => EmitBackward(w, ctx, sample),
                $"global::System.ReadOnlySpan<{t}> x, global::System.ReadOnlySpan<{t}> dy, global::System.Span<{t}> dx, int batch"),
        };
        if (!rows)
        {
            methods.Add(KernelMethod.Chunk("NormalizeSamplesChunk",
                $"One chunk of samples on this chunk's worker: each sample's statistics and y (NormalizeWithOwnStatistics{(scales ? ", then each row's γ and β" : "")}), the statistics copied to the sample's place in the active arrays.",
                "x", KernelMethod.Unused, "y", (w, ctx) => EmitNormalizeChunk(w, ctx, sample)));
            methods.Add(KernelMethod.Chunk("BackwardSamplesChunk",
                $"One chunk of samples on this chunk's worker: each sample's dx ({(scales ? "γ·dy with the rows' dγ and dβ, then " : "")}BackwardKernel with the sample's saved statistics), its parameter sums added to the worker's.",
                "x", "dy", "dx", (w, ctx) => EmitBackwardChunk(w, ctx, sample)));
        }
        else if (scales)
        {
            methods.Add(KernelMethod.Chunk("ScaleRowsChunk",
                "One chunk of a sample's rows: y = x̂·γ + β with the row's γ and β.",
                "unusedX", KernelMethod.Unused, "y", (w, ctx) => EmitScaleRowsChunk(w, sample)));
            methods.Add(KernelMethod.Chunk("RowGradientsChunk",
                "One chunk of a sample's rows: g = γ·dy, and each row's Σdy·x̂ and Σdy added to the parameter sums.",
                "x", "dy", "g", (w, ctx) => EmitRowGradientsChunk(w, ctx, sample)));
        }
        return methods;
    }

    private static void EmitSampleConstants(CodeWriter w, KernelContext sample, bool withCount = true)
    {
        (int values, int columns) = SampleExtent(sample);
        w.Line($"const int sampleValues = {Int(values)};");
        if (withCount)
        {
            w.Line($"const int count = {Int(columns)};");
        }
    }

    /// <summary>Whether the forward's sample loop reads the columns' count: to copy per-column statistics, or to scale rows.</summary>
    private static bool ForwardUsesCount(KernelContext layer, KernelContext sample) => sample.ColumnGroup == 1 || ScalesRows(layer);

    private static string Samples(KernelContext layer) => layer.Extent(layer.Layout.Segments[0]);

    /// <summary>The chunks of samples of a call: as for a one-pass kernel over x (the same for any number of threads).</summary>
    private static string SampleChunks(KernelContext layer) =>
        $"global::NormGen.Internal.Threading.ChunkCount({Samples(layer)}, x.Length, global::NormGen.Internal.Threading.OnePassParallelThreshold)";

    /// <summary>The rows of one sample (the reduced segment).</summary>
    private static int SampleRows(KernelContext sample) => sample.Layout.Segments[0].Size;

    /// <summary>The chunks of a sample's rows for the row passes: as for a one-pass kernel over the sample.</summary>
    private static string RowChunks(KernelContext sample) =>
        $"global::NormGen.Internal.Threading.ChunkCount({Int(SampleRows(sample))}, sampleValues, global::NormGen.Internal.Threading.OnePassParallelThreshold)";

    /// <summary>The parameter sums' second row (Σdy) starts this far into them: the parameters, padded like the chunks' rows.</summary>
    private static string ParameterStride(KernelContext layer) => $"{Int(layer.Layout.ParameterSize)} + {Int(StateEmitter.PartialPadding)}";

    private static void EmitSampleChunkRange(CodeWriter w, KernelContext layer)
    {
        w.Line($"int samples = {Samples(layer)};");
        w.Line("// This chunk's samples (the partition depends on the shape only, not on the threads), on the chunk's own worker.");
        w.Line("int chunkSize = global::NormGen.Internal.Threading.ChunkSize(samples, x.Length, global::NormGen.Internal.Threading.OnePassParallelThreshold);");
        w.Line("int chunkFirst = chunk * chunkSize;");
        w.Line("int chunkLast = global::System.Math.Min(chunkFirst + chunkSize, samples);");
        w.Line("NormGenState worker = state.SampleWorkers![chunk];");
    }

    private static void EmitNormalize(CodeWriter w, KernelContext layer, KernelContext sample)
    {
        if (!SplitsRows(sample))
        {
            w.Line("state.ActiveMean = meanOut;");
            w.Line("state.ActiveInvStd = invStdOut;");
            w.Line("state.ActiveVariance = varianceOut;");
            w.Line($"int chunks = {SampleChunks(layer)};");
            w.Line("state.SampleWorkers ??= state.CreateWorkers();");
            w.Line("// Each chunk of whole samples on a worker of its own; a sample's statistics and y are the same in any chunk.");
            w.Line(KernelMethod.Run("NormalizeSamplesChunk", "x", "default", "y"));
            return;
        }
        EmitSampleConstants(w, sample, ForwardUsesCount(layer, sample));
        w.Line($"int samples = {Samples(layer)};");
        w.Line("double[] mean = state.SampleMean;");
        w.Line("double[] invStd = state.SampleInvStd;");
        w.Line("double[] variance = state.SampleVariance;");
        if (ScalesRows(layer))
        {
            w.Line($"int rowChunks = {RowChunks(sample)};");
        }
        w.Line("// Each sample is rows × columns with one statistic per column: its statistics, then its y, each pass over its rows");
        w.Line("// in chunks shared out over the threads. Its statistics go to the sample's place in the layer's arrays.");
        using (w.Block("for (int sample = 0; sample < samples; sample++)"))
        {
            EmitSampleForward(w, layer, sample, "state", ["mean", "invStd", "variance"], ["meanOut", "invStdOut", "varianceOut"],
                KernelMethod.Run("ScaleRowsChunk", "default", "default", "y.Slice(start, sampleValues)", "rowChunks"));
        }
    }

    private static void EmitNormalizeChunk(CodeWriter w, KernelContext layer, KernelContext sample)
    {
        EmitSampleConstants(w, sample, ForwardUsesCount(layer, sample));
        EmitSampleChunkRange(w, layer);
        using (w.Block("for (int sample = chunkFirst; sample < chunkLast; sample++)"))
        {
            EmitSampleForward(w, layer, sample, "worker", ["worker.SampleMean", "worker.SampleInvStd", "worker.SampleVariance"],
                ["state.ActiveMean", "state.ActiveInvStd", "state.ActiveVariance"],
                $"global::NormGen.Internal.RowParameters.Scale(y.Slice(start, sampleValues), count, state.Gamma, {(layer.HasBeta ? "state.Beta" : "null")}, 0, {Int(SampleRows(sample))});");
        }
    }

    /// <summary>
    /// One sample's forward inside a sample loop, on <paramref name="state"/> (the layer's state, or a chunk's worker): its
    /// statistics into <paramref name="statistics"/> (mean, 1/std, variance) and y; with γ and β per row, the row pass
    /// <paramref name="scaleRows"/> after it; the statistics then copied to the sample's place in <paramref name="outputs"/>.
    /// </summary>
    private static void EmitSampleForward(CodeWriter w, KernelContext layer, KernelContext sample, string state, string[] statistics,
        string[] outputs, string scaleRows)
    {
        w.Line("int start = sample * sampleValues;");
        w.Line($"NormalizeWithOwnStatistics({state}, x.Slice(start, sampleValues), y.Slice(start, sampleValues), 1, {string.Join(", ", statistics)});");
        if (ScalesRows(layer))
        {
            w.Line("// y holds x̂: each row scaled and shifted by its γ and β.");
            w.Line(scaleRows);
        }
        EmitCopyStatistics(w, sample, statistics[0], statistics[1], statistics[2], outputs[0], outputs[1], outputs[2]);
    }

    private static void EmitCopyStatistics(CodeWriter w, KernelContext sample, string mean, string invStd, string variance, string meanOut, string invStdOut, string varianceOut)
    {
        if (sample.ColumnGroup > 1)
        {
            int groups = SampleExtent(sample).Columns / sample.ColumnGroup;
            w.Line($"// Each group's statistics, which all {Int(sample.ColumnGroup)} of its columns hold.");
            using (w.Block($"for (int group = 0; group < {Int(groups)}; group++)"))
            {
                w.Line($"{meanOut}[(sample * {Int(groups)}) + group] = {mean}[group * {Int(sample.ColumnGroup)}];");
                w.Line($"{invStdOut}[(sample * {Int(groups)}) + group] = {invStd}[group * {Int(sample.ColumnGroup)}];");
                w.Line($"{varianceOut}[(sample * {Int(groups)}) + group] = {variance}[group * {Int(sample.ColumnGroup)}];");
            }
            return;
        }
        w.Line($"global::System.Array.Copy({mean}, 0, {meanOut}, sample * count, count);");
        w.Line($"global::System.Array.Copy({invStd}, 0, {invStdOut}, sample * count, count);");
        w.Line($"global::System.Array.Copy({variance}, 0, {varianceOut}, sample * count, count);");
    }

    private static void EmitScaleRowsChunk(CodeWriter w, KernelContext sample)
    {
        (int values, int columns) = SampleExtent(sample);
        w.Line($"const int sampleValues = {Int(values)};");
        EmitRowChunkRange(w, sample);
        w.Line($"global::NormGen.Internal.RowParameters.Scale(y, {Int(columns)}, state.Gamma, {(sample.Layer!.HasBeta ? "state.Beta" : "null")}, chunkFirst, chunkLast);");
    }

    private static void EmitRowGradientsChunk(CodeWriter w, KernelContext layer, KernelContext sample)
    {
        (int values, int columns) = SampleExtent(sample);
        w.Line($"const int sampleValues = {Int(values)};");
        EmitRowChunkRange(w, sample);
        w.Line(RowGradientsCall("state", "x", "dy", "g", layer, sample, "chunkFirst", "chunkLast", Int(columns)));
    }

    private static void EmitRowChunkRange(CodeWriter w, KernelContext sample)
    {
        int rows = SampleRows(sample);
        w.Line("// This chunk's rows of the sample (the partition depends on the shape only, not on the threads).");
        w.Line($"int chunkSize = global::NormGen.Internal.Threading.ChunkSize({Int(rows)}, sampleValues, global::NormGen.Internal.Threading.OnePassParallelThreshold);");
        w.Line("int chunkFirst = chunk * chunkSize;");
        w.Line($"int chunkLast = global::System.Math.Min(chunkFirst + chunkSize, {Int(rows)});");
    }

    private static string RowGradientsCall(string state, string x, string dy, string g, KernelContext layer, KernelContext sample, string first, string end, string columns)
    {
        bool rms = layer.Spec.IsRms;
        string hi = rms ? "null" : $"{state}.RowMeanHi";
        string lo = rms || !layer.IsFloat ? "null" : $"{state}.RowMeanLo";
        return $"global::NormGen.Internal.RowParameters.Gradients({x}, {dy}, {g}, {columns}, {hi}, {lo}, {state}.RowInvStd, {state}.Gamma, {state}.SampleParameterSums, {ParameterStride(layer)}, withBeta: {(layer.HasBeta ? "true" : "false")}, {first}, {end});";
    }

    /// <summary>The sample's saved statistics in the element type for the row gradients' x̂ (as BackwardKernel narrows them).</summary>
    private static void EmitRowConstants(CodeWriter w, KernelContext layer, string state)
    {
        w.Line(layer.Spec.IsRms
            ? $"global::NormGen.Internal.DxConstants.Narrow({state}.SampleSavedInvStd, {state}.RowInvStd, count);"
            : layer.IsFloat
                ? $"global::NormGen.Internal.DxConstants.Narrow({state}.SampleSavedMean, {state}.SampleSavedInvStd, {state}.RowMeanHi, {state}.RowMeanLo, {state}.RowInvStd, count);"
                : $"global::NormGen.Internal.DxConstants.Narrow({state}.SampleSavedMean, {state}.SampleSavedInvStd, {state}.RowMeanHi, {state}.RowInvStd, count);");
    }

    private static void EmitBackward(CodeWriter w, KernelContext layer, KernelContext sample)
    {
        bool rows = SplitsRows(sample);
        bool scales = ScalesRows(layer);
        if (rows)
        {
            EmitSampleConstants(w, sample);
            w.Line($"int samples = {Samples(layer)};");
        }
        if (layer.HasGamma)
        {
            w.Line($"const int parameterStride = {ParameterStride(layer)};");
            w.Line(rows
                ? $"// dγ and dβ of every sample, summed in double ({(scales ? "each row's by its chunk of rows" : "BackwardKernel adds each sample's")}), then added to the gradients once."
                : "// dγ and dβ summed in double: each chunk's samples on its worker, then the workers' in chunk order, added to the gradients once.");
            w.Line("double[] parameterSums = state.SampleParameterSums;");
            w.Line("global::System.Array.Clear(parameterSums, 0, parameterSums.Length);");
        }
        if (!rows)
        {
            w.Line($"int chunks = {SampleChunks(layer)};");
            w.Line("state.SampleWorkers ??= state.CreateWorkers();");
            w.Line("// Each chunk of whole samples on a worker of its own; a sample's dx is the same in any chunk.");
            w.Line(KernelMethod.Run("BackwardSamplesChunk", "x", "dy", "dx"));
            if (layer.HasGamma)
            {
                using (w.Block("for (int chunk = 0; chunk < chunks; chunk++)"))
                {
                    w.Line($"global::NormGen.Internal.ParameterGradients.AddSampleSums(state.SampleWorkers[chunk].SampleParameterSums, parameterSums, parameterStride, {Int(layer.Layout.ParameterSize)});");
                }
            }
        }
        else
        {
            if (scales)
            {
                w.Line($"int rowChunks = {RowChunks(sample)};");
                w.Line($"{layer.T}[] g = global::NormGen.Internal.Buffers.AtLeast(ref state.RowGradient, sampleValues);");
            }
            w.Line("// Each sample with its saved statistics: its gradient sums, then its dx, each pass over its rows in chunks shared out");
            w.Line("// over the threads.");
            using (w.Block("for (int sample = 0; sample < samples; sample++)"))
            {
                EmitSampleBackward(w, layer, sample, "state",
                    KernelMethod.Run("RowGradientsChunk", "x.Slice(start, sampleValues)", "dy.Slice(start, sampleValues)", Gradient(layer), "rowChunks"));
            }
        }
        if (layer.HasGamma)
        {
            w.Line($"global::NormGen.Internal.ParameterGradients.AddChunkSums(parameterSums, parameterStride, 1, state.GammaGrad, {(layer.HasBeta ? "state.BetaGrad" : "null")});");
        }
    }

    /// <summary>The sample's part of the scratch array g (γ·dy), as a span.</summary>
    private static string Gradient(KernelContext layer) => $"new global::System.Span<{layer.T}>(g, 0, sampleValues)";

    /// <summary>
    /// One sample's backward inside a sample loop, on <paramref name="state"/> (the layer's state, or a chunk's worker):
    /// its saved statistics copied for BackwardKernel; with γ and β per row, the row pass <paramref name="rowGradients"/>
    /// (γ·dy into g, the rows' dγ and dβ) first and BackwardKernel on g.
    /// </summary>
    private static void EmitSampleBackward(CodeWriter w, KernelContext layer, KernelContext sample, string state, string rowGradients)
    {
        w.Line("int start = sample * sampleValues;");
        if (sample.ColumnGroup > 1)
        {
            int groups = SampleExtent(sample).Columns / sample.ColumnGroup;
            w.Line("// Each column gets its group's saved statistics.");
            using (w.Block("for (int column = 0; column < count; column++)"))
            {
                w.Line($"{state}.SampleSavedMean[column] = state.SavedMean[(sample * {Int(groups)}) + (column / {Int(sample.ColumnGroup)})];");
                w.Line($"{state}.SampleSavedInvStd[column] = state.SavedInvStd[(sample * {Int(groups)}) + (column / {Int(sample.ColumnGroup)})];");
            }
        }
        else
        {
            w.Line($"global::System.Array.Copy(state.SavedMean, sample * count, {state}.SampleSavedMean, 0, count);");
            w.Line($"global::System.Array.Copy(state.SavedInvStd, sample * count, {state}.SampleSavedInvStd, 0, count);");
        }
        string dy = "dy.Slice(start, sampleValues)";
        if (ScalesRows(layer))
        {
            w.Line("// g = γ·dy row by row, with each row's Σdy·x̂ and Σdy (dγ and dβ); then dx from g, as without parameters.");
            EmitRowConstants(w, layer, state);
            w.Line(rowGradients);
            dy = Gradient(layer);
        }
        w.Line($"BackwardKernel({state}, x.Slice(start, sampleValues), {dy}, dx.Slice(start, sampleValues), 1);");
    }

    private static void EmitBackwardChunk(CodeWriter w, KernelContext layer, KernelContext sample)
    {
        bool scales = ScalesRows(layer);
        EmitSampleConstants(w, sample);
        EmitSampleChunkRange(w, layer);
        if (layer.HasGamma)
        {
            w.Line("global::System.Array.Clear(worker.SampleParameterSums, 0, worker.SampleParameterSums.Length);");
        }
        if (scales)
        {
            w.Line($"{layer.T}[] g = global::NormGen.Internal.Buffers.AtLeast(ref worker.RowGradient, sampleValues);");
        }
        using (w.Block("for (int sample = chunkFirst; sample < chunkLast; sample++)"))
        {
            EmitSampleBackward(w, layer, sample, "worker",
                RowGradientsCall("worker", "x.Slice(start, sampleValues)", "dy.Slice(start, sampleValues)", Gradient(layer), layer, sample, "0", Int(SampleRows(sample)), "count"));
        }
    }

    /// <summary>The state's per-sample arrays: one sample's statistics, its saved copy for Backward, the parameter sums; the workers.</summary>
    public static void EmitState(CodeWriter w, KernelContext layer, KernelContext sample)
    {
        string columns = Int(SampleExtent(sample).Columns);
        string t = layer.T;
        w.Line("// One sample's statistics (NormalizeWithOwnStatistics), and the saved ones BackwardKernel reads for it.");
        w.Line($"public readonly double[] SampleMean = new double[{columns}];");
        w.Line($"public readonly double[] SampleInvStd = new double[{columns}];");
        w.Line($"public readonly double[] SampleVariance = new double[{columns}];");
        w.Line($"public readonly double[] SampleSavedMean = new double[{columns}];");
        w.Line($"public readonly double[] SampleSavedInvStd = new double[{columns}];");
        if (layer.HasGamma)
        {
            w.Line("// dγ and dβ summed over samples: the Gamma row, then the Beta row, padded like the chunks' rows.");
            w.Line($"public readonly double[] SampleParameterSums = new double[2 * ({ParameterStride(layer)})];");
        }
        if (ScalesRows(layer))
        {
            w.Line("// Backward's γ·dy of one sample, and the sample's per-column mean (hi and lo) and 1/std for the rows' x̂.");
            w.Line($"public {t}[] RowGradient = global::System.Array.Empty<{t}>();");
            if (!layer.Spec.IsRms)
            {
                w.Line($"public readonly {t}[] RowMeanHi = new {t}[{columns}];");
                if (layer.IsFloat)
                {
                    w.Line($"public readonly float[] RowMeanLo = new float[{columns}];");
                }
            }
            w.Line($"public readonly {t}[] RowInvStd = new {t}[{columns}];");
        }
        if (SplitsRows(sample))
        {
            return;
        }
        w.Line("// One worker per chunk of samples, with the scratch above of its own (null before the first call).");
        w.Line("public NormGenState[]? SampleWorkers;");
        w.Line();
        w.Line("public NormGenState()");
        w.Line("{");
        w.Line("}");
        w.Line();
        w.Line("/// <summary>A worker for a chunk of samples: its own scratch, the layer's γ and β, one thread.</summary>");
        using (w.Block("private NormGenState(NormGenState layer)"))
        {
            if (layer.HasGamma)
            {
                w.Line("Gamma = layer.Gamma;");
            }
            if (layer.HasBeta)
            {
                w.Line("Beta = layer.Beta;");
            }
            w.Line("MaxDegreeOfParallelism = 1;");
        }
        w.Line();
        w.Line("/// <summary>A worker for each of the most chunks a call makes.</summary>");
        using (w.Block("public NormGenState[] CreateWorkers()"))
        {
            w.Line("var workers = new NormGenState[global::NormGen.Internal.Threading.MaxChunks];");
            using (w.Block("for (int i = 0; i < workers.Length; i++)"))
            {
                w.Line("workers[i] = new NormGenState(this);");
            }
            w.Line("return workers;");
        }
    }
}
