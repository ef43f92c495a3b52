using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Semantics;

/// <summary>RGB channels-last: periods of 8 rows (24 values, three vectors).</summary>
[Normalize(Shape = "N,H=30,W=30,C=3", Axes = "NHW")]
internal partial class NarrowBatchNorm3 : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

/// <summary>Periods of 8 rows of 5 (40 values, five vectors); 441 rows a batch of 7, one after the last period.</summary>
[Normalize(Shape = "N,H=7,W=9,C=5", Axes = "NHW")]
internal partial class NarrowBatchNorm5 : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

/// <summary>Doubles: periods of 4 rows of 3 (12 values); no γ and β.</summary>
[Normalize(Shape = "N,C=3", Axes = "N", ElementType = typeof(double), Affine = false)]
internal partial class NarrowBatchNorm1dDouble : IBatchStatsLayer<double>, IRunningStatsLayer<double> { }

/// <summary>
/// Rows narrower than a vector (ColumnKernels.NarrowPeriod): training, the running statistics and Backward against the
/// double reference, the same bits at one and two threads (the larger case splits its rows into chunks), rows after the
/// last whole period.
/// </summary>
[Collection(nameof(Threading.ThreadingTests))]
public class NarrowColumnsTests
{
    [Fact]
    public void Three_channels_last_match_the_reference_at_any_threads() =>
        AssertMatchesReference(degree => new NarrowBatchNorm3 { MaxDegreeOfParallelism = degree }, 50, 900, 3, rel: 2e-6);

    [Fact]
    public void Five_columns_with_a_row_after_the_periods_match_the_reference() =>
        AssertMatchesReference(degree => new NarrowBatchNorm5 { MaxDegreeOfParallelism = degree }, 7, 63, 5, rel: 2e-6);

    [Fact]
    public void Double_rows_of_three_without_parameters_match_the_reference() =>
        AssertMatchesReference(degree => new NarrowBatchNorm1dDouble(), 203, 1, 3, rel: 1e-12);

    private static void AssertMatchesReference<T>(Func<int, IBatchStatsLayer<T>> make, int n, int spatial, int columns, double rel)
        where T : unmanaged, INumberBase<T>
    {
        var layout = NormLayout.BatchNormChannelsLast(n, spatial, columns);
        var rng = new Random(layout.Length);
        double[] x = TestData.Uniform(rng, layout.Length, -1, 3);
        double[] dy = TestData.Uniform(rng, layout.Length, -1, 1);
        double[] gamma = TestData.Uniform(rng, columns, 0.5, 1.5);
        double[] beta = TestData.Uniform(rng, columns, -0.5, 0.5);
        if (typeof(T) == typeof(float))
        {
            x = TestData.RoundToFloat(x);
            gamma = TestData.RoundToFloat(gamma);
            beta = TestData.RoundToFloat(beta);
        }
        (T[] Y, T[] Dx, T[] GammaGrad, T[] BetaGrad, T[] RunningMean, T[] RunningVar) Run(int degree)
        {
            var layer = make(degree);
            if (layer is IAffineLayer<T> affine)
            {
                TestData.To<T>(gamma).CopyTo(affine.Gamma);
                TestData.To<T>(beta).CopyTo(affine.Beta);
            }
            var y = new T[x.Length];
            var dx = new T[x.Length];
            layer.ForwardTraining(TestData.To<T>(x), y);
            layer.Backward(TestData.To<T>(x), TestData.To<T>(dy), dx);
            var running = (IRunningStatsLayer<T>)layer;
            var parameters = layer as IAffineLayer<T>;
            return (y, dx, parameters?.GammaGrad.ToArray() ?? [], parameters?.BetaGrad.ToArray() ?? [], running.RunningMean.ToArray(), running.RunningVar.ToArray());
        }

        var one = Run(1);
        var two = Run(2);
        Tolerance.AssertIdentical("y at two threads", (ReadOnlySpan<T>)one.Y, two.Y);
        Tolerance.AssertIdentical("dx at two threads", (ReadOnlySpan<T>)one.Dx, two.Dx);
        Tolerance.AssertIdentical("GammaGrad at two threads", (ReadOnlySpan<T>)one.GammaGrad, two.GammaGrad);
        Tolerance.AssertIdentical("RunningVar at two threads", (ReadOnlySpan<T>)one.RunningVar, two.RunningVar);

        bool affineLayer = one.GammaGrad.Length > 0;
        ReferenceResult r = ReferenceNorm.Compute(layout, x, dy, affineLayer ? gamma : null, affineLayer ? beta : null, 1e-5);
        (double[] runningMean, double[] runningVar) = ReferenceNorm.UpdateRunning(new double[columns], Ones(columns), r, 0.1);
        Tolerance.AssertClose("y", (ReadOnlySpan<T>)one.Y, r.Y, rel);
        Tolerance.AssertClose("dx", (ReadOnlySpan<T>)one.Dx, r.Dx, rel * 10);
        Tolerance.AssertClose("RunningMean", (ReadOnlySpan<T>)one.RunningMean, runningMean, rel);
        Tolerance.AssertClose("RunningVar", (ReadOnlySpan<T>)one.RunningVar, runningVar, rel);
        if (affineLayer)
        {
            Tolerance.AssertClose("GammaGrad", (ReadOnlySpan<T>)one.GammaGrad, r.DGamma, rel * 10);
            Tolerance.AssertClose("BetaGrad", (ReadOnlySpan<T>)one.BetaGrad, r.DBeta, rel * 10);
        }
    }

    private static double[] Ones(int length)
    {
        var ones = new double[length];
        Array.Fill(ones, 1.0);
        return ones;
    }
}
