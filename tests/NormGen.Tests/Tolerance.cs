using System;
using System.Numerics;
using NormGen.Tests.Golden;
using Xunit;

namespace NormGen.Tests;

/// <summary>
/// Max-norm comparisons: max|actual − reference| ≤ rel · max|reference|. A NaN or infinity in
/// <c>actual</c> always fails. The failure message names the output and gives the max error, where it
/// occurs, max|reference| and the allowed error.
/// </summary>
internal static class Tolerance
{
    /// <summary>Relative floor for float results against libtorch's float64 run.</summary>
    public const double FloatFloor = 1e-5;

    /// <summary>Relative tolerance for double results against libtorch's float64 outputs.</summary>
    public const double DoubleRel = 1e-12;

    /// <summary>
    /// Golden comparison of one output (<paramref name="key"/> as in <c>checks.f32_vs_ref64</c>, e.g.
    /// <c>train[0].y</c>, <c>eval.y</c>, <c>backward.dx</c>, <c>y</c>). float32 cases: against <c>ref64</c>
    /// with rel = max(1e-5, libtorch's own float32 rel error for that output); float64 cases: against
    /// <c>outputs</c> with rel = 1e-12.
    /// </summary>
    public static void AssertGolden<T>(GoldenCase c, string key, ReadOnlySpan<T> actual) where T : INumberBase<T>
    {
        if (c.IsFloat64)
        {
            AssertClose($"{c.Name} {key} (vs libtorch float64)", actual, c.Output(key), DoubleRel);
        }
        else
        {
            double libtorchRel = c.F32Rel(key);
            double rel = Math.Max(FloatFloor, libtorchRel);
            AssertClose($"{c.Name} {key} (vs ref64; libtorch f32 rel {libtorchRel:E2})", actual, c.Ref64(key), rel);
        }
    }

    public static void AssertClose<T>(string what, ReadOnlySpan<T> actual, ReadOnlySpan<double> reference, double rel)
        where T : INumberBase<T>
    {
        Assert.True(actual.Length == reference.Length,
            $"{what}: length {actual.Length}, expected {reference.Length}");
        double maxErr = 0, maxRef = 0;
        int worst = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = double.CreateChecked(actual[i]);
            double err = double.IsFinite(a) ? Math.Abs(a - reference[i]) : double.PositiveInfinity;
            if (err > maxErr || (worst < 0 && err == maxErr))
            {
                maxErr = err;
                worst = i;
            }
            maxRef = Math.Max(maxRef, Math.Abs(reference[i]));
        }
        double allowed = rel * maxRef;
        Assert.True(maxErr <= allowed,
            $"{what}: max err {maxErr:E3} at [{worst}] (ours {(worst >= 0 ? double.CreateChecked(actual[worst]) : 0):R}, ref {(worst >= 0 ? reference[worst] : 0):R}), " +
            $"max|ref| {maxRef:E3}, allowed {allowed:E3} (rel {rel:E2}, observed rel {(maxRef > 0 ? maxErr / maxRef : maxErr):E2})");
    }

    public static void AssertClose(string what, double actual, double reference, double rel)
    {
        double err = double.IsFinite(actual) ? Math.Abs(actual - reference) : double.PositiveInfinity;
        double allowed = rel * Math.Abs(reference);
        Assert.True(err <= allowed, $"{what}: ours {actual:R}, ref {reference:R}, err {err:E3}, allowed {allowed:E3}");
    }

    /// <summary>Bitwise equality of two buffers (state snapshots, repeated deterministic calls).</summary>
    public static void AssertIdentical<T>(string what, ReadOnlySpan<T> expected, ReadOnlySpan<T> actual) where T : INumberBase<T>
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = double.CreateChecked(expected[i]), a = double.CreateChecked(actual[i]);
            Assert.True(BitConverter.DoubleToInt64Bits(e) == BitConverter.DoubleToInt64Bits(a),
                $"{what}: element [{i}] changed: expected {e:R}, got {a:R}");
        }
    }
}
