using System;
using System.Runtime.InteropServices;

namespace NormGen.Benchmarks.Infrastructure;

/// <summary>
/// A float buffer in native memory aligned to 64 bytes (a cache line, and an AVX-512 vector), so that
/// every managed peer (NormGen, TensorPrimitives, scalar) and ONNX Runtime see the same alignment that
/// libtorch's allocator gives its own tensors. Freed explicitly (GlobalCleanup). With <see cref="LikeArrays"/>
/// (<c>--arrays</c>) it is a plain pinned <c>float[]</c> instead, placed where the runtime puts one (a large array's
/// data starts 24 bytes past a cache line, and arrays allocated one after another sit back to back): what a
/// program that passes its own arrays gets.
/// </summary>
public sealed unsafe class AlignedBuffer : IDisposable
{
    private float* _ptr;
    private GCHandle _array;

    /// <summary>Set once at startup (<c>--arrays</c>), before any buffer is made; the benchmarks run in this process.</summary>
    public static bool LikeArrays { get; set; }

    public AlignedBuffer(int length)
    {
        Length = length;
        if (LikeArrays)
        {
            _array = GCHandle.Alloc(new float[Math.Max(length, 1)], GCHandleType.Pinned);
            _ptr = (float*)_array.AddrOfPinnedObject();
            return;
        }
        _ptr = (float*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1) * sizeof(float), 64);
        NativeMemory.Clear(_ptr, (nuint)Math.Max(length, 1) * sizeof(float));
    }

    public AlignedBuffer(ReadOnlySpan<float> source) : this(source.Length) => source.CopyTo(Span);

    public int Length { get; }

    public float* Pointer => _ptr;

    public long Bytes => (long)Length * sizeof(float);

    public Span<float> Span => new(_ptr, Length);

    public ReadOnlySpan<float> ReadOnly => new(_ptr, Length);

    public void Dispose()
    {
        if (_ptr == null)
        {
            return;
        }
        if (_array.IsAllocated)
        {
            _array.Free();
        }
        else
        {
            NativeMemory.AlignedFree(_ptr);
        }
        _ptr = null;
    }
}
