using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NormGen.Internal;

// Short groups side by side (see the generator's GroupMajorKernels.ShortGroups): the kernels keep each group's sums in a
// vector, then finish a vector's width of groups together, one group a lane, instead of one horizontal sum, square root
// and division after another. The horizontal sums here add in a fixed pairwise order, the same on every processor (the
// fallbacks spell it out), so results do not depend on the instruction set.
public static partial class Simd
{
    /// <summary>
    /// Lane k: the mean of <c>vectors[k]</c>'s 8 lanes, summed as ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7)).
    /// <paramref name="vectors"/> holds 8 vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LaneMeans(ReadOnlySpan<Vector256<float>> vectors) =>
        LaneSums(vectors[0], vectors[1], vectors[2], vectors[3], vectors[4], vectors[5], vectors[6], vectors[7]) * 0.125f;

    /// <summary>Lane k: the mean of <c>vectors[k]</c>'s 4 lanes, summed as (v0 + v1) + (v2 + v3). <paramref name="vectors"/> holds 4 vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> LaneMeans(ReadOnlySpan<Vector256<double>> vectors) =>
        LaneSums(vectors[0], vectors[1], vectors[2], vectors[3]) * 0.25;

    /// <summary>
    /// Lane k: the sum of <c>vectors[first + k]</c>'s 8 lanes in double, as ((v0 + v4) + (v1 + v5)) + ((v2 + v6) + (v3 + v7)):
    /// four groups' float sums, widened so that the horizontal sum loses nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> LaneSumsWidened(ReadOnlySpan<Vector256<float>> vectors, int first) =>
        LaneSums(HalvesAdded(vectors[first]), HalvesAdded(vectors[first + 1]), HalvesAdded(vectors[first + 2]), HalvesAdded(vectors[first + 3]));

    /// <summary>Lane k: the sum of <c>vectors[first + k]</c>'s 4 lanes, as (v0 + v1) + (v2 + v3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> LaneSumsWidened(ReadOnlySpan<Vector256<double>> vectors, int first) =>
        LaneSums(vectors[first], vectors[first + 1], vectors[first + 2], vectors[first + 3]);

    /// <summary>The four values at <paramref name="first"/>, widened to double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> LoadWidened(ReadOnlySpan<float> values, int first)
    {
        Vector128<float> four = Vector128.Create(values.Slice(first, 4));
        return Vector256.Create(Vector128.WidenLower(four), Vector128.WidenUpper(four));
    }

    /// <summary>The four values at <paramref name="first"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> LoadWidened(ReadOnlySpan<double> values, int first) => Vector256.Create(values.Slice(first, 4));

    /// <summary>Stores a vector's lanes into <paramref name="destination"/> from <paramref name="first"/> on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(Vector256<T> value, Span<T> destination, int first) => value.CopyTo(destination.Slice(first));

    /// <summary>
    /// <c>Math.Max(value, 0.0)</c> lane by lane: NaN stays NaN, and −0 and negatives become +0. Not Vector256.Max, whose
    /// NaN and −0 results differ between .NET 8 and later.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> AtLeastZero(Vector256<double> value) =>
        Vector256.ConditionalSelect(Vector256.LessThanOrEqual(value, Vector256<double>.Zero), Vector256<double>.Zero, value);

    /// <summary>Bit k set where lane k of <paramref name="left"/> is not at most <paramref name="right"/>'s (greater, or NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NotAtMost(Vector256<double> left, Vector256<double> right) =>
        (int)(~Vector256.LessThanOrEqual(left, right)).ExtractMostSignificantBits();

    /// <summary><c>1.0 / Math.Sqrt(variance + epsilon)</c> lane by lane (both operations correctly rounded, so the same bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> InvSqrt(Vector256<double> variance, double epsilon) =>
        Vector256.Create(1.0) / Vector256.Sqrt(variance + Vector256.Create(epsilon));

    /// <summary>The lower and upper four lanes widened to double and added: lane j is v_j + v_(j+4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> HalvesAdded(Vector256<float> value)
    {
        (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(value);
        return lower + upper;
    }

    /// <summary>Lane k: the sum of <c>vk</c>'s lanes as ((vk0 + vk1) + (vk2 + vk3)) + ((vk4 + vk5) + (vk6 + vk7)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LaneSums(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3,
        Vector256<float> v4, Vector256<float> v5, Vector256<float> v6, Vector256<float> v7)
    {
        if (Avx.IsSupported)
        {
            // hadd(a, b) = [a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7]; twice gives each vector's two
            // half sums, one per 128-bit half, which the last add joins.
            Vector256<float> quarter03 = Avx.HorizontalAdd(Avx.HorizontalAdd(v0, v1), Avx.HorizontalAdd(v2, v3));
            Vector256<float> quarter47 = Avx.HorizontalAdd(Avx.HorizontalAdd(v4, v5), Avx.HorizontalAdd(v6, v7));
            return Avx.Permute2x128(quarter03, quarter47, 0x20) + Avx.Permute2x128(quarter03, quarter47, 0x31);
        }
        return Vector256.Create(Tree(v0), Tree(v1), Tree(v2), Tree(v3), Tree(v4), Tree(v5), Tree(v6), Tree(v7));

        static float Tree(Vector256<float> v) =>
            ((v.GetElement(0) + v.GetElement(1)) + (v.GetElement(2) + v.GetElement(3)))
            + ((v.GetElement(4) + v.GetElement(5)) + (v.GetElement(6) + v.GetElement(7)));
    }

    /// <summary>Lane k: the sum of <c>vk</c>'s lanes as (vk0 + vk1) + (vk2 + vk3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> LaneSums(Vector256<double> v0, Vector256<double> v1, Vector256<double> v2, Vector256<double> v3)
    {
        if (Avx.IsSupported)
        {
            // hadd(a, b) = [a0+a1, b0+b1 | a2+a3, b2+b3]: the 128-bit halves of two of them, added, are four lanes' sums.
            Vector256<double> pairs01 = Avx.HorizontalAdd(v0, v1);
            Vector256<double> pairs23 = Avx.HorizontalAdd(v2, v3);
            return Avx.Permute2x128(pairs01, pairs23, 0x20) + Avx.Permute2x128(pairs01, pairs23, 0x31);
        }
        return Vector256.Create(Tree(v0), Tree(v1), Tree(v2), Tree(v3));

        static double Tree(Vector256<double> v) => (v.GetElement(0) + v.GetElement(1)) + (v.GetElement(2) + v.GetElement(3));
    }
}
