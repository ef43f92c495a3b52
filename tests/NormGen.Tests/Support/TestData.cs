using System;
using System.Numerics;

namespace NormGen.Tests;

/// <summary>Seeded random inputs and conversions between the element type and double.</summary>
internal static class TestData
{
    public static double[] Uniform(Random rng, int length, double low, double high)
    {
        var a = new double[length];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = low + (high - low) * rng.NextDouble();
        }
        return a;
    }

    /// <summary>Seeded floats in [−1, 3) on a ramp of <paramref name="period"/> (i % period added), so that neighbouring groups differ in mean.</summary>
    public static float[] RampedFloats(int length, int seed, int period = 7)
    {
        var rng = new Random(seed);
        var a = new float[length];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)(rng.NextDouble() * 4 - 1 + (i % period));
        }
        return a;
    }

    /// <summary>Normal(mean, std) values by Box–Muller.</summary>
    public static double[] Normal(Random rng, int length, double mean, double std)
    {
        var a = new double[length];
        for (int i = 0; i < a.Length; i++)
        {
            double u1 = 1.0 - rng.NextDouble();
            double u2 = rng.NextDouble();
            a[i] = mean + std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        }
        return a;
    }

    /// <summary>Each value rounded to float and widened back: the exact values a float layer sees.</summary>
    public static double[] RoundToFloat(double[] a)
    {
        var r = new double[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            r[i] = (float)a[i];
        }
        return r;
    }

    public static T[] To<T>(double[] a) where T : INumberBase<T>
    {
        var r = new T[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            r[i] = T.CreateChecked(a[i]);
        }
        return r;
    }

    public static double[] ToDouble<T>(ReadOnlySpan<T> a) where T : INumberBase<T>
    {
        var r = new double[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            r[i] = double.CreateChecked(a[i]);
        }
        return r;
    }

    public static T[] Filled<T>(int length, double value) where T : INumberBase<T>
    {
        var r = new T[length];
        Array.Fill(r, T.CreateChecked(value));
        return r;
    }

    public static T[] Scaled<T>(ReadOnlySpan<T> a, double factor) where T : INumberBase<T>
    {
        var r = new T[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            r[i] = T.CreateChecked(double.CreateChecked(a[i]) * factor);
        }
        return r;
    }
}
