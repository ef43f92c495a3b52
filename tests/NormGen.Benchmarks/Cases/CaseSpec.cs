using System;
using System.Collections.Generic;
using System.Linq;

namespace NormGen.Benchmarks.Cases;

/// <summary>What kind of normalization a case is; decides the peers' loops and the operations benchmarked.</summary>
public enum LayerKind
{
    /// <summary>BatchNorm1d/2d: statistics per channel over (N, spatial); running statistics; three operations.</summary>
    Batch,

    /// <summary>LayerNorm over the last dim: statistics per row; per-element affine.</summary>
    Layer,

    /// <summary>GroupNorm: statistics per (sample, group of channels); per-channel affine.</summary>
    Group,

    /// <summary>RMSNorm over the last dim: root mean square per row; per-element scale, no shift.</summary>
    Rms,
}

/// <summary>The operations a benchmark class measures; also the BenchmarkDotNet category names.</summary>
public static class Ops
{
    public const string ForwardTraining = "ForwardTraining";
    public const string ForwardInference = "ForwardInference";
    public const string Forward = "Forward";
    public const string Backward = "Backward";

    public static IReadOnlyList<string> For(LayerKind kind) =>
        kind == LayerKind.Batch ? new[] { ForwardTraining, ForwardInference, Backward } : new[] { Forward, Backward };
}

/// <summary>
/// One benchmark case: the tensor the layer sees, viewed canonically.
/// Batch: [N, C, S] with S the product of the spatial dims (1 for BatchNorm1d on (N, C)).
/// Group: [N, G, C/G, S]. Layer and Rms: [Rows, D].
/// </summary>
public sealed record CaseSpec(string Name, string Title, LayerKind Kind, int[] Dims, int Groups, string Shape, string Axes)
{
    public const float Epsilon = 1e-5f;
    public const float Momentum = 0.1f;

    public int Length => Dims.Aggregate(1, (a, b) => a * b);

    public long Bytes => (long)Length * sizeof(float);

    public bool IsBatch => Kind == LayerKind.Batch;

    public bool HasBeta => Kind != LayerKind.Rms;

    /// <summary>N for Batch/Group; the row count for Layer/Rms.</summary>
    public int N => Dims[0];

    /// <summary>Channels (Batch/Group); the normalized dim D for Layer/Rms.</summary>
    public int C => Dims[1];

    /// <summary>Product of the dims after C (1 for 2-D tensors).</summary>
    public int S => Dims.Skip(2).Aggregate(1, (a, b) => a * b);

    /// <summary>Length of Gamma/Beta (and of the running statistics for batch layers).</summary>
    public int ParameterSize => C;

    public string DimsText => "[" + string.Join(",", Dims) + "]";

    public IReadOnlyList<string> Operations => Ops.For(Kind);

    /// <summary>
    /// The bytes the operation must move at least: training/inference forward read x and write y;
    /// backward reads x and dy and writes dx. (Parameters and statistics are negligible.)
    /// </summary>
    public long MinimumBytes(string op) => op == Ops.Backward ? 3 * Bytes : 2 * Bytes;
}

