using NormGen;

namespace NormGen.Training;

/// <summary>BatchNorm1d(64) after the first linear layer: statistics per hidden unit, over the batch.</summary>
[Normalize(Shape = "N,C=64", Axes = "N")]
public partial class HiddenBatchNorm { }

/// <summary>LayerNorm(64) after the first linear layer: statistics per sample, over its 64 hidden units.</summary>
[Normalize(Shape = "N,D=64", Axes = "D")]
public partial class HiddenLayerNorm { }

/// <summary>BatchNorm1d(8) on the raw inputs: standardizes each feature over the batch (running statistics at inference).</summary>
[Normalize(Shape = "N,C=8", Axes = "N")]
public partial class InputBatchNorm { }
