using System;
using Xunit;

namespace NormGen.Tests.GradientCheck;

/// <summary>
/// Backward against central finite differences (double, h = 1e-6) of L = Σ y·w with random w:
/// dx, GammaGrad and BetaGrad at 1e-6 relative (max norm). Batch-statistics layers are differentiated
/// through ForwardTraining (batch statistics). The forward itself is checked against the independent
/// reference first, so the finite differences differentiate the right function.
/// </summary>
public class GradientCheckTests
{
    private const double H = 1e-6;
    private const double Rel = 1e-6;
    private const double Eps = 1e-5;

    [Fact] public void BatchNorm2d_Nchw() => CheckBatch(new FdBatchNorm2d(), 4, NormLayout.BatchNorm(4, 3, 20), 11);

    [Fact] public void BatchNorm2d_ChannelsLast() => CheckBatch(new FdBatchNormChannelsLast(), 4, NormLayout.BatchNormChannelsLast(4, 6, 5), 12);

    [Fact] public void BatchNorm2d_ChannelsLastNarrow() => CheckBatch(new FdNarrowBatchNormChannelsLast(), 3, NormLayout.BatchNormChannelsLast(3, 35, 3), 18);

    [Fact] public void RmsNorm_ChannelsLastNarrow() => CheckPerSample(new FdNarrowRmsChannelsLast(), NormLayout.InstanceNormChannelsLast(2, 399, 3), 19, rms: true);

    [Fact] public void BatchNorm2d_ChannelsLastWide() => CheckBatch(new FdBatchNormChannelsLastWide(), 3, NormLayout.BatchNormChannelsLast(3, 4, 21), 17);

    [Fact] public void BatchNorm1d_WideFeatures() => CheckBatch(new FdBatchNorm1dWide(), 4, NormLayout.BatchNorm(4, 37, 1), 18);

    [Fact] public void BatchNorm1d_Features() => CheckBatch(new FdBatchNorm1d(), 5, NormLayout.BatchNorm(5, 7, 1), 13);

    [Fact] public void BatchNorm1d_LongSequence() => CheckBatch(new FdBatchNorm1dLong(), 3, NormLayout.BatchNorm(3, 3, 43), 14);

    [Fact] public void BatchNorm2d_NonAffine() => CheckBatch(new FdBatchNormNonAffine(), 3, NormLayout.BatchNorm(3, 5, 9), 15);

    [Fact] public void BatchNorm2d_NoRunningStats() => CheckBatch(new FdBatchNormNoRunningStats(), 3, NormLayout.BatchNorm(3, 4, 6), 16);

    [Fact] public void LayerNorm_D13() => CheckPerSample(new FdLayerNorm13(), NormLayout.LayerNorm(3, 13), 21);

    [Fact] public void LayerNorm_D45() => CheckPerSample(new FdLayerNorm45(), NormLayout.LayerNorm(3, 45), 22);

    [Fact] public void LayerNorm_OverChw() => CheckPerSample(new FdLayerNormChw(), NormLayout.LayerNorm(2, 60), 23);

    [Fact] public void LayerNorm_NonAffine() => CheckPerSample(new FdLayerNormNonAffine(), NormLayout.LayerNorm(4, 7), 24);

    [Fact] public void GroupNorm_C6_G3() => CheckPerSample(new FdGroupNorm(), NormLayout.GroupNorm(3, 6, 3, 5), 31);

    [Fact] public void GroupNorm_ChannelsLast_C6_G3() => CheckPerSample(new FdGroupNormChannelsLast(), NormLayout.GroupNormChannelsLast(2, 256, 6, 3), 33);

    [Fact] public void GroupNorm_C4_G2_L43() => CheckPerSample(new FdGroupNormLong(), NormLayout.GroupNorm(2, 4, 2, 43), 32);

    [Fact] public void InstanceNorm_C4_3x3() => CheckPerSample(new FdInstanceNorm(), NormLayout.InstanceNorm(3, 4, 9), 41);

    [Fact] public void InstanceNorm_C3_7x7() => CheckPerSample(new FdInstanceNormWide(), NormLayout.InstanceNorm(2, 3, 49), 42);

    [Fact] public void InstanceNorm_ChannelsLast_16x16_C5() => CheckPerSample(new FdInstanceNormChannelsLast(), NormLayout.InstanceNormChannelsLast(2, 256, 5), 43);

    [Fact] public void LayerNorm_OverChannels_C5_16x16() => CheckPerSample(new FdLayerNormOverChannels(), NormLayout.LayerNormOverChannels(2, 5, 256), 25);

    [Fact] public void RmsNorm_OverChannels_C6_13x13() => CheckPerSample(new FdRmsNormOverChannels(), NormLayout.LayerNormOverChannels(2, 6, 169), 54, rms: true);

