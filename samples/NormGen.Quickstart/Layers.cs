using NormGen;

namespace NormGen.Quickstart;

/// <summary>BatchNorm2d(4) over a small N×C×H×W batch: statistics per channel, over the batch and the pixels.</summary>
[Normalize(Shape = "N,C=4,H=3,W=3", Axes = "NHW")]
public partial class FeatureBatchNorm { }

/// <summary>LayerNorm([4,3,3]) over the same batch: statistics per sample, over its channels and pixels.</summary>
[Normalize(Shape = "N,C=4,H=3,W=3", Axes = "CHW")]
public partial class SampleLayerNorm { }
