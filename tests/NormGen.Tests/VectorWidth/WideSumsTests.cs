using System;
using System.Runtime.InteropServices;
using Xunit;

namespace NormGen.Tests.VectorWidth;

[Normalize(Shape = "N,C=32,H=28,W=28", Axes = "CHW", Groups = 8)]
public partial class WideSumsGroupNorm { }

[Normalize(Shape = "N,C=8,H=32,W=32", Axes = "NHW")]
public partial class WideSumsBatchNorm { }

[Normalize(Shape = "N,C=16,H=14,W=14", Axes = "NHW")]
public partial class WideSumsBatchNormOddMaps { }

[Normalize(Shape = "N,C=8,H=6,W=6", Axes = "NHW")]
public partial class WideSumsBatchNormSmallOddMaps { }

[Normalize(Shape = "N,C=8,H=16,W=16", Axes = "NHW", ElementType = typeof(double))]
public partial class WideSumsBatchNormDouble { }

[Normalize(Shape = "N,C=16,H=8,W=8", Axes = "NHW")]
public partial class WideSumsBatchNormSideBySide { }

[Normalize(Shape = "N,C=16,H=8,W=8", Axes = "NHW", ElementType = typeof(double))]
public partial class WideSumsBatchNormSideBySideDouble { }

[Normalize(Shape = "N,D=768", Axes = "D")]
public partial class WideSumsLayerNorm { }

[Normalize(Shape = "N,D=384", Axes = "D", Kind = NormKind.Rms, ElementType = typeof(double))]
public partial class WideSumsRmsNorm { }

/// <summary>
/// The group-by-group sums loops (statistics, gradient sums) have a 512-bit twin, taken where the processor has AVX-512,
/// whose every lane adds the same values in the same order as the 256-bit loop's: the results must be the same bits
/// either way. One process takes one of the two, so each test pins the bits of a forward and a backward as a
/// fingerprint: <c>.ci/run</c> runs these tests on an AVX-512 processor as they are (the 512-bit loops), again with
/// 512-bit vectors turned off (the 256-bit loops) and with AVX turned off (the portable paths), and the same
/// fingerprints must hold in all three. The shapes cover each loop the twin is written for: runs of 784 values (a
/// block of 512, 8 iterations and a 16-value tail), of 1024 across samples, rows of 768, double rows of 384, and runs of
/// 196 across samples, whose 512-bit partial sums stay 512-bit from run to run and whose last 4 values are summed as a
/// tree (runs of 36 take the tree alone), double runs of 256 across samples, and the gradient sums of 8×8 maps whose
/// channels go side by side in memory order (float and double), their 512-bit partial sums read and written in pairs.
/// </summary>
public sealed class WideSumsTests
{
    /// <summary>
    /// Also against the double reference: the statistics pass goes over each group's 8 runs as one run of 6272 values,
    /// whose float blocks end inside the runs.
    /// </summary>
    [Fact]
    public void GroupNorm_over_28x28_maps()
    {
        var layer = new WideSumsGroupNorm();
        var (x, dy, y, dx) = ForwardAndBackward<float>(6 * WideSumsGroupNorm.SampleSize, 71, layer.Forward, layer.Backward);
        AssertNearReference(NormLayout.GroupNorm(6, 32, 8, 784), x, dy, y, dx, layer.GammaGrad, layer.BetaGrad);
        AssertBits(0x0153_10E2_7381_0D90UL, y, dx, layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray());
    }

    [Fact]
    public void BatchNorm_over_32x32_maps()
    {
        var layer = new WideSumsBatchNorm();
        var (_, _, y, dx) = ForwardAndBackward<float>(5 * WideSumsBatchNorm.SampleSize, 72, layer.ForwardTraining, layer.Backward);
        AssertBits(0xA6AE_53F4_C26B_353CUL, y, dx, layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray(), layer.RunningMean.ToArray(), layer.RunningVar.ToArray());
    }