    [Fact] public void RmsNorm_D11() => CheckPerSample(new FdRmsNorm11(), NormLayout.LayerNorm(3, 11), 51, rms: true);

    [Fact] public void RmsNorm_D41() => CheckPerSample(new FdRmsNorm41(), NormLayout.LayerNorm(3, 41), 52, rms: true);

    [Fact] public void RmsNorm_NonAffine() => CheckPerSample(new FdRmsNormNonAffine(), NormLayout.LayerNorm(4, 9), 53, rms: true);

    private static void CheckBatch(IBatchStatsLayer<double> layer, int n, NormLayout layout, int seed)
    {
        Assert.Equal(layout.Length, n * LayerInfo.SampleSize(layer.GetType()));
        Check(layer, layer.ForwardTraining, layer.Backward, layout, seed, rms: false);
    }

    private static void CheckPerSample(IPerSampleLayer<double> layer, NormLayout layout, int seed, bool rms = false)
    {
        Assert.Equal(0, layout.Length % LayerInfo.SampleSize(layer.GetType()));
        Check(layer, layer.Forward, layer.Backward, layout, seed, rms);
    }

    private static void Check(object layer, ForwardFn<double> forward, BackwardFn<double> backward, NormLayout layout, int seed, bool rms)
    {
        string name = layer.GetType().Name;
        var rng = new Random(seed);
        int len = layout.Length;
        double[] x = TestData.Uniform(rng, len, -1.5, 2.5);
        double[] w = TestData.Uniform(rng, len, -1, 1);
        var scaled = layer as IScaledLayer<double>;
        var affine = layer as IAffineLayer<double>;
        double[]? gamma = null, beta = null;
        if (scaled is not null)
        {
            Assert.Equal(layout.ParamCount, scaled.Gamma.Length);
            gamma = TestData.Uniform(rng, layout.ParamCount, 0.5, 1.5);
            gamma.CopyTo(scaled.Gamma);
        }
        if (affine is not null)
        {
            Assert.Equal(layout.ParamCount, affine.Beta.Length);
            beta = TestData.Uniform(rng, layout.ParamCount, -0.5, 0.5);
            beta.CopyTo(affine.Beta);
        }

        // Analytic gradients.
        var y = new double[len];
        forward(x, y);
        ReferenceResult reference = ReferenceNorm.Compute(layout, x, w, gamma, beta, Eps, rms);
        Tolerance.AssertClose($"{name} y vs reference", (ReadOnlySpan<double>)y, reference.Y, 1e-12);
        scaled?.ZeroGrad();
        var dx = new double[len];
        backward(x, w, dx);
        double[]? dgamma = scaled?.GammaGrad.ToArray();
        double[]? dbeta = affine?.BetaGrad.ToArray();

        // Central differences.
        var xp = (double[])x.Clone();
        var yp = new double[len];
        double Loss()
        {
            forward(xp, yp);
            double sum = 0;
            for (int i = 0; i < len; i++)
            {
                sum += yp[i] * w[i];
            }
            return sum;
        }

        var fdX = new double[len];
        for (int i = 0; i < len; i++)
        {
            xp[i] = x[i] + H;
            double plus = Loss();
            xp[i] = x[i] - H;
            double minus = Loss();
            xp[i] = x[i];
            fdX[i] = (plus - minus) / (2 * H);
        }
        Tolerance.AssertClose($"{name} dx vs finite differences", (ReadOnlySpan<double>)dx, fdX, Rel);

        if (scaled is not null)
        {
            var fd = new double[layout.ParamCount];
            for (int j = 0; j < fd.Length; j++)
            {
                scaled.Gamma[j] = gamma![j] + H;
                double plus = Loss();
                scaled.Gamma[j] = gamma[j] - H;
                double minus = Loss();
                scaled.Gamma[j] = gamma[j];
                fd[j] = (plus - minus) / (2 * H);
            }
            Tolerance.AssertClose($"{name} GammaGrad vs finite differences", (ReadOnlySpan<double>)dgamma, fd, Rel);
        }
        if (affine is not null)
        {
            var fd = new double[layout.ParamCount];
            for (int j = 0; j < fd.Length; j++)
            {
                affine.Beta[j] = beta![j] + H;
                double plus = Loss();
                affine.Beta[j] = beta[j] - H;
                double minus = Loss();
                affine.Beta[j] = beta[j];
                fd[j] = (plus - minus) / (2 * H);
            }
            Tolerance.AssertClose($"{name} BetaGrad vs finite differences", (ReadOnlySpan<double>)dbeta, fd, Rel);
        }
    }
}
