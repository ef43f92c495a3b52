using System;
using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NormGen.Internal;

/// <summary>
/// The last, serial step of a Backward: the chunks' parameter sums into GammaGrad and BetaGrad. It runs on the calling
/// thread after the chunks, while the helpers wait, so it is a vector loop: as two scalar loops (the chunks into a
/// double array, then that array into the gradients) it took a sixth of a two-thread LayerNorm x[64,1000] backward.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ParameterGradients
{
    /// <summary>
    /// For each parameter i &lt; gammaGrad.Length: gammaGrad[i] += (float)(0 + Σ partials[2·chunk·stride + i]) and
    /// betaGrad[i] += (float)(0 + Σ partials[(2·chunk + 1)·stride + i]), each sum in double over the chunks in chunk
    /// order (the same sums for any number of threads), rounded once.
    /// </summary>
    /// <param name="partials">Per chunk: its row of Gamma sums, then its row of Beta sums, <paramref name="stride"/> apart.</param>
    /// <param name="stride">The distance between two rows (at least the parameter count).</param>
    /// <param name="chunks">How many chunks' rows to add.</param>
    /// <param name="gammaGrad">The Gamma gradients, added to.</param>
    /// <param name="betaGrad">The Beta gradients, added to; null for a layer without Beta.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddChunkSums(double[] partials, int stride, int chunks, float[] gammaGrad, float[]? betaGrad)
    {
        Check(partials, stride, chunks, gammaGrad.Length, betaGrad?.Length);
        ref double p = ref MemoryMarshal.GetArrayDataReference(partials);
        AddRow(ref p, stride, chunks, gammaGrad);
        if (betaGrad is not null)
        {
            AddRow(ref Unsafe.Add(ref p, stride), stride, chunks, betaGrad);
        }
    }

    /// <inheritdoc cref="AddChunkSums(double[], int, int, float[], float[])"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddChunkSums(double[] partials, int stride, int chunks, double[] gammaGrad, double[]? betaGrad)
    {
        Check(partials, stride, chunks, gammaGrad.Length, betaGrad?.Length);
        ref double p = ref MemoryMarshal.GetArrayDataReference(partials);
        AddRow(ref p, stride, chunks, gammaGrad);
        if (betaGrad is not null)
        {
            AddRow(ref Unsafe.Add(ref p, stride), stride, chunks, betaGrad);
        }
    }

    /// <summary>
    /// total[row·stride + i] += sums[row·stride + i] for the Gamma row and the Beta row (row 0 and 1, i &lt; count): one
    /// sample's merged parameter sums, kept in double over the samples of a Backward that goes sample by sample
    /// (channels-last InstanceNorm), which then adds the total to the gradients once, rounded once as for any other layer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddSampleSums(double[] sums, double[] total, int stride, int count)
    {
        if (count > stride || 2L * stride > sums.Length || 2L * stride > total.Length)
        {
            throw new ArgumentException($"expected 2 rows of {count} sums, {stride} apart, in {sums.Length} and {total.Length} values");
        }
        ref double from = ref MemoryMarshal.GetArrayDataReference(sums);
        ref double into = ref MemoryMarshal.GetArrayDataReference(total);
        for (int row = 0; row < 2 * stride; row += stride)
        {
            int i = row;
            for (; i <= row + count - 4; i += 4)
            {
                (Vector256.LoadUnsafe(ref into, (nuint)i) + Vector256.LoadUnsafe(ref from, (nuint)i)).StoreUnsafe(ref into, (nuint)i);
            }
            for (; i < row + count; i++)
            {
                Unsafe.Add(ref into, i) += Unsafe.Add(ref from, i);
            }
        }
    }

    private static void Check(double[] partials, int stride, int chunks, int count, int? betaCount)
    {
        if (count > stride || (long)chunks * 2 * stride > partials.Length || (betaCount is int b && b != count))
        {
            throw new ArgumentException(
                $"expected {chunks} chunks of 2 rows of {count} sums, {stride} apart, in {partials.Length} values, and gradients of one length");
        }
    }

    /// <summary>grad[i] += (float)Σ row[2·chunk·stride + i]: four doubles at a time, narrowed as the scalar cast rounds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddRow(ref double row, int stride, int chunks, float[] grad)
    {
        ref float g = ref MemoryMarshal.GetArrayDataReference(grad);
        int count = grad.Length, i = 0;
        for (; i <= count - 8; i += 8)
        {
            var low = Vector256<double>.Zero;
            var high = Vector256<double>.Zero;
            for (int chunk = 0; chunk < chunks; chunk++)
            {
                ref double from = ref Unsafe.Add(ref row, 2 * chunk * stride);
                low += Vector256.LoadUnsafe(ref from, (nuint)i);
                high += Vector256.LoadUnsafe(ref from, (nuint)(i + 4));
            }
            (Vector256.LoadUnsafe(ref g, (nuint)i) + Vector256.Narrow(low, high)).StoreUnsafe(ref g, (nuint)i);
        }
        for (; i < count; i++)
        {
            Unsafe.Add(ref g, i) += (float)SumOverChunks(ref row, stride, chunks, i);
        }
    }

    /// <summary>grad[i] += Σ row[2·chunk·stride + i], four at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddRow(ref double row, int stride, int chunks, double[] grad)
    {
        ref double g = ref MemoryMarshal.GetArrayDataReference(grad);
        int count = grad.Length, i = 0;
        for (; i <= count - 4; i += 4)
        {
            var sum = Vector256<double>.Zero;
            for (int chunk = 0; chunk < chunks; chunk++)
            {
                sum += Vector256.LoadUnsafe(ref Unsafe.Add(ref row, 2 * chunk * stride), (nuint)i);
            }
            (Vector256.LoadUnsafe(ref g, (nuint)i) + sum).StoreUnsafe(ref g, (nuint)i);
        }
        for (; i < count; i++)
        {
            Unsafe.Add(ref g, i) += SumOverChunks(ref row, stride, chunks, i);
        }
    }

    /// <summary>
    /// gammaGrad[first + i] += (float)sums[i] for every i &lt; sums.Length: one tile of parameters' sums, each already over
    /// every sample, from a Backward whose parameters are too many for a row of sums per chunk (it sums them tile by tile
    /// of columns instead, each tile in one chunk, so nothing is merged).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddColumnSums(ReadOnlySpan<double> sums, float[] grad, int first)
    {
        CheckColumns(sums.Length, grad.Length, first);
        ref double s = ref MemoryMarshal.GetReference(sums);
        ref float g = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(grad), first);
        int count = sums.Length, i = 0;
        for (; i <= count - 8; i += 8)
        {
            var narrowed = Vector256.Narrow(Vector256.LoadUnsafe(ref s, (nuint)i), Vector256.LoadUnsafe(ref s, (nuint)(i + 4)));
            (Vector256.LoadUnsafe(ref g, (nuint)i) + narrowed).StoreUnsafe(ref g, (nuint)i);
        }
        for (; i < count; i++)
        {
            Unsafe.Add(ref g, i) += (float)Unsafe.Add(ref s, i);
        }
    }

    /// <inheritdoc cref="AddColumnSums(ReadOnlySpan{double}, float[], int)"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddColumnSums(ReadOnlySpan<double> sums, double[] grad, int first)
    {
        CheckColumns(sums.Length, grad.Length, first);
        ref double s = ref MemoryMarshal.GetReference(sums);
        ref double g = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(grad), first);
        int count = sums.Length, i = 0;
        for (; i <= count - 4; i += 4)
        {
            (Vector256.LoadUnsafe(ref g, (nuint)i) + Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref g, (nuint)i);
        }
        for (; i < count; i++)
        {
            Unsafe.Add(ref g, i) += Unsafe.Add(ref s, i);
        }
    }

    private static void CheckColumns(int count, int gradLength, int first)
    {
        if (first < 0 || count > gradLength - first)
        {
            throw new ArgumentException($"expected {count} sums for gradients {first} to {first + count - 1} of {gradLength}");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SumOverChunks(ref double row, int stride, int chunks, int i)
    {
        double sum = 0.0;
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            sum += Unsafe.Add(ref row, (2 * chunk * stride) + i);
        }
        return sum;
    }
}
