using System;
using System.Linq;
using Xunit;

namespace NormGen.Tests.Semantics;

/// <summary>Initial state, running statistics (momentum, cumulative average, loading), and which forward Backward uses.</summary>
public class StateSemanticsTests
{
    private const double Eps = 1e-5;
    private static readonly NormLayout Bn4 = NormLayout.BatchNorm(4, 3, 4);   // SemBatchNorm with N = 4

    [Fact]
    public void BatchNorm_InitialState()
    {
        var layer = new SemBatchNorm();
        Assert.Equal(3, layer.Gamma.Length);
        Tolerance.AssertIdentical("Gamma", new double[] { 1, 1, 1 }, layer.Gamma);
        Tolerance.AssertIdentical("Beta", new double[3], layer.Beta);
        Tolerance.AssertIdentical("GammaGrad", new double[3], layer.GammaGrad);
        Tolerance.AssertIdentical("BetaGrad", new double[3], layer.BetaGrad);
        Tolerance.AssertIdentical("RunningMean", new double[3], layer.RunningMean);
        Tolerance.AssertIdentical("RunningVar", new double[] { 1, 1, 1 }, layer.RunningVar);
        Assert.Equal(0, layer.BatchesTracked);
        Assert.False(layer.HasRunningStatistics);
    }

    [Fact]
    public void PerSample_InitialState()
    {
        var ln = new SemLayerNorm();
        Tolerance.AssertIdentical("LayerNorm Gamma", new double[] { 1, 1, 1, 1, 1, 1 }, ln.Gamma);
        Tolerance.AssertIdentical("LayerNorm Beta", new double[6], ln.Beta);
        Tolerance.AssertIdentical("LayerNorm GammaGrad", new double[6], ln.GammaGrad);
        var rms = new SemRmsNorm();
        Tolerance.AssertIdentical("RMSNorm Gamma", new double[] { 1, 1, 1, 1, 1, 1, 1, 1 }, rms.Gamma);
        Tolerance.AssertIdentical("RMSNorm GammaGrad", new double[8], rms.GammaGrad);
    }

    [Fact]
    public void LoadRunningStatistics_SetsThemAndInferenceUsesThem()
    {
        var layer = new SemBatchNorm();
        double[] gamma = { 1.5, -0.5, 2 }, beta = { 0.25, 0, -1 };
        gamma.CopyTo(layer.Gamma);
        beta.CopyTo(layer.Beta);
        double[] mean = { 0.5, -2, 3 }, variance = { 0.25, 4, 9 };
        layer.LoadRunningStatistics(mean, variance);
        Assert.True(layer.HasRunningStatistics);
        Tolerance.AssertIdentical("RunningMean", mean, layer.RunningMean);
        Tolerance.AssertIdentical("RunningVar", variance, layer.RunningVar);
        mean[0] = 100;   // the layer holds a copy
        Assert.Equal(0.5, layer.RunningMean[0]);
        mean[0] = 0.5;

        double[] x = TestData.Uniform(new Random(31), Bn4.Length, -3, 3);
        var y = new double[x.Length];
        layer.ForwardInference(x, y);
        Tolerance.AssertClose("y", (ReadOnlySpan<double>)y, ReferenceNorm.Normalize(Bn4, x, mean, variance, gamma, beta, Eps), 1e-12);
    }

    /// <summary>
    /// ForwardInference reuses its per-statistic 1/std while the running statistics are unchanged: it must still see
    /// every change, whether made through the RunningMean/RunningVar spans, by LoadRunningStatistics or by training,
    /// and the changes γ and β make.
    /// </summary>
    [Fact]
    public void ForwardInference_FollowsEveryChangeOfTheRunningStatistics()
    {
        var layer = new SemBatchNorm();
        double[] mean = { 0.5, -2, 3 }, variance = { 0.25, 4, 9 };
        layer.LoadRunningStatistics(mean, variance);
        double[] x = TestData.Uniform(new Random(33), Bn4.Length, -3, 3);
        var y = new double[x.Length];
        void AssertInference(string after)
        {
            layer.ForwardInference(x, y);
            double[] gamma = layer.Gamma.ToArray(), beta = layer.Beta.ToArray();
            Tolerance.AssertClose($"y after {after}", (ReadOnlySpan<double>)y,
                ReferenceNorm.Normalize(Bn4, x, layer.RunningMean.ToArray(), layer.RunningVar.ToArray(), gamma, beta, Eps), 1e-12);
        }
        AssertInference("LoadRunningStatistics");
        AssertInference("the same call again");
        layer.RunningVar[1] = 0.5;
        AssertInference("a write to RunningVar");
        layer.RunningMean[2] = -1;
        AssertInference("a write to RunningMean");
        layer.Gamma[0] = 3;
        layer.Beta[2] = 0.5;
        AssertInference("writes to Gamma and Beta");
        layer.ForwardTraining(TestData.Uniform(new Random(34), Bn4.Length, -1, 5), new double[Bn4.Length]);
        AssertInference("a training step");
        layer.LoadRunningStatistics(variance, mean.Select(Math.Abs).ToArray());
        AssertInference("another LoadRunningStatistics");
    }