    /// <summary>
    /// Runs of 196 values (6 unrolled iterations and 4 values) across 5 samples: the 512-bit sums kept across the runs,
    /// flushed every 2 runs and after the odd last one, and each run's last 4 values summed as a tree; also against the
    /// double reference.
    /// </summary>
    [Fact]
    public void BatchNorm_over_14x14_maps()
    {
        var layer = new WideSumsBatchNormOddMaps();
        var (x, dy, y, dx) = ForwardAndBackward<float>(5 * WideSumsBatchNormOddMaps.SampleSize, 75, layer.ForwardTraining, layer.Backward);
        AssertNearReference(NormLayout.BatchNorm(5, 16, 196), x, dy, y, dx, layer.GammaGrad, layer.BetaGrad);
        AssertBits(0x9D9B_9867_C4BC_3705UL, y, dx, layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray(), layer.RunningMean.ToArray(), layer.RunningVar.ToArray());
    }

    /// <summary>Runs of 36 values (one unrolled iteration and 4 values): too short for the 512-bit twin, the tail as a tree; also against the double reference.</summary>
    [Fact]
    public void BatchNorm_over_6x6_maps()
    {
        var layer = new WideSumsBatchNormSmallOddMaps();
        var (x, dy, y, dx) = ForwardAndBackward<float>(7 * WideSumsBatchNormSmallOddMaps.SampleSize, 76, layer.ForwardTraining, layer.Backward);
        AssertNearReference(NormLayout.BatchNorm(7, 8, 36), x, dy, y, dx, layer.GammaGrad, layer.BetaGrad);
        AssertBits(0x119A_098C_6D2D_4020UL, y, dx, layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray(), layer.RunningMean.ToArray(), layer.RunningVar.ToArray());
    }

    /// <summary>Double runs of 256 across 3 samples: the 512-bit sums kept across all of a group's runs (double sums need no blocks).</summary>
    [Fact]
    public void BatchNorm_double_over_16x16_maps()
    {
        var layer = new WideSumsBatchNormDouble();
        var (x, dy, y, dx) = ForwardAndBackward<double>(3 * WideSumsBatchNormDouble.SampleSize, 77, layer.ForwardTraining, layer.Backward);
        AssertDxNearReference(NormLayout.BatchNorm(3, 8, 256), x, dy, dx);
        AssertBits(0x8F05_51F9_B641_C597UL, y, dx, layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray(), layer.RunningMean.ToArray(), layer.RunningVar.ToArray());
    }

    /// <summary>
    /// Runs of 64 floats, samples 4 KiB apart: the backward's gradient sums go side by side in memory order, in 512-bit
    /// vectors each a pair of a channel's partial sums; 20 samples flush the float sums after 8, 16 and 20 runs. Also
    /// against the double reference.
    /// </summary>
    [Fact]
    public void BatchNorm_side_by_side_over_8x8_maps()
    {
        var layer = new WideSumsBatchNormSideBySide();
        var (x, dy, y, dx) = ForwardAndBackward<float>(20 * WideSumsBatchNormSideBySide.SampleSize, 78, layer.ForwardTraining, layer.Backward);
        AssertNearReference(NormLayout.BatchNorm(20, 16, 64), x, dy, y, dx, layer.GammaGrad, layer.BetaGrad);
        AssertBits(0xFD1B_C187_15FF_1978UL, y, dx, layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray(), layer.RunningMean.ToArray(), layer.RunningVar.ToArray());
    }

    /// <summary>Double runs of 64 (512 bytes), samples 8 KiB apart: the side-by-side gradient sums in 512-bit pairs, as for float.</summary>
    [Fact]
    public void BatchNorm_double_side_by_side_over_8x8_maps()
    {
        var layer = new WideSumsBatchNormSideBySideDouble();
        var (x, dy, y, dx) = ForwardAndBackward<double>(6 * WideSumsBatchNormSideBySideDouble.SampleSize, 79, layer.ForwardTraining, layer.Backward);
        AssertDxNearReference(NormLayout.BatchNorm(6, 16, 64), x, dy, dx);
        AssertBits(0x4E4D_59E7_9BCF_3C03UL, y, dx, layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray(), layer.RunningMean.ToArray(), layer.RunningVar.ToArray());
    }

