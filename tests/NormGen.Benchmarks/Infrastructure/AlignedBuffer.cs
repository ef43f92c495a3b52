using System;
using System.Runtime.InteropServices;

namespace NormGen.Benchmarks.Infrastructure;

/// <summary>
/// A float buffer in native memory aligned to 64 bytes (a cache line, and an AVX-512 vector), so that
/// every managed peer (NormGen, TensorPrimitives, scalar) and ONNX Runtime see the same alignment that
/// libtorch's allocator gives its own tensors. Freed explicitly (GlobalCleanup).
/// </summary>
public sealed unsafe class AlignedBuffer : IDisposable
{
    private float* _ptr;

    public AlignedBuffer(int length)
    {
        Length = length;
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
        if (_ptr != null)
        {
            NativeMemory.AlignedFree(_ptr);
            _ptr = null;
        }
    }
}
