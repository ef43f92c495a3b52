using System;
using System.ComponentModel;
using System.Runtime.InteropServices;

namespace NormGen.Internal;

/// <summary>Allocation helpers for the state the generated layers own.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Buffers
{
    /// <summary>A new array of <paramref name="length"/> copies of <paramref name="value"/> (Gamma starts at 1, RunningVar at 1).</summary>
    public static T[] Filled<T>(int length, T value)
    {
        var array = new T[length];
        Array.Fill(array, value);
        return array;
    }

    /// <summary>
    /// Returns <paramref name="buffer"/> if it holds at least <paramref name="length"/> values, else a new, larger one:
    /// per-sample statistics grow with the batch, and are allocated only when the batch grows.
    /// </summary>
    public static T[] AtLeast<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[length];
        }
        return buffer;
    }

    /// <summary>
    /// Repeats <paramref name="values"/>[0, <paramref name="period"/>) over [0, <paramref name="length"/>) (the last copy
    /// cut short where the length is no multiple of the period), writing only the copies whose bits differ: called before
    /// every pass, it then leaves the lines the helper threads have cached alone (as
    /// <see cref="Statistics.FoldScaleShift(double[], double[], float[], float[], float[], float[], float[], int)"/> does).
    /// </summary>
    public static void RepeatPeriod<T>(T[] values, int period, int length)
        where T : unmanaged
    {
        if (period <= 0 || length < period || values.Length < length)
        {
            throw new ArgumentException($"expected a period of at least 1 and at most the length {length}, and at least {length} values; got a period of {period} in {values.Length} values");
        }
        for (int at = period; at < length; at += period)
        {
            int copyLength = Math.Min(period, length - at);
            ReadOnlySpan<byte> first = MemoryMarshal.AsBytes(values.AsSpan(0, copyLength));
            Span<byte> copy = MemoryMarshal.AsBytes(values.AsSpan(at, copyLength));
            if (!copy.SequenceEqual(first))
            {
                first.CopyTo(copy);
            }
        }
    }
}
