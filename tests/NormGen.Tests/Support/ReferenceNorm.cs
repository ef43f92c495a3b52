using System;

namespace NormGen.Tests;

/// <summary>
/// Which statistic group and which Gamma/Beta entry every element of x uses. Built from the dims
/// directly (no NormGen code involved), for the independent double-precision reference.
/// </summary>
internal sealed class NormLayout
{
    private NormLayout(int[] groupOf, int groupCount, int[] paramOf, int paramCount)
    {
        GroupOf = groupOf;
        GroupCount = groupCount;
        ParamOf = paramOf;
        ParamCount = paramCount;
    }

    public int[] GroupOf { get; }

    public int GroupCount { get; }

    public int[] ParamOf { get; }

    public int ParamCount { get; }

    public int Length => GroupOf.Length;

    /// <summary>BatchNorm on (N, C, inner...): group and parameter = channel.</summary>
    public static NormLayout BatchNorm(int n, int channels, int inner) =>
        Build(n * channels * inner, i => i / inner % channels, channels, i => i / inner % channels, channels);

    /// <summary>BatchNorm channels-last (N, spatial..., C): group and parameter = channel.</summary>
    public static NormLayout BatchNormChannelsLast(int n, int spatial, int channels) =>
        Build(n * spatial * channels, i => i % channels, channels, i => i % channels, channels);

    /// <summary>LayerNorm / RMSNorm: one group per row of <paramref name="size"/>; parameter = position in the row.</summary>
    public static NormLayout LayerNorm(int rows, int size) =>
        Build(rows * size, i => i / size, rows, i => i % size, size);

    /// <summary>GroupNorm on (N, C, inner): group = (n, c / (C/G)); parameter = channel.</summary>
    public static NormLayout GroupNorm(int n, int channels, int groups, int inner) =>
        Build(n * channels * inner, i => i / (channels / groups * inner), n * groups, i => i / inner % channels, channels);

    /// <summary>InstanceNorm on (N, C, inner): group = (n, c); parameter = channel.</summary>
    public static NormLayout InstanceNorm(int n, int channels, int inner) =>
        Build(n * channels * inner, i => i / inner, n * channels, i => i / inner % channels, channels);

    /// <summary>InstanceNorm channels-last (N, spatial..., C): group = (n, c); parameter = channel.</summary>
    public static NormLayout InstanceNormChannelsLast(int n, int spatial, int channels) =>
        Build(n * spatial * channels, i => (i / (spatial * channels) * channels) + (i % channels), n * channels, i => i % channels, channels);

    /// <summary>LayerNorm over the channels of (N, C, spatial...): group = (n, position); parameter = channel.</summary>
    public static NormLayout LayerNormOverChannels(int n, int channels, int spatial) =>
        Build(n * channels * spatial, i => (i / (channels * spatial) * spatial) + (i % spatial), n * spatial, i => i / spatial % channels, channels);

    /// <summary>GroupNorm channels-last (N, spatial..., C): group = (n, c / (C/G)); parameter = channel.</summary>
    public static NormLayout GroupNormChannelsLast(int n, int spatial, int channels, int groups) =>
        Build(n * spatial * channels, i => (i / (spatial * channels) * groups) + (i % channels / (channels / groups)), n * groups, i => i % channels, channels);

    private static NormLayout Build(int length, Func<int, int> group, int groupCount, Func<int, int> param, int paramCount)
    {
        var g = new int[length];
        var p = new int[length];
        for (int i = 0; i < length; i++)
        {
            g[i] = group(i);
            p[i] = param(i);
        }
        return new NormLayout(g, groupCount, p, paramCount);
    }
}

internal sealed record ReferenceResult(
    double[] Y,
    double[] Dx,
    double[] DGamma,
    double[] DBeta,
    double[] Mean,
    double[] BiasedVar,
    int[] Count);

