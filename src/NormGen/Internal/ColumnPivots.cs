using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NormGen.Internal;

/// <summary>
/// The rows × columns kernels' (BatchNorm1d, channels-last BatchNorm) one-pass statistics: a pivot per column from a few
/// rows, then Σd and Σd² about it over every row (mean = pivot + Σd/n, variance = Σd²/n − (Σd/n)²). Wherever the pivot
/// lies within a standard deviation of the column's mean, this is as accurate as the corrected two-pass algorithm, and
/// it reads x once instead of twice; a caller whose check fails for some column falls back to the two passes.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ColumnPivots
{
    /// <summary>Rows a pivot is the mean of: the mean of 32 draws lies more than a standard deviation off 1 time in 10⁸.</summary>
    public const int SampleRows = 32;

    /// <summary>
    /// pivots[c] = the mean of column c over min(rows, <see cref="SampleRows"/>) rows spread evenly over the batch
    /// (row k·rows / sample for k &lt; sample, so a batch sorted by class, or an image's neighbouring pixels, do not all
    /// come from one end), summed in double in row order and rounded to float.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute(ReadOnlySpan<float> x, int columns, float[] pivots)
    {
        Span<int> rowStarts = stackalloc int[SampleRows];
        int sample = SampledRows(x.Length, columns, pivots.Length, rowStarts);
        double inverse = 1.0 / sample;
        ref float start = ref MemoryMarshal.GetReference(x);
        ref float pivot = ref MemoryMarshal.GetArrayDataReference(pivots);
        int c = 0;
        // 16 columns a step: four independent sums, so the adds down the sampled rows do not wait on each other.
        for (; c <= columns - 16; c += 16)
        {
            Vector256<double> sum0 = Vector256<double>.Zero, sum1 = sum0, sum2 = sum0, sum3 = sum0;
            for (int k = 0; k < sample; k++)
            {
                ref float row = ref Unsafe.Add(ref start, rowStarts[k] + c);
                (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(Vector256.LoadUnsafe(ref row, 0));
                sum0 += lower;
                sum1 += upper;
                (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref row, 8));
                sum2 += lower;
                sum3 += upper;
            }
            Narrow(sum0 * inverse).StoreUnsafe(ref pivot, (nuint)c);
            Narrow(sum1 * inverse).StoreUnsafe(ref pivot, (nuint)(c + 4));
            Narrow(sum2 * inverse).StoreUnsafe(ref pivot, (nuint)(c + 8));
            Narrow(sum3 * inverse).StoreUnsafe(ref pivot, (nuint)(c + 12));
        }
        for (; c <= columns - 4; c += 4)
        {
            Vector256<double> sum = Vector256<double>.Zero;
            for (int k = 0; k < sample; k++)
            {
                sum += Widen(Vector128.LoadUnsafe(ref start, (nuint)(rowStarts[k] + c)));
            }
            Narrow(sum * inverse).StoreUnsafe(ref pivot, (nuint)c);
        }
        for (; c < columns; c++)
        {
            double sum = 0.0;
            for (int k = 0; k < sample; k++)
            {
                sum += Unsafe.Add(ref start, rowStarts[k] + c);
            }
            pivots[c] = (float)(sum * inverse);
        }
    }

    /// <summary>The double overload of <see cref="Compute(ReadOnlySpan{float}, int, float[])"/>: the same rows and order, not rounded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute(ReadOnlySpan<double> x, int columns, double[] pivots)
    {
        Span<int> rowStarts = stackalloc int[SampleRows];
        int sample = SampledRows(x.Length, columns, pivots.Length, rowStarts);
        double inverse = 1.0 / sample;
        ref double start = ref MemoryMarshal.GetReference(x);
        ref double pivot = ref MemoryMarshal.GetArrayDataReference(pivots);
        int c = 0;
        for (; c <= columns - 16; c += 16)
        {
            Vector256<double> sum0 = Vector256<double>.Zero, sum1 = sum0, sum2 = sum0, sum3 = sum0;
            for (int k = 0; k < sample; k++)
            {
                ref double row = ref Unsafe.Add(ref start, rowStarts[k] + c);
                sum0 += Vector256.LoadUnsafe(ref row, 0);
                sum1 += Vector256.LoadUnsafe(ref row, 4);
                sum2 += Vector256.LoadUnsafe(ref row, 8);
                sum3 += Vector256.LoadUnsafe(ref row, 12);
            }
            (sum0 * inverse).StoreUnsafe(ref pivot, (nuint)c);
            (sum1 * inverse).StoreUnsafe(ref pivot, (nuint)(c + 4));
            (sum2 * inverse).StoreUnsafe(ref pivot, (nuint)(c + 8));
            (sum3 * inverse).StoreUnsafe(ref pivot, (nuint)(c + 12));
        }
        for (; c <= columns - 4; c += 4)
        {
            Vector256<double> sum = Vector256<double>.Zero;
            for (int k = 0; k < sample; k++)
            {
                sum += Vector256.LoadUnsafe(ref start, (nuint)(rowStarts[k] + c));
            }
            (sum * inverse).StoreUnsafe(ref pivot, (nuint)c);
        }
        for (; c < columns; c++)
        {
            double sum = 0.0;
            for (int k = 0; k < sample; k++)
            {
                sum += Unsafe.Add(ref start, rowStarts[k] + c);
            }
            pivots[c] = sum * inverse;
        }
    }

    /// <summary>
    /// Whether every column's pivot lies within a standard deviation of its mean: with shift = Σd[i]·invCount and
    /// variance = max(Σd²[i]·invCount − shift², 0), shift² ≤ variance for every i &lt; <paramref name="count"/> (false
    /// for a NaN, whose column then takes the two passes, as group by group). Σd in sums[0, count), Σd² from
    /// <paramref name="squaresRow"/> on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool WithinStandardDeviation(double[] sums, int squaresRow, double invCount, int count)
    {
        if (squaresRow < count || (long)squaresRow + count > sums.Length)
        {
            throw new ArgumentException($"expected Σd in sums[0, {count}) and Σd² in sums[{squaresRow}, {squaresRow} + {count}) of {sums.Length} values");
        }
        for (int i = 0; i < count; i++)
        {
            double shift = sums[i] * invCount;
            double variance = Math.Max(sums[squaresRow + i] * invCount - shift * shift, 0.0);
            if (!(shift * shift <= variance))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Four floats widened to double (Vector128.WidenLower/Upper here measured 1.8× slower than the 256-bit widening).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Widen(Vector128<float> four) => Vector256.WidenLower(four.ToVector256Unsafe());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Narrow(Vector256<double> four) => Vector256.Narrow(four, four).GetLower();

    /// <summary>
    /// The number of sampled rows, min(rows, <see cref="SampleRows"/>), and the first index of each (row k·rows / sample),
    /// computed once: a division for every load cost more than the loads (BatchNorm1d x[256,512] training 29 → 40 µs).
    /// </summary>
    private static int SampledRows(int length, int columns, int pivots, Span<int> rowStarts)
    {
        if (columns <= 0 || length < columns || length % columns != 0)
        {
            throw new ArgumentException($"expected x to hold a positive whole number of rows of {columns} columns, got {length} values");
        }
        Statistics.Check(pivots, columns);
        int rows = length / columns;
        int sample = Math.Min(rows, SampleRows);
        for (int k = 0; k < sample; k++)
        {
            rowStarts[k] = (int)((long)k * rows / sample) * columns;
        }
        return sample;
    }
}
