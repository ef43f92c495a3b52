namespace NormGen.Generator.Models;

/// <summary>One dim of <c>Shape</c>: its letter and its size, or null when the size comes from the input at run time.</summary>
internal sealed record Dim(char Letter, int? Size);

/// <summary>The element types NormGen generates code for.</summary>
internal enum ElementKind
{
    Float,
    Double,
}

/// <summary>
/// A validated <c>[Normalize]</c> declaration: every property with its default applied
/// (<see cref="AffineAxes"/> is the effective set of letters, never null).
/// </summary>
internal sealed record LayerSpec(
    string ShapeText,
    EquatableArray<Dim> Dims,
    string Axes,
    int Groups,
    bool IsRms,
    double Epsilon,
    double Momentum,
    bool CumulativeAverage,
    bool Affine,
    string AffineAxes,
    bool AffineAxesExplicit,
    bool TrackRunningStats,
    ElementKind Element)
{
    /// <summary><c>N</c> among the reduced letters: batch statistics with running statistics and two forwards.</summary>
    public bool BatchStatistics => Axes.IndexOf('N') >= 0;

    /// <summary>Running statistics exist: batch statistics with <c>TrackRunningStats</c>.</summary>
    public bool HasRunningStats => BatchStatistics && TrackRunningStats;
}
