using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace NormGen.Internal;

/// <summary>
/// Statistics shared by groups of adjacent columns — GroupNorm channels-last: a sample is H·W rows of C columns, and each
/// group of C/G adjacent channels has one mean and variance. The column kernels sum per column; these steps make each
/// column's pivot its group's, add the columns' sums within each group (so every column holds its group's totals), and
/// combine the backward's per-column sums the same way, so that the per-column statistics and dx constants that follow
/// are the group's.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ColumnGroups
{
    /// <summary>Each column's pivot becomes its group's: the mean of the group's columns' pivots, in double, rounded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SharePivots(float[] pivots, int count, int groupColumns) => SharePivots<float>(pivots, count, groupColumns);

    /// <inheritdoc cref="SharePivots(float[], int, int)"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SharePivots(double[] pivots, int count, int groupColumns) => SharePivots<double>(pivots, count, groupColumns);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SharePivots<T>(T[] pivots, int count, int groupColumns)
        where T : unmanaged
    {
        Check(pivots.Length, count, groupColumns);
        for (int first = 0; first < count; first += groupColumns)
        {
            double sum = 0;
            for (int c = first; c < first + groupColumns; c++)
            {
                sum += DoubleLanes.ToDouble(pivots[c]);
            }
            T shared = DoubleLanes.FromDouble<T>(sum / groupColumns);
            for (int c = first; c < first + groupColumns; c++)
            {
                pivots[c] = shared;
            }
        }
    }

    /// <summary>
    /// For each of <paramref name="rows"/> rows of partial sums (<paramref name="stride"/> apart): every column's sum
    /// becomes its group's, the group's columns added in column order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SumGroups(double[] partials, int stride, int rows, int count, int groupColumns)
    {
        Check(partials.Length - ((rows - 1) * stride), count, groupColumns);
        for (int row = 0; row < rows; row++)
        {
            for (int first = row * stride; first < (row * stride) + count; first += groupColumns)
            {
                double sum = 0;
                for (int c = first; c < first + groupColumns; c++)
                {
                    sum += partials[c];
                }
                partials.AsSpan(first, groupColumns).Fill(sum);
            }
        }
    }

    /// <summary>
    /// The backward's per-group Σg and Σg·x̂ (g = γ·dy) from the column kernels' merged per-column Σdy·x̂ (row 0) and Σdy
    /// (the row at <paramref name="stride"/>), which they leave without γ: groupSums[c] = Σ γ·Σdy and
    /// groupSums[stride + c] = Σ γ·Σdy·x̂ over c's group, the layout <c>DxConstants.SlopeAndOffset</c> reads.
    /// </summary>
    /// <param name="sums">The merged per-column sums: Σdy·x̂, then Σdy <paramref name="stride"/> further on.</param>
    /// <param name="stride">Where the second row starts, in both arrays.</param>
    /// <param name="gamma">γ per column, or null for 1.</param>
    /// <param name="groupSums">Σg, then Σg·x̂, per column: its group's.</param>
    /// <param name="count">The columns.</param>
    /// <param name="groupColumns">Columns per group.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GammaWeightedSums(double[] sums, int stride, float[]? gamma, double[] groupSums, int count, int groupColumns) =>
        GammaWeightedSums<float>(sums, stride, gamma, groupSums, count, groupColumns);

    /// <inheritdoc cref="GammaWeightedSums(double[], int, float[], double[], int, int)"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GammaWeightedSums(double[] sums, int stride, double[]? gamma, double[] groupSums, int count, int groupColumns) =>
        GammaWeightedSums<double>(sums, stride, gamma, groupSums, count, groupColumns);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GammaWeightedSums<T>(double[] sums, int stride, T[]? gamma, double[] groupSums, int count, int groupColumns)
        where T : unmanaged
    {
        Check(Math.Min(sums.Length, groupSums.Length) - stride, count, groupColumns);
        if (stride < count || (gamma is not null && gamma.Length < count))
        {
            throw new ArgumentException($"expected rows of at least {count} sums {stride} apart and γ of {count} values");
        }
        for (int first = 0; first < count; first += groupColumns)
        {
            double g = 0, gXhat = 0;
            for (int c = first; c < first + groupColumns; c++)
            {
                double weight = gamma is null ? 1.0 : DoubleLanes.ToDouble(gamma[c]);
                g += weight * sums[stride + c];
                gXhat += weight * sums[c];
            }
            groupSums.AsSpan(first, groupColumns).Fill(g);
            groupSums.AsSpan(stride + first, groupColumns).Fill(gXhat);
        }
    }

    private static void Check(int length, int count, int groupColumns)
    {
        if (groupColumns < 1 || count % groupColumns != 0 || length < count)
        {
            throw new ArgumentException($"expected {count} columns in whole groups of {groupColumns}, and at least {count} values; got {length}");
        }
    }
}
