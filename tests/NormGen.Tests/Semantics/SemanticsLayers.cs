using NormGen;

namespace NormGen.Tests.Semantics;

[Normalize(Shape = "N,C=3,H=2,W=2", Axes = "NHW", ElementType = typeof(double))]
public partial class SemBatchNorm : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

// Momentum 1.0 (keep only the last batch) is deliberate here; NG1004 warns because it usually is a Keras value.
#pragma warning disable NG1004
[Normalize(Shape = "N,C=3,L=4", Axes = "NL", Momentum = 1.0, ElementType = typeof(double))]
#pragma warning restore NG1004
public partial class SemBatchNormMomentumOne : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

[Normalize(Shape = "N,C=2,L=3", Axes = "NL", CumulativeAverage = true, ElementType = typeof(double))]
public partial class SemBatchNormCumulative : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

[Normalize(Shape = "N,C=3,L=5", Axes = "NL", TrackRunningStats = false, ElementType = typeof(double))]
public partial class SemBatchNormNoStats : IBatchStatsLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=6", Axes = "D", ElementType = typeof(double))]
public partial class SemLayerNorm : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=4", Axes = "D", Epsilon = 0.5, ElementType = typeof(double))]
public partial class SemLayerNormLargeEpsilon : IPerSampleLayer<double>, IAffineLayer<double> { }

/// <summary>Two unsized leading dims (N, T): rows = x.Length / 5.</summary>
[Normalize(Shape = "N,T,D=5", Axes = "D", ElementType = typeof(double))]
public partial class SemTokenNorm : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=8", Axes = "D", Kind = NormKind.Rms, ElementType = typeof(double))]
public partial class SemRmsNorm : IPerSampleLayer<double>, IScaledLayer<double> { }

/// <summary>A struct declaration; used directly (no interfaces, no boxing).</summary>
[Normalize(Shape = "N,C=3", Axes = "N", ElementType = typeof(double))]
public partial struct SemStructBatchNorm { }

/// <summary>A declaration nested in a partial class.</summary>
public partial class SemOuter
{
    [Normalize(Shape = "N,D=5", Axes = "D", ElementType = typeof(double))]
    public partial class InnerLayerNorm { }
}

// Rows of whole vectors (64 doubles), so that a call of fewer than 8 rows adds dγ and dβ straight into the gradients.
[Normalize(Shape = "N,D=64", Axes = "D", ElementType = typeof(double))]
public partial class SemWideLayerNorm : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=64", Axes = "D", Kind = NormKind.Rms, ElementType = typeof(double))]
public partial class SemWideRmsNorm : IPerSampleLayer<double>, IScaledLayer<double> { }
