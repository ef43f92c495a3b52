using NormGen;

namespace NormGen.Tests.LargeOffset;

// float layers fed inputs with mean 1e4 and std 1: E[x²] − E[x]² would lose every digit.

[Normalize(Shape = "N,C=8,H=8,W=8", Axes = "NHW")]
public partial class OffsetBatchNorm2d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,D=100", Axes = "D")]
public partial class OffsetLayerNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

[Normalize(Shape = "N,C=8,H=5,W=5", Axes = "CHW", Groups = 4)]
public partial class OffsetGroupNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

// Innermost dim kept (C last): the lane-parallel kernels, with a vector tail (20 and 37 channels).

[Normalize(Shape = "N,H=4,W=4,C=20", Axes = "NHW")]
public partial class OffsetBatchNormChannelsLast : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=37", Axes = "N")]
public partial class OffsetBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

// Rows wider than the unrolled tile of the row-order y loop, with whole vectors and single columns left over: 100 =
// one 64-column 512-bit tile, two 512-bit vectors and 4 columns (256-bit: three 32-column tiles and 4 columns); 120 =
// the 64-column tile, three 512-bit vectors and one 256-bit vector (256-bit: three tiles and three vectors).
[Normalize(Shape = "N,C=100", Axes = "N")]
public partial class OffsetBatchNorm1dWide : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=120", Axes = "N")]
public partial class OffsetBatchNorm1dWider : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

// Rows long enough that a pivot taken from the first 8 values, when those lie far out, is 90 standard deviations from
// the mean (the statistics pass must then sum again about the mean it found).
[Normalize(Shape = "N,D=65536", Axes = "D")]
public partial class FarPivotLayerNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

// Rows × columns whose per-column pivots (the mean of 32 rows spread over the batch) can be made to lie far out.
[Normalize(Shape = "N,C=24", Axes = "N")]
public partial class FarPivotBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=3", Axes = "N")]
public partial class FarPivotNarrowBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,H=5,W=5,C=3", Axes = "NHW")]
public partial class OffsetNarrowBatchNormChannelsLast : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }
