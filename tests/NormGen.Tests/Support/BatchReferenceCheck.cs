using System;
using System.Numerics;

namespace NormGen.Tests;

/// <summary>
/// One BatchNorm layer's training forward, backward and inference forward against the double reference, with random γ
/// and β: y, dx, GammaGrad, BetaGrad, the running statistics after one update from (0, 1), and inference with them.
/// </summary>
internal static class BatchReferenceCheck
{
    public const double Eps = 1e-5;

    /// <param name="offset">The mean of x (std 2).</param>
    public static void AssertMatches<T>(IBatchStatsLayer<T> layer, IAffineLayer<T> affine, IRunningStatsLayer<T> running, NormLayout layout, Random rng, double offset, double rel)
        where T : IFloatingPointIeee754<T>
    {
        bool isFloat = typeof(T) == typeof(float);
        double[] Values(double[] v) => isFloat ? TestData.RoundToFloat(v) : v;
        double[] gamma = Values(TestData.Uniform(rng, layout.ParamCount, 0.5, 1.5));
        double[] beta = Values(TestData.Uniform(rng, layout.ParamCount, -0.5, 0.5));
        double[] x = Values(TestData.Normal(rng, layout.Length, offset, 2));
        double[] dy = Values(TestData.Normal(rng, layout.Length, 0, 1));
        TestData.To<T>(gamma).CopyTo(affine.Gamma);
        TestData.To<T>(beta).CopyTo(affine.Beta);
        var reference = ReferenceNorm.Compute(layout, x, dy, gamma, beta, Eps);
        (double[] refMean, double[] refVar) = ReferenceNorm.UpdateRunning(new double[layout.GroupCount], TestData.Filled<double>(layout.GroupCount, 1), reference, 0.1);

        T[] xs = TestData.To<T>(x), y = new T[x.Length], dx = new T[x.Length], yInference = new T[x.Length];
        layer.ForwardTraining(xs, y);
        layer.Backward(xs, TestData.To<T>(dy), dx);
        layer.ForwardInference(xs, yInference);

        string name = layer.GetType().Name;
        Tolerance.AssertClose($"{name} y", (ReadOnlySpan<T>)y, reference.Y, rel);
        Tolerance.AssertClose($"{name} dx", (ReadOnlySpan<T>)dx, reference.Dx, rel);
        Tolerance.AssertClose($"{name} GammaGrad", (ReadOnlySpan<T>)affine.GammaGrad, reference.DGamma, rel);
        Tolerance.AssertClose($"{name} BetaGrad", (ReadOnlySpan<T>)affine.BetaGrad, reference.DBeta, rel);
        Tolerance.AssertClose($"{name} RunningMean", (ReadOnlySpan<T>)running.RunningMean, refMean, rel);
        Tolerance.AssertClose($"{name} RunningVar", (ReadOnlySpan<T>)running.RunningVar, refVar, rel);
        Tolerance.AssertClose($"{name} ForwardInference y", (ReadOnlySpan<T>)yInference, ReferenceNorm.Normalize(layout, x, refMean, refVar, gamma, beta, Eps), rel);
    }
}
