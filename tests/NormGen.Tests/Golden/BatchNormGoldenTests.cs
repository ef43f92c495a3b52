using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Golden;

/// <summary>
/// batch_stats cases: Gamma/Beta from the file, three ForwardTraining steps (y, RunningMean, RunningVar,
/// BatchesTracked after each), ForwardInference on x_eval, then Backward of step 3 (dx, GammaGrad,
/// BetaGrad) — called after the eval forward, which must not change what Backward uses.
/// </summary>
public class BatchNormGoldenTests
{
    [Fact] public void Bn2dC16H8W8() => Run(new Bn2dC16(), "bn2d_c16_h8_w8");

    [Fact] public void Bn2dMomentumNone() => Run(new Bn2dMomentumNone(), "bn2d_momentum_none");

    [Fact] public void Bn2dAffineFalse() => Run(new Bn2dAffineFalse(), "bn2d_affine_false");

    [Fact] public void Bn2dNoRunningStats() => Run(new Bn2dNoRunningStats(), "bn2d_no_running_stats");

    [Fact] public void Bn1dFeaturesC64() => Run(new Bn1dFeaturesC64(), "bn1d_features_c64");

    [Fact] public void Bn1dSequenceC16L20() => Run(new Bn1dSequenceC16L20(), "bn1d_sequence_c16_l20");

    [Fact] public void Bn3dC8() => Run(new Bn3dC8(), "bn3d_c8");

    [Fact] public void Bn2dF64() => Run(new Bn2dF64(), "bn2d_f64");

    private static void Run<T>(IBatchStatsLayer<T> layer, string name) where T : unmanaged, INumberBase<T>
    {
        GoldenCase c = GoldenCase.Load(name);
        Assert.Equal("batch_stats", c.Mode);
        GoldenDeclarationMirror.AssertMirrors(layer.GetType(), c);

        var scaled = layer as IScaledLayer<T>;
        var affine = layer as IAffineLayer<T>;
        var stats = layer as IRunningStatsLayer<T>;
        Assert.Equal(c.Normgen.Affine, affine is not null);
        Assert.Equal(c.Normgen.TrackRunningStats, stats is not null);

        if (affine is not null)
        {
            double[] gamma = c.Input("gamma"), beta = c.Input("beta");
            Assert.Equal(gamma.Length, affine.Gamma.Length);
            Assert.Equal(beta.Length, affine.Beta.Length);
            TestData.To<T>(gamma).CopyTo(affine.Gamma);
            TestData.To<T>(beta).CopyTo(affine.Beta);
        }
        if (stats is not null)
        {
            Tolerance.AssertClose($"{name} initial RunningMean", stats.RunningMean, c.Input("running_mean_init"), 0);
            Tolerance.AssertClose($"{name} initial RunningVar", stats.RunningVar, c.Input("running_var_init"), 0);
            Assert.Equal(c.InputInteger("num_batches_tracked_init"), stats.BatchesTracked);
        }

        for (int k = 0; k < 3; k++)
        {
            T[] x = TestData.To<T>(c.Input($"x_train[{k}]"));
            var y = new T[x.Length];
            layer.ForwardTraining(x, y);
            Tolerance.AssertGolden(c, $"train[{k}].y", (ReadOnlySpan<T>)y);
            if (stats is not null)
            {
                Tolerance.AssertGolden(c, $"train[{k}].running_mean", (ReadOnlySpan<T>)stats.RunningMean);
                Tolerance.AssertGolden(c, $"train[{k}].running_var", (ReadOnlySpan<T>)stats.RunningVar);
                Assert.Equal(c.OutputInteger($"train[{k}].num_batches_tracked"), stats.BatchesTracked);
                Assert.True(stats.HasRunningStatistics);
            }
        }

        T[]? meanAfterTraining = stats?.RunningMean.ToArray();
        T[]? varAfterTraining = stats?.RunningVar.ToArray();
        {
            T[] x = TestData.To<T>(c.Input("x_eval"));
            var y = new T[x.Length];
            layer.ForwardInference(x, y);
            Tolerance.AssertGolden(c, "eval.y", (ReadOnlySpan<T>)y);
        }
        if (stats is not null)
        {
            // Inference updates nothing.
            Tolerance.AssertIdentical($"{name} RunningMean after ForwardInference", meanAfterTraining, stats.RunningMean);
            Tolerance.AssertIdentical($"{name} RunningVar after ForwardInference", varAfterTraining, stats.RunningVar);
            Assert.Equal(3, stats.BatchesTracked);
        }

        {
            // Backward of step 3, after the eval forward.
            scaled?.ZeroGrad();
            T[] x = TestData.To<T>(c.Input("x_train[2]"));
            T[] dy = TestData.To<T>(c.Input("dy"));
            var dx = new T[x.Length];
            layer.Backward(x, dy, dx);
            Tolerance.AssertGolden(c, "backward.dx", (ReadOnlySpan<T>)dx);
            if (affine is not null)
            {
                Tolerance.AssertGolden(c, "backward.dgamma", (ReadOnlySpan<T>)affine.GammaGrad);
                Tolerance.AssertGolden(c, "backward.dbeta", (ReadOnlySpan<T>)affine.BetaGrad);
            }
            else
            {
                Assert.Null(c.OutputOrNull("backward.dgamma"));
            }
        }
    }
}
