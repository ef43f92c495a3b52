using Microsoft.CodeAnalysis;

namespace NormGen.Generator.Diagnostics;

/// <summary>
/// The NG1xxx usage warnings: likely bugs in code that <em>uses</em> a generated normalization layer,
/// found by the analyzers in <c>Analyzers/Usage</c>. Each has a help page under <c>docs/diagnostics</c>.
/// </summary>
internal static class UsageDiagnosticDescriptors
{
    private const string UsageCategory = "NormGen.Usage";
    private const string HelpRoot = "https://github.com/normgen/normgen/blob/main/docs/diagnostics/";

    /// <summary>The diagnostic property the NG1004 code fix reads: the momentum in PyTorch's convention, as a literal.</summary>
    public const string ReplacementMomentumProperty = "ReplacementMomentum";

    private static DiagnosticDescriptor Warning(string id, string title, string message, string description) =>
        new(id, title, message, UsageCategory, DiagnosticSeverity.Warning, isEnabledByDefault: true,
            description: description, helpLinkUri: HelpRoot + id + ".md");

    public static readonly DiagnosticDescriptor InferenceWithoutRunningStatistics = Warning(
        "NG1001",
        "Inference on running statistics that were never computed or loaded",
        "'{0}' runs ForwardInference on running statistics that nothing computed or loaded on any path from its creation (they are still mean 0, variance 1); call ForwardTraining or LoadRunningStatistics first",
        "ForwardInference normalizes with RunningMean and RunningVar. On every path from the instance's creation to this call, " +
        "nothing ran ForwardTraining, called LoadRunningStatistics or wrote RunningMean/RunningVar, so the output is normalized " +
        "with the initial mean 0 and variance 1: silently wrong, the bug behind PyTorch's model.eval() surprises.");

    public static readonly DiagnosticDescriptor BackwardWithoutTrainingForward = Warning(
        "NG1002",
        "Backward without a training forward",
        "'{0}' runs Backward with no training forward ({1}) before it on any path from its creation; Backward differentiates the most recent training forward",
        "Backward computes the gradient of the most recent training forward (ForwardTraining for batch statistics, Forward for " +
        "per-sample statistics) and needs the statistics it saved. On every path from the instance's creation to this call " +
        "there is none, so the call throws InvalidOperationException at run time.");

    public static readonly DiagnosticDescriptor SingleValuePerStatisticsGroup = Warning(
        "NG1003",
        "A training batch with one value per statistics group",
        "ForwardTraining on '{0}' gets {1} element(s), so each statistics group holds a single value and its variance is 0 (PyTorch: \"Expected more than 1 value per channel when training\"); train with at least 2 values per group, for example a batch of 2 or more",
        "Batch statistics need at least two values in every statistics group. With a constant input length that gives " +
        "one value per group the batch variance is 0, the output is all Beta and the running variance is meaningless; " +
        "the generated code throws ArgumentException at run time, as PyTorch does.");

    public static readonly DiagnosticDescriptor MomentumInOtherConvention = Warning(
        "NG1004",
        "Momentum in Keras/Flax's convention",
        "Momentum = {0} looks like Keras/Flax's convention (new = m·old + (1 - m)·batch), the opposite of NormGen's and PyTorch's (new = (1 - m)·old + m·batch); to keep the running statistics as smooth as Keras/Flax would, use Momentum = {1}",
        "NormGen uses PyTorch's momentum convention: new = (1 - m)·old + m·batch, with a default of 0.1. Keras and Flax use the " +
        "opposite one, with defaults 0.99 and 0.9. A momentum above 0.5 is almost always a value carried over from Keras or " +
        "Flax, and makes the running statistics follow the last batch almost exactly. The code fix replaces m with 1 - m.");
}
