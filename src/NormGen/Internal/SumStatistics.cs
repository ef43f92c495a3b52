using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NormGen.Internal;

/// <summary>
/// From the per-chunk sums of the lane and rows × columns kernels (BatchNorm1d, channels-last BatchNorm) to each
/// statistic's mean, variance and 1/std: the serial steps between their passes. With hundreds of statistics these
/// scalar loops (a square root and a division each) took a tenth of a BatchNorm1d training call, so each is a vector
/// loop over doubles with the same operations, in the same order, as the scalar formula in its summary: the results are
/// that formula's, bit for bit. Compiled fully optimized from the first call, like <see cref="Statistics"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class SumStatistics
{
    /// <summary>
    /// Adds every chunk's partial sums into the first chunk's, in chunk order (the same sums for any number of threads):
    /// for chunk = 1 … chunks − 1 and each row r &lt; <paramref name="rows"/>,
    /// partials[r·stride + i] += partials[(chunk·rows + r)·stride + i] for i &lt; <paramref name="count"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddChunkRows(double[] partials, int stride, int rows, int chunks, int count)
    {
        if (count > stride || (long)chunks * rows * stride > partials.Length)
        {
            throw new ArgumentException($"expected {chunks} chunks of {rows} rows of {count} sums, {stride} apart, in {partials.Length} values");
        }
        ref double p = ref MemoryMarshal.GetArrayDataReference(partials);
        for (int chunk = 1; chunk < chunks; chunk++)
        {
            for (int row = 0; row < rows; row++)
            {
                ref double into = ref Unsafe.Add(ref p, row * stride);
                ref double from = ref Unsafe.Add(ref p, ((chunk * rows) + row) * stride);
                int i = 0;
                for (; i <= count - 4; i += 4)
                {
                    (Vector256.LoadUnsafe(ref into, (nuint)i) + Vector256.LoadUnsafe(ref from, (nuint)i)).StoreUnsafe(ref into, (nuint)i);
                }
                for (; i < count; i++)
                {
                    Unsafe.Add(ref into, i) += Unsafe.Add(ref from, i);
                }
            }
        }
    }

    /// <summary>mean[i] = sums[i]·invCount, hi[i] = (float)mean[i] and lo[i] = (float)(mean[i] − hi[i]), for i &lt; <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Means(double[] sums, double invCount, double[] mean, float[] hi, float[] lo, int count)
    {
        // Every length checked before anything is written.
        Statistics.Check(hi.Length, count);
        Statistics.Check(lo.Length, count);
        Scale(sums, invCount, mean, count);
        Statistics.SplitMeans(mean, hi, lo, count);
    }

    /// <summary>mean[i] = hi[i] = sums[i]·invCount, for i &lt; <paramref name="count"/> (double data needs no low part).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Means(double[] sums, double invCount, double[] mean, double[] hi, int count)
    {
        Statistics.Check(hi.Length, count);
        Scale(sums, invCount, mean, count);
        Array.Copy(mean, hi, count);
    }

    /// <summary>mean[i] = sums[i]·invCount, for i &lt; <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scale(double[] sums, double invCount, double[] mean, int count)
    {
        Statistics.Check(sums.Length, count);
        Statistics.Check(mean.Length, count);
        ref double s = ref MemoryMarshal.GetArrayDataReference(sums);
        ref double m = ref MemoryMarshal.GetArrayDataReference(mean);
        var scale = Vector256.Create(invCount);
        int i = 0;
        for (; i <= count - 4; i += 4)
        {
            (Vector256.LoadUnsafe(ref s, (nuint)i) * scale).StoreUnsafe(ref m, (nuint)i);
        }
        for (; i < count; i++)
        {
            Unsafe.Add(ref m, i) = Unsafe.Add(ref s, i) * invCount;
        }
    }

    /// <summary>
    /// The corrected two-pass variance from Σd (row 0 of <paramref name="sums"/>) and Σd² (from
    /// <paramref name="squaresRow"/>), d = x − pivot: with shift = Σd[i]·invCount, mean[i] = pivot[i] + shift,
    /// variance[i] = max(Σd²[i]·invCount − shift·shift, 0) and invStd[i] = 1 / sqrt(variance[i] + ε), for i &lt; <paramref name="count"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CorrectedVariance(double[] sums, int squaresRow, double invCount, float[] pivot, double epsilon, double[] mean, double[] variance, double[] invStd, int count)
    {
        CheckCorrected(sums, squaresRow, pivot.Length, mean, variance, invStd, count);
        ref float p = ref MemoryMarshal.GetArrayDataReference(pivot);
        int i = 0;
        for (; i <= count - 8; i += 8)
        {
            (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(Vector256.LoadUnsafe(ref p, (nuint)i));
            CorrectedVector(sums, squaresRow, invCount, lower, epsilon, mean, variance, invStd, i);
            CorrectedVector(sums, squaresRow, invCount, upper, epsilon, mean, variance, invStd, i + 4);
        }
        for (; i < count; i++)
        {
            CorrectedScalar(sums, squaresRow, invCount, Unsafe.Add(ref p, i), epsilon, mean, variance, invStd, i);
        }
    }

    /// <summary>
    /// The corrected two-pass variance for double data, as the float overload: shift = Σd[i]·invCount,
    /// mean[i] = pivot[i] + shift, variance[i] = max(Σd²[i]·invCount − shift·shift, 0), invStd[i] = 1 / sqrt(variance[i] + ε).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CorrectedVariance(double[] sums, int squaresRow, double invCount, double[] pivot, double epsilon, double[] mean, double[] variance, double[] invStd, int count)
    {
        CheckCorrected(sums, squaresRow, pivot.Length, mean, variance, invStd, count);
        ref double p = ref MemoryMarshal.GetArrayDataReference(pivot);
        int i = 0;
        for (; i <= count - 4; i += 4)
        {
            CorrectedVector(sums, squaresRow, invCount, Vector256.LoadUnsafe(ref p, (nuint)i), epsilon, mean, variance, invStd, i);
        }
        for (; i < count; i++)
        {
            CorrectedScalar(sums, squaresRow, invCount, Unsafe.Add(ref p, i), epsilon, mean, variance, invStd, i);
        }
    }

    /// <summary>variance[i] = sums[i]·invCount and invStd[i] = 1 / sqrt(variance[i] + ε), for i &lt; <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Variance(double[] sums, double invCount, double epsilon, double[] variance, double[] invStd, int count)
    {
        Statistics.Check(sums.Length, count);
        Statistics.Check(variance.Length, count);
        Statistics.Check(invStd.Length, count);
        ref double s = ref MemoryMarshal.GetArrayDataReference(sums);
        ref double v = ref MemoryMarshal.GetArrayDataReference(variance);
        ref double r = ref MemoryMarshal.GetArrayDataReference(invStd);
        var scale = Vector256.Create(invCount);
        var eps = Vector256.Create(epsilon);
        var one = Vector256.Create(1.0);
        int i = 0;
        for (; i <= count - 4; i += 4)
        {
            Vector256<double> value = Vector256.LoadUnsafe(ref s, (nuint)i) * scale;
            value.StoreUnsafe(ref v, (nuint)i);
            (one / Vector256.Sqrt(value + eps)).StoreUnsafe(ref r, (nuint)i);
        }
        for (; i < count; i++)
        {
            double value = Unsafe.Add(ref s, i) * invCount;
            Unsafe.Add(ref v, i) = value;
            Unsafe.Add(ref r, i) = 1.0 / Math.Sqrt(value + epsilon);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CorrectedVector(double[] sums, int squaresRow, double invCount, Vector256<double> pivot, double epsilon, double[] mean, double[] variance, double[] invStd, int i)
    {
        ref double s = ref MemoryMarshal.GetArrayDataReference(sums);
        var scale = Vector256.Create(invCount);
        Vector256<double> shift = Vector256.LoadUnsafe(ref s, (nuint)i) * scale;
        (pivot + shift).StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(mean), (nuint)i);
        Vector256<double> value = Simd.AtLeastZero((Vector256.LoadUnsafe(ref s, (nuint)(squaresRow + i)) * scale) - (shift * shift));
        value.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(variance), (nuint)i);
        Simd.InvSqrt(value, epsilon).StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(invStd), (nuint)i);
    }

    private static void CorrectedScalar(double[] sums, int squaresRow, double invCount, double pivot, double epsilon, double[] mean, double[] variance, double[] invStd, int i)
    {
        double shift = sums[i] * invCount;
        mean[i] = pivot + shift;
        double value = Math.Max((sums[squaresRow + i] * invCount) - (shift * shift), 0.0);
        variance[i] = value;
        invStd[i] = 1.0 / Math.Sqrt(value + epsilon);
    }

    private static void CheckCorrected(double[] sums, int squaresRow, int pivotLength, double[] mean, double[] variance, double[] invStd, int count)
    {
        if (squaresRow < count || (long)squaresRow + count > sums.Length)
        {
            throw new ArgumentException($"expected Σd in sums[0, {count}) and Σd² in sums[{squaresRow}, {squaresRow} + {count}) of {sums.Length} values");
        }
        Statistics.Check(pivotLength, count);
        Statistics.Check(mean.Length, count);
        Statistics.Check(variance.Length, count);
        Statistics.Check(invStd.Length, count);
    }
}
