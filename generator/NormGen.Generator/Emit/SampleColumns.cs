using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// Per-sample statistics over rows × columns — channels-last InstanceNorm, x[N, H, W, C] normalized over H·W for each
/// sample and channel. One sample is BatchNorm1d's layout: rows reduced, one statistic (and γ, β entry) per column. So
/// the layer runs the column kernels (<see cref="ColumnKernels"/>) sample by sample, each sample's rows in chunks shared
/// out over the threads, and keeps the statistics of every sample for Backward. The lane kernels this replaces updated
/// a per-statistic array for every value (x[1,56,56,64]: three times the time of the same data channels-first) and ran
/// a batch of one on one thread.
/// </summary>
internal static class SampleColumns
{
    /// <summary>
    /// The context of one sample of <paramref name="layer"/> — its dims after the leading kept ones, rows × columns — where
    /// the layer is [kept samples, reduced rows, kept columns] with γ and β (if any) per column; otherwise null.
    /// </summary>
    public static KernelContext? Sample(KernelContext layer)
    {
        var segments = layer.Layout.Segments;
        if (layer.Layout.GroupMajor || layer.Spec.BatchStatistics || layer.Layer is not null || segments.Count != 3)
        {
            return null;
        }
        Segment samples = segments[0], rows = segments[1], columns = segments[2];
        bool fits = !samples.Reduced && !samples.Affine
            && rows.Reduced && !rows.Batch && !rows.Affine
            && !columns.Reduced && !columns.Batch && (columns.Affine || !layer.Spec.Affine);
        if (!fits)
        {
            return null;
        }
        // The sample's dims: those after the leading kept ones (the samples segment, with any size-1 dims among them).
        var dims = layer.Spec.Dims.SkipWhile(d => layer.Spec.Axes.IndexOf(d.Letter) < 0).ToList();
        string shape = string.Join(",", dims.Select(d => $"{d.Letter}={Int(d.Size!.Value)}"));
        LayerSpec sample = layer.Spec with { Dims = new EquatableArray<Dim>(dims.ToArray()), ShapeText = shape };
        var context = new KernelContext(new Layout(sample), layer.TypeNameWithParameters, layer.AttributeText, layer);
        return context.IsColumnLayout && context.Layout.SampleSize >= MinSampleValues ? context : null;
    }

    /// <summary>
    /// The smallest sample that goes through the column kernels: each sample costs a fixed ~0.2 µs of preparation (its
    /// pivots, statistics and fold), so smaller ones keep the lane kernels, which take the whole batch at once. x[256,4,4,32]
    /// (512 values a sample) forward at one thread: 74 µs with the lane kernels, 97 µs sample by sample.
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

    /// <summary>The layer's orchestrators, which the API calls, and (small samples) their chunk kernels.</summary>
    public static IReadOnlyList<KernelMethod> Methods(KernelContext layer, KernelContext sample)
    {
        string t = layer.T;
        bool rows = SplitsRows(sample);
        var methods = new List<KernelMethod>
        {
            new("NormalizeEachSample",
                rows
                    ? "Normalizes x into y sample by sample (NormalizeWithOwnStatistics on each, its rows shared out over the threads), keeping every sample's statistics in the given arrays."
                    : "Normalizes x into y in chunks of whole samples shared out over the threads (NormalizeSamplesChunk), keeping every sample's statistics in the given arrays.",
                (w, ctx) => EmitNormalize(w, ctx, sample),
                $"global::System.ReadOnlySpan<{t}> x, global::System.Span<{t}> y, int batch, double[] meanOut, double[] invStdOut, double[] varianceOut"),
            new("BackwardEachSample",
                rows
                    ? "dx from dy sample by sample (BackwardKernel on each, with that sample's saved statistics, its rows shared out over the threads); adds the parameter gradients to GammaGrad/BetaGrad once, summed in double over the samples."
                    : "dx from dy in chunks of whole samples shared out over the threads (BackwardSamplesChunk); adds the parameter gradients to GammaGrad/BetaGrad once, summed in double over the chunks in chunk order.",
                (w, ctx) => EmitBackward(w, ctx, sample),
                $"global::System.ReadOnlySpan<{t}> x, global::System.ReadOnlySpan<{t}> dy, global::System.Span<{t}> dx, int batch"),
        };
        if (!rows)
        {
            methods.Add(KernelMethod.Chunk("NormalizeSamplesChunk",
                "One chunk of samples on this chunk's worker: each sample's statistics and y (NormalizeWithOwnStatistics), the statistics copied to the sample's place in the active arrays.",
                "x", KernelMethod.Unused, "y", (w, ctx) => EmitNormalizeChunk(w, ctx, sample)));
            methods.Add(KernelMethod.Chunk("BackwardSamplesChunk",
                "One chunk of samples on this chunk's worker: each sample's dx (BackwardKernel with the sample's saved statistics), its parameter sums added to the worker's.",
                "x", "dy", "dx", (w, ctx) => EmitBackwardChunk(w, ctx, sample)));
        }
        return methods;
    }

