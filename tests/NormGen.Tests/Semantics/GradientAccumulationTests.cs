using System;
using Xunit;

namespace NormGen.Tests.Semantics;

/// <summary>GammaGrad/BetaGrad accumulate (+=) over Backward calls; ZeroGrad resets them; dx does not accumulate.</summary>
public class GradientAccumulationTests
{
    private const double Eps = 1e-5;

    [Fact]
    public void BatchNorm() =>
        Check(new SemBatchNorm(), NormLayout.BatchNorm(4, 3, 4), 41, (l, x, y) => l.ForwardTraining(x, y), rms: false);

    [Fact]
    public void LayerNorm() =>
        Check(new SemLayerNorm(), NormLayout.LayerNorm(5, 6), 42, (l, x, y) => l.Forward(x, y), rms: false);

    [Fact]
    public void RmsNorm() =>
        Check(new SemRmsNorm(), NormLayout.LayerNorm(5, 8), 43, (l, x, y) => l.Forward(x, y), rms: true);

    /// <summary>A call of fewer than 8 rows of whole vectors adds each row's dγ and dβ straight into the gradients.</summary>
    [Fact]
    public void LayerNorm_FewRowsAddedStraightIn() =>
        Check(new SemWideLayerNorm(), NormLayout.LayerNorm(5, 64), 44, (l, x, y) => l.Forward(x, y), rms: false);

    [Fact]
    public void RmsNorm_OneRowAddedStraightIn() =>
        Check(new SemWideRmsNorm(), NormLayout.LayerNorm(1, 64), 45, (l, x, y) => l.Forward(x, y), rms: true);

    [Fact]
    public void LayerNorm_EightRowsThroughThePartialRows() =>
        Check(new SemWideLayerNorm(), NormLayout.LayerNorm(8, 64), 46, (l, x, y) => l.Forward(x, y), rms: false);

    private delegate void Forward<TLayer>(TLayer layer, ReadOnlySpan<double> x, Span<double> y);

    private static void Check<TLayer>(TLayer layer, NormLayout layout, int seed, Forward<TLayer> forward, bool rms)
        where TLayer : IScaledLayer<double>
    {
        var rng = new Random(seed);
        double[] gamma = TestData.Uniform(rng, layout.ParamCount, 0.5, 1.5);
        gamma.CopyTo(layer.Gamma);
        double[] x = TestData.Uniform(rng, layout.Length, -2, 2);
        double[] dy = TestData.Uniform(rng, layout.Length, -1, 1);
        forward(layer, x, new double[x.Length]);
        BackwardFn<double> backward;
        if (layer is IBatchStatsLayer<double> batch)
        {
            backward = batch.Backward;
        }
        else
        {
            backward = ((IPerSampleLayer<double>)layer).Backward;
        }
        var beta = layer as IAffineLayer<double>;
        ReferenceResult r = ReferenceNorm.Compute(layout, x, dy, gamma, null, Eps, rms);

        var dx1 = new double[x.Length];
        backward(x, dy, dx1);   // gradients start at zero on a new layer
        Tolerance.AssertClose("dx", (ReadOnlySpan<double>)dx1, r.Dx, 1e-12);
        Tolerance.AssertClose("GammaGrad after one Backward", (ReadOnlySpan<double>)layer.GammaGrad, r.DGamma, 1e-12);
        if (beta is not null)
        {
            Tolerance.AssertClose("BetaGrad after one Backward", (ReadOnlySpan<double>)beta.BetaGrad, r.DBeta, 1e-12);
        }

        var dx2 = TestData.Filled<double>(x.Length, 7);   // dx is overwritten, not accumulated
        backward(x, dy, dx2);
        Tolerance.AssertIdentical("dx of the second Backward", dx1, dx2);
        Tolerance.AssertClose("GammaGrad after two Backward calls", (ReadOnlySpan<double>)layer.GammaGrad, Twice(r.DGamma), 1e-12);
        if (beta is not null)
        {
            Tolerance.AssertClose("BetaGrad after two Backward calls", (ReadOnlySpan<double>)beta.BetaGrad, Twice(r.DBeta), 1e-12);
        }

        layer.ZeroGrad();
        Tolerance.AssertIdentical("GammaGrad after ZeroGrad", new double[layout.ParamCount], layer.GammaGrad);
        if (beta is not null)
        {
            Tolerance.AssertIdentical("BetaGrad after ZeroGrad", new double[layout.ParamCount], beta.BetaGrad);
        }
        Tolerance.AssertIdentical("Gamma after ZeroGrad", gamma, layer.Gamma);

        backward(x, dy, dx2);
        Tolerance.AssertClose("GammaGrad after ZeroGrad and one Backward", (ReadOnlySpan<double>)layer.GammaGrad, r.DGamma, 1e-12);
    }

    private static double[] Twice(double[] a)
    {
        var r = new double[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            r[i] = 2 * a[i];
        }
        return r;
    }
}
