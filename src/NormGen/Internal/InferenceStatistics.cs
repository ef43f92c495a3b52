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
    /// <paramref name="computedFrom"/> starts null and is allocated once, by the first call. Returns whether they were
    /// recomputed, so that constants folded from them can be kept while it is false.
    /// </summary>
    public static bool Update(float[] runningMean, float[] runningVar, double epsilon, double[] mean, double[] invStd, ref float[]? computedFrom, int count)
    {
        if (computedFrom is not null && Unchanged(computedFrom, runningMean, runningVar, count))
        {
            return false;
        }
        Statistics.MeanAndInverseStd(runningMean, runningVar, epsilon, mean, invStd, count);
        Remember(ref computedFrom, runningMean, runningVar, count);
        return true;
    }

    /// <summary>The double overload of <see cref="Update(float[], float[], double, double[], double[], ref float[], int)"/>.</summary>
    public static bool Update(double[] runningMean, double[] runningVar, double epsilon, double[] mean, double[] invStd, ref double[]? computedFrom, int count)
    {
        if (computedFrom is not null && Unchanged(computedFrom, runningMean, runningVar, count))
        {
            return false;
        }
        Statistics.MeanAndInverseStd(runningMean, runningVar, epsilon, mean, invStd, count);
        Remember(ref computedFrom, runningMean, runningVar, count);
        return true;
    }

    /// <summary>
    /// Whether γ and β differ, bit for bit, from the copy in <paramref name="foldedFrom"/> (or there is no copy yet, null);
    /// when they do, the copy is made anew. ForwardInference keeps the scale and shift it folded from the inference
    /// statistics, γ and β while neither these nor <see cref="Update(float[], float[], double, double[], double[], ref float[], int)"/>
    /// report a change: γ and β are public arrays an optimizer writes between calls, so they too are compared, not tracked.
    /// An empty γ or β (no affine parameters) compares as unchanged.
    /// </summary>
    public static bool ParametersChanged<T>(T[] gamma, T[] beta, ref T[]? foldedFrom, int count)
        where T : unmanaged
    {
        if ((gamma.Length != 0 && gamma.Length < count) || (beta.Length != 0 && beta.Length < count))
        {
            throw new ArgumentException($"expected γ and β of 0 or at least {count} values; got {gamma.Length} and {beta.Length}");
        }
        int gammaCount = Math.Min(gamma.Length, count), betaCount = Math.Min(beta.Length, count);
        if (foldedFrom is not null && Unchanged(foldedFrom, gamma, gammaCount, beta, betaCount))
        {
            return false;
        }
        Remember(ref foldedFrom, gamma, gammaCount, beta, betaCount);
        return true;
    }

    private static bool Unchanged<T>(T[] computedFrom, T[] runningMean, T[] runningVar, int count)
        where T : unmanaged => Unchanged(computedFrom, runningMean, count, runningVar, count);

    private static void Remember<T>(ref T[]? computedFrom, T[] runningMean, T[] runningVar, int count)
        where T : unmanaged => Remember(ref computedFrom, runningMean, count, runningVar, count);

    /// <summary>Whether the copy holds the bits of the first <paramref name="firstCount"/> values of one array, then of the first <paramref name="secondCount"/> of the other.</summary>
    private static bool Unchanged<T>(T[] copy, T[] first, int firstCount, T[] second, int secondCount)
        where T : unmanaged =>
        Bytes(copy.AsSpan(0, firstCount)).SequenceEqual(Bytes(first.AsSpan(0, firstCount)))
        && Bytes(copy.AsSpan(firstCount, secondCount)).SequenceEqual(Bytes(second.AsSpan(0, secondCount)));

    /// <summary>Copies those values into <paramref name="copy"/>, allocated by the first call.</summary>
    private static void Remember<T>(ref T[]? copy, T[] first, int firstCount, T[] second, int secondCount)
        where T : unmanaged
    {
        copy ??= new T[firstCount + secondCount];
        first.AsSpan(0, firstCount).CopyTo(copy);
        second.AsSpan(0, secondCount).CopyTo(copy.AsSpan(firstCount));
    }

    private static ReadOnlySpan<byte> Bytes<T>(Span<T> values)
        where T : unmanaged => MemoryMarshal.AsBytes(values);
}