    [Fact]
    public void ForwardTraining_UpdatesRunningStatisticsWithMomentum01()
    {
        var layer = new SemBatchNorm();
        var rng = new Random(32);
        double[] rm = { 0, 0, 0 }, rv = { 1, 1, 1 };
        for (int step = 1; step <= 3; step++)
        {
            double[] x = TestData.Uniform(rng, Bn4.Length, -1, 4);
            var y = new double[x.Length];
            layer.ForwardTraining(x, y);
            ReferenceResult r = ReferenceNorm.Compute(Bn4, x, null, null, null, Eps);
            (rm, rv) = ReferenceNorm.UpdateRunning(rm, rv, r, 0.1);
            Tolerance.AssertClose($"step {step} y", (ReadOnlySpan<double>)y, r.Y, 1e-12);
            Tolerance.AssertClose($"step {step} RunningMean", (ReadOnlySpan<double>)layer.RunningMean, rm, 1e-12);
            Tolerance.AssertClose($"step {step} RunningVar", (ReadOnlySpan<double>)layer.RunningVar, rv, 1e-12);
            Assert.Equal(step, layer.BatchesTracked);
            Assert.True(layer.HasRunningStatistics);
        }
    }

    [Fact]
    public void Momentum1_KeepsOnlyTheLastBatch()
    {
        var layer = new SemBatchNormMomentumOne();
        var layout = NormLayout.BatchNorm(3, 3, 4);
        var rng = new Random(33);
        layer.ForwardTraining(TestData.Uniform(rng, layout.Length, -5, 5), new double[layout.Length]);
        double[] x = TestData.Uniform(rng, layout.Length, 0, 2);
        layer.ForwardTraining(x, new double[layout.Length]);
        ReferenceResult r = ReferenceNorm.Compute(layout, x, null, null, null, Eps);
        var unbiased = new double[3];
        for (int c = 0; c < 3; c++)
        {
            unbiased[c] = r.BiasedVar[c] * 12 / 11;
        }
        Tolerance.AssertClose("RunningMean", (ReadOnlySpan<double>)layer.RunningMean, r.Mean, 1e-12);
        Tolerance.AssertClose("RunningVar", (ReadOnlySpan<double>)layer.RunningVar, unbiased, 1e-12);
    }

    [Fact]
    public void CumulativeAverage_AveragesTheBatchStatistics()
    {
        var layer = new SemBatchNormCumulative();
        var rng = new Random(34);
        var sumMean = new double[2];
        var sumVar = new double[2];
        for (int step = 1; step <= 3; step++)
        {
            int n = step + 1;   // batch sizes 2, 3, 4
            var layout = NormLayout.BatchNorm(n, 2, 3);
            double[] x = TestData.Uniform(rng, layout.Length, -2, 6);
            layer.ForwardTraining(x, new double[x.Length]);
            ReferenceResult r = ReferenceNorm.Compute(layout, x, null, null, null, Eps);
            for (int c = 0; c < 2; c++)
            {
                sumMean[c] += r.Mean[c];
                sumVar[c] += r.BiasedVar[c] * r.Count[c] / (r.Count[c] - 1);
            }
            Assert.Equal(step, layer.BatchesTracked);
            Tolerance.AssertClose($"step {step} RunningMean", (ReadOnlySpan<double>)layer.RunningMean,
                new[] { sumMean[0] / step, sumMean[1] / step }, 1e-12);
            Tolerance.AssertClose($"step {step} RunningVar", (ReadOnlySpan<double>)layer.RunningVar,
                new[] { sumVar[0] / step, sumVar[1] / step }, 1e-12);
        }
    }

    [Fact]
    public void ForwardInference_ChangesNoStatistics()
    {
        var layer = new SemBatchNorm();
        var rng = new Random(35);
        layer.ForwardTraining(TestData.Uniform(rng, Bn4.Length, -1, 1), new double[Bn4.Length]);
        double[] rm = layer.RunningMean.ToArray(), rv = layer.RunningVar.ToArray();
        layer.ForwardInference(TestData.Uniform(rng, Bn4.Length, 5, 9), new double[Bn4.Length]);
        Tolerance.AssertIdentical("RunningMean", rm, layer.RunningMean);
        Tolerance.AssertIdentical("RunningVar", rv, layer.RunningVar);
        Assert.Equal(1, layer.BatchesTracked);
    }

