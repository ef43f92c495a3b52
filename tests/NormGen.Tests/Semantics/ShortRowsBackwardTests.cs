using System;
using Xunit;

namespace NormGen.Tests.Semantics;

// Rows of 32 to 384 floats with γ along the row: on AVX-512 their backward keeps each row's vectors in registers
// (2, 4, 6, 8 and 24 of them), elsewhere it runs the 256-bit loops; both must match the reference.
[Normalize(Shape = "N,D=32", Axes = "D")]
internal partial class ShortRowsLayerNorm32 : IPerSampleLayer<float>, IAffineLayer<float> { }

[Normalize(Shape = "N,D=64", Axes = "D")]
internal partial class ShortRowsLayerNorm64 : IPerSampleLayer<float>, IAffineLayer<float> { }

[Normalize(Shape = "N,D=96", Axes = "D")]
internal partial class ShortRowsLayerNorm96 : IPerSampleLayer<float>, IAffineLayer<float> { }

[Normalize(Shape = "N,D=128", Axes = "D", Kind = NormKind.Rms)]
internal partial class ShortRowsRmsNorm128 : IPerSampleLayer<float>, IScaledLayer<float> { }

[Normalize(Shape = "N,D=384", Axes = "D")]
internal partial class ShortRowsLayerNorm384 : IPerSampleLayer<float>, IAffineLayer<float> { }

/// <summary>
/// The backward of short rows with γ along the row: dx, dγ and dβ against the double-precision reference, for a batch
/// under the 8 rows of a dγ/dβ block (added straight into the gradients), for blocks of 8 with a partial last one, and
/// for a call large enough to be shared out in chunks; two Backward calls accumulate. Rows of 32–384 floats are where
/// the AVX-512 kernel keeps a row's vectors in registers (LayerNorm x[4096,64] backward 1.5× faster); a mistake in its
/// pairing of partial sums, its dγ/dβ block or its dx shows here.
/// </summary>
public class ShortRowsBackwardTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(21)]
    [InlineData(1200)]
    public void LayerNorm_rows_of_64_match_the_reference(int rows) => AssertMatchesReference(new ShortRowsLayerNorm64(), rows, 64, rms: false);

    [Theory]
    [InlineData(5)]
    [InlineData(1100)]
    public void LayerNorm_rows_of_32_match_the_reference(int rows) => AssertMatchesReference(new ShortRowsLayerNorm32(), rows, 32, rms: false);

    [Theory]
    [InlineData(17)]
    [InlineData(700)]
    public void LayerNorm_rows_of_96_match_the_reference(int rows) => AssertMatchesReference(new ShortRowsLayerNorm96(), rows, 96, rms: false);

    [Theory]
    [InlineData(9)]
    [InlineData(600)]
    public void RmsNorm_rows_of_128_match_the_reference(int rows) => AssertMatchesReference(new ShortRowsRmsNorm128(), rows, 128, rms: true);

    [Theory]
    [InlineData(6)]
    [InlineData(300)]
    public void LayerNorm_rows_of_384_match_the_reference(int rows) => AssertMatchesReference(new ShortRowsLayerNorm384(), rows, 384, rms: false);

    [Fact]
    public void A_row_of_zero_gradients_gives_zero_dx()
    {
        var layer = new ShortRowsLayerNorm64();
        float[] x = TestData.To<float>(TestData.Uniform(new Random(5), 2 * 64, -2, 2));
        var y = new float[x.Length];
        layer.Forward(x, y);
        var dx = new float[x.Length];
        layer.Backward(x, new float[x.Length], dx);
        Assert.All(dx, v => Assert.Equal(0f, v));
    }

    private static void AssertMatchesReference(IPerSampleLayer<float> layer, int rows, int size, bool rms)
    {
        var rng = new Random(rows * 1000 + size);
        double[] x = TestData.RoundToFloat(TestData.Uniform(rng, rows * size, 3, 7));
        double[] dy = TestData.Uniform(rng, rows * size, -1, 1);
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, size, 0.5, 1.5));
        double[]? beta = rms ? null : TestData.RoundToFloat(TestData.Uniform(rng, size, -0.5, 0.5));
        var scaled = (IScaledLayer<float>)layer;
        TestData.To<float>(gamma).CopyTo(scaled.Gamma);
        if (beta is not null)
        {
            TestData.To<float>(beta).CopyTo(((IAffineLayer<float>)layer).Beta);
        }
        float[] xs = TestData.To<float>(x), dys = TestData.To<float>(dy);
        var y = new float[xs.Length];
        layer.Forward(xs, y);
        var dx = new float[xs.Length];
        layer.Backward(xs, dys, dx);
        layer.Backward(xs, dys, dx);

        ReferenceResult reference = ReferenceNorm.Compute(NormLayout.LayerNorm(rows, size), x, dy, gamma, beta, 1e-5, rms);
        Tolerance.AssertClose("y", (ReadOnlySpan<float>)y, reference.Y, 1e-6);
        Tolerance.AssertClose("dx", (ReadOnlySpan<float>)dx, reference.Dx, 1e-5);
        // Two Backward calls: twice the reference's parameter gradients.
        Tolerance.AssertClose("GammaGrad", (ReadOnlySpan<float>)scaled.GammaGrad, Array.ConvertAll(reference.DGamma, v => 2 * v), 1e-5);
        if (beta is not null)
        {
            Tolerance.AssertClose("BetaGrad", (ReadOnlySpan<float>)((IAffineLayer<float>)layer).BetaGrad, Array.ConvertAll(reference.DBeta, v => 2 * v), 1e-5);
        }
    }
}
