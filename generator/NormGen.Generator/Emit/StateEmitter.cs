namespace NormGen.Generator.Emit;

/// <summary>Emits the nested <c>NormGenState</c> class: parameters, gradients, statistics and scratch buffers.</summary>
internal static class StateEmitter
{
    /// <summary>Doubles between consecutive rows of partial sums beyond the row itself (128 bytes).</summary>
    public const int PartialPadding = 16;

    /// <summary>
    /// Values between consecutive rows of the parameter sums where every group adds into them (the parameters run along
    /// the groups, as in LayerNorm; <c>ParameterPartials</c>, and the element-type <c>ParameterBlock</c> laid out
    /// alike) beyond the row itself: a 4 KiB page of floats (2 pages of doubles), then <see cref="PartialPadding"/>.
    /// Two chunks' rows are read and written at once, group after group, by two threads; where one chunk's last row and
    /// the next chunk's first row shared a page, the second chunk's thread ran its groups up to 3× slower for as long
    /// as the first ran beside it (on the Intel Xeon VM, traced inside the call: the chunk at the higher address was
    /// slow on whichever thread ran it, and moving either chunk's rows out of the page cured it) — as if the first
    /// core's prefetches, which stay within a page, kept taking the second core's lines. With a page between the rows,
    /// LayerNorm x[64,1024] backward at two threads ran 1.25–1.33× faster, x[64,1000] 1.31–1.48× and x[256,768] 1.51×
    /// (each run timing both layouts in one process; x[8192,768], eight chunks, the same), where two threads had been
    /// no faster than one. The padding costs memory only: the rows alone are cleared. Where each group adds one value
    /// per parameter row (BatchNorm2d: a channel's γ and β), the rows keep <see cref="PartialPadding"/>.
    /// </summary>
    public const int ParameterRowPadding = 1024 + PartialPadding;

