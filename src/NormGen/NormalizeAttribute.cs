using System;

namespace NormGen;

/// <summary>
/// Generates shape-specialized normalization code (forward for training and inference, and backward)
/// into the partial type it is placed on.
/// </summary>
/// <example>
/// <code>
/// [Normalize(Shape = "N,C=64,H=32,W=32", Axes = "NHW")]   // BatchNorm2d(64)
/// public partial class StemNorm { }
///
/// [Normalize(Shape = "N,T,D=768", Axes = "D")]             // LayerNorm(768)
/// public partial class TokenNorm { }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
public sealed class NormalizeAttribute : Attribute
{
    /// <summary>
    /// The input's dims in memory order (row-major, last dim fastest), comma-separated, each <c>L</c> or
    /// <c>L=size</c> with <c>L</c> a single upper-case letter (<c>C</c> means channels). Unsized dims form a
    /// leading prefix; their sizes come from the input's length at run time.
    /// </summary>
    public string Shape { get; set; } = "";

    /// <summary>
    /// The letters reduced over when computing the mean and variance. <c>N</c> among them means batch
    /// statistics (running mean and variance, training and inference forwards).
    /// </summary>
    public string Axes { get; set; } = "";

    /// <summary>Splits <c>C</c> into this many contiguous groups with statistics per (sample, group): GroupNorm. Must divide C.</summary>
    public int Groups { get; set; } = 1;

    /// <summary>Standard (mean and variance) or RMS normalization.</summary>
    public NormKind Kind { get; set; } = NormKind.Standard;

    /// <summary>Added to the variance (or mean square) before the square root.</summary>
    public double Epsilon { get; set; } = 1e-5;

    /// <summary>Running-statistic factor in PyTorch's convention: <c>new = (1 - m)·old + m·batch</c>.</summary>
    public double Momentum { get; set; } = 0.1;

    /// <summary>PyTorch's <c>momentum=None</c>: the running statistics are the cumulative average (factor 1/BatchesTracked).</summary>
    public bool CumulativeAverage { get; set; }

    /// <summary>Learnable scale (Gamma) and shift (Beta).</summary>
    public bool Affine { get; set; } = true;

    /// <summary>
    /// The letters Gamma and Beta span. Default: batch statistics → the sized dims not reduced (C);
    /// Groups &gt; 1 → C; per-sample statistics with C kept → C (InstanceNorm); otherwise the reduced dims (LayerNorm).
    /// </summary>
    public string? AffineAxes { get; set; }

    /// <summary>Batch statistics only: false means no running statistics, and inference also uses the batch's statistics.</summary>
    public bool TrackRunningStats { get; set; } = true;

    /// <summary><c>typeof(float)</c> or <c>typeof(double)</c>.</summary>
    public Type ElementType { get; set; } = typeof(float);
}