/// <summary>The eight cases of issue 4, by benchmark class name.</summary>
public static class CaseCatalog
{
    public static readonly CaseSpec Bn2d_32x64x32x32 = new(nameof(Bn2d_32x64x32x32), "BatchNorm2d x[32,64,32,32]", LayerKind.Batch, new[] { 32, 64, 32, 32 }, 1, "N,C=64,H=32,W=32", "NHW");
    public static readonly CaseSpec Bn2d_8x256x14x14 = new(nameof(Bn2d_8x256x14x14), "BatchNorm2d x[8,256,14,14]", LayerKind.Batch, new[] { 8, 256, 14, 14 }, 1, "N,C=256,H=14,W=14", "NHW");
    public static readonly CaseSpec Bn2d_128x32x8x8 = new(nameof(Bn2d_128x32x8x8), "BatchNorm2d x[128,32,8,8]", LayerKind.Batch, new[] { 128, 32, 8, 8 }, 1, "N,C=32,H=8,W=8", "NHW");
    public static readonly CaseSpec Bn1d_256x512 = new(nameof(Bn1d_256x512), "BatchNorm1d x[256,512]", LayerKind.Batch, new[] { 256, 512 }, 1, "N,C=512", "N");
    public static readonly CaseSpec Ln_8192x768 = new(nameof(Ln_8192x768), "LayerNorm(768) x[8192,768]", LayerKind.Layer, new[] { 8192, 768 }, 1, "N,D=768", "D");
    public static readonly CaseSpec Ln_32x64 = new(nameof(Ln_32x64), "LayerNorm(64) x[32,64]", LayerKind.Layer, new[] { 32, 64 }, 1, "N,D=64", "D");
    public static readonly CaseSpec Gn8_32x64x32x32 = new(nameof(Gn8_32x64x32x32), "GroupNorm(8,64) x[32,64,32,32]", LayerKind.Group, new[] { 32, 64, 32, 32 }, 8, "N,C=64,H=32,W=32", "CHW");
    public static readonly CaseSpec Rms_8192x768 = new(nameof(Rms_8192x768), "RMSNorm(768) x[8192,768]", LayerKind.Rms, new[] { 8192, 768 }, 1, "N,D=768", "D");

    public static readonly IReadOnlyList<CaseSpec> All = new[]
    {
        Bn2d_32x64x32x32, Bn2d_8x256x14x14, Bn2d_128x32x8x8, Bn1d_256x512,
        Ln_8192x768, Ln_32x64, Gn8_32x64x32x32, Rms_8192x768,
    };

    // The extra cases (see Extra).
    public static readonly CaseSpec Extra_Bn2d_16x3x224x224 = new(nameof(Extra_Bn2d_16x3x224x224), "BatchNorm2d x[16,3,224,224]", LayerKind.Batch, new[] { 16, 3, 224, 224 }, 1, "N,C=3,H=224,W=224", "NHW");
    public static readonly CaseSpec Extra_Bn2d_64x512x7x7 = new(nameof(Extra_Bn2d_64x512x7x7), "BatchNorm2d x[64,512,7,7]", LayerKind.Batch, new[] { 64, 512, 7, 7 }, 1, "N,C=512,H=7,W=7", "NHW");
    public static readonly CaseSpec Extra_Bn1d_64x100 = new(nameof(Extra_Bn1d_64x100), "BatchNorm1d x[64,100]", LayerKind.Batch, new[] { 64, 100 }, 1, "N,C=100", "N");
    public static readonly CaseSpec Extra_Ln_64x1000 = new(nameof(Extra_Ln_64x1000), "LayerNorm(1000) x[64,1000]", LayerKind.Layer, new[] { 64, 1000 }, 1, "N,D=1000", "D");
    public static readonly CaseSpec Extra_Ln_1024x4096 = new(nameof(Extra_Ln_1024x4096), "LayerNorm(4096) x[1024,4096]", LayerKind.Layer, new[] { 1024, 4096 }, 1, "N,D=4096", "D");
    public static readonly CaseSpec Extra_Gn32_8x256x28x28 = new(nameof(Extra_Gn32_8x256x28x28), "GroupNorm(32,256) x[8,256,28,28]", LayerKind.Group, new[] { 8, 256, 28, 28 }, 32, "N,C=256,H=28,W=28", "CHW");
    public static readonly CaseSpec Extra_In_16x64x32x32 = new(nameof(Extra_In_16x64x32x32), "InstanceNorm2d(64, affine) x[16,64,32,32]", LayerKind.Group, new[] { 16, 64, 32, 32 }, 64, "N,C=64,H=32,W=32", "HW");
    public static readonly CaseSpec Extra_Rms_256x4096 = new(nameof(Extra_Rms_256x4096), "RMSNorm(4096) x[256,4096]", LayerKind.Rms, new[] { 256, 4096 }, 1, "N,D=4096", "D");
    public static readonly CaseSpec Extra_Bn1d_1024x1001 = new(nameof(Extra_Bn1d_1024x1001), "BatchNorm1d x[1024,1001]", LayerKind.Batch, new[] { 1024, 1001 }, 1, "N,C=1001", "N");
    public static readonly CaseSpec Extra_Bn2d_256x3x32x32 = new(nameof(Extra_Bn2d_256x3x32x32), "BatchNorm2d x[256,3,32,32]", LayerKind.Batch, new[] { 256, 3, 32, 32 }, 1, "N,C=3,H=32,W=32", "NHW");
    public static readonly CaseSpec Extra_Bn2d_32x512x4x4 = new(nameof(Extra_Bn2d_32x512x4x4), "BatchNorm2d x[32,512,4,4]", LayerKind.Batch, new[] { 32, 512, 4, 4 }, 1, "N,C=512,H=4,W=4", "NHW");
    public static readonly CaseSpec Extra_Ln_512x100 = new(nameof(Extra_Ln_512x100), "LayerNorm(100) x[512,100]", LayerKind.Layer, new[] { 512, 100 }, 1, "N,D=100", "D");
    public static readonly CaseSpec Extra_Gn1_8x64x56x56 = new(nameof(Extra_Gn1_8x64x56x56), "GroupNorm(1,64) x[8,64,56,56]", LayerKind.Group, new[] { 8, 64, 56, 56 }, 1, "N,C=64,H=56,W=56", "CHW");
    public static readonly CaseSpec Extra_Bn1d_32x2048 = new(nameof(Extra_Bn1d_32x2048), "BatchNorm1d x[32,2048]", LayerKind.Batch, new[] { 32, 2048 }, 1, "N,C=2048", "N");
    public static readonly CaseSpec Extra_Bn1d_64x4096 = new(nameof(Extra_Bn1d_64x4096), "BatchNorm1d x[64,4096]", LayerKind.Batch, new[] { 64, 4096 }, 1, "N,C=4096", "N");
    public static readonly CaseSpec Extra_In_8x256x8x8 = new(nameof(Extra_In_8x256x8x8), "InstanceNorm2d(256, affine) x[8,256,8,8]", LayerKind.Group, new[] { 8, 256, 8, 8 }, 256, "N,C=256,H=8,W=8", "HW");

