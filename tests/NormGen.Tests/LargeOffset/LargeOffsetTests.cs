using System;
using Xunit;

namespace NormGen.Tests.LargeOffset;

/// <summary>
/// float inputs with mean 1e4 and std 1 (seeded): every output within 1e-5·max|ref| of the independent
/// two-pass double reference computed on the same float values widened.
/// </summary>
public class LargeOffsetTests
{
    private const double Rel = 1e-5;
    private const double Eps = 1e-5;
    private const double Offset = 1e4;

    [Fact]
    public void BatchNorm2d_Nchw() =>
        CheckBatchNorm(new OffsetBatchNorm2d(), NormLayout.BatchNorm(8, 8, 64), 1001);

    [Fact]
    public void BatchNorm2d_ChannelsLast() =>
        CheckBatchNorm(new OffsetBatchNormChannelsLast(), NormLayout.BatchNormChannelsLast(6, 16, 20), 1004);

    // Rows of 3 values, narrower than a vector: the narrow passes (the backward's Σdy·x̂ with the mean's low part).
    [Fact]
    public void BatchNorm2d_ChannelsLastNarrow() =>
        CheckBatchNorm(new OffsetNarrowBatchNormChannelsLast(), NormLayout.BatchNormChannelsLast(6, 25, 3), 1008);

    [Fact]
    public void BatchNorm1d_Features() =>
        CheckBatchNorm(new OffsetBatchNorm1d(), NormLayout.BatchNorm(64, 37, 1), 1005);

    // The row-order y loop's columns after its unrolled tiles (whole vectors, then single columns), for both of its
    // vector widths: .ci/run runs these tests again with 512-bit vectors turned off. An odd batch leaves the loop,
    // which goes two rows a step, one row over.
    [Fact]
    public void BatchNorm1d_RowsWithVectorsAndColumnsLeftOver_AndAnOddRow() =>
        CheckBatchNorm(new OffsetBatchNorm1dWide(), NormLayout.BatchNorm(47, 100, 1), 1006);

    [Fact]
    public void BatchNorm1d_RowsWithANarrowVectorLeftOver() =>
        CheckBatchNorm(new OffsetBatchNorm1dWider(), NormLayout.BatchNorm(40, 120, 1), 1007);

