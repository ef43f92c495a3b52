using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NormGen.Internal;

/// <summary>
/// Doubles in and out of arrays of the element type, for the per-statistic helpers that compute in double for float and
/// double data alike: the element type only decides how values are widened and whether results are rounded to float.
/// </summary>
internal static class DoubleLanes
{
    /// <summary>Four values stored at <paramref name="index"/>, rounded to float in a float array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFour<T>(Vector256<double> values, ref T array, int index)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            Vector256.Narrow(values, values).GetLower().StoreUnsafe(ref Unsafe.As<T, float>(ref array), (nuint)index);
            return;
        }
        values.StoreUnsafe(ref Unsafe.As<T, double>(ref array), (nuint)index);
    }

    /// <summary>Eight values stored at <paramref name="index"/>, rounded to float in a float array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreEight<T>(Vector512<double> values, ref T array, int index)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            Vector512.Narrow(values, values).GetLower().StoreUnsafe(ref Unsafe.As<T, float>(ref array), (nuint)index);
            return;
        }
        values.StoreUnsafe(ref Unsafe.As<T, double>(ref array), (nuint)index);
    }

    /// <summary>Four values loaded from <paramref name="index"/> on, widened to double from a float array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> LoadFour<T>(ref T array, int index)
        where T : unmanaged =>
        typeof(T) == typeof(float)
            ? Vector256.WidenLower(Vector128.LoadUnsafe(ref Unsafe.As<T, float>(ref array), (nuint)index).ToVector256Unsafe())
            : Vector256.LoadUnsafe(ref Unsafe.As<T, double>(ref array), (nuint)index);

    /// <summary>A value of the element type as a double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToDouble<T>(T value)
        where T : unmanaged =>
        typeof(T) == typeof(float) ? Unsafe.As<T, float>(ref value) : Unsafe.As<T, double>(ref value);

    /// <summary>A double as the element type, rounded to float for float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T FromDouble<T>(double value)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            float rounded = (float)value;
            return Unsafe.As<float, T>(ref rounded);
        }
        return Unsafe.As<double, T>(ref value);
    }
}
