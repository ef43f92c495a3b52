using NormGen;

namespace NormGen.Tests.BadInput;

// Sizes chosen so that the numbers in the messages are distinctive: SampleSize 24, ParameterSize 4.

[Normalize(Shape = "N,C=4,H=2,W=3", Axes = "NHW")]
public partial class GuardedBatchNorm : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

/// <summary>BatchNorm1d(4) on (N,C): a batch of one has one value per channel.</summary>
[Normalize(Shape = "N,C=4", Axes = "N")]
public partial class GuardedBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,D=24", Axes = "D")]
public partial class GuardedLayerNorm : IPerSampleLayer<float>, IAffineLayer<float> { }