    [Fact]
    public void NoRunningStats_InferenceUsesTheBatchStatistics()
    {
        var layer = new SemBatchNormNoStats();
        var layout = NormLayout.BatchNorm(4, 3, 5);
        var rng = new Random(36);
        double[] gamma = { 0.5, 1.5, -1 }, beta = { 1, 0, 2 };
        gamma.CopyTo(layer.Gamma);
        beta.CopyTo(layer.Beta);
        double[] x1 = TestData.Uniform(rng, layout.Length, -1, 1);
        var yTrain = new double[x1.Length];
        layer.ForwardTraining(x1, yTrain);
        // Inference on another batch normalizes with that batch's own statistics.
        double[] x2 = TestData.Uniform(rng, layout.Length, 10, 30);
        var yEval = new double[x2.Length];
        layer.ForwardInference(x2, yEval);
        Tolerance.AssertClose("inference y", (ReadOnlySpan<double>)yEval, ReferenceNorm.Compute(layout, x2, null, gamma, beta, Eps).Y, 1e-12);
        Tolerance.AssertClose("training y", (ReadOnlySpan<double>)yTrain, ReferenceNorm.Compute(layout, x1, null, gamma, beta, Eps).Y, 1e-12);
    }

    [Fact]
    public void BatchNorm_BatchSizeMayChange_BackwardUsesTheLatestTrainingForward()
    {
        var layer = new SemBatchNorm();
        var rng = new Random(37);
        double[] gamma = { 0.75, 1.25, 2 };
        gamma.CopyTo(layer.Gamma);
        layer.ForwardTraining(TestData.Uniform(rng, 2 * 12, -1, 1), new double[24]);
        var layout = NormLayout.BatchNorm(5, 3, 4);
        double[] x = TestData.Uniform(rng, layout.Length, -2, 2);
        double[] dy = TestData.Uniform(rng, layout.Length, -1, 1);
        layer.ForwardTraining(x, new double[x.Length]);
        layer.ZeroGrad();
        var dx = new double[x.Length];
        layer.Backward(x, dy, dx);
        ReferenceResult r = ReferenceNorm.Compute(layout, x, dy, gamma, null, Eps);
        Tolerance.AssertClose("dx", (ReadOnlySpan<double>)dx, r.Dx, 1e-12);
        Tolerance.AssertClose("GammaGrad", (ReadOnlySpan<double>)layer.GammaGrad, r.DGamma, 1e-12);
        Tolerance.AssertClose("BetaGrad", (ReadOnlySpan<double>)layer.BetaGrad, r.DBeta, 1e-12);
    }

    [Fact]
    public void PerSample_BackwardUsesTheLatestForward()
    {
        var layer = new SemLayerNorm();
        var layout = NormLayout.LayerNorm(3, 6);
        var rng = new Random(38);
        double[] gamma = TestData.Uniform(rng, 6, 0.5, 1.5);
        gamma.CopyTo(layer.Gamma);
        layer.Forward(TestData.Uniform(rng, 12, -1, 1), new double[12]);
        double[] x = TestData.Uniform(rng, layout.Length, -3, 3);
        double[] dy = TestData.Uniform(rng, layout.Length, -1, 1);
        layer.Forward(x, new double[x.Length]);
        var dx = new double[x.Length];
        layer.Backward(x, dy, dx);
        Tolerance.AssertClose("dx", (ReadOnlySpan<double>)dx, ReferenceNorm.Compute(layout, x, dy, gamma, null, Eps).Dx, 1e-12);
    }

    [Fact]
    public void Epsilon_IsAddedToTheVariance()
    {
        var layer = new SemLayerNormLargeEpsilon();
        var layout = NormLayout.LayerNorm(2, 4);
        double[] x = { 0, 1, 2, 3, -1, 1, -1, 1 };
        var y = new double[8];
        layer.Forward(x, y);
        Tolerance.AssertClose("y", (ReadOnlySpan<double>)y, ReferenceNorm.Compute(layout, x, null, null, null, 0.5).Y, 1e-12);
        // Row 2 has variance 1: y = ±1/sqrt(1.5).
        Assert.Equal(1 / Math.Sqrt(1.5), y[5], 14);
    }

    [Fact]
    public void UnsizedLeadingDims_RowsComeFromTheLength()
    {
        var layer = new SemTokenNorm();
        var rng = new Random(39);
        double[] beta = TestData.Uniform(rng, 5, -1, 1);
        beta.CopyTo(layer.Beta);
        foreach (int rows in new[] { 1, 6, 7 })
        {
            var layout = NormLayout.LayerNorm(rows, 5);
            double[] x = TestData.Uniform(rng, layout.Length, -2, 2);
            double[] dy = TestData.Uniform(rng, layout.Length, -1, 1);
            var y = new double[x.Length];
            layer.Forward(x, y);
            layer.ZeroGrad();
            var dx = new double[x.Length];
            layer.Backward(x, dy, dx);
            ReferenceResult r = ReferenceNorm.Compute(layout, x, dy, null, beta, Eps);
            Tolerance.AssertClose($"{rows} rows: y", (ReadOnlySpan<double>)y, r.Y, 1e-12);
            Tolerance.AssertClose($"{rows} rows: dx", (ReadOnlySpan<double>)dx, r.Dx, 1e-12);
            Tolerance.AssertClose($"{rows} rows: GammaGrad", (ReadOnlySpan<double>)layer.GammaGrad, r.DGamma, 1e-12);
        }
    }
}
