namespace NormGen.Tests.ShortGroups;

// Groups that the forward takes a vector's width at a time (a single run of one vector to 2 KiB): rows of 100 floats
// (a scalar tail, and a last vector that ends inside a line), of 102 doubles (blocks of 4, a tail of 2), RMSNorm, and
// InstanceNorm on 8×8 maps of 5 channels (γ per channel, blocks that cross from one sample into the next).
[Normalize(Shape = "N,D=100", Axes = "D")]
internal partial class ShortGroupLayerNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

[Normalize(Shape = "N,D=102", Axes = "D", ElementType = typeof(double))]
internal partial class ShortGroupDoubleLayerNorm : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=100", Axes = "D", Kind = NormKind.Rms)]
internal partial class ShortGroupRmsNorm : IPerSampleLayer<float>, IScaledLayer<float> { }

[Normalize(Shape = "N,C=5,H=8,W=8", Axes = "HW")]
internal partial class ShortGroupInstanceNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

// The longest short rows, without γ and β: the far-pivot test.
[Normalize(Shape = "N,D=512", Axes = "D", Affine = false)]
internal partial class ShortGroupPlainLayerNorm : IPerSampleLayer<float> { }

// The backward's own cases (γ constant along the run, or none): 5×5 maps (a scalar tail of one value), 4×4 maps of
// doubles (blocks of 4), and RMSNorm without γ (rows of 100, a tail of 4).
[Normalize(Shape = "N,C=3,H=5,W=5", Axes = "HW")]
internal partial class ShortGroupTailInstanceNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

[Normalize(Shape = "N,C=5,H=4,W=4", Axes = "HW", ElementType = typeof(double))]
internal partial class ShortGroupDoubleInstanceNorm : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=100", Axes = "D", Kind = NormKind.Rms, Affine = false)]
internal partial class ShortGroupPlainRmsNorm : IPerSampleLayer<float> { }

// The longest short rows with γ and β (2 KiB: one float block), which took the pipelined forward before.
[Normalize(Shape = "N,D=512", Axes = "D")]
internal partial class ShortGroupWideLayerNorm : IPerSampleLayer<float>, IAffineLayer<float> { }
