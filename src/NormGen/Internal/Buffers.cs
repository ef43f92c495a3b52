using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NormGen.Internal;

/// <summary>Allocation helpers for the state the generated layers own.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Buffers
{
    /// <summary>
    /// A new array of <paramref name="length"/> copies of <paramref name="value"/> (Gamma starts at 1, RunningVar at 1),
    /// on a cache line (<see cref="LineAligned{T}(int)"/>).
    /// </summary>
    public static T[] Filled<T>(int length, T value)
    {
        T[] array = LineAligned<T>(length);
        Array.Fill(array, value);
        return array;
    }

    /// <summary>
    /// Returns <paramref name="buffer"/> if it holds at least <paramref name="length"/> values, else a new, larger one
    /// (<see cref="LineAligned{T}(int)"/>): per-sample statistics grow with the batch, and are allocated only when the batch
    /// grows; the kernels' per-column constants are allocated here on first use.
    /// </summary>
    public static T[] AtLeast<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = LineAligned<T>(length);
        }
        return buffer;
    }

    /// <summary>Cache-line size the kernels' 512-bit loads are aligned to.</summary>
    private const int LineBytes = 64;

    /// <summary>Allocations tried before <see cref="LineAligned{T}(int)"/> settles for an array off a line.</summary>
    private const int AlignmentAttempts = 16;

    /// <summary>
    /// A zeroed array of <paramref name="length"/> values that does not move (the pinned-object heap) and whose first value
    /// starts on a 64-byte cache line where the heap allows it. The kernels load per-column constants (scale, shift,
    /// gain, …) as 512-bit vectors, one cache line each when the array starts on a line and two when it does not:
    /// BatchNorm1d x[256,512] inference at one thread ran 1.14–1.17× faster with its constants on lines. .NET places no
    /// array on a chosen boundary, but one pinned allocation usually follows the previous one in memory, so a filler
    /// allocated first moves the next attempt onto a line; after <see cref="AlignmentAttempts"/> tries the array is
    /// returned as it is (the alignment is speed only, never the results).
    /// </summary>
    public static unsafe T[] LineAligned<T>(int length)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>() || length == 0)
        {
            return new T[length];
        }
        T[] array = GC.AllocateArray<T>(length, pinned: true);
        for (int attempt = 0; attempt < AlignmentAttempts; attempt++)
        {
            long start = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            if ((start & (LineBytes - 1)) == 0)
            {
                break;
            }
            // The next allocation would start right after this array's data (rounded up to 8 bytes). A byte[] filler goes
            // there first, sized so that the next array's data, a header past the filler's end, lands on a line. (The
            // arrays tried and the fillers are garbage for the next full collection: a few KiB, once per buffer.)
            long nextAllocation = start + ((length * (long)Unsafe.SizeOf<T>() + 7) & ~7L);
            long earliestData = nextAllocation + ArrayHeaderBytes /* an empty filler */ + ArrayHeaderBytes /* the array's */;
            int padding = (int)((LineBytes - (earliestData & (LineBytes - 1))) & (LineBytes - 1));
            _ = GC.AllocateArray<byte>(padding, pinned: true);
            array = GC.AllocateArray<T>(length, pinned: true);
        }
        return array;
    }

    /// <summary>
    /// An array's allocation before its data on 64-bit .NET: the object header, the type pointer and the length (padded);
    /// also the size of an empty array, the smallest filler.
    /// </summary>
    private const int ArrayHeaderBytes = 24;

    /// <summary>
    /// Repeats <paramref name="values"/>[0, <paramref name="period"/>) over [0, <paramref name="length"/>) (the last copy
    /// cut short where the length is no multiple of the period), writing only the copies whose bits differ: called before
    /// every pass, it then leaves the lines the helper threads have cached alone (as
    /// <see cref="Statistics.FoldScaleShift(double[], double[], float[], float[], float[], float[], float[], int)"/> does).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
