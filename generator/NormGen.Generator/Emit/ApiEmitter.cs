using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;
using static NormGen.Generator.Emit.NormalizeEmitter;

namespace NormGen.Generator.Emit;

/// <summary>
/// Emits the public methods of the design's API. Each validates all its arguments before it changes anything,
/// then calls the shape-specialized kernels.
/// </summary>
internal static class ApiEmitter
{
    public static void EmitZeroGrad(CodeWriter w, KernelContext ctx)
    {
        w.Line();
        w.Line(ctx.Spec.Affine
            ? $"/// <summary>Sets GammaGrad{(ctx.HasBeta ? " and BetaGrad" : "")} to zero (they accumulate across Backward calls).</summary>"
            : "/// <summary>Does nothing: without Affine there are no parameter gradients. Present so that training loops can call it on every layer.</summary>");
        w.Line(GeneratedCode);
        using (w.Block("public void ZeroGrad()"))
        {
            if (ctx.Spec.Affine)
            {
                w.Line("global::System.Array.Clear(State.GammaGrad);");
                if (ctx.HasBeta)
                {
                    w.Line("global::System.Array.Clear(State.BetaGrad);");
                }
            }
        }
    }

    public static void EmitLoadRunningStatistics(CodeWriter w, KernelContext ctx)
    {
        string t = ctx.T;
        w.Line();
        w.Line("/// <summary>Sets the running statistics, e.g. from a trained PyTorch model's running_mean and running_var.</summary>");
        w.Line("/// <param name=\"mean\">StatisticsSize means.</param>");
        w.Line("/// <param name=\"variance\">StatisticsSize variances, each ≥ 0.</param>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A length is not StatisticsSize, or a variance is negative or NaN; nothing is changed.</exception>");
        w.Line(GeneratedCode);
        using (w.Block($"public void LoadRunningStatistics(global::System.ReadOnlySpan<{t}> mean, global::System.ReadOnlySpan<{t}> variance)"))
        {
            w.Line($"global::NormGen.Internal.Check.RunningStatistics(mean, variance, StatisticsSize, \"{ctx.TypeName}\");");
            w.Line("NormGenState state = State;");
            w.Line("mean.CopyTo(state.RunningMean);");
            w.Line("variance.CopyTo(state.RunningVar);");
            w.Line("state.HasRunningStatistics = true;");
        }
    }

