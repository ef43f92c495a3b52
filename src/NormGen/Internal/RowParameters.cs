using System;
using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NormGen.Internal;

/// <summary>
/// γ and β per row of a sample whose statistics are per column — LayerNorm over the channels of (N, C, H, W), as in
/// ConvNeXt: a sample is C rows of H·W columns, one statistic per column. The column kernels normalize such a sample
/// without γ and β; these passes apply them to y, and give Backward γ·dy together with dγ and dβ.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class RowParameters
{
    /// <summary>Columns per block of the gradient sums: each lane adds at most 512 values in the element type.</summary>
    private static int BlockColumns<T>() where T : unmanaged => 512 * Vector<T>.Count;

    /// <summary>y[r, c] = y[r, c]·γ[r] + β[r] for the rows [firstRow, endRow) of rows of <paramref name="columns"/> values.</summary>
    /// <param name="y">The sample's y, x̂ on entry.</param>
    /// <param name="columns">Values per row.</param>
    /// <param name="gamma">γ per row.</param>
    /// <param name="beta">β per row, or null (RMSNorm).</param>
    /// <param name="firstRow">The first row.</param>
    /// <param name="endRow">The end of the rows.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale<T>(Span<T> y, int columns, T[] gamma, T[]? beta, int firstRow, int endRow)
        where T : unmanaged, INumberBase<T>
    {
        CheckRows(y.Length, columns, gamma.Length, beta?.Length, firstRow, endRow);
        ref T yRef = ref MemoryMarshal.GetReference(y);
        for (int row = firstRow; row < endRow; row++)
        {
            T g = gamma[row];
            T b = beta is null ? T.Zero : beta[row];
            var gv = new Vector<T>(g);
            var bv = new Vector<T>(b);
            ref T rowRef = ref Unsafe.Add(ref yRef, row * columns);
            int c = 0;
            for (; c <= columns - Vector<T>.Count; c += Vector<T>.Count)
            {
                ref T at = ref Unsafe.Add(ref rowRef, c);
                Vector.StoreUnsafe((Vector.LoadUnsafe(ref at) * gv) + bv, ref at);
            }
            for (; c < columns; c++)
            {
                ref T at = ref Unsafe.Add(ref rowRef, c);
                at = (at * g) + b;
            }
        }
    }

    /// <summary>
    /// For the rows [firstRow, endRow): g = γ[r]·dy, and per row Σ dy·x̂ and Σ dy added in double to
    /// sums[r] and sums[stride + r], with x̂ = (x − hi − lo)·invStd per column (x·invStd where <paramref name="meanHi"/> is
    /// null: RMSNorm), each lane summing at most 512 values in the element type before they are added in double.
    /// </summary>
    /// <param name="x">The sample's input.</param>
    /// <param name="dy">The sample's output gradient.</param>
    /// <param name="g">γ·dy, written: scratch of the layer's, not dy (a read-only input).</param>
    /// <param name="columns">Values per row.</param>
    /// <param name="meanHi">Per column the mean rounded to the element type, or null (RMSNorm).</param>
    /// <param name="meanLo">Per column the mean's low part (float data), or null.</param>
    /// <param name="invStd">Per column 1/std in the element type.</param>
    /// <param name="gamma">γ per row.</param>
    /// <param name="sums">Σ dy·x̂ per row, then (β) Σ dy per row <paramref name="stride"/> further on; added to.</param>
    /// <param name="stride">Where the Σ dy row starts.</param>
    /// <param name="withBeta">Whether to sum Σ dy.</param>
    /// <param name="firstRow">The first row.</param>
    /// <param name="endRow">The end of the rows.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gradients<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> g, int columns, T[]? meanHi, T[]? meanLo,
        T[] invStd, T[] gamma, double[] sums, int stride, bool withBeta, int firstRow, int endRow)
        where T : unmanaged, INumberBase<T>
    {
        CheckRows(x.Length, columns, gamma.Length, null, firstRow, endRow);
        if (dy.Length != x.Length || g.Length != x.Length || invStd.Length < columns || (meanHi is not null && meanHi.Length < columns)
            || (meanLo is not null && meanLo.Length < columns) || sums.Length < stride + gamma.Length || stride < gamma.Length)
        {
            throw new ArgumentException($"expected x, dy and g of {x.Length} values, per-column constants of {columns} and sums of 2 rows of {gamma.Length}, {stride} apart");
        }
        ref T xRef = ref MemoryMarshal.GetReference(x);
        ref T dyRef = ref MemoryMarshal.GetReference(dy);
        ref T gRef = ref MemoryMarshal.GetReference(g);
        ref T hiRef = ref meanHi is null ? ref Unsafe.NullRef<T>() : ref MemoryMarshal.GetArrayDataReference(meanHi);
        ref T loRef = ref meanLo is null ? ref Unsafe.NullRef<T>() : ref MemoryMarshal.GetArrayDataReference(meanLo);
        ref T sRef = ref MemoryMarshal.GetArrayDataReference(invStd);
        int block = BlockColumns<T>();
        for (int row = firstRow; row < endRow; row++)
        {
            T gammaRow = gamma[row];
            var gammaVector = new Vector<T>(gammaRow);
            int start = row * columns;
            double dyXhatSum = 0, dySum = 0;

            for (int blockStart = 0; blockStart < columns; blockStart += block)
            {
                int blockEnd = Math.Min(blockStart + block, columns);
                // Four pairs of sums, so that the adds do not wait on one another.
                Vector<T> dyXhat = Vector<T>.Zero, dyXhat1 = dyXhat, dyXhat2 = dyXhat, dyXhat3 = dyXhat;
                Vector<T> dyTotal = Vector<T>.Zero, dyTotal1 = dyTotal, dyTotal2 = dyTotal, dyTotal3 = dyTotal;
                int width = Vector<T>.Count;
                int c = blockStart;
                for (; c <= blockEnd - (4 * width); c += 4 * width)
                {
                    Step(ref xRef, ref dyRef, ref gRef, ref hiRef, ref loRef, ref sRef, start, c, gammaVector, ref dyXhat, ref dyTotal);
                    Step(ref xRef, ref dyRef, ref gRef, ref hiRef, ref loRef, ref sRef, start, c + width, gammaVector, ref dyXhat1, ref dyTotal1);
                    Step(ref xRef, ref dyRef, ref gRef, ref hiRef, ref loRef, ref sRef, start, c + (2 * width), gammaVector, ref dyXhat2, ref dyTotal2);
                    Step(ref xRef, ref dyRef, ref gRef, ref hiRef, ref loRef, ref sRef, start, c + (3 * width), gammaVector, ref dyXhat3, ref dyTotal3);
                }
                for (; c <= blockEnd - width; c += width)
                {
                    Step(ref xRef, ref dyRef, ref gRef, ref hiRef, ref loRef, ref sRef, start, c, gammaVector, ref dyXhat, ref dyTotal);
                }
                dyXhat = (dyXhat + dyXhat1) + (dyXhat2 + dyXhat3);
                dyTotal = (dyTotal + dyTotal1) + (dyTotal2 + dyTotal3);
                T dyXhatTail = T.Zero, dyTail = T.Zero;
                for (; c < blockEnd; c++)
                {
                    T d = Unsafe.Add(ref dyRef, start + c);
                    T centered = Unsafe.Add(ref xRef, start + c);
                    if (meanHi is not null)
                    {
                        centered -= Unsafe.Add(ref hiRef, c);
                        if (meanLo is not null)
                        {
                            centered -= Unsafe.Add(ref loRef, c);
                        }
                    }
                    dyXhatTail += d * (centered * Unsafe.Add(ref sRef, c));
                    dyTail += d;
                    Unsafe.Add(ref gRef, start + c) = d * gammaRow;
                }
                dyXhatSum += double.CreateTruncating(Vector.Sum(dyXhat)) + double.CreateTruncating(dyXhatTail);
                dySum += double.CreateTruncating(Vector.Sum(dyTotal)) + double.CreateTruncating(dyTail);
            }
            sums[row] += dyXhatSum;
            if (withBeta)
            {
                sums[stride + row] += dySum;
            }
        }
    }

    /// <summary>
    /// One vector of columns from <paramref name="c"/> of the row at <paramref name="start"/>: Σ dy·x̂ and Σ dy into the
    /// given sums, g = γ·dy stored. A null <paramref name="hiRef"/> means x̂ = x·invStd (RMSNorm), a null
    /// <paramref name="loRef"/> no low part.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<T>(ref T xRef, ref T dyRef, ref T gRef, ref T hiRef, ref T loRef, ref T sRef, int start, int c,
        Vector<T> gamma, ref Vector<T> dyXhatSums, ref Vector<T> dySums)
        where T : unmanaged, INumberBase<T>
    {
        Vector<T> d = Vector.LoadUnsafe(ref Unsafe.Add(ref dyRef, start + c));
        Vector<T> centered = Vector.LoadUnsafe(ref Unsafe.Add(ref xRef, start + c));
        if (!Unsafe.IsNullRef(ref hiRef))
        {
            centered -= Vector.LoadUnsafe(ref Unsafe.Add(ref hiRef, c));
            if (!Unsafe.IsNullRef(ref loRef))
            {
                centered -= Vector.LoadUnsafe(ref Unsafe.Add(ref loRef, c));
            }
        }
        dyXhatSums += d * (centered * Vector.LoadUnsafe(ref Unsafe.Add(ref sRef, c)));
        dySums += d;
        Vector.StoreUnsafe(d * gamma, ref Unsafe.Add(ref gRef, start + c));
    }

    private static void CheckRows(int length, int columns, int rows, int? betaLength, int firstRow, int endRow)
    {
        if (columns <= 0 || length != rows * columns || (betaLength is int b && b != rows) || firstRow < 0 || endRow > rows || firstRow > endRow)
        {
            throw new ArgumentException(
                $"expected {rows} rows (one γ{(betaLength is null ? "" : " and β")} each) of {columns} columns in {length} values, and rows [{firstRow}, {endRow}) among them");
        }
    }
}
