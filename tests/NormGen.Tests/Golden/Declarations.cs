using NormGen;

namespace NormGen.Tests.Golden;

// One declaration per golden case, mirroring the case's "normgen" block (checked by
// GoldenDeclarationMirror against the file). Defaults (Epsilon 1e-5, Momentum 0.1, Groups 1,
// Affine, TrackRunningStats, float) are left out as a user would.

// ---- batch statistics (batchnorm, mode batch_stats) ----

/// <summary>bn2d_c16_h8_w8: BatchNorm2d(16).</summary>
[Normalize(Shape = "N,C=16,H=8,W=8", Axes = "NHW")]
public partial class Bn2dC16 : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

/// <summary>bn2d_momentum_none: BatchNorm2d(8, momentum=None).</summary>
[Normalize(Shape = "N,C=8,H=6,W=6", Axes = "NHW", CumulativeAverage = true)]
public partial class Bn2dMomentumNone : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

/// <summary>bn2d_affine_false: BatchNorm2d(12, affine=False).</summary>
[Normalize(Shape = "N,C=12,H=5,W=5", Axes = "NHW", Affine = false)]
public partial class Bn2dAffineFalse : IBatchStatsLayer<float>, IRunningStatsLayer<float> { }

/// <summary>bn2d_no_running_stats: BatchNorm2d(8, track_running_stats=False).</summary>
[Normalize(Shape = "N,C=8,H=4,W=4", Axes = "NHW", TrackRunningStats = false)]
public partial class Bn2dNoRunningStats : IBatchStatsLayer<float>, IAffineLayer<float> { }

/// <summary>bn1d_features_c64: BatchNorm1d(64) on (N,C).</summary>
[Normalize(Shape = "N,C=64", Axes = "N")]
public partial class Bn1dFeaturesC64 : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

/// <summary>bn1d_sequence_c16_l20: BatchNorm1d(16) on (N,C,L).</summary>
[Normalize(Shape = "N,C=16,L=20", Axes = "NL")]
public partial class Bn1dSequenceC16L20 : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

/// <summary>bn3d_c8: BatchNorm3d(8).</summary>
[Normalize(Shape = "N,C=8,D=4,H=6,W=6", Axes = "NDHW")]
public partial class Bn3dC8 : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

/// <summary>bn2d_f64: BatchNorm2d(16) in float64.</summary>
[Normalize(Shape = "N,C=16,H=8,W=8", Axes = "NHW", ElementType = typeof(double))]
public partial class Bn2dF64 : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

// ---- per-sample statistics (mode per_sample) ----

/// <summary>ln_last_dim_d256: LayerNorm(256).</summary>
[Normalize(Shape = "N,D=256", Axes = "D")]
public partial class LnLastDimD256 : IPerSampleLayer<float>, IAffineLayer<float> { }

/// <summary>ln_over_chw: LayerNorm([8,8,8]); Gamma/Beta have 512 entries.</summary>
[Normalize(Shape = "N,C=8,H=8,W=8", Axes = "CHW")]
public partial class LnOverChw : IPerSampleLayer<float>, IAffineLayer<float> { }

/// <summary>ln_last_dim_f64: LayerNorm(128) in float64.</summary>
[Normalize(Shape = "N,D=128", Axes = "D", ElementType = typeof(double))]
public partial class LnLastDimF64 : IPerSampleLayer<double>, IAffineLayer<double> { }

/// <summary>ln_affine_false: LayerNorm(64, elementwise_affine=False).</summary>
[Normalize(Shape = "N,D=64", Axes = "D", Affine = false)]
public partial class LnAffineFalse : IPerSampleLayer<float> { }

/// <summary>gn_g4_c16: GroupNorm(4, 16).</summary>
[Normalize(Shape = "N,C=16,H=8,W=8", Axes = "CHW", Groups = 4)]
public partial class GnG4C16 : IPerSampleLayer<float>, IAffineLayer<float> { }

/// <summary>gn_g8_c32_l16_affine_false: GroupNorm(8, 32, affine=False) on (N,C,L).</summary>
[Normalize(Shape = "N,C=32,L=16", Axes = "CL", Groups = 8, Affine = false)]
public partial class GnG8C32L16AffineFalse : IPerSampleLayer<float> { }

/// <summary>in2d_affine: InstanceNorm2d(16, affine=True).</summary>
[Normalize(Shape = "N,C=16,H=8,W=8", Axes = "HW")]
public partial class In2dAffine : IPerSampleLayer<float>, IAffineLayer<float> { }

/// <summary>rms_last_dim_d256: RMSNorm(256, eps=1e-6).</summary>
[Normalize(Shape = "N,D=256", Axes = "D", Kind = NormKind.Rms, Epsilon = 1e-6)]
public partial class RmsLastDimD256 : IPerSampleLayer<float>, IScaledLayer<float> { }

/// <summary>rms_eps_none: RMSNorm(128, eps=None): epsilon = 2^-23.</summary>
[Normalize(Shape = "N,D=128", Axes = "D", Kind = NormKind.Rms, Epsilon = 1.1920928955078125e-07)]
public partial class RmsEpsNone : IPerSampleLayer<float>, IScaledLayer<float> { }
