using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Xunit;

namespace NormGen.Tests;

/// <summary>Buffers that start a chosen number of bytes past a cache line, for the kernels whose stores align to lines.</summary>
internal static class LineOffset
{
    /// <summary><paramref name="length"/> elements of a pinned array, starting <paramref name="offsetBytes"/> past a 64-byte boundary.</summary>
    public static Span<T> Span<T>(int length, int offsetBytes)
        where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        var array = GC.AllocateArray<T>(length + (128 / size), pinned: true);
        var handle = GCHandle.Alloc(array, GCHandleType.Pinned);
        long address = handle.AddrOfPinnedObject();
        handle.Free(); // the array stays where it is: it was allocated pinned
        int toLine = (int)((64 - (address & 63)) & 63) / size;
        int first = toLine + (offsetBytes / size);
        Assert.Equal(offsetBytes, (int)((address + ((long)first * size)) & 63));
        return array.AsSpan(first, length);
    }
}