    [Fact]
    public void LayerNorm_rows_of_768()
    {
        var layer = new WideSumsLayerNorm();
        var (_, _, y, dx) = ForwardAndBackward<float>(12 * WideSumsLayerNorm.SampleSize, 73, layer.Forward, layer.Backward);
        AssertBits(0x1C3A_7589_064B_3DCDUL, y, dx, layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray());
    }

    [Fact]
    public void RmsNorm_double_rows_of_384()
    {
        var layer = new WideSumsRmsNorm();
        var (_, _, y, dx) = ForwardAndBackward<double>(12 * WideSumsRmsNorm.SampleSize, 74, layer.Forward, layer.Backward);
        AssertBits(0x3BF4_F570_2D0E_083EUL, y, dx, layer.GammaGrad.ToArray());
    }

    /// <summary>y, dx, dγ and dβ of a float layer (γ = 1, β = 0) against the double reference for <paramref name="layout"/>.</summary>
    private static void AssertNearReference(NormLayout layout, float[] x, float[] dy, float[] y, float[] dx, ReadOnlySpan<float> gammaGrad, ReadOnlySpan<float> betaGrad)
    {
        var reference = ReferenceNorm.Compute(layout, TestData.ToDouble<float>(x), TestData.ToDouble<float>(dy), null, null, 1e-5);
        Tolerance.AssertClose("y", (ReadOnlySpan<float>)y, reference.Y, Tolerance.FloatFloor);
        Tolerance.AssertClose("dx", (ReadOnlySpan<float>)dx, reference.Dx, Tolerance.FloatFloor);
        Tolerance.AssertClose("dγ", gammaGrad, reference.DGamma, Tolerance.FloatFloor);
        Tolerance.AssertClose("dβ", betaGrad, reference.DBeta, Tolerance.FloatFloor);
    }

    /// <summary>dx of a double layer (γ = 1) against the double reference for <paramref name="layout"/>, to 1e-11.</summary>
    private static void AssertDxNearReference(NormLayout layout, double[] x, double[] dy, double[] dx)
    {
        var reference = ReferenceNorm.Compute(layout, x, dy, null, null, 1e-5);
        Tolerance.AssertClose("dx", (ReadOnlySpan<double>)dx, reference.Dx, 1e-11);
    }

    /// <summary>A forward (training, for BatchNorm) and its backward on seeded inputs of <paramref name="length"/> values.</summary>
    private static (T[] X, T[] Dy, T[] Y, T[] Dx) ForwardAndBackward<T>(int length, int seed, ForwardFn<T> forward, BackwardFn<T> backward)
        where T : unmanaged, System.Numerics.IFloatingPoint<T>
    {
        var (x, dy) = Inputs<T>(length, seed);
        var y = new T[length];
        var dx = new T[length];
        forward(x, y);
        backward(x, dy, dx);
        return (x, dy, y, dx);
    }

    /// <summary>x ~ N(3, 2) (a mean the pivot must handle) and dy ~ N(0, 1), seeded.</summary>
    private static (T[] X, T[] Dy) Inputs<T>(int length, int seed)
        where T : unmanaged, System.Numerics.IFloatingPoint<T>
    {
        var rng = new Random(seed);
        T[] x = TestData.To<T>(TestData.Normal(rng, length, 3, 2));
        T[] dy = TestData.To<T>(TestData.Normal(rng, length, 0, 1));
        return (x, dy);
    }

    /// <summary>FNV-1a over the bytes of every result, in order; the message gives the value found.</summary>
    private static void AssertBits<T>(ulong expected, params ReadOnlySpan<T[]> results)
        where T : unmanaged
    {
        ulong hash = 14695981039346656037UL;
        foreach (T[] result in results)
        {
            foreach (byte b in MemoryMarshal.AsBytes(result.AsSpan()))
            {
                hash = (hash ^ b) * 1099511628211UL;
            }
        }
        Assert.True(hash == expected, $"fingerprint 0x{hash:X16}, expected 0x{expected:X16}");
    }
}
