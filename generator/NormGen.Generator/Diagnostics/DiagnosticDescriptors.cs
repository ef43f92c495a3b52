using Microsoft.CodeAnalysis;

namespace NormGen.Generator.Diagnostics;

/// <summary>
/// Every diagnostic NormGen reports. NG0xxx: declaration errors (nothing is generated for that type).
/// NG1xxx: usage warnings from the analyzers.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string DeclarationCategory = "NormGen.Declaration";
    private const string HelpRoot = "https://github.com/normgen/normgen/blob/main/docs/diagnostics/";

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, DeclarationCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpRoot + id + ".md");

    public static readonly DiagnosticDescriptor TypeNotPartial = Error(
        "NG0001",
        "A [Normalize] type must be partial",
        "'{0}' must be declared partial (and so must every type containing it) for NormGen to add the generated members");

    public static readonly DiagnosticDescriptor MalformedShape = Error(
        "NG0002",
        "Shape is malformed",
        "Shape \"{0}\" is malformed: {1}; expected comma-separated dims, each a single upper-case letter optionally followed by '=size' with a positive size, e.g. \"N,C=64,H=32,W=32\"");

    public static readonly DiagnosticDescriptor RepeatedLetter = Error(
        "NG0003",
        "A letter appears twice",
        "{0} \"{1}\" names '{2}' more than once; each dim letter may appear once");

    public static readonly DiagnosticDescriptor InvalidAxes = Error(
        "NG0004",
        "Axes must name letters of Shape",
        "Axes \"{0}\" is invalid: {1}; expected one or more letters of Shape \"{2}\", e.g. \"NHW\" for BatchNorm2d or \"D\" for LayerNorm");

    public static readonly DiagnosticDescriptor InvalidUnsizedDims = Error(
        "NG0005",
        "Unsized dims must form a leading prefix, all reduced or all kept",
        "Shape \"{0}\": {1}");

    public static readonly DiagnosticDescriptor InvalidGroups = Error(
        "NG0006",
        "Groups must be positive and divide C",
        "Groups = {0} is invalid: {1}");

    public static readonly DiagnosticDescriptor InvalidEpsilon = Error(
        "NG0007",
        "Epsilon must be positive and finite",
        "Epsilon = {0} is invalid; expected a finite value greater than 0, e.g. 1e-5");

    public static readonly DiagnosticDescriptor InvalidMomentum = Error(
        "NG0008",
        "Momentum must be in [0, 1]",
        "Momentum = {0} is invalid; expected a value in [0, 1] (PyTorch's convention: new = (1 - m)·old + m·batch)");

    public static readonly DiagnosticDescriptor UnsupportedElementType = Error(
        "NG0009",
        "Unsupported ElementType",
        "ElementType '{0}' is not supported; expected typeof(float) or typeof(double)");

    public static readonly DiagnosticDescriptor InvalidAffineAxes = Error(
        "NG0010",
        "AffineAxes must name sized letters of Shape",
        "AffineAxes \"{0}\" is invalid: {1}; expected letters of Shape \"{2}\" that have a size");

    public static readonly DiagnosticDescriptor InvalidKindForBatchStatistics = Error(
        "NG0011",
        "RMS normalization has no batch statistics",
        "Kind = NormKind.Rms cannot reduce over N (batch statistics); RMSNorm normalizes each sample, e.g. Shape = \"N,D=768\", Axes = \"D\"");

    public static readonly DiagnosticDescriptor StaticType = Error(
        "NG0012",
        "A [Normalize] type cannot be static",
        "'{0}' is static; a normalization layer holds parameters and statistics, so declare it as a non-static class or struct");
}
