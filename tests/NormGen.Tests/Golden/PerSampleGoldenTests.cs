using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Golden;

/// <summary>per_sample cases: Gamma/Beta from the file, Forward (y), Backward (dx, GammaGrad, BetaGrad).</summary>
public class PerSampleGoldenTests
{
    [Fact] public void LnLastDimD256() => Run(new LnLastDimD256(), "ln_last_dim_d256");

    [Fact] public void LnOverChw() => Run(new LnOverChw(), "ln_over_chw");

    [Fact] public void LnLastDimF64() => Run(new LnLastDimF64(), "ln_last_dim_f64");

    [Fact] public void LnAffineFalse() => Run(new LnAffineFalse(), "ln_affine_false");

    [Fact] public void GnG4C16() => Run(new GnG4C16(), "gn_g4_c16");

    [Fact] public void GnG8C32L16AffineFalse() => Run(new GnG8C32L16AffineFalse(), "gn_g8_c32_l16_affine_false");

    [Fact] public void In2dAffine() => Run(new In2dAffine(), "in2d_affine");

    [Fact] public void RmsLastDimD256() => Run(new RmsLastDimD256(), "rms_last_dim_d256");

    [Fact] public void RmsEpsNone() => Run(new RmsEpsNone(), "rms_eps_none");

    private static void Run<T>(IPerSampleLayer<T> layer, string name) where T : unmanaged, INumberBase<T>
    {
        GoldenCase c = GoldenCase.Load(name);
        Assert.Equal("per_sample", c.Mode);
        GoldenDeclarationMirror.AssertMirrors(layer.GetType(), c);

        var scaled = layer as IScaledLayer<T>;
        var affine = layer as IAffineLayer<T>;
        bool rms = c.Kind == "rmsnorm";
        Assert.Equal(c.Normgen.Affine, scaled is not null);
        Assert.Equal(c.Normgen.Affine && !rms, affine is not null);

        if (scaled is not null)
        {
            double[] gamma = c.Input("gamma");
            Assert.Equal(gamma.Length, scaled.Gamma.Length);
            TestData.To<T>(gamma).CopyTo(scaled.Gamma);
        }
        if (affine is not null)
        {
            double[] beta = c.Input("beta");
            Assert.Equal(beta.Length, affine.Beta.Length);
            TestData.To<T>(beta).CopyTo(affine.Beta);
        }

        T[] x = TestData.To<T>(c.Input("x"));
        var y = new T[x.Length];
        layer.Forward(x, y);
        Tolerance.AssertGolden(c, "y", (ReadOnlySpan<T>)y);

        scaled?.ZeroGrad();
        T[] dy = TestData.To<T>(c.Input("dy"));
        var dx = new T[x.Length];
        layer.Backward(x, dy, dx);
        Tolerance.AssertGolden(c, "backward.dx", (ReadOnlySpan<T>)dx);
        if (scaled is not null)
        {
            Tolerance.AssertGolden(c, "backward.dgamma", (ReadOnlySpan<T>)scaled.GammaGrad);
        }
        else
        {
            Assert.Null(c.OutputOrNull("backward.dgamma"));
        }
        if (affine is not null)
        {
            Tolerance.AssertGolden(c, "backward.dbeta", (ReadOnlySpan<T>)affine.BetaGrad);
        }
        else
        {
            Assert.Null(c.OutputOrNull("backward.dbeta"));
        }
    }
}
