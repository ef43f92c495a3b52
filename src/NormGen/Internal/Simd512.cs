using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NormGen.Internal;

// The 512-bit building blocks, for the kernels that have a Vector512 loop beside their Vector256 one. The generated
// code takes that loop only where Vector512.IsHardwareAccelerated (AVX-512, and the runtime judging 512-bit vectors
// worth using on this processor; DOTNET_PreferredVectorBitWidth=256 turns it off). Each lane computes what the
// Vector256 loop computes for it, so both loops give the same bits.
public static partial class Simd
{
    /// <summary>Loads 16 floats at <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(ref float start, int index) => Vector512.LoadUnsafe(ref start, (nuint)index);

    /// <summary>Loads 8 doubles at <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Load512(ref double start, int index) => Vector512.LoadUnsafe(ref start, (nuint)index);

    /// <summary>Stores a 512-bit vector of scratch (a dγ/dβ block row) at <paramref name="index"/>, through the cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, ref float start, int index) => value.StoreUnsafe(ref start, (nuint)index);

    /// <summary>Stores a 512-bit vector of scratch (a dγ/dβ block row) at <paramref name="index"/>, through the cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<double> value, ref double start, int index) => value.StoreUnsafe(ref start, (nuint)index);

    /// <summary>
    /// Stores a 512-bit vector of a kernel's output at <paramref name="index"/>; with <paramref name="streaming"/>, a store
    /// to a whole cache line bypasses the cache (as the Vector256 overload does).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreOutput<T>(Vector512<T> value, ref T start, int index, bool streaming)
        where T : unmanaged
    {
        if (!streaming)
        {
            value.StoreUnsafe(ref start, (nuint)index);
            return;
        }
        T* target = (T*)Unsafe.AsPointer(ref Unsafe.Add(ref start, index));
        if (((nuint)target & 63) == 0)
        {
            // The same 64 bytes whatever the element type (vmovntps).
            Avx512F.StoreAlignedNonTemporal((float*)target, value.AsSingle());
        }
        else
        {
            value.StoreUnsafe(ref start, (nuint)index);
        }
    }

    /// <summary>a·b + c, fused (one rounding, as the Vector256 overload on processors with FMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : Vector512.Create(MultiplyAdd(a.GetLower(), b.GetLower(), c.GetLower()), MultiplyAdd(a.GetUpper(), b.GetUpper(), c.GetUpper()));

    /// <summary>a·b + c, fused (one rounding, as the Vector256 overload on processors with FMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> MultiplyAdd(Vector512<double> a, Vector512<double> b, Vector512<double> c) =>
        Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : Vector512.Create(MultiplyAdd(a.GetLower(), b.GetLower(), c.GetLower()), MultiplyAdd(a.GetUpper(), b.GetUpper(), c.GetUpper()));

    /// <summary>Adds 16 floats, widened to double, to the 16 doubles at <paramref name="index"/> (per-lane accumulators in memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddWidenedTo(ref double start, int index, Vector512<float> value)
    {
        (Vector512<double> lower, Vector512<double> upper) = Vector512.Widen(value);
        Vector512.StoreUnsafe(Load512(ref start, index) + lower, ref start, (nuint)index);
        Vector512.StoreUnsafe(Load512(ref start, index + 8) + upper, ref start, (nuint)(index + 8));
    }

    /// <summary>Adds 8 doubles to the 8 doubles at <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddWidenedTo(ref double start, int index, Vector512<double> value) =>
        Vector512.StoreUnsafe(Load512(ref start, index) + value, ref start, (nuint)index);

    /// <summary>
    /// The sum of the lanes of two 512-bit partial sums, each two of the 256-bit ones side by side (<see cref="Join{T}"/>):
    /// the same additions in the same order as <see cref="SumWidened(Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float})"/>
    /// of the four halves, so the same bits as the 256-bit loop's sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumWidened(Vector512<float> blocks01, Vector512<float> blocks23) =>
        SumWidened(blocks01.GetLower(), blocks01.GetUpper(), blocks23.GetLower(), blocks23.GetUpper());

    /// <inheritdoc cref="SumWidened(Vector512{float}, Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumWidened(Vector512<double> blocks01, Vector512<double> blocks23) =>
        SumWidened(blocks01.GetLower(), blocks01.GetUpper(), blocks23.GetLower(), blocks23.GetUpper());

    /// <summary>
    /// Two adjacent 256-bit vectors in memory (<paramref name="first"/> and the one after it) as one 512-bit vector, the
    /// first in its low lanes: the side-by-side kernels' partial sums in their blocks, read and written in pairs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref Vector512<T> AsPairs<T>(ref Vector256<T> first) => ref Unsafe.As<Vector256<T>, Vector512<T>>(ref first);

    /// <summary>Two 256-bit partial sums side by side in one 512-bit vector (<paramref name="lower"/> in the low lanes), for a sums loop's 512-bit twin.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Join<T>(Vector256<T> lower, Vector256<T> upper) => Vector512.Create(lower, upper);

    /// <summary>The two 256-bit partial sums a <see cref="Join{T}"/> put side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<T> Lower, Vector256<T> Upper) Halves<T>(Vector512<T> value) => (value.GetLower(), value.GetUpper());

    /// <summary>Broadcasts a value to every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Splat512(float value) => Vector512.Create(value);

    /// <summary>Broadcasts a value to every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Splat512(double value) => Vector512.Create(value);

    /// <summary>
    /// The 512-bit twin of a broadcast vector (every lane the same value): its first lane broadcast, one instruction.
    /// (Joining two copies of the 256-bit vector instead made BatchNorm inference on 8×8 maps 1.1–1.3× slower.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Splat512(Vector256<float> value) => Vector512.Create(value.ToScalar());

    /// <summary>The 512-bit twin of a broadcast vector (every lane the same value): its first lane broadcast.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Splat512(Vector256<double> value) => Vector512.Create(value.ToScalar());
}
