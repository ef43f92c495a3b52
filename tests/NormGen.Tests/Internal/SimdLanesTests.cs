using System;
using System.Runtime.Intrinsics;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// The short-group kernels' lane-by-lane steps must give the scalar formulas in their documentation bit for bit — the
/// pairwise summation orders (with magnitudes far apart, so that another order rounds differently), the clamp at zero
/// (negatives, −0, NaN) and the pivot test — on whichever path the processor takes (the AVX one here; run with
/// DOTNET_EnableAVX=0 for the portable one).
/// </summary>
public sealed class SimdLanesTests
{
    [Fact]
    public void LaneMeans_of_floats_sums_each_vector_as_a_pairwise_tree()
    {
        var rng = new Random(4501);
        var vectors = new Vector256<float>[8];
        for (int k = 0; k < 8; k++)
        {
            vectors[k] = Vector256.Create(FarApart(rng, 8, 1e8));
        }
        Vector256<float> means = Simd.LaneMeans(vectors);
        for (int k = 0; k < 8; k++)
        {
            Vector256<float> v = vectors[k];
            float tree = ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
            Assert.Equal(BitConverter.SingleToInt32Bits(tree * 0.125f), BitConverter.SingleToInt32Bits(means[k]));
        }
    }

    [Fact]
    public void LaneMeans_of_doubles_sums_each_vector_as_a_pairwise_tree()
    {
        var rng = new Random(4502);
        var vectors = new Vector256<double>[4];
        for (int k = 0; k < 4; k++)
        {
            vectors[k] = Vector256.Create(Array.ConvertAll(FarApart(rng, 4, 1e17), f => (double)f * 3.3));
        }
        Vector256<double> means = Simd.LaneMeans(vectors);
        for (int k = 0; k < 4; k++)
        {
            Vector256<double> v = vectors[k];
            Assert.Equal(((v[0] + v[1]) + (v[2] + v[3])) * 0.25, means[k]);
        }
    }

    [Fact]
    public void LaneSumsWidened_adds_each_float_vector_in_double_in_the_documented_order()
    {
        var rng = new Random(4503);
        var vectors = new Vector256<float>[8];
        for (int k = 0; k < 8; k++)
        {
            vectors[k] = Vector256.Create(FarApart(rng, 8, 1e30));
        }
        for (int first = 0; first < 8; first += 4)
        {
            Vector256<double> sums = Simd.LaneSumsWidened(vectors, first);
            for (int k = 0; k < 4; k++)
            {
                Vector256<float> f = vectors[first + k];
                double[] v = Array.ConvertAll(new[] { f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7] }, x => (double)x);
                double expected = ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(sums[k]));
            }
        }
    }

    [Fact]
    public void AtLeastZero_is_Math_Max_with_zero()
    {
        double[] values = [3.5, -2.0, 0.0, -0.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e-320];
        for (int i = 0; i < values.Length; i += 4)
        {
            Vector256<double> clamped = Simd.AtLeastZero(Vector256.Create(values.AsSpan(i, 4)));
            for (int k = 0; k < 4; k++)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(Math.Max(values[i + k], 0.0)), BitConverter.DoubleToInt64Bits(clamped[k]));
            }
        }
    }

    [Fact]
    public void NotAtMost_flags_the_lanes_the_scalar_test_would_sum_again()
    {
        Vector256<double> left = Vector256.Create(1.0, 2.0, double.NaN, 4.0);
        Vector256<double> right = Vector256.Create(1.0, 1.0, 5.0, double.NaN);
        // !(left <= right): equal passes, greater and either NaN are flagged.
        Assert.Equal(0b1110, Simd.NotAtMost(left, right));
    }

    [Fact]
    public void InvSqrt_is_the_scalar_expression()
    {
        double[] variances = [0.0, 1e-9, 2.5, 1e12];
        Vector256<double> result = Simd.InvSqrt(Vector256.Create(variances), 1e-5);
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(1.0 / Math.Sqrt(variances[k] + 1e-5), result[k]);
        }
    }

    /// <summary>Floats of magnitudes from 1 to <paramref name="scale"/> with both signs, so that each order of summing them rounds differently.</summary>
    private static float[] FarApart(Random rng, int count, double scale)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(scale, rng.NextDouble()));
        }
        return values;
    }
}
