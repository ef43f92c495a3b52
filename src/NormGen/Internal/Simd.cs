using System;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NormGen.Internal;

/// <summary>
/// The vector building blocks the generated kernels are written in. Each is a few instructions and is
/// inlined, so the generated loops (with their constant bounds) are what the JIT compiles. The float and
/// double overloads have the same names, so the generated text differs between element types only in
/// the type names and the vector width.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class Simd
{
    /// <summary>A reference to the first element of a span, for loops that index without bounds checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref T Ref<T>(ReadOnlySpan<T> span) => ref MemoryMarshal.GetReference(span);

    /// <summary>A reference to the first element of a span, for loops that index without bounds checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref T Ref<T>(Span<T> span) => ref MemoryMarshal.GetReference(span);

    /// <summary>A reference to the first element of an array, for loops that index without bounds checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref T Ref<T>(T[] array) => ref MemoryMarshal.GetArrayDataReference(array);

    /// <summary>
    /// The mean, in double, of the 8 vectors at <paramref name="index"/>, <paramref name="index"/> + <paramref name="stride"/>,
    /// …, <paramref name="index"/> + 7·<paramref name="stride"/> (64 floats, or 32 doubles): a statistics pass's pivot, from
    /// values spread along a run. Whole vectors rather than one value at each place: data with a period that divides the
    /// stride (interleaved channels, a pattern along the features) would give 8 values of one phase, and a pivot further
    /// than a standard deviation from the mean costs the pass a second sum; 8 neighbours cover every phase of periods up
    /// to 8 and most of longer ones, and dilute a single outlier 8 times more.
    /// </summary>
    /// <remarks>The run must hold <paramref name="index"/> + 7·<paramref name="stride"/> + one vector's values.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SpreadMean(ref float start, int index, int stride) =>
        (SumWidened(Load(ref start, index), Load(ref start, index + stride), Load(ref start, index + 2 * stride), Load(ref start, index + 3 * stride))
        + SumWidened(Load(ref start, index + 4 * stride), Load(ref start, index + 5 * stride), Load(ref start, index + 6 * stride), Load(ref start, index + 7 * stride)))
        * (1.0 / 64);

    /// <inheritdoc cref="SpreadMean(ref float, int, int)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SpreadMean(ref double start, int index, int stride) =>
        (SumWidened(Load(ref start, index), Load(ref start, index + stride), Load(ref start, index + 2 * stride), Load(ref start, index + 3 * stride))
        + SumWidened(Load(ref start, index + 4 * stride), Load(ref start, index + 5 * stride), Load(ref start, index + 6 * stride), Load(ref start, index + 7 * stride)))
        * (1.0 / 32);

    /// <summary>The sum of the lanes of a vector, widened to double (for float) so that no precision is lost.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumWidened(Vector256<float> value)
    {
        (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(value);
        return Vector256.Sum(lower + upper);
    }

    /// <summary>The sum of the lanes of a vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumWidened(Vector256<double> value) => Vector256.Sum(value);

    /// <summary>
    /// Asks the CPU to start loading the cache line holding the element at <paramref name="index"/>: the next group's
    /// data streams in while this group is computed. A hint only: it never faults, even past the end of the data.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Prefetch<T>(ref T start, int index)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref start, index)));
        }
    }

    /// <summary>
    /// Asks the CPU to bring the cache line holding the element at <paramref name="index"/> into the L2 cache (not L1,
    /// where it would evict the group being computed): the next group's data, requested a pass ahead of its first use.
    /// A hint only: it never faults, even past the end of the data.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void PrefetchToL2<T>(ref T start, int index)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref start, index)));
        }
    }

    /// <summary>
    /// False: the streaming flag of kernels whose stores do not fill whole cache lines. A property rather than a literal,
    /// so that a kernel that stores nothing through it compiles without an unused-constant warning; the JIT inlines it
    /// and drops the streaming path.
    /// </summary>
    public static bool NotStreaming => false;

    /// <summary>Whether <paramref name="start"/> is at a 64-byte (cache line) boundary.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe bool IsLineAligned<T>(ref T start)
        where T : unmanaged => ((nuint)Unsafe.AsPointer(ref start) & 63) == 0;

    /// <summary>
    /// Elements from <paramref name="index"/> to the first one at a 64-byte (cache line) boundary: 0 to 15 floats, 0 to
    /// 7 doubles. A pass's aligned stores start there, so that no cache line gets both non-temporal and ordinary stores.
    /// An address the garbage collector moves later (outputs are pinned only while streaming) costs only alignment.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe int LineStart<T>(ref T start, int index)
        where T : unmanaged
    {
        nuint address = (nuint)Unsafe.AsPointer(ref Unsafe.Add(ref start, index));
        return (int)(((64 - (address & 63)) & 63) / (nuint)sizeof(T));
    }

    /// <summary>
    /// Writes elements [0, <paramref name="count"/>) of a run, the part before its first whole cache line:
    /// <paramref name="first"/> holds the values at 0..width, <paramref name="before"/> those ending at
    /// <paramref name="count"/> (used when the part is at least a vector long).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreHead<T>(Vector256<T> first, Vector256<T> before, ref T start, int index, int count)
    {
        int width = Vector256<T>.Count;
        if (count >= width)
        {
            first.StoreUnsafe(ref start, (nuint)index);
            before.StoreUnsafe(ref start, (nuint)(index + count - width));
            return;
        }
        for (int k = 0; k < count; k++)
        {
            Unsafe.Add(ref start, index + k) = first.GetElement(k);
        }
    }

    /// <summary>
    /// Writes the last <paramref name="count"/> elements of a run ending at <paramref name="end"/>, the part after its last
    /// whole cache line: <paramref name="after"/> holds the values starting at end − count, <paramref name="last"/> the
    /// last vector (its last lanes alone when the part is shorter than a vector).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreTail<T>(Vector256<T> after, Vector256<T> last, ref T start, int end, int count)
    {
        int width = Vector256<T>.Count;
        if (count >= width)
        {
            after.StoreUnsafe(ref start, (nuint)(end - count));
            last.StoreUnsafe(ref start, (nuint)(end - width));
            return;
        }
        for (int k = width - count; k < width; k++)
        {
            Unsafe.Add(ref start, end - width + k) = last.GetElement(k);
        }
    }

    /// <summary>
    /// <paramref name="value"/> with all but its last <paramref name="count"/> lanes zeroed (bitwise, so a NaN in a dropped
    /// lane goes too): the column kernels' last tile is the vector ending at the row's last column, whose first lanes
    /// belong to columns another tile has summed already.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> LastLanes<T>(Vector256<T> value, int count) =>
        Vector256.ConditionalSelect(LastLanesMask<T>(count), value, Vector256<T>.Zero);

    /// <summary>
    /// Writes the last <paramref name="count"/> lanes of <paramref name="value"/> at <paramref name="index"/> and leaves the
    /// others as they are (read and written back whole, so the caller must own those elements for the moment: the column
    /// kernels' last tile, whose first lanes another tile of the same rows has written already, in place or not).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreLastLanes<T>(Vector256<T> value, ref T start, int index, int count) =>
        Vector256.ConditionalSelect(LastLanesMask<T>(count), value, Vector256.LoadUnsafe(ref start, (nuint)index)).StoreUnsafe(ref start, (nuint)index);

    /// <summary>All bits set in the last <paramref name="count"/> lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> LastLanesMask<T>(int count)
    {
        if (typeof(T) == typeof(double))
        {
            return Vector256.GreaterThanOrEqual(Vector256.Create(0L, 1, 2, 3), Vector256.Create((long)(4 - count))).As<long, T>();
        }
        return Vector256.GreaterThanOrEqual(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(8 - count)).As<int, T>();
    }

    /// <summary>The element at <paramref name="index"/> without a bounds check (the generated code checked the lengths once).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref T At<T>(ref T start, int index) => ref Unsafe.Add(ref start, index);

    /// <summary>Loads 8 floats at <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(ref float start, int index) => Vector256.LoadUnsafe(ref start, (nuint)index);

    /// <summary>Loads 4 doubles at <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Load(ref double start, int index) => Vector256.LoadUnsafe(ref start, (nuint)index);

    /// <summary>Stores 8 floats at <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, ref float start, int index) => value.StoreUnsafe(ref start, (nuint)index);

    /// <summary>Stores 4 doubles at <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<double> value, ref double start, int index) => value.StoreUnsafe(ref start, (nuint)index);

    /// <summary>
    /// Stores a vector of a kernel's output at <paramref name="index"/>. With <paramref name="streaming"/> (set by
    /// <see cref="ChunkRunner{TState, T}.StreamsOutput"/> for outputs larger than the cache, whose memory the runner
    /// has pinned) an aligned store bypasses the cache: the output is not read back by this call, and writing it
    /// without first reading each line saves a third of the memory traffic.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreOutput<T>(Vector256<T> value, ref T start, int index, bool streaming)
        where T : unmanaged
    {
        // The ordinary store first, on the fall-through path: written the other way round (address, then one combined
        // test), the JIT put a taken branch before every ordinary store, and a cache-resident loop ran 1.35× slower.
        if (!streaming)
        {
            value.StoreUnsafe(ref start, (nuint)index);
            return;
        }
        T* target = (T*)Unsafe.AsPointer(ref Unsafe.Add(ref start, index));
        if (((nuint)target & 31) == 0)
        {
            // The same 32 bytes whatever the element type (vmovntps).
            Avx.StoreAlignedNonTemporal((float*)target, value.AsSingle());
        }
        else
        {
            value.StoreUnsafe(ref start, (nuint)index);
        }
    }

    /// <summary>
    /// sums[(firstColumn + lane) mod columns] += value[lane] for every lane in lane order, in double: a vector of a flat run
    /// over rows narrower than a vector, whose lanes belong to several columns (<c>ColumnKernels.NarrowPeriod</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddLanesToColumns(ref double sums, Vector256<float> value, int firstColumn, int columns)
    {
        for (int lane = 0, column = firstColumn; lane < Vector256<float>.Count; lane++, column = column + 1 == columns ? 0 : column + 1)
        {
            Unsafe.Add(ref sums, column) += value.GetElement(lane);
        }
    }

    /// <inheritdoc cref="AddLanesToColumns(ref double, Vector256{float}, int, int)"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddLanesToColumns(ref double sums, Vector256<double> value, int firstColumn, int columns)
    {
        for (int lane = 0, column = firstColumn; lane < Vector256<double>.Count; lane++, column = column + 1 == columns ? 0 : column + 1)
        {
            Unsafe.Add(ref sums, column) += value.GetElement(lane);
        }
    }

    /// <summary>Adds 8 floats, widened to double, to the 8 doubles at <paramref name="index"/> (per-lane accumulators in memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddWidenedTo(ref double start, int index, Vector256<float> value)
    {
        (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(value);
        Store(Load(ref start, index) + lower, ref start, index);
        Store(Load(ref start, index + 4) + upper, ref start, index + 4);
    }

    /// <summary>Adds 4 doubles to the 4 doubles at <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddWidenedTo(ref double start, int index, Vector256<double> value) =>
        Store(Load(ref start, index) + value, ref start, index);

    /// <summary>a·b + c with one rounding (x86's FMA instruction where it has one, else <see cref="FusedElsewhere(Vector256{float}, Vector256{float}, Vector256{float})"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        System.Runtime.Intrinsics.X86.Fma.IsSupported ? System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(a, b, c) : FusedElsewhere(a, b, c);

    /// <summary>a·b + c with one rounding (x86's FMA instruction where it has one, else <see cref="FusedElsewhere(Vector256{double}, Vector256{double}, Vector256{double})"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> MultiplyAdd(Vector256<double> a, Vector256<double> b, Vector256<double> c) =>
        System.Runtime.Intrinsics.X86.Fma.IsSupported ? System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(a, b, c) : FusedElsewhere(a, b, c);

    /// <summary>
    /// a·b + c with one rounding where x86's FMA is missing (ARM64, older x86): the generated scalar tails use
    /// <c>MathF.FusedMultiplyAdd</c>, so an unfused vector would give a value different bits in a vector than in a tail
    /// (a row alone against the same row in a batch).
    /// </summary>
    private static Vector256<float> FusedElsewhere(Vector256<float> a, Vector256<float> b, Vector256<float> c)
    {
#if NET9_0_OR_GREATER
        return Vector256.FusedMultiplyAdd(a, b, c);
#else
        Span<float> lanes = stackalloc float[8];
        for (int k = 0; k < 8; k++)
        {
            lanes[k] = MathF.FusedMultiplyAdd(a.GetElement(k), b.GetElement(k), c.GetElement(k));
        }
        return Vector256.Create((ReadOnlySpan<float>)lanes);
#endif
    }

    /// <summary>The double overload of <see cref="FusedElsewhere(Vector256{float}, Vector256{float}, Vector256{float})"/>.</summary>
    private static Vector256<double> FusedElsewhere(Vector256<double> a, Vector256<double> b, Vector256<double> c)
    {
#if NET9_0_OR_GREATER
        return Vector256.FusedMultiplyAdd(a, b, c);
#else
        return Vector256.Create(
            Math.FusedMultiplyAdd(a.GetElement(0), b.GetElement(0), c.GetElement(0)),
            Math.FusedMultiplyAdd(a.GetElement(1), b.GetElement(1), c.GetElement(1)),
            Math.FusedMultiplyAdd(a.GetElement(2), b.GetElement(2), c.GetElement(2)),
            Math.FusedMultiplyAdd(a.GetElement(3), b.GetElement(3), c.GetElement(3)));
#endif
    }

    /// <summary>The sum of four partial-sum vectors' lanes, widened to double: the end of one block of float sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumWidened(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d) =>
        SumWidened((a + b) + (c + d));

    /// <summary>The sum of four partial-sum vectors' lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumWidened(Vector256<double> a, Vector256<double> b, Vector256<double> c, Vector256<double> d) =>
        Vector256.Sum((a + b) + (c + d));

    /// <summary>Broadcasts a value to every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Splat(float value) => Vector256.Create(value);

    /// <summary>Broadcasts a value to every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Splat(double value) => Vector256.Create(value);
}
