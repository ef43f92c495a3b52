using System;
using Xunit;

namespace NormGen.Tests.Semantics;

/// <summary>A partial struct, a type nested in a partial class, and a type in the global namespace all generate working code.</summary>
public class DeclarationFormTests
{
    private const double Eps = 1e-5;

    [Fact]
    public void PartialStruct_BatchNorm()
    {
        var layer = new SemStructBatchNorm();
        Tolerance.AssertIdentical("Gamma", new double[] { 1, 1, 1 }, layer.Gamma);
        Tolerance.AssertIdentical("RunningVar", new double[] { 1, 1, 1 }, layer.RunningVar);
        double[] gamma = { 2, 0.5, -1 }, beta = { 0, 1, -1 };
        gamma.CopyTo(layer.Gamma);
        beta.CopyTo(layer.Beta);
        var layout = NormLayout.BatchNorm(5, 3, 1);
        var rng = new Random(51);
        double[] x = TestData.Uniform(rng, layout.Length, -1, 3);
        double[] dy = TestData.Uniform(rng, layout.Length, -1, 1);
        var y = new double[x.Length];
        layer.ForwardTraining(x, y);
        var dx = new double[x.Length];
        layer.Backward(x, dy, dx);
        ReferenceResult r = ReferenceNorm.Compute(layout, x, dy, gamma, beta, Eps);
        Tolerance.AssertClose("y", (ReadOnlySpan<double>)y, r.Y, 1e-12);
        Tolerance.AssertClose("dx", (ReadOnlySpan<double>)dx, r.Dx, 1e-12);
        Tolerance.AssertClose("GammaGrad", (ReadOnlySpan<double>)layer.GammaGrad, r.DGamma, 1e-12);
        Tolerance.AssertClose("BetaGrad", (ReadOnlySpan<double>)layer.BetaGrad, r.DBeta, 1e-12);
        Tolerance.AssertClose("RunningMean", (ReadOnlySpan<double>)layer.RunningMean,
            ReferenceNorm.UpdateRunning(new double[3], new double[] { 1, 1, 1 }, r, 0.1).Mean, 1e-12);
        Assert.Equal(1, layer.BatchesTracked);
    }

    [Fact]
    public void NestedInPartialClass_LayerNorm()
    {
        var layer = new SemOuter.InnerLayerNorm();
        var layout = NormLayout.LayerNorm(3, 5);
        var rng = new Random(52);
        double[] gamma = TestData.Uniform(rng, 5, 0.5, 1.5);
        gamma.CopyTo(layer.Gamma);
        double[] x = TestData.Uniform(rng, layout.Length, -1, 3);
        double[] dy = TestData.Uniform(rng, layout.Length, -1, 1);
        var y = new double[x.Length];
        layer.Forward(x, y);
        var dx = new double[x.Length];
        layer.Backward(x, dy, dx);
        ReferenceResult r = ReferenceNorm.Compute(layout, x, dy, gamma, null, Eps);
        Tolerance.AssertClose("y", (ReadOnlySpan<double>)y, r.Y, 1e-12);
        Tolerance.AssertClose("dx", (ReadOnlySpan<double>)dx, r.Dx, 1e-12);
        Tolerance.AssertClose("GammaGrad", (ReadOnlySpan<double>)layer.GammaGrad, r.DGamma, 1e-12);
    }

    [Fact]
    public void GlobalNamespace_RmsNorm()
    {
        var layer = new global::GlobalNamespaceRmsNorm();
        var layout = NormLayout.LayerNorm(4, 6);
        var rng = new Random(53);
        double[] gamma = TestData.Uniform(rng, 6, 0.5, 1.5);
        gamma.CopyTo(layer.Gamma);
        double[] x = TestData.Uniform(rng, layout.Length, -1, 3);
        double[] dy = TestData.Uniform(rng, layout.Length, -1, 1);
        var y = new double[x.Length];
        layer.Forward(x, y);
        var dx = new double[x.Length];
        layer.Backward(x, dy, dx);
        ReferenceResult r = ReferenceNorm.Compute(layout, x, dy, gamma, null, Eps, rms: true);
        Tolerance.AssertClose("y", (ReadOnlySpan<double>)y, r.Y, 1e-12);
        Tolerance.AssertClose("dx", (ReadOnlySpan<double>)dx, r.Dx, 1e-12);
        Tolerance.AssertClose("GammaGrad", (ReadOnlySpan<double>)layer.GammaGrad, r.DGamma, 1e-12);
    }
}