    /// <param name="sample">One sample of a per-sample rows × columns layer (<see cref="SampleColumns"/>), whose kernels' scratch this is.</param>
    public static void Emit(CodeWriter w, KernelContext layer, System.Collections.Generic.IEnumerable<KernelMethod> kernels, KernelContext? sample)
    {
        KernelContext ctx = layer;
        // Which scratch the kernels need: one sample's kernels where the layer goes sample by sample.
        KernelContext kernelContext = sample ?? layer;
        var spec = ctx.Spec;
        string t = ctx.T;
        bool fixedStatistics = !ctx.Layout.StatisticsScaleWithBatch;
        string statistics = fixedStatistics ? KernelContext.Int(ctx.Layout.StatisticsPerBatchUnit) : "0";
        w.Line();
        w.Line("/// <summary>Everything the layer owns; allocated once (per-sample statistics grow with the largest batch seen).</summary>");
        w.Line(NormalizeEmitter.GeneratedCode);
        using (w.Block("private sealed class NormGenState"))
        {
            w.Line("// The chunk kernels as delegates, created once, so that running them allocates nothing.");
            foreach (KernelMethod kernel in kernels)
            {
                if (kernel.IsChunkKernel)
                {
                    w.Line($"public static readonly global::NormGen.Internal.ChunkKernel<NormGenState, {t}> {kernel.Name}Kernel = {ctx.TypeNameWithParameters}.{kernel.Name};");
                }
            }
            w.Line();
            w.Line($"public readonly global::NormGen.Internal.ChunkRunner<NormGenState, {t}> Runner = new();");
            w.Line("public int MaxDegreeOfParallelism = global::System.Environment.ProcessorCount;");
            w.Line("// The statistics arrays the running chunk kernels read or write.");
            w.Line("public double[] ActiveMean = global::System.Array.Empty<double>();");
            w.Line("public double[] ActiveInvStd = global::System.Array.Empty<double>();");
            w.Line("public double[] ActiveVariance = global::System.Array.Empty<double>();");
            if (spec.Affine)
            {
                // γ and β are loaded as vectors along the rows (LayerNorm): both start on a cache line (Buffers.LineAligned).
                w.Line($"public readonly {t}[] Gamma = global::NormGen.Internal.Buffers.Filled(ParameterSize, {ctx.Literal(1)});");
                if (ctx.HasBeta)
                {
                    w.Line($"public readonly {t}[] Beta = global::NormGen.Internal.Buffers.LineAligned<{t}>(ParameterSize);");
                }
                w.Line($"public readonly {t}[] GammaGrad = new {t}[ParameterSize];");
                if (ctx.HasBeta)
                {
                    w.Line($"public readonly {t}[] BetaGrad = new {t}[ParameterSize];");
                }
                if (GroupMajorKernels.SumsParametersByColumns(kernelContext))
                {
                    w.Line("// One Backward's parameter gradients summed column by column, in double, each chunk of columns its own range.");
                    w.Line("public double[] ColumnSums = global::System.Array.Empty<double>();");
                }
                // The column kernels' chunks sum the parameter gradients in their LanePartials rows (ColumnKernels.EmitBackwardSums).
                if (!GroupMajorKernels.AlwaysSumsParametersByColumns(kernelContext) && !kernelContext.IsColumnLayout)
                {
                    w.Line("// One Backward's parameter gradients, summed in double per chunk, then in chunk order into GammaGrad/BetaGrad.");
                    bool everyGroup = GroupMajorKernels.AddsParametersEveryGroup(kernelContext);
                    if (everyGroup)
                    {
                        // Two threads add into two chunks' rows at once, group after group.
                        w.Line("// Per chunk: its Gamma sums, then its Beta sums, each row followed by 1,024 values, a 4 KiB page or more (no");
                        w.Line("// page holds two chunks' rows, which two threads add into at once, group after group), and 16 more, so that");
                        w.Line("// two rows never sit a multiple of 4 KiB apart (the CPU would take their loads and stores for the same");
                        w.Line("// address and stall). ParameterBlock's rows, in the element type, sit at the same indices.");
                        w.Line($"public const int PartialStride = ParameterSize + {ParameterRowPadding};");
                    }
                    else
                    {
                        w.Line("// Per chunk: its Gamma sums, then its Beta sums, each row padded so that the two never sit a multiple of");
                        w.Line("// 4 KiB apart (the CPU would take their loads and stores for the same address and stall).");
                        w.Line($"public const int PartialStride = ParameterSize + {PartialPadding};");
                    }
                    w.Line("public double[] ParameterPartials = global::System.Array.Empty<double>();");
                    if (everyGroup)
                    {
                        w.Line($"public {t}[] ParameterBlock = global::System.Array.Empty<{t}>();");
                    }
                }
            }
            if (spec.HasRunningStats)
            {
                w.Line($"public readonly {t}[] RunningMean = new {t}[StatisticsSize];");
                w.Line($"public readonly {t}[] RunningVar = global::NormGen.Internal.Buffers.Filled(StatisticsSize, {ctx.Literal(1)});");
                w.Line("public long BatchesTracked;");
                w.Line("public bool HasRunningStatistics;");
            }
            w.Line("// The most recent training forward's statistics, which Backward differentiates through.");
            w.Line($"public double[] SavedMean = new double[{statistics}];");
            w.Line($"public double[] SavedInvStd = new double[{statistics}];");
            w.Line($"public double[] SavedVariance = new double[{statistics}];");
            w.Line("// x.Length of that forward; -1 before the first.");
            w.Line("public int ForwardLength = -1;");
            if (spec.BatchStatistics)
            {
                w.Line("// Statistics used by ForwardInference, kept apart so that inference never changes what Backward uses.");
                w.Line($"public double[] InferenceMean = new double[{statistics}];");
                w.Line($"public double[] InferenceInvStd = new double[{statistics}];");
                w.Line($"public double[] InferenceVariance = new double[{statistics}];");
                if (spec.HasRunningStats)
                {
                    w.Line("// The running statistics InferenceMean and InferenceInvStd were computed from (null before the first inference).");
                    w.Line($"public {t}[]? InferenceComputedFrom;");
                }
            }
            if (GroupMajorKernels.FoldsOncePerCall(kernelContext))
            {
                w.Line("// Per statistic: hi, scale and shift for ForwardInference, kept while RunningMean, RunningVar, γ and β keep their");
                w.Line("// bits, and the γ and β they were folded with (null before the first inference).");
                w.Line($"public readonly {t}[] FoldedMeanHi = new {t}[{statistics}];");
                w.Line($"public readonly {t}[] FoldedScale = new {t}[{statistics}];");
                w.Line($"public readonly {t}[] FoldedShift = new {t}[{statistics}];");
                w.Line($"public {t}[]? InferenceFoldedFrom;");
                if (GroupMajorKernels.SplitsAcrossSamples(kernelContext))
                {
                    w.Line("// Whether the Folded* arrays hold inference's fold: false before the first inference, and after a training");
                    w.Line("// call folded its batch statistics into them (the sample-split path).");
                    w.Line("public bool InferenceFoldKept;");
                }
            }
            if (GroupMajorKernels.SplitsAcrossSamples(kernelContext))
            {
                w.Line("// The sample-split path: each group's pivot, each chunk's row of partial sums, and dx's per-group constants.");
                w.Line($"public readonly {t}[] SplitPivots = new {t}[{statistics}];");
                w.Line("public double[] SplitSums = global::System.Array.Empty<double>();");
                w.Line($"public readonly {t}[] SplitGain = new {t}[{statistics}];");
                w.Line($"public readonly {t}[] SplitSlope = new {t}[{statistics}];");
                w.Line($"public readonly {t}[] SplitOffset = new {t}[{statistics}];");
            }
            ctx = kernelContext;
            if (!ctx.Layout.GroupMajor)
            {
                w.Line("// Per-statistic scratch of the lane-parallel kernels.");
                w.Line($"public {t}[] LaneScale = global::System.Array.Empty<{t}>();");
                w.Line($"public {t}[] LaneMeanHi = global::System.Array.Empty<{t}>();");
                w.Line($"public {t}[] LaneShift = global::System.Array.Empty<{t}>();");
                if (ctx.IsFloat)
                {
                    w.Line("public float[] LaneMeanLo = global::System.Array.Empty<float>();");
                }
                w.Line($"public {t}[] LaneSlope = global::System.Array.Empty<{t}>();");
                w.Line($"public {t}[] LaneOffset = global::System.Array.Empty<{t}>();");
                if (LaneKernels.PerStatisticShift(ctx))
                {
                    w.Line("// The hi, scale and shift the running y pass reads: the Lane* arrays (training) or the Inference* ones.");
                    w.Line($"public {t}[] ActiveMeanHi = global::System.Array.Empty<{t}>();");
                    w.Line($"public {t}[] ActiveScale = global::System.Array.Empty<{t}>();");
                    w.Line($"public {t}[] ActiveShift = global::System.Array.Empty<{t}>();");
                }
                if (LaneKernels.KeepsInferenceFold(ctx))
                {
                    w.Line("// ForwardInference's hi, scale and shift, kept while RunningMean, RunningVar, γ and β keep their bits, and the");
                    w.Line("// γ and β they were folded with (null before the first inference).");
                    w.Line($"public {t}[] InferenceMeanHi = global::System.Array.Empty<{t}>();");
                    w.Line($"public {t}[] InferenceScale = global::System.Array.Empty<{t}>();");
                    w.Line($"public {t}[] InferenceShift = global::System.Array.Empty<{t}>();");
                    w.Line($"public {t}[]? InferenceFoldedFrom;");
                }
                if (ColumnKernels.WrapExtension(ctx) is not null)
                {
                    w.Line("// Whether every hi of the fold the y pass reads is 0 (each mean folded into the shift).");
                    w.Line("public bool MeansFolded;");
                    if (LaneKernels.KeepsInferenceFold(ctx))
                    {
                        w.Line("// The same for the kept inference fold.");
                        w.Line("public bool InferenceMeansFolded;");
                    }
                }
                if (ColumnKernels.DxWrapExtension(ctx) is not null)
                {
                    w.Line("// Whether every hi of the backward's dx constants is 0 (each mean folded into the offset), for the dx pass.");
                    w.Line("public bool DxMeansFolded;");
                }
                if (ColumnKernels.DxFromPreparedConstants(ctx) && ctx.HasGamma)
                {
                    w.Line($"public {t}[] LaneGain = global::System.Array.Empty<{t}>();");
                }
                w.Line("// Per chunk, per statistic partial sums, added in chunk order.");
                w.Line("public double[] LanePartials = global::System.Array.Empty<double>();");
                if (ctx.ColumnGroup > 1)
                {
                    w.Line("// The backward's Σg and Σg·x̂ per group of columns, in each of its columns.");
                    w.Line("public double[] ColumnGroupSums = global::System.Array.Empty<double>();");
                }
            }
            if (sample is not null)
            {
                SampleColumns.EmitState(w, layer, sample);
            }
        }
    }
}
