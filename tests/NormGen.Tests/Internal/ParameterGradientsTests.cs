using System;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// The vector loop that adds a Backward's per-chunk parameter sums to GammaGrad/BetaGrad must give, bit for bit, what the
/// scalar loops it replaced gave: each parameter's sum in double from 0 over the chunks in chunk order, rounded once to
/// the element type and added; for every parameter count (whole vectors, tails); and refuse arrays that do not fit.
/// </summary>
public sealed class ParameterGradientsTests
{
    public static TheoryData<int, int> CountsAndChunks => new()
    {
        { 1, 1 }, { 3, 2 }, { 4, 3 }, { 7, 8 }, { 8, 2 }, { 9, 5 }, { 17, 3 }, { 64, 8 }, { 1000, 2 }, { 517, 7 },
    };

    [Theory]
    [MemberData(nameof(CountsAndChunks))]
    public void Float_gradients_get_the_chunk_order_sum_rounded_once(int count, int chunks)
    {
        var rng = new Random((count * 31) + chunks);
        int stride = count + 16;
        double[] partials = Partials(rng, chunks, stride);
        float[] gamma = Floats(rng, count), beta = Floats(rng, count);
        float[] expectedGamma = (float[])gamma.Clone(), expectedBeta = (float[])beta.Clone();
        for (int i = 0; i < count; i++)
        {
            expectedGamma[i] += (float)ScalarSum(partials, stride, chunks, 0, i);
            expectedBeta[i] += (float)ScalarSum(partials, stride, chunks, 1, i);
        }

        ParameterGradients.AddChunkSums(partials, stride, chunks, gamma, beta);

        SameBits.Assert<float>("GammaGrad", expectedGamma, "scalar loop", gamma, "vector loop");
        SameBits.Assert<float>("BetaGrad", expectedBeta, "scalar loop", beta, "vector loop");
    }

    [Theory]
    [MemberData(nameof(CountsAndChunks))]
    public void Double_gradients_get_the_chunk_order_sum(int count, int chunks)
    {
        var rng = new Random((count * 37) + chunks);
        int stride = count + 16;
        double[] partials = Partials(rng, chunks, stride);
        double[] gamma = Array.ConvertAll(Floats(rng, count), v => (double)v), beta = Array.ConvertAll(Floats(rng, count), v => (double)v);
        double[] expectedGamma = (double[])gamma.Clone(), expectedBeta = (double[])beta.Clone();
        for (int i = 0; i < count; i++)
        {
            expectedGamma[i] += ScalarSum(partials, stride, chunks, 0, i);
            expectedBeta[i] += ScalarSum(partials, stride, chunks, 1, i);
        }

        ParameterGradients.AddChunkSums(partials, stride, chunks, gamma, beta);

        SameBits.Assert<double>("GammaGrad", expectedGamma, "scalar loop", gamma, "vector loop");
        SameBits.Assert<double>("BetaGrad", expectedBeta, "scalar loop", beta, "vector loop");
    }

    [Fact]
    public void Without_beta_only_gamma_changes()
    {
        const int count = 13, chunks = 3, stride = count + 16;
        double[] partials = Partials(new Random(5), chunks, stride);
        var gamma = new float[count];

        ParameterGradients.AddChunkSums(partials, stride, chunks, gamma, null);

        for (int i = 0; i < count; i++)
        {
            Assert.Equal((float)ScalarSum(partials, stride, chunks, 0, i), gamma[i]);
        }
    }

    [Fact]
    public void Arrays_that_do_not_fit_are_refused_and_nothing_changes()
    {
        var gamma = new float[8];
        var error = Assert.Throws<ArgumentException>(() => ParameterGradients.AddChunkSums(new double[2 * 2 * 24], 24, 3, gamma, new float[8]));
        Assert.Contains("3 chunks of 2 rows of 8 sums, 24 apart, in 96 values", error.Message);
        Assert.Throws<ArgumentException>(() => ParameterGradients.AddChunkSums(new double[64], 4, 2, new float[8], null));
        Assert.Throws<ArgumentException>(() => ParameterGradients.AddChunkSums(Partials(new Random(1), 2, 24), 24, 2, gamma, new float[7]));
        Assert.All(gamma, v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(32, 0, 40)]
    [InlineData(16, 5, 40)]
    [InlineData(7, 33, 40)]
    [InlineData(32, 8, 40)]
    public void Column_sums_are_rounded_once_and_added_at_their_columns(int count, int first, int length)
    {
        var rng = new Random((count * 7) + first);
        double[] sums = new double[count];
        for (int i = 0; i < count; i++)
        {
            sums[i] = (rng.NextDouble() - 0.5) * 1e3;
        }
        float[] floats = Floats(rng, length);
        double[] doubles = Array.ConvertAll(Floats(rng, length), v => (double)v);
        float[] expectedFloats = (float[])floats.Clone();
        double[] expectedDoubles = (double[])doubles.Clone();
        for (int i = 0; i < count; i++)
        {
            expectedFloats[first + i] += (float)sums[i];
            expectedDoubles[first + i] += sums[i];
        }

        ParameterGradients.AddColumnSums(sums, floats, first);
        ParameterGradients.AddColumnSums(sums, doubles, first);

        SameBits.Assert<float>("GammaGrad", expectedFloats, "scalar loop", floats, "AddColumnSums");
        SameBits.Assert<double>("GammaGrad", expectedDoubles, "scalar loop", doubles, "AddColumnSums");
    }

    [Fact]
    public void Column_sums_past_the_end_are_refused_and_nothing_changes()
    {
        float[] grad = new float[40];
        var error = Assert.Throws<ArgumentException>(() => ParameterGradients.AddColumnSums(new double[32], grad, 9));
        Assert.Contains("expected 32 sums for gradients 9 to 40 of 40", error.Message);
        Assert.Throws<ArgumentException>(() => ParameterGradients.AddColumnSums(new double[4], grad, -1));
        Assert.All(grad, v => Assert.Equal(0f, v));
    }

    private static double ScalarSum(double[] partials, int stride, int chunks, int row, int i)
    {
        double sum = 0.0;
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            sum += partials[(((chunk * 2) + row) * stride) + i];
        }
        return sum;
    }

    /// <summary>Sums of magnitudes far apart, so that another order of the additions rounds differently.</summary>
    private static double[] Partials(Random rng, int chunks, int stride)
    {
        var a = new double[chunks * 2 * stride];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = ((rng.NextDouble() * 2) - 1) * (i % 3 == 0 ? 1e-9 : 1e7);
        }
        return a;
    }

    private static float[] Floats(Random rng, int count)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++)
        {
            a[i] = (float)((rng.NextDouble() * 2) - 1);
        }
        return a;
    }
}
