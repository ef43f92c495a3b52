using System;
using System.Runtime.InteropServices;

namespace NormGen.Tests;

/// <summary>Bit-for-bit comparison of two results (NaN payloads and signed zeros included), failing at the first difference.</summary>
internal static class SameBits
{
    /// <summary>
    /// Fails, naming <paramref name="name"/>[i] and both values, at the first element whose bits differ; the labels say
    /// how each side was computed ("with 2 threads", "with 1 thread").
    /// </summary>
    public static void Assert<T>(string name, ReadOnlySpan<T> expected, string expectedLabel, ReadOnlySpan<T> actual, string actualLabel)
        where T : unmanaged
    {
        Xunit.Assert.True(expected.Length == actual.Length, $"{name}: {actualLabel} has {actual.Length} values, {expectedLabel} {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            if (!MemoryMarshal.AsBytes(expected.Slice(i, 1)).SequenceEqual(MemoryMarshal.AsBytes(actual.Slice(i, 1))))
            {
                Xunit.Assert.Fail($"{name}[{i}] {actualLabel} is {actual[i]:R}, {expectedLabel} {expected[i]:R}.");
            }
        }
    }
}