    private static void EmitSampleConstants(CodeWriter w, KernelContext sample)
    {
        (int values, int columns) = SampleExtent(sample);
        w.Line($"const int sampleValues = {Int(values)};");
        w.Line($"const int count = {Int(columns)};");
    }

    private static string Samples(KernelContext layer) => layer.Extent(layer.Layout.Segments[0]);

    /// <summary>The chunks of samples of a call: as for a one-pass kernel over x (the same for any number of threads).</summary>
    private static string SampleChunks(KernelContext layer) =>
        $"global::NormGen.Internal.Threading.ChunkCount({Samples(layer)}, x.Length, global::NormGen.Internal.Threading.OnePassParallelThreshold)";

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
        EmitSampleConstants(w, sample);
        w.Line($"int samples = {Samples(layer)};");
        w.Line("double[] mean = state.SampleMean;");
        w.Line("double[] invStd = state.SampleInvStd;");
        w.Line("double[] variance = state.SampleVariance;");
        w.Line("// Each sample is rows × columns with one statistic per column: its statistics, then its y, each pass over its rows");
        w.Line("// in chunks shared out over the threads. Its statistics go to the sample's place in the layer's arrays.");
        using (w.Block("for (int sample = 0; sample < samples; sample++)"))
        {
            w.Line("int start = sample * sampleValues;");
            w.Line("NormalizeWithOwnStatistics(state, x.Slice(start, sampleValues), y.Slice(start, sampleValues), 1, mean, invStd, variance);");
            EmitCopyStatistics(w, "mean", "invStd", "variance", "meanOut", "invStdOut", "varianceOut");
        }
    }

    private static void EmitNormalizeChunk(CodeWriter w, KernelContext layer, KernelContext sample)
    {
        EmitSampleConstants(w, sample);
        EmitSampleChunkRange(w, layer);
        using (w.Block("for (int sample = chunkFirst; sample < chunkLast; sample++)"))
        {
            w.Line("int start = sample * sampleValues;");
            w.Line("NormalizeWithOwnStatistics(worker, x.Slice(start, sampleValues), y.Slice(start, sampleValues), 1, worker.SampleMean, worker.SampleInvStd, worker.SampleVariance);");
            EmitCopyStatistics(w, "worker.SampleMean", "worker.SampleInvStd", "worker.SampleVariance", "state.ActiveMean", "state.ActiveInvStd", "state.ActiveVariance");
        }
    }

    private static void EmitCopyStatistics(CodeWriter w, string mean, string invStd, string variance, string meanOut, string invStdOut, string varianceOut)
    {
        w.Line($"global::System.Array.Copy({mean}, 0, {meanOut}, sample * count, count);");
        w.Line($"global::System.Array.Copy({invStd}, 0, {invStdOut}, sample * count, count);");
        w.Line($"global::System.Array.Copy({variance}, 0, {varianceOut}, sample * count, count);");
    }

    private static void EmitBackward(CodeWriter w, KernelContext layer, KernelContext sample)
    {
        bool rows = SplitsRows(sample);
        if (rows)
        {
            EmitSampleConstants(w, sample);
            w.Line($"int samples = {Samples(layer)};");
        }
        else if (layer.HasGamma)
        {
            w.Line($"const int count = {Int(SampleExtent(sample).Columns)};");
        }
        if (layer.HasGamma)
        {
            w.Line($"const int laneStride = count + {StateEmitter.PartialPadding};");
            w.Line(rows
                ? "// dγ and dβ of every sample, summed in double (BackwardKernel adds each sample's), then added to the gradients once."
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
                    w.Line("global::NormGen.Internal.ParameterGradients.AddSampleSums(state.SampleWorkers[chunk].SampleParameterSums, parameterSums, laneStride, count);");
                }
            }
        }
        else
        {
            w.Line("// Each sample with its saved statistics: its gradient sums, then its dx, each pass over its rows in chunks shared out");
            w.Line("// over the threads.");
            using (w.Block("for (int sample = 0; sample < samples; sample++)"))
            {
                w.Line("int start = sample * sampleValues;");
                w.Line("global::System.Array.Copy(state.SavedMean, sample * count, state.SampleSavedMean, 0, count);");
                w.Line("global::System.Array.Copy(state.SavedInvStd, sample * count, state.SampleSavedInvStd, 0, count);");
                w.Line("BackwardKernel(state, x.Slice(start, sampleValues), dy.Slice(start, sampleValues), dx.Slice(start, sampleValues), 1);");
            }
        }
        if (layer.HasGamma)
        {
            w.Line($"global::NormGen.Internal.ParameterGradients.AddChunkSums(parameterSums, laneStride, 1, state.GammaGrad, {(layer.HasBeta ? "state.BetaGrad" : "null")});");
        }
    }

    private static void EmitBackwardChunk(CodeWriter w, KernelContext layer, KernelContext sample)
    {
        EmitSampleConstants(w, sample);
        EmitSampleChunkRange(w, layer);
        if (layer.HasGamma)
        {
            w.Line("global::System.Array.Clear(worker.SampleParameterSums, 0, worker.SampleParameterSums.Length);");
        }
        using (w.Block("for (int sample = chunkFirst; sample < chunkLast; sample++)"))
        {
            w.Line("int start = sample * sampleValues;");
            w.Line("global::System.Array.Copy(state.SavedMean, sample * count, worker.SampleSavedMean, 0, count);");
            w.Line("global::System.Array.Copy(state.SavedInvStd, sample * count, worker.SampleSavedInvStd, 0, count);");
            w.Line("BackwardKernel(worker, x.Slice(start, sampleValues), dy.Slice(start, sampleValues), dx.Slice(start, sampleValues), 1);");
        }
    }

    /// <summary>The state's per-sample arrays: one sample's statistics, its saved copy for Backward, the parameter sums; the workers.</summary>
    public static void EmitState(CodeWriter w, KernelContext layer, KernelContext sample)
    {
        string columns = Int(SampleExtent(sample).Columns);
        w.Line("// One sample's statistics (NormalizeWithOwnStatistics), and the saved ones BackwardKernel reads for it.");
        w.Line($"public readonly double[] SampleMean = new double[{columns}];");
        w.Line($"public readonly double[] SampleInvStd = new double[{columns}];");
        w.Line($"public readonly double[] SampleVariance = new double[{columns}];");
        w.Line($"public readonly double[] SampleSavedMean = new double[{columns}];");
        w.Line($"public readonly double[] SampleSavedInvStd = new double[{columns}];");
        if (layer.HasGamma)
        {
            w.Line("// dγ and dβ summed over samples: the Gamma row, then the Beta row, padded like the chunks' rows.");
            w.Line($"public readonly double[] SampleParameterSums = new double[2 * ({columns} + {Int(StateEmitter.PartialPadding)})];");
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
