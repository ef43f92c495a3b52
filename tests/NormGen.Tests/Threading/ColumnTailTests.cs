using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// BatchNorm1d rows whose columns are no whole number of vectors: the columns after the last whole vector are the last
/// lanes of the vector ending at the last column (its other lanes dropped from the sums and left unwritten). Training,
/// backward and inference match the double reference, and the gradient sums of the overlapped columns are not counted
/// twice (a dγ or dβ of those columns would be off by its own size).
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class ColumnTailTests
{
    [Fact]
    public void Float_rows_of_37_match_the_reference()
    {
        var layer = new ColumnTailBatchNorm1d();
        AssertMatchesReference(layer, layer, layer, NormLayout.BatchNorm(45, 37, 1), new Random(5001), Tolerance.FloatFloor);
    }

    [Fact]
    public void Float_rows_of_2100_match_the_reference()
    {
        var layer = new WideColumnTailBatchNorm1d();
        AssertMatchesReference(layer, layer, layer, NormLayout.BatchNorm(70, 2100, 1), new Random(5002), Tolerance.FloatFloor);
    }

    [Fact]
    public void Double_rows_of_37_match_the_reference()
    {
        var layer = new DoubleColumnTailBatchNorm1d();
        AssertMatchesReference(layer, layer, layer, NormLayout.BatchNorm(45, 37, 1), new Random(5003), Tolerance.DoubleRel);
    }

    private static void AssertMatchesReference<T>(IBatchStatsLayer<T> layer, IAffineLayer<T> affine, IRunningStatsLayer<T> running, NormLayout layout, Random rng, double rel)
        where T : IFloatingPointIeee754<T>
    {
        bool isFloat = typeof(T) == typeof(float);
        double[] Values(double[] v) => isFloat ? TestData.RoundToFloat(v) : v;
        double[] gamma = Values(TestData.Uniform(rng, layout.ParamCount, 0.5, 1.5));
        double[] beta = Values(TestData.Uniform(rng, layout.ParamCount, -0.5, 0.5));
        double[] x = Values(TestData.Normal(rng, layout.Length, 1, 2));
        double[] dy = Values(TestData.Normal(rng, layout.Length, 0, 1));
        TestData.To<T>(gamma).CopyTo(affine.Gamma);
        TestData.To<T>(beta).CopyTo(affine.Beta);
        var reference = ReferenceNorm.Compute(layout, x, dy, gamma, beta, 1e-5);
        (double[] refMean, double[] refVar) = ReferenceNorm.UpdateRunning(new double[layout.GroupCount], Ones(layout.GroupCount), reference, 0.1);

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
        Tolerance.AssertClose($"{name} ForwardInference y", (ReadOnlySpan<T>)yInference, ReferenceNorm.Normalize(layout, x, refMean, refVar, gamma, beta, 1e-5), rel);
    }

    private static double[] Ones(int count)
    {
        var ones = new double[count];
        Array.Fill(ones, 1.0);
        return ones;
    }
}
