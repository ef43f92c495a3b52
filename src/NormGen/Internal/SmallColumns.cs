using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NormGen.Internal;

/// <summary>
/// A batch-statistics call of a rows × columns layer (BatchNorm1d, channels-last BatchNorm, one sample of channels-last
/// InstanceNorm) too small for its preparation to pay: the column kernels' way — pivots, a Σd and Σd² pass, the fold,
/// three chunk runs — took BatchNorm1d x[4,10] ~140 ns for 40 values, no faster than a few TensorPrimitives calls. Here
/// each tile of four columns sums its rows in the L1 cache, its mean, then Σ(x − mean)², and y goes row by row,
/// everything in double (as exact as the two-pass algorithm gets). The values may differ from a larger call's in the
/// last bit of float; they never depend on the threads (one thread does it all).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class SmallColumns
{
    /// <summary>The most values (rows × columns) of a call that goes this way.</summary>
    public const int MaxValues = 256;

    /// <summary>
    /// Per column c: mean[c], variance[c] (biased) and invStd[c] = 1/sqrt(variance[c] + ε) over the rows of x, then
    /// y = (x − mean)·invStd·γ + β for every value. x and y may be the same memory.
    /// </summary>
    /// <param name="x">Whole rows of <paramref name="columns"/> values.</param>
    /// <param name="y">As long as x.</param>
    /// <param name="columns">Values per row: the statistics.</param>
    /// <param name="gamma">γ per column, or null for 1.</param>
    /// <param name="beta">β per column, or null for 0.</param>
    /// <param name="epsilon">ε, added to the variance.</param>
    /// <param name="mean">Per column: the mean.</param>
    /// <param name="invStd">Per column: 1/sqrt(variance + ε).</param>
    /// <param name="variance">Per column: the biased variance.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Normalize<T>(ReadOnlySpan<T> x, Span<T> y, int columns, T[]? gamma, T[]? beta, double epsilon,
        double[] mean, double[] invStd, double[] variance)
        where T : unmanaged
    {
        int rows = columns > 0 ? x.Length / columns : 0;
        if (rows < 1 || rows * columns != x.Length || y.Length != x.Length || mean.Length < columns || invStd.Length < columns
            || variance.Length < columns || (gamma is not null && gamma.Length < columns) || (beta is not null && beta.Length < columns))
        {
            Throw(x.Length, y.Length, columns);
        }
        ref T xRef = ref MemoryMarshal.GetReference(x);
        ref T yRef = ref MemoryMarshal.GetReference(y);
        double inverse = 1.0 / rows;
        if (columns < 4)
        {
            NarrowColumns(ref xRef, ref yRef, rows, columns, gamma, beta, epsilon, mean, invStd, variance, inverse);
            return;
        }
        ref double meanRef = ref MemoryMarshal.GetArrayDataReference(mean);
        ref double invStdRef = ref MemoryMarshal.GetArrayDataReference(invStd);
        // Per tile of four columns: the mean, then Σ(x − mean)². Where the columns are not a multiple of four, the last
        // tile ends at the last column and overlaps the one before it: every lane sums its own column in the same order,
        // so the shared columns get the same bits twice.
        for (int c = 0; c < columns; c += 4)
        {
            int at = Math.Min(c, columns - 4);
            Vector256<double> m = SumOfRows(ref xRef, at, columns, rows, Vector256<double>.Zero, squares: false) * inverse;
            Vector256<double> v = SumOfRows(ref xRef, at, columns, rows, m, squares: true) * inverse;
            m.StoreUnsafe(ref meanRef, (nuint)at);
            v.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(variance), (nuint)at);
            (Vector256<double>.One / Vector256.Sqrt(v + Vector256.Create(epsilon))).StoreUnsafe(ref invStdRef, (nuint)at);
        }
        // y row by row. The overlapping last tile's y is computed before the row's other tiles store theirs (x and y may be
        // the same memory) and stored after them, the shared columns with the same bits.
        int last = columns - 4;
        for (int row = 0, start = 0; row < rows; row++, start += columns)
        {
            Vector256<double> lastY = Normalized(ref xRef, start, last, ref meanRef, ref invStdRef, gamma, beta);
            for (int c = 0; c < last; c += 4)
            {
                DoubleLanes.StoreFour(Normalized(ref xRef, start, c, ref meanRef, ref invStdRef, gamma, beta), ref yRef, start + c);
            }
            DoubleLanes.StoreFour(lastY, ref yRef, start + last);
        }
    }

    /// <summary>(x − mean)·invStd·γ + β of four columns of a row, in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Normalized<T>(ref T xRef, int start, int column, ref double meanRef, ref double invStdRef, T[]? gamma, T[]? beta)
        where T : unmanaged
    {
        Vector256<double> centered = DoubleLanes.LoadFour(ref xRef, start + column) - Vector256.LoadUnsafe(ref meanRef, (nuint)column);
        Vector256<double> g = gamma is null ? Vector256<double>.One : DoubleLanes.LoadFour(ref MemoryMarshal.GetArrayDataReference(gamma), column);
        Vector256<double> b = beta is null ? Vector256<double>.Zero : DoubleLanes.LoadFour(ref MemoryMarshal.GetArrayDataReference(beta), column);
        return (centered * Vector256.LoadUnsafe(ref invStdRef, (nuint)column) * g) + b;
    }

    /// <summary>Fewer than four columns: each column on its own, with the same arithmetic.</summary>
    private static void NarrowColumns<T>(ref T xRef, ref T yRef, int rows, int columns, T[]? gamma, T[]? beta, double epsilon,
        double[] mean, double[] invStd, double[] variance, double inverse)
        where T : unmanaged
    {
        for (int c = 0; c < columns; c++)
        {
            double sum = 0;
            for (int row = 0, at = c; row < rows; row++, at += columns)
            {
                sum += DoubleLanes.ToDouble(Unsafe.Add(ref xRef, at));
            }
            double m = sum * inverse;
            double squares = 0;
            for (int row = 0, at = c; row < rows; row++, at += columns)
            {
                double d = DoubleLanes.ToDouble(Unsafe.Add(ref xRef, at)) - m;
                squares += d * d;
            }
            double v = squares * inverse;
            double s = 1.0 / Math.Sqrt(v + epsilon);
            mean[c] = m;
            variance[c] = v;
            invStd[c] = s;
            double g = gamma is null ? 1.0 : DoubleLanes.ToDouble(gamma[c]);
            double b = beta is null ? 0.0 : DoubleLanes.ToDouble(beta[c]);
            for (int row = 0, at = c; row < rows; row++, at += columns)
            {
                Unsafe.Add(ref yRef, at) = DoubleLanes.FromDouble<T>(((DoubleLanes.ToDouble(Unsafe.Add(ref xRef, at)) - m) * s * g) + b);
            }
        }
    }

    /// <summary>
    /// Σ (x − mean) over the rows of four columns from <paramref name="column"/> on, or Σ (x − mean)²: four sums over
    /// every fourth row, so that the adds do not wait on one another, then added together.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> SumOfRows<T>(ref T xRef, int column, int columns, int rows, Vector256<double> mean, bool squares)
        where T : unmanaged
    {
        Vector256<double> sum0 = Vector256<double>.Zero, sum1 = sum0, sum2 = sum0, sum3 = sum0;
        int row = 0, at = column;
        for (; row <= rows - 4; row += 4, at += 4 * columns)
        {
            sum0 += Term(DoubleLanes.LoadFour(ref xRef, at), mean, squares);
            sum1 += Term(DoubleLanes.LoadFour(ref xRef, at + columns), mean, squares);
            sum2 += Term(DoubleLanes.LoadFour(ref xRef, at + (2 * columns)), mean, squares);
            sum3 += Term(DoubleLanes.LoadFour(ref xRef, at + (3 * columns)), mean, squares);
        }
        for (; row < rows; row++, at += columns)
        {
            sum0 += Term(DoubleLanes.LoadFour(ref xRef, at), mean, squares);
        }
        return (sum0 + sum1) + (sum2 + sum3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Term(Vector256<double> value, Vector256<double> mean, bool squares)
    {
        Vector256<double> d = value - mean;
        return squares ? d * d : d;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(int xLength, int yLength, int columns) =>
        throw new ArgumentException(
            $"expected x and y of the same whole number of rows of {columns} columns, and statistics and parameters of at least {columns} values; got x of {xLength} and y of {yLength} values");
}