/// <summary>
/// Straightforward two-pass double-precision normalization, forward and backward, from the formulas in
/// DESIGN.md / the golden README. Gamma/Beta null mean 1/0.
/// </summary>
internal static class ReferenceNorm
{
    public static ReferenceResult Compute(
        NormLayout layout, double[] x, double[]? dy, double[]? gamma, double[]? beta, double eps, bool rms = false)
    {
        int len = layout.Length;
        if (x.Length != len)
        {
            throw new ArgumentException($"x has {x.Length} elements, layout {len}");
        }
        int groups = layout.GroupCount;
        var count = new int[groups];
        var mean = new double[groups];
        var variance = new double[groups];
        for (int i = 0; i < len; i++)
        {
            count[layout.GroupOf[i]]++;
            mean[layout.GroupOf[i]] += x[i];
        }
        for (int g = 0; g < groups; g++)
        {
            mean[g] /= count[g];
        }
        for (int i = 0; i < len; i++)
        {
            double v = rms ? x[i] : x[i] - mean[layout.GroupOf[i]];
            variance[layout.GroupOf[i]] += v * v;
        }
        var rstd = new double[groups];
        for (int g = 0; g < groups; g++)
        {
            variance[g] /= count[g];
            rstd[g] = 1.0 / Math.Sqrt(variance[g] + eps);
        }

        var xhat = new double[len];
        var y = new double[len];
        for (int i = 0; i < len; i++)
        {
            int g = layout.GroupOf[i], p = layout.ParamOf[i];
            xhat[i] = (rms ? x[i] : x[i] - mean[g]) * rstd[g];
            y[i] = xhat[i] * (gamma?[p] ?? 1.0) + (beta?[p] ?? 0.0);
        }

        var dx = new double[len];
        var dgamma = new double[layout.ParamCount];
        var dbeta = new double[layout.ParamCount];
        if (dy is not null)
        {
            var sumG = new double[groups];
            var sumGx = new double[groups];
            for (int i = 0; i < len; i++)
            {
                int g = layout.GroupOf[i], p = layout.ParamOf[i];
                double gi = dy[i] * (gamma?[p] ?? 1.0);
                sumG[g] += gi;
                sumGx[g] += gi * xhat[i];
                dgamma[p] += dy[i] * xhat[i];
                dbeta[p] += dy[i];
            }
            for (int i = 0; i < len; i++)
            {
                int g = layout.GroupOf[i], p = layout.ParamOf[i];
                double gi = dy[i] * (gamma?[p] ?? 1.0);
                double m = count[g];
                dx[i] = rstd[g] * (gi - (rms ? 0.0 : sumG[g] / m) - xhat[i] * sumGx[g] / m);
            }
        }
        if (rms)
        {
            // RMSNorm reports the mean square as "variance" and has no mean.
            Array.Clear(mean);
        }
        return new ReferenceResult(y, dx, dgamma, dbeta, mean, variance, count);
    }

    /// <summary>y = (x − mean[g]) / sqrt(var[g] + eps) · γ + β with given per-group statistics (BatchNorm inference).</summary>
    public static double[] Normalize(NormLayout layout, double[] x, double[] mean, double[] variance, double[]? gamma, double[]? beta, double eps)
    {
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int g = layout.GroupOf[i], p = layout.ParamOf[i];
            y[i] = (x[i] - mean[g]) / Math.Sqrt(variance[g] + eps) * (gamma?[p] ?? 1.0) + (beta?[p] ?? 0.0);
        }
        return y;
    }

    /// <summary>One running-statistics update (PyTorch): returns the new mean and variance.</summary>
    public static (double[] Mean, double[] Var) UpdateRunning(
        double[] runningMean, double[] runningVar, ReferenceResult batch, double factor)
    {
        var m = new double[runningMean.Length];
        var v = new double[runningVar.Length];
        for (int c = 0; c < m.Length; c++)
        {
            int n = batch.Count[c];
            m[c] = (1 - factor) * runningMean[c] + factor * batch.Mean[c];
            v[c] = (1 - factor) * runningVar[c] + factor * batch.BiasedVar[c] * n / (n - 1);
        }
        return (m, v);
    }
}
