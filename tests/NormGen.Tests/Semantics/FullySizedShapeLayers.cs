using NormGen;

namespace NormGen.Tests.Semantics;

/// <summary>Every dim sized (no N): x.Length must equal SampleSize.</summary>
[Normalize(Shape = "C=4,L=6", Axes = "L", ElementType = typeof(double))]
public partial class SemFullySizedInstanceNorm : IPerSampleLayer<double>, IAffineLayer<double> { }
