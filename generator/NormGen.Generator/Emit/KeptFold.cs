namespace NormGen.Generator.Emit;

/// <summary>
/// ForwardInference's kept fold (BatchNorm layouts that fold hi, scale and shift ahead of their y pass): the condition
/// under which the next inference folds again, and the γ and β arguments of a fold. Shared by the lane and the
/// group-major emitters, whose arrays differ.
/// </summary>
internal static class KeptFold
{
    /// <summary>
    /// Whether ForwardInference keeps the constants it folds from the running statistics, γ and β between calls (an
    /// orchestrator named NormalizeWithRunningStatistics): every BatchNorm layout that folds them ahead of its y pass.
    /// </summary>
    public static bool Applies(KernelContext ctx) => LaneKernels.KeepsInferenceFold(ctx) || GroupMajorKernels.FoldsOncePerCall(ctx);

    /// <summary>
    /// Opens <c>if (…)</c> around an inference's fold: the running statistics have changed (<c>statisticsChanged</c>, from
    /// <c>InferenceStatistics.Update</c>), γ or β differ from the copy the kept constants were folded with, or — where
    /// <paramref name="trainingFoldsHereToo"/> — a training call folded into the same arrays since.
    /// </summary>
    public static CodeWriter.Scope FoldAgainIf(CodeWriter w, KernelContext ctx, string count, bool trainingFoldsHereToo)
    {
        if (trainingFoldsHereToo)
        {
            w.Line("// Folded again only when the running statistics have changed (statisticsChanged), γ and β differ from the copy of");
            w.Line("// those the kept constants were folded with, or a training call folded into the same arrays; `|`, not `||`, so");
            w.Line("// that the copy is renewed whichever changed.");
        }
        else
        {
            w.Line("// Folded again only when the running statistics have changed (statisticsChanged) or γ and β differ from the copy");
            w.Line("// of those the kept constants were folded with; `|`, not `||`, so that the copy is renewed whichever changed.");
        }
        string training = trainingFoldsHereToo ? " | !state.InferenceFoldKept" : "";
        return w.Block($"if (global::NormGen.Internal.InferenceStatistics.ParametersChanged({Parameters(ctx)}, ref state.InferenceFoldedFrom, {count}) | statisticsChanged{training})");
    }

    /// <summary>The γ and β arguments of a fold: empty arrays where the layer has none (or γ is applied elsewhere).</summary>
    public static string Parameters(KernelContext ctx)
    {
        string empty = $"global::System.Array.Empty<{ctx.T}>()";
        return $"{(LaneKernels.FoldsGamma(ctx) ? "state.Gamma" : empty)}, {(ctx.HasBeta ? "state.Beta" : empty)}";
    }
}