    /// <summary>
    /// Shapes beyond issue 4's, run with <c>--extra</c>: few channels with large maps (C=3, 224×224), many channels with
    /// 7×7 maps, an odd BatchNorm1d width, a LayerNorm width that is no multiple of a vector and a small batch (between the
    /// two parallel thresholds), long LayerNorm rows, GroupNorm with 32 groups, InstanceNorm, RMSNorm on long rows; then a
    /// wide BatchNorm1d too large for the L2 (4 MiB), few channels of 1 MiB, 4×4 maps, short LayerNorm rows,
    /// GroupNorm(1) (one group of 784 KiB per sample) and InstanceNorm on 8×8 maps; then an MLP's wide BatchNorm1d, rows
    /// of 8 and 16 KiB over a small batch.
    /// </summary>
    public static readonly IReadOnlyList<CaseSpec> Extra = new[]
    {
        Extra_Bn2d_16x3x224x224, Extra_Bn2d_64x512x7x7, Extra_Bn1d_64x100, Extra_Ln_64x1000,
        Extra_Ln_1024x4096, Extra_Gn32_8x256x28x28, Extra_In_16x64x32x32, Extra_Rms_256x4096,
        Extra_Bn1d_1024x1001, Extra_Bn2d_256x3x32x32, Extra_Bn2d_32x512x4x4, Extra_Ln_512x100,
        Extra_Gn1_8x64x56x56, Extra_In_8x256x8x8, Extra_Bn1d_32x2048, Extra_Bn1d_64x4096,
    };

    /// <summary>Issue 4's cases, then the extra ones.</summary>
    public static readonly IReadOnlyList<CaseSpec> Everything = All.Concat(Extra).ToList();

    public static CaseSpec? Find(string name) => Everything.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal));
}
