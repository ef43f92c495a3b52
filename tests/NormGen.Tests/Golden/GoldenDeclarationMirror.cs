using System;
using System.Reflection;
using Xunit;

namespace NormGen.Tests.Golden;

/// <summary>
/// Checks that a test declaration's <c>[Normalize]</c> attribute is exactly the golden case's
/// <c>normgen</c> block, and that the generated constants have the case's sizes.
/// </summary>
internal static class GoldenDeclarationMirror
{
    public static void AssertMirrors(Type type, GoldenCase c)
    {
        NormalizeAttribute? a = type.GetCustomAttribute<NormalizeAttribute>();
        Assert.True(a is not null, $"{type.Name} has no [Normalize]");
        GoldenNormgen n = c.Normgen;
        string who = $"{type.Name} vs {c.Name}";
        Assert.True(n.Shape == a!.Shape, $"{who}: Shape '{a.Shape}', golden '{n.Shape}'");
        Assert.True(n.Axes == a.Axes, $"{who}: Axes '{a.Axes}', golden '{n.Axes}'");
        Assert.True((n.Groups ?? 1) == a.Groups, $"{who}: Groups {a.Groups}, golden {n.Groups}");
        Assert.True(n.Epsilon == a.Epsilon, $"{who}: Epsilon {a.Epsilon:R}, golden {n.Epsilon:R}");
        Assert.True((c.Kind == "rmsnorm" ? NormKind.Rms : NormKind.Standard) == a.Kind, $"{who}: Kind {a.Kind}");
        Assert.True(n.Affine == a.Affine, $"{who}: Affine {a.Affine}, golden {n.Affine}");
        Assert.True((n.ElementType == "float64" ? typeof(double) : typeof(float)) == a.ElementType, $"{who}: ElementType {a.ElementType}");
        Assert.True(a.AffineAxes is null, $"{who}: AffineAxes set");
        if (c.Kind == "batchnorm")
        {
            Assert.True(n.TrackRunningStats == a.TrackRunningStats, $"{who}: TrackRunningStats {a.TrackRunningStats}");
            if (n.Momentum is null)
            {
                Assert.True(a.CumulativeAverage, $"{who}: Momentum null needs CumulativeAverage");
            }
            else
            {
                Assert.False(a.CumulativeAverage, $"{who}: CumulativeAverage set");
                Assert.True(n.Momentum == a.Momentum, $"{who}: Momentum {a.Momentum:R}, golden {n.Momentum:R}");
            }
        }
        else
        {
            Assert.False(a.CumulativeAverage, $"{who}: CumulativeAverage on a per-sample layer");
        }

        Assert.True(c.SampleSize == LayerInfo.SampleSize(type),
            $"{who}: SampleSize {LayerInfo.SampleSize(type)}, expected {c.SampleSize}");
        double[]? gamma = c.InputOrNull("gamma");
        double[]? statInit = c.Kind == "batchnorm" ? c.InputOrNull("running_mean_init") : null;
        int? parameterSize = gamma?.Length ?? statInit?.Length;
        if (parameterSize is int p)
        {
            Assert.True(p == LayerInfo.ParameterSize(type), $"{who}: ParameterSize {LayerInfo.ParameterSize(type)}, expected {p}");
        }
    }
}