    public static void EmitForwardTraining(CodeWriter w, KernelContext ctx)
    {
        LayerSpec spec = ctx.Spec;
        w.Line();
        w.Line("/// <summary>Normalizes x into y with the batch's statistics (mean and biased variance per statistics group)" +
               (spec.HasRunningStats ? " and updates RunningMean, RunningVar and BatchesTracked.</summary>" : ".</summary>"));
        w.Line("/// <remarks>");
        w.Line(ctx.DeclarationParagraph);
        w.Line($"/// <para>Statistics: {Xml(LayerDescription.Statistics(spec))} {Xml(LayerDescription.Formula(spec))}.</para>");
        if (spec.HasRunningStats)
        {
            string factor = spec.CumulativeAverage ? "m = 1/BatchesTracked (cumulative average)" : $"m = {Double(spec.Momentum)}";
            w.Line($"/// <para>Then BatchesTracked += 1 and, with {Xml(factor)}: RunningMean = (1 − m)·RunningMean + m·mean; RunningVar = (1 − m)·RunningVar + m·var·n/(n − 1).</para>");
        }
        w.Line("/// <para>Keeps the statistics for <see cref=\"Backward\"/>. x and y may be the same memory.</para>");
        w.Line("/// </remarks>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">x.Length is not a positive multiple of SampleSize, y.Length differs, or a statistics group would hold a single value; nothing is changed.</exception>");
        w.Line(GeneratedCode);
        w.Line(AggressiveOptimization);
        using (w.Block($"public void ForwardTraining(global::System.ReadOnlySpan<{ctx.T}> x, global::System.Span<{ctx.T}> y)"))
        {
            EmitInputChecks(w, ctx, "ForwardTraining", training: true);
            w.Line("NormGenState state = State;");
            string normalize = ctx.SampleContext is null ? "NormalizeWithOwnStatistics" : "NormalizeEachSample";
            w.Line($"{normalize}(state, x, y, batch, state.SavedMean, state.SavedInvStd, state.SavedVariance);");
            w.Line("state.ForwardLength = x.Length;");
            if (spec.HasRunningStats)
            {
                w.Line();
                w.Line("// Running statistics, PyTorch's convention: new = (1 − m)·old + m·batch, with the unbiased variance.");
                w.Line("state.BatchesTracked++;");
                w.Line(spec.CumulativeAverage
                    ? "double momentum = 1.0 / state.BatchesTracked;"
                    : $"const double momentum = {Double(spec.Momentum)};");
                w.Line($"double count = {ctx.GroupSize};");
                w.Line("double unbiased = count / (count - 1.0);");
                w.Line("global::NormGen.Internal.Statistics.UpdateRunning(state.RunningMean, state.RunningVar, state.SavedMean, state.SavedVariance, momentum, unbiased, StatisticsSize);");
                w.Line("state.HasRunningStatistics = true;");
            }
        }
    }

    public static void EmitForwardInference(CodeWriter w, KernelContext ctx)
    {
        LayerSpec spec = ctx.Spec;
        w.Line();
        if (spec.HasRunningStats)
        {
            w.Line("/// <summary>Normalizes x into y with the running statistics: y = (x − RunningMean) / sqrt(RunningVar + ε)" + (spec.Affine ? " · γ + β" : "") + ".</summary>");
            w.Line("/// <remarks>");
            w.Line(ctx.DeclarationParagraph);
            string folding = KeptFold.Applies(ctx)
                ? "per statistic, the mean, 1/sqrt(RunningVar + ε), γ and β are folded into one scale and shift, kept for the next calls until RunningMean, RunningVar, γ or β change (compared bit for bit). Changes no state that other calls' results depend on."
                : "per statistic, the mean and 1/sqrt(RunningVar + ε)·γ are folded before the loops. Changes no state.";
            w.Line($"/// <para>One pass: {folding} Before any ForwardTraining or LoadRunningStatistics the running statistics are 0 and 1 (analyzer NG1001 warns about such calls). x and y may be the same memory.</para>");
            w.Line("/// </remarks>");
        }
        else
        {
            w.Line("/// <summary>Normalizes x into y with the batch's own statistics (TrackRunningStats = false, as in PyTorch).</summary>");
            w.Line("/// <remarks>");
            w.Line(ctx.DeclarationParagraph);
            w.Line("/// <para>Changes no state: Backward still uses the most recent ForwardTraining. x and y may be the same memory.</para>");
            w.Line("/// </remarks>");
        }
        w.Line("/// <exception cref=\"global::System.ArgumentException\">x.Length is not a positive multiple of SampleSize or y.Length differs; nothing is changed.</exception>");
        w.Line(GeneratedCode);
        w.Line(AggressiveOptimization);
        using (w.Block($"public void ForwardInference(global::System.ReadOnlySpan<{ctx.T}> x, global::System.Span<{ctx.T}> y)"))
        {
            EmitInputChecks(w, ctx, "ForwardInference", training: !spec.HasRunningStats);
            w.Line("NormGenState state = State;");
            if (spec.HasRunningStats)
            {
                w.Line("// Per statistic: the running mean, and 1/sqrt(RunningVar + ε) in double; recomputed only when RunningMean or");
                w.Line("// RunningVar have changed since the inference call that computed them (compared bit for bit).");
                string update = $"global::NormGen.Internal.InferenceStatistics.Update(state.RunningMean, state.RunningVar, {Double(spec.Epsilon)}, state.InferenceMean, state.InferenceInvStd, ref state.InferenceComputedFrom, StatisticsSize);";
                if (KeptFold.Applies(ctx))
                {
                    w.Line($"bool statisticsChanged = {update}");
                    w.Line("NormalizeWithRunningStatistics(state, x, y, batch, statisticsChanged);");
                }
                else
                {
                    w.Line(update);
                    w.Line("NormalizeWithStatistics(state, x, y, batch, state.InferenceMean, state.InferenceInvStd);");
                }
            }
            else
            {
                w.Line("NormalizeWithOwnStatistics(state, x, y, batch, state.InferenceMean, state.InferenceInvStd, state.InferenceVariance);");
            }
        }
    }

    public static void EmitForward(CodeWriter w, KernelContext ctx)
    {
        LayerSpec spec = ctx.Spec;
        w.Line();
        w.Line("/// <summary>Normalizes x into y with per-sample statistics; the same in training and inference.</summary>");
        w.Line("/// <remarks>");
        w.Line(ctx.DeclarationParagraph);
        w.Line($"/// <para>Statistics: {Xml(LayerDescription.Statistics(spec))} {Xml(LayerDescription.Formula(spec))}.</para>");
        w.Line("/// <para>Keeps the statistics for <see cref=\"Backward\"/>. x and y may be the same memory.</para>");
        w.Line("/// </remarks>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">x.Length is not a positive multiple of SampleSize or y.Length differs; nothing is changed.</exception>");
        w.Line(GeneratedCode);
        w.Line(AggressiveOptimization);
        using (w.Block($"public void Forward(global::System.ReadOnlySpan<{ctx.T}> x, global::System.Span<{ctx.T}> y)"))
        {
            EmitInputChecks(w, ctx, "Forward", training: false);
            w.Line("NormGenState state = State;");
            if (ctx.Layout.StatisticsScaleWithBatch)
            {
                w.Line($"int groups = {ctx.StatisticsCount};");
                w.Line("global::NormGen.Internal.Buffers.AtLeast(ref state.SavedMean, groups);");
                w.Line("global::NormGen.Internal.Buffers.AtLeast(ref state.SavedInvStd, groups);");
                w.Line("global::NormGen.Internal.Buffers.AtLeast(ref state.SavedVariance, groups);");
            }
            string normalize = ctx.SampleContext is null ? "NormalizeWithOwnStatistics" : "NormalizeEachSample";
            w.Line($"{normalize}(state, x, y, batch, state.SavedMean, state.SavedInvStd, state.SavedVariance);");
            w.Line("state.ForwardLength = x.Length;");
        }
    }

    public static void EmitBackward(CodeWriter w, KernelContext ctx)
    {
        LayerSpec spec = ctx.Spec;
        string forward = spec.BatchStatistics ? "ForwardTraining" : "Forward";
        w.Line();
        w.Line($"/// <summary>The gradient of the most recent {forward}: dx from dy{(spec.Affine ? $", and GammaGrad{(ctx.HasBeta ? "/BetaGrad" : "")} += their gradients" : "")}.</summary>");
        w.Line("/// <remarks>");
        w.Line(ctx.DeclarationParagraph);
        w.Line(spec.IsRms
            ? "/// <para>With r = 1/sqrt(mean(x²) + ε), x̂ = x·r and g = γ·dy: dx = r·(g − x̂·mean(g·x̂)), the mean over each statistics group; dγ = Σ dy·x̂.</para>"
            : $"/// <para>With x̂ = (x − mean)·invStd and g = γ·dy: dx = invStd·(g − mean(g) − x̂·mean(g·x̂)), the means over each statistics group{(spec.Affine ? "; dγ = Σ dy·x̂, dβ = Σ dy over everything γ is broadcast across" : "")}.</para>");
        w.Line($"/// <para>x must be the input of that {forward}. dx and dy may be the same memory.</para>");
        w.Line("/// </remarks>");
        w.Line($"/// <exception cref=\"global::System.InvalidOperationException\">No {forward} before it; nothing is changed.</exception>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">x.Length differs from that forward's, or dy/dx have another length; nothing is changed.</exception>");
        w.Line(GeneratedCode);
        w.Line(AggressiveOptimization);
        using (w.Block($"public void Backward(global::System.ReadOnlySpan<{ctx.T}> x, global::System.ReadOnlySpan<{ctx.T}> dy, global::System.Span<{ctx.T}> dx)"))
        {
            w.Line("NormGenState state = State;");
            w.Line($"global::NormGen.Internal.Check.HasForward(state.ForwardLength, x.Length, \"{ctx.TypeName}.Backward\", \"{forward}\");");
            w.Line($"int batch = x.Length / SampleSize;");
            w.Line($"global::NormGen.Internal.Check.SameLength(dy.Length, x.Length, \"{ctx.TypeName}.Backward\", nameof(dy), nameof(x));");
            w.Line($"global::NormGen.Internal.Check.SameLength(dx.Length, x.Length, \"{ctx.TypeName}.Backward\", nameof(dx), nameof(x));");
            w.Line($"{(ctx.SampleContext is null ? "BackwardKernel" : "BackwardEachSample")}(state, x, dy, dx, batch);");
        }
    }

    /// <summary>x holds whole samples, y matches, and (training) every statistic gets at least two values.</summary>
    private static void EmitInputChecks(CodeWriter w, KernelContext ctx, string method, bool training)
    {
        string hasBatch = ctx.Layout.HasBatch ? "true" : "false";
        w.Line($"int batch = global::NormGen.Internal.Check.Batch(x.Length, SampleSize, {hasBatch}, \"{ctx.TypeName}.{method}\", nameof(x));");
        w.Line($"global::NormGen.Internal.Check.SameLength(y.Length, x.Length, \"{ctx.TypeName}.{method}\", nameof(y), nameof(x));");
        if (training && ctx.Spec.BatchStatistics)
        {
            w.Line($"global::NormGen.Internal.Check.TrainingGroupSize({ctx.GroupSize}, x.Length, \"{ctx.TypeName}.{method}\", nameof(x));");
        }
    }
}