    /// <summary>Two training steps (y, running statistics, Backward: dx, GammaGrad, BetaGrad), then an inference forward.</summary>
    private static void CheckBatchNorm<TLayer>(TLayer layer, NormLayout layout, int seed)
        where TLayer : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float>
    {
        string name = typeof(TLayer).Name;
        int c = layout.ParamCount;
        var rng = new Random(seed);
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, c, 0.5, 1.5));
        double[] beta = TestData.RoundToFloat(TestData.Uniform(rng, c, -0.5, 0.5));
        TestData.To<float>(gamma).CopyTo(layer.Gamma);
        TestData.To<float>(beta).CopyTo(layer.Beta);

        double[] refMean = new double[c];
        double[] refVar = new double[c];
        Array.Fill(refVar, 1.0);
        for (int k = 1; k <= 2; k++)
        {
            double[] x = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, Offset, 1));
            double[] dy = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 0, 1));
            ReferenceResult step = ReferenceNorm.Compute(layout, x, dy, gamma, beta, Eps);
            (refMean, refVar) = ReferenceNorm.UpdateRunning(refMean, refVar, step, 0.1);

            var y = new float[x.Length];
            layer.ForwardTraining(TestData.To<float>(x), y);
            Tolerance.AssertClose($"{name} step {k} y", (ReadOnlySpan<float>)y, step.Y, Rel);
            Tolerance.AssertClose($"{name} step {k} RunningMean", (ReadOnlySpan<float>)layer.RunningMean, refMean, Rel);
            Tolerance.AssertClose($"{name} step {k} RunningVar", (ReadOnlySpan<float>)layer.RunningVar, refVar, Rel);

            layer.ZeroGrad();
            var dx = new float[x.Length];
            layer.Backward(TestData.To<float>(x), TestData.To<float>(dy), dx);
            Tolerance.AssertClose($"{name} step {k} dx", (ReadOnlySpan<float>)dx, step.Dx, Rel);
            Tolerance.AssertClose($"{name} step {k} GammaGrad", (ReadOnlySpan<float>)layer.GammaGrad, step.DGamma, Rel);
            Tolerance.AssertClose($"{name} step {k} BetaGrad", (ReadOnlySpan<float>)layer.BetaGrad, step.DBeta, Rel);
        }

        // Inference with the running statistics the layer holds (float values, mean ≈ 1.9e3).
        double[] xEval = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, Offset, 1));
        var yEval = new float[xEval.Length];
        layer.ForwardInference(TestData.To<float>(xEval), yEval);
        double[] heldMean = TestData.ToDouble<float>(layer.RunningMean);
        double[] heldVar = TestData.ToDouble<float>(layer.RunningVar);
        Tolerance.AssertClose($"{name} inference y", (ReadOnlySpan<float>)yEval,
            ReferenceNorm.Normalize(layout, xEval, heldMean, heldVar, gamma, beta, Eps), Rel);

        // Inference with loaded statistics at the data's offset: y = O(1), so x − mean must be exact.
        double[] loadedMean = TestData.RoundToFloat(TestData.Normal(rng, c, Offset, 0.5));
        double[] loadedVar = TestData.RoundToFloat(TestData.Uniform(rng, c, 0.5, 2));
        layer.LoadRunningStatistics(TestData.To<float>(loadedMean), TestData.To<float>(loadedVar));
        layer.ForwardInference(TestData.To<float>(xEval), yEval);
        Tolerance.AssertClose($"{name} inference y with loaded statistics at the offset", (ReadOnlySpan<float>)yEval,
            ReferenceNorm.Normalize(layout, xEval, loadedMean, loadedVar, gamma, beta, Eps), Rel);
    }

    [Fact]
    public void LayerNorm_ForwardAndBackward() =>
        CheckPerSample(new OffsetLayerNorm(), NormLayout.LayerNorm(16, 100), 1002);

    [Fact]
    public void GroupNorm_ForwardAndBackward() =>
        CheckPerSample(new OffsetGroupNorm(), NormLayout.GroupNorm(4, 8, 4, 25), 1003);

    private static void CheckPerSample<TLayer>(TLayer layer, NormLayout layout, int seed)
        where TLayer : IPerSampleLayer<float>, IAffineLayer<float>
    {
        string name = typeof(TLayer).Name;
        var rng = new Random(seed);
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, layout.ParamCount, 0.5, 1.5));
        double[] beta = TestData.RoundToFloat(TestData.Uniform(rng, layout.ParamCount, -0.5, 0.5));
        TestData.To<float>(gamma).CopyTo(layer.Gamma);
        TestData.To<float>(beta).CopyTo(layer.Beta);
        double[] x = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, Offset, 1));
        double[] dy = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 0, 1));
        ReferenceResult r = ReferenceNorm.Compute(layout, x, dy, gamma, beta, Eps);

        var y = new float[x.Length];
        layer.Forward(TestData.To<float>(x), y);
        Tolerance.AssertClose($"{name} y", (ReadOnlySpan<float>)y, r.Y, Rel);

        layer.ZeroGrad();
        var dx = new float[x.Length];
        layer.Backward(TestData.To<float>(x), TestData.To<float>(dy), dx);
        Tolerance.AssertClose($"{name} dx", (ReadOnlySpan<float>)dx, r.Dx, Rel);
        Tolerance.AssertClose($"{name} GammaGrad", (ReadOnlySpan<float>)layer.GammaGrad, r.DGamma, Rel);
        Tolerance.AssertClose($"{name} BetaGrad", (ReadOnlySpan<float>)layer.BetaGrad, r.DBeta, Rel);
    }
}
