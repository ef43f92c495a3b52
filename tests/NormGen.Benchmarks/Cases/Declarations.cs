#if NORMGEN
using System;
using NormGen;

namespace NormGen.Benchmarks.Cases;

// The cases as a NormGen user declares them. The interfaces only let the startup check drive every
// case through one adapter; the timed benchmarks call the generated members on the concrete types.

/// <summary>The members every generated layer has (DESIGN.md, "The generated API").</summary>
public interface INormGenLayer
{
    Span<float> Gamma { get; }
    Span<float> GammaGrad { get; }
    int MaxDegreeOfParallelism { get; set; }
    void ZeroGrad();
    void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx);
}

/// <summary>Affine layers of kind Standard: a shift.</summary>
public interface INormGenShift
{
    Span<float> Beta { get; }
    Span<float> BetaGrad { get; }
}

/// <summary>Batch statistics: two forwards and running statistics.</summary>
public interface INormGenBatchLayer : INormGenLayer, INormGenShift
{
    void ForwardTraining(ReadOnlySpan<float> x, Span<float> y);
    void ForwardInference(ReadOnlySpan<float> x, Span<float> y);
    Span<float> RunningMean { get; }
    Span<float> RunningVar { get; }
    void LoadRunningStatistics(ReadOnlySpan<float> mean, ReadOnlySpan<float> variance);
}

/// <summary>Per-sample statistics: one forward.</summary>
public interface INormGenSampleLayer : INormGenLayer
{
    void Forward(ReadOnlySpan<float> x, Span<float> y);
}

[Normalize(Shape = "N,C=64,H=32,W=32", Axes = "NHW")]            // BatchNorm2d(64)
public partial class NgBn2d_32x64x32x32 : INormGenBatchLayer { }

[Normalize(Shape = "N,C=256,H=14,W=14", Axes = "NHW")]           // BatchNorm2d(256)
public partial class NgBn2d_8x256x14x14 : INormGenBatchLayer { }

[Normalize(Shape = "N,C=32,H=8,W=8", Axes = "NHW")]              // BatchNorm2d(32)
public partial class NgBn2d_128x32x8x8 : INormGenBatchLayer { }

[Normalize(Shape = "N,C=512", Axes = "N")]                       // BatchNorm1d(512)
public partial class NgBn1d_256x512 : INormGenBatchLayer { }

[Normalize(Shape = "N,D=768", Axes = "D")]                       // LayerNorm(768)
public partial class NgLn_8192x768 : INormGenSampleLayer, INormGenShift { }

[Normalize(Shape = "N,D=64", Axes = "D")]                        // LayerNorm(64)
public partial class NgLn_32x64 : INormGenSampleLayer, INormGenShift { }

[Normalize(Shape = "N,C=64,H=32,W=32", Axes = "CHW", Groups = 8)] // GroupNorm(8, 64)
public partial class NgGn8_32x64x32x32 : INormGenSampleLayer, INormGenShift { }

[Normalize(Shape = "N,D=768", Axes = "D", Kind = NormKind.Rms)]  // RMSNorm(768)
public partial class NgRms_8192x768 : INormGenSampleLayer { }

// The extra cases (--extra).
[Normalize(Shape = "N,C=3,H=224,W=224", Axes = "NHW")]
public partial class NgExtra_Bn2d_16x3x224x224 : INormGenBatchLayer { }

[Normalize(Shape = "N,C=512,H=7,W=7", Axes = "NHW")]
public partial class NgExtra_Bn2d_64x512x7x7 : INormGenBatchLayer { }

[Normalize(Shape = "N,C=100", Axes = "N")]
public partial class NgExtra_Bn1d_64x100 : INormGenBatchLayer { }

[Normalize(Shape = "N,D=1000", Axes = "D")]
public partial class NgExtra_Ln_64x1000 : INormGenSampleLayer, INormGenShift { }

[Normalize(Shape = "N,D=4096", Axes = "D")]
public partial class NgExtra_Ln_1024x4096 : INormGenSampleLayer, INormGenShift { }

[Normalize(Shape = "N,C=256,H=28,W=28", Axes = "CHW", Groups = 32)]
public partial class NgExtra_Gn32_8x256x28x28 : INormGenSampleLayer, INormGenShift { }

[Normalize(Shape = "N,C=64,H=32,W=32", Axes = "HW")]         // InstanceNorm2d(64, affine=True)
public partial class NgExtra_In_16x64x32x32 : INormGenSampleLayer, INormGenShift { }

[Normalize(Shape = "N,D=4096", Axes = "D", Kind = NormKind.Rms)]
public partial class NgExtra_Rms_256x4096 : INormGenSampleLayer { }

[Normalize(Shape = "N,C=1001", Axes = "N")]
public partial class NgExtra_Bn1d_1024x1001 : INormGenBatchLayer { }

[Normalize(Shape = "N,C=3,H=32,W=32", Axes = "NHW")]
public partial class NgExtra_Bn2d_256x3x32x32 : INormGenBatchLayer { }

[Normalize(Shape = "N,C=512,H=4,W=4", Axes = "NHW")]
public partial class NgExtra_Bn2d_32x512x4x4 : INormGenBatchLayer { }

[Normalize(Shape = "N,D=100", Axes = "D")]
public partial class NgExtra_Ln_512x100 : INormGenSampleLayer, INormGenShift { }

[Normalize(Shape = "N,C=64,H=56,W=56", Axes = "CHW", Groups = 1, AffineAxes = "C")]
public partial class NgExtra_Gn1_8x64x56x56 : INormGenSampleLayer, INormGenShift { }

[Normalize(Shape = "N,C=256,H=8,W=8", Axes = "HW")]
public partial class NgExtra_In_8x256x8x8 : INormGenSampleLayer, INormGenShift { }

[Normalize(Shape = "N,C=2048", Axes = "N")]
public partial class NgExtra_Bn1d_32x2048 : INormGenBatchLayer { }

[Normalize(Shape = "N,C=4096", Axes = "N")]
public partial class NgExtra_Bn1d_64x4096 : INormGenBatchLayer { }
#endif
