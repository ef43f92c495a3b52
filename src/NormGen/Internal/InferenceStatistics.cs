using System;
using System.ComponentModel;
using System.Runtime.InteropServices;

namespace NormGen.Internal;

/// <summary>
/// The per-statistic mean and 1/sqrt(RunningVar + ε) that ForwardInference normalizes with, recomputed only when the
/// running statistics have changed since the call that computed them. RunningMean and RunningVar are public spans the
/// caller may write at any time, so they are compared with a copy, bit for bit, rather than tracked; the comparison
/// (a memory compare of 2 × 4 bytes per statistic) costs a small part of the square roots and divisions it saves
/// (0.9 µs of a 17 µs BatchNorm1d x[256,512] inference call).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class InferenceStatistics
{
    /// <summary>
    /// <see cref="Statistics.MeanAndInverseStd(float[], float[], double, double[], double[], int)"/>, unless
    /// <paramref name="computedFrom"/> holds the running statistics they were last computed from and those are unchanged.
    /// <paramref name="computedFrom"/> starts null and is allocated once, by the first call.
    /// </summary>
    public static void Update(float[] runningMean, float[] runningVar, double epsilon, double[] mean, double[] invStd, ref float[]? computedFrom, int count)
    {
        if (computedFrom is not null && Unchanged(computedFrom, runningMean, runningVar, count))
        {
            return;
        }
        Statistics.MeanAndInverseStd(runningMean, runningVar, epsilon, mean, invStd, count);
        Remember(ref computedFrom, runningMean, runningVar, count);
    }

    /// <summary>The double overload of <see cref="Update(float[], float[], double, double[], double[], ref float[], int)"/>.</summary>
    public static void Update(double[] runningMean, double[] runningVar, double epsilon, double[] mean, double[] invStd, ref double[]? computedFrom, int count)
    {
        if (computedFrom is not null && Unchanged(computedFrom, runningMean, runningVar, count))
        {
            return;
        }
        Statistics.MeanAndInverseStd(runningMean, runningVar, epsilon, mean, invStd, count);
        Remember(ref computedFrom, runningMean, runningVar, count);
    }

    /// <summary>Whether the first <paramref name="count"/> running means and variances have the bits of the copy.</summary>
    private static bool Unchanged<T>(T[] computedFrom, T[] runningMean, T[] runningVar, int count)
        where T : unmanaged =>
        Bytes(computedFrom.AsSpan(0, count)).SequenceEqual(Bytes(runningMean.AsSpan(0, count)))
        && Bytes(computedFrom.AsSpan(count, count)).SequenceEqual(Bytes(runningVar.AsSpan(0, count)));

    private static void Remember<T>(ref T[]? computedFrom, T[] runningMean, T[] runningVar, int count)
        where T : unmanaged
    {
        computedFrom ??= new T[2 * count];
        runningMean.AsSpan(0, count).CopyTo(computedFrom);
        runningVar.AsSpan(0, count).CopyTo(computedFrom.AsSpan(count));
    }

    private static ReadOnlySpan<byte> Bytes<T>(Span<T> values)
        where T : unmanaged => MemoryMarshal.AsBytes(values);
}
