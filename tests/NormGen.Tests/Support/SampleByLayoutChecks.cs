using System;
using NormGen.Tests.Golden;

namespace NormGen.Tests;

/// <summary>
/// Shared checks of per-sample layers against <see cref="ReferenceNorm"/>: samples of different means and spreads (a
/// statistic or a parameter sum in the wrong place shows), one and two threads giving the same bits, and the gradients
/// of two Backward calls accumulating.
/// </summary>
internal static class SampleByLayoutChecks
{
    public delegate void Forward(ReadOnlySpan<float> x, Span<float> y);

    public delegate void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx);

    /// <summary>A layer at the given degree: a setter of γ and β, Forward, Backward and its (dγ, dβ).</summary>
    public delegate (Action<float[], float[]> SetParameters, Forward Forward, Backward Backward, Func<(float[], float[])> Gradients) MakeLayer(int degree);

    /// <summary>Forward and two Backward calls at one and two threads: the same bits, and within float rounding of the reference.</summary>
    public static void AssertReferenceAndThreads(NormLayout layout, int samples, int sampleSize, MakeLayer make)
    {
        var rng = new Random(samples + sampleSize);
        float[] x = SamplesOfDifferentScales(rng, samples, sampleSize);
        double[] dy = TestData.Uniform(rng, x.Length, -1, 1);
        float[] gamma = TestData.To<float>(TestData.Uniform(rng, layout.ParamCount, 0.5, 1.5));
        float[] beta = TestData.To<float>(TestData.Uniform(rng, layout.ParamCount, -0.5, 0.5));
        (float[] Y, float[] Dx, float[] GammaGrad, float[] BetaGrad) Run(int degree)
        {
            var layer = make(degree);
            layer.SetParameters(gamma, beta);
            var y = new float[x.Length];
            var dx = new float[x.Length];
            layer.Forward(x, y);
            layer.Backward(x, TestData.To<float>(dy), dx);
            layer.Backward(x, TestData.To<float>(dy), dx);
            (float[] gammaGrad, float[] betaGrad) = layer.Gradients();
            return (y, dx, gammaGrad, betaGrad);
        }

        var one = Run(1);
        var two = Run(2);
        Tolerance.AssertIdentical("y at two threads", (ReadOnlySpan<float>)one.Y, two.Y);
        Tolerance.AssertIdentical("dx at two threads", (ReadOnlySpan<float>)one.Dx, two.Dx);
        Tolerance.AssertIdentical("GammaGrad at two threads", (ReadOnlySpan<float>)one.GammaGrad, two.GammaGrad);
        Tolerance.AssertIdentical("BetaGrad at two threads", (ReadOnlySpan<float>)one.BetaGrad, two.BetaGrad);

        ReferenceResult reference = ReferenceNorm.Compute(layout, TestData.ToDouble<float>(x), dy,
            TestData.ToDouble<float>(gamma), TestData.ToDouble<float>(beta), 1e-5);
        Tolerance.AssertClose("y", (ReadOnlySpan<float>)one.Y, reference.Y, 2e-6);
        Tolerance.AssertClose("dx", (ReadOnlySpan<float>)one.Dx, reference.Dx, 2e-5);
        Tolerance.AssertClose("GammaGrad after two Backward calls", (ReadOnlySpan<float>)one.GammaGrad, TestData.Scaled<double>(reference.DGamma, 2), 2e-6);
        Tolerance.AssertClose("BetaGrad after two Backward calls", (ReadOnlySpan<float>)one.BetaGrad, TestData.Scaled<double>(reference.DBeta, 2), 2e-6);
    }

    /// <summary>
    /// A golden case of NCHW data run through a channels-last layer: x and dy transposed to (N, spatial, C), y and dx
    /// transposed back, each output against the golden tolerances.
    /// </summary>
    public static void AssertGoldenChannelsLast<TLayer>(string name, TLayer layer, int channels, int spatial)
        where TLayer : IPerSampleLayer<float>, IAffineLayer<float>
    {
        GoldenCase c = GoldenCase.Load(name);
        int n = c.Input("x").Length / (channels * spatial);
        TestData.To<float>(c.Input("gamma")).CopyTo(layer.Gamma);
        TestData.To<float>(c.Input("beta")).CopyTo(layer.Beta);
        float[] x = TestData.To<float>(ToChannelsLast(c.Input("x"), n, channels, spatial));
        float[] dy = TestData.To<float>(ToChannelsLast(c.Input("dy"), n, channels, spatial));
        var y = new float[x.Length];
        var dx = new float[x.Length];

        layer.Forward(x, y);
        layer.Backward(x, dy, dx);

        Tolerance.AssertGolden(c, "y", (ReadOnlySpan<float>)ToChannelsFirst(y, n, channels, spatial));
        Tolerance.AssertGolden(c, "backward.dx", (ReadOnlySpan<float>)ToChannelsFirst(dx, n, channels, spatial));
        Tolerance.AssertGolden(c, "backward.dgamma", (ReadOnlySpan<float>)layer.GammaGrad);
        Tolerance.AssertGolden(c, "backward.dbeta", (ReadOnlySpan<float>)layer.BetaGrad);
    }

    /// <summary>Sample s uniform in [2s − 1, 4s + 1]: every sample its own mean and spread.</summary>
    public static float[] SamplesOfDifferentScales(Random rng, int samples, int sampleSize)
    {
        var x = new float[samples * sampleSize];
        for (int s = 0; s < samples; s++)
        {
            double[] values = TestData.Uniform(rng, sampleSize, (3 * s) - 1 - s, (3 * s) + 1 + s);
            TestData.To<float>(values).CopyTo(x, s * sampleSize);
        }
        return x;
    }

    private static double[] ToChannelsLast(double[] x, int n, int channels, int spatial)
    {
        var result = new double[x.Length];
        for (int s = 0; s < n; s++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int p = 0; p < spatial; p++)
                {
                    result[(((s * spatial) + p) * channels) + c] = x[(((s * channels) + c) * spatial) + p];
                }
            }
        }
        return result;
    }

    private static float[] ToChannelsFirst(float[] x, int n, int channels, int spatial)
    {
        var result = new float[x.Length];
        for (int s = 0; s < n; s++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int p = 0; p < spatial; p++)
                {
                    result[(((s * channels) + c) * spatial) + p] = x[(((s * spatial) + p) * channels) + c];
                }
            }
        }
        return result;
    }
}
