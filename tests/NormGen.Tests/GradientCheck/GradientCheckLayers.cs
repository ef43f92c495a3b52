using NormGen;

namespace NormGen.Tests.GradientCheck;

// double-precision layers for the finite-difference checks. Odd extents (3, 5, 7, 11, 13) exercise
// scalar tails; extents ≥ 40 (43, 45, 49, 86) make the vector loops run.

[Normalize(Shape = "N,C=3,H=4,W=5", Axes = "NHW", ElementType = typeof(double))]
public partial class FdBatchNorm2d : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

[Normalize(Shape = "N,H=3,W=2,C=5", Axes = "NHW", ElementType = typeof(double))]
public partial class FdBatchNormChannelsLast : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

[Normalize(Shape = "N,C=7", Axes = "N", ElementType = typeof(double))]
public partial class FdBatchNorm1d : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

[Normalize(Shape = "N,C=3,L=43", Axes = "NL", ElementType = typeof(double))]
public partial class FdBatchNorm1dLong : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

[Normalize(Shape = "N,C=5,H=3,W=3", Axes = "NHW", Affine = false, ElementType = typeof(double))]
public partial class FdBatchNormNonAffine : IBatchStatsLayer<double>, IRunningStatsLayer<double> { }

[Normalize(Shape = "N,C=4,H=3,W=2", Axes = "NHW", TrackRunningStats = false, ElementType = typeof(double))]
public partial class FdBatchNormNoRunningStats : IBatchStatsLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=13", Axes = "D", ElementType = typeof(double))]
public partial class FdLayerNorm13 : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=45", Axes = "D", ElementType = typeof(double))]
public partial class FdLayerNorm45 : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,C=3,H=4,W=5", Axes = "CHW", ElementType = typeof(double))]
public partial class FdLayerNormChw : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=7", Axes = "D", Affine = false, ElementType = typeof(double))]
public partial class FdLayerNormNonAffine : IPerSampleLayer<double> { }

[Normalize(Shape = "N,C=6,L=5", Axes = "CL", Groups = 3, ElementType = typeof(double))]
public partial class FdGroupNorm : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,C=4,L=43", Axes = "CL", Groups = 2, ElementType = typeof(double))]
public partial class FdGroupNormLong : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,C=4,H=3,W=3", Axes = "HW", ElementType = typeof(double))]
public partial class FdInstanceNorm : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,C=3,H=7,W=7", Axes = "HW", ElementType = typeof(double))]
public partial class FdInstanceNormWide : IPerSampleLayer<double>, IAffineLayer<double> { }

/// <summary>LayerNorm over the channels of (N, C, H, W): γ and β per row of a sample, its statistics per column.</summary>
[Normalize(Shape = "N,C=5,H=16,W=16", Axes = "C", ElementType = typeof(double))]
public partial class FdLayerNormOverChannels : IPerSampleLayer<double>, IAffineLayer<double> { }

/// <summary>RMSNorm over the channels of (N, C, H, W): γ per row, no β.</summary>
[Normalize(Shape = "N,C=6,H=13,W=13", Axes = "C", Kind = NormKind.Rms, ElementType = typeof(double))]
public partial class FdRmsNormOverChannels : IPerSampleLayer<double>, IScaledLayer<double> { }

/// <summary>Channels-last, samples of 1,280 values: the column kernels sample by sample, 5 columns (one past a vector).</summary>
[Normalize(Shape = "N,H=16,W=16,C=5", Axes = "HW", ElementType = typeof(double))]
public partial class FdInstanceNormChannelsLast : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=11", Axes = "D", Kind = NormKind.Rms, ElementType = typeof(double))]
public partial class FdRmsNorm11 : IPerSampleLayer<double>, IScaledLayer<double> { }

[Normalize(Shape = "N,D=41", Axes = "D", Kind = NormKind.Rms, ElementType = typeof(double))]
public partial class FdRmsNorm41 : IPerSampleLayer<double>, IScaledLayer<double> { }

[Normalize(Shape = "N,D=9", Axes = "D", Kind = NormKind.Rms, Affine = false, ElementType = typeof(double))]
public partial class FdRmsNormNonAffine : IPerSampleLayer<double> { }

// Wide enough for the column-tiled reductions (tiles of 16 columns, then 5 left over) in double.
[Normalize(Shape = "N,H=2,W=2,C=21", Axes = "NHW", ElementType = typeof(double))]
public partial class FdBatchNormChannelsLastWide : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

[Normalize(Shape = "N,C=37", Axes = "N", ElementType = typeof(double))]
public partial class FdBatchNorm1dWide : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

/// <summary>Rows of 3 doubles, narrower than a vector: the narrow passes in periods of 4 rows, and a row after them.</summary>
[Normalize(Shape = "N,H=5,W=7,C=3", Axes = "NHW", ElementType = typeof(double))]
public partial class FdNarrowBatchNormChannelsLast : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

/// <summary>
/// RMSNorm per sample and channel over channels-last rows of 3 doubles (sample by sample through the column kernels:
/// Σx² and the backward sums in periods of 4 rows, 3 rows after them).
/// </summary>
[Normalize(Shape = "N,H=19,W=21,C=3", Axes = "HW", Kind = NormKind.Rms, ElementType = typeof(double))]
public partial class FdNarrowRmsChannelsLast : IPerSampleLayer<double>, IScaledLayer<double> { }

/// <summary>GroupNorm channels-last, 3 groups of 2 channels: the column kernels with a statistic per pair of columns.</summary>
[Normalize(Shape = "N,H=16,W=16,C=6", Axes = "HWC", Groups = 3, ElementType = typeof(double))]
public partial class FdGroupNormChannelsLast : IPerSampleLayer<double>, IAffineLayer<double> { }
