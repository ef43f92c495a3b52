using System;
using System.ComponentModel;

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
}
