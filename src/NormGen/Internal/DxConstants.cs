using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static NormGen.Internal.DoubleLanes;

namespace NormGen.Internal;

/// <summary>
/// The rows × columns kernels' (BatchNorm1d, channels-last BatchNorm) per-column constants of the backward, computed
/// between its two passes: the saved statistics in the element type, the dx pass's slope and offset, and the row-order
/// pass's gain and low-part fold. Each is a vector loop with the operations of the scalar formula in its summary, in the
/// same order: the same bits. As scalar loops in the generated code they took 6.5 µs of a 25 µs BatchNorm1d x[32,2048]
/// backward: a scalar double-to-float conversion writes only part of its register, so each waited on the one before.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DxConstants
{
    /// <summary>
    /// meanHi[i] = (float)mean[i], meanLo[i] = (float)(mean[i] − meanHi[i]) and invStdOut[i] = (float)invStd[i], for
    /// i &lt; <paramref name="count"/>: the mean as hi + lo, so that (x − hi) − lo is exact to float precision.
    /// </summary>
    public static void Narrow(double[] mean, double[] invStd, float[] meanHi, float[] meanLo, float[] invStdOut, int count)
    {
        // Every length checked before anything is written.
        Statistics.Check(invStd.Length, count);
        Statistics.Check(invStdOut.Length, count);
        Statistics.SplitMeans(mean, meanHi, meanLo, count);
        Narrow(invStd, invStdOut, count);
    }

    /// <summary>meanHi[i] = mean[i] and invStdOut[i] = invStd[i], for i &lt; <paramref name="count"/> (double data needs no low part).</summary>
    public static void Narrow(double[] mean, double[] invStd, double[] meanHi, double[] invStdOut, int count)
    {
        Narrow(mean, meanHi, count);
        Narrow(invStd, invStdOut, count);
    }

    /// <summary>to[i] = (float)from[i], for i &lt; <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Narrow(double[] from, float[] to, int count)
    {
        Statistics.Check(from.Length, count);
        Statistics.Check(to.Length, count);
        ref double f = ref MemoryMarshal.GetArrayDataReference(from);
        ref float t = ref MemoryMarshal.GetArrayDataReference(to);
        int i = 0;
        for (; i <= count - 8; i += 8)
        {
            Vector256.Narrow(Vector256.LoadUnsafe(ref f, (nuint)i), Vector256.LoadUnsafe(ref f, (nuint)(i + 4))).StoreUnsafe(ref t, (nuint)i);
        }
        for (; i < count; i++)
        {
            Unsafe.Add(ref t, i) = (float)Unsafe.Add(ref f, i);
        }
    }

    /// <summary>to[i] = from[i], for i &lt; <paramref name="count"/>.</summary>
    public static void Narrow(double[] from, double[] to, int count)
    {
        Statistics.Check(from.Length, count);
        Statistics.Check(to.Length, count);
        Array.Copy(from, to, count);
    }

    /// <summary>
    /// With s = invStd[i]: slope[i] = (float)(s·s·sums[squaresRow + i]·invCount) and offset[i] = (float)(s·sums[i]·invCount)
    /// (Σg in sums[0, count), Σg·x̂ from <paramref name="squaresRow"/> on), or offset[i] = 0 where the layer has no mean
    /// (<paramref name="centered"/> false: RMSNorm), for i &lt; <paramref name="count"/>.
    /// </summary>
    public static void SlopeAndOffset(double[] invStd, double[] sums, int squaresRow, double invCount, float[] slope, float[] offset, bool centered, int count) =>
        SlopeAndOffset<float>(invStd, sums, squaresRow, invCount, slope, offset, centered, count);

    /// <summary>The double overload of <see cref="SlopeAndOffset(double[], double[], int, double, float[], float[], bool, int)"/>, not rounded.</summary>
    public static void SlopeAndOffset(double[] invStd, double[] sums, int squaresRow, double invCount, double[] slope, double[] offset, bool centered, int count) =>
        SlopeAndOffset<double>(invStd, sums, squaresRow, invCount, slope, offset, centered, count);

    /// <summary>
    /// The rows × columns backward's slope and offset from its merged per-column sums, which its chunks leave without γ:
    /// Σdy·x̂ (dγ) in sums[0, count) and Σdy (dβ) from <paramref name="dySumRow"/> on. With g = gamma[i] (1 for every i
    /// where <paramref name="gamma"/> is empty: no γ), Σg·x̂ = g·Σdy·x̂ and Σg = g·Σdy in double, then as
    /// <see cref="SlopeAndOffset(double[], double[], int, double, float[], float[], bool, int)"/>: with s = invStd[i],
    /// slope[i] = (float)(s·s·Σg·x̂·invCount) and offset[i] = (float)(s·Σg·invCount), or 0 where not
    /// <paramref name="centered"/>.
    /// </summary>
    public static void SlopeAndOffsetOfParameterSums(double[] invStd, double[] sums, int dySumRow, float[] gamma, double invCount, float[] slope, float[] offset, bool centered, int count) =>
        SlopeAndOffsetOfParameterSums<float>(invStd, sums, dySumRow, gamma, invCount, slope, offset, centered, count);

    /// <summary>The double overload of <see cref="SlopeAndOffsetOfParameterSums(double[], double[], int, float[], double, float[], float[], bool, int)"/>, not rounded.</summary>
    public static void SlopeAndOffsetOfParameterSums(double[] invStd, double[] sums, int dySumRow, double[] gamma, double invCount, double[] slope, double[] offset, bool centered, int count) =>
        SlopeAndOffsetOfParameterSums<double>(invStd, sums, dySumRow, gamma, invCount, slope, offset, centered, count);

    /// <summary>gain[i] = gamma[i]·invStd[i], for i &lt; <paramref name="count"/>.</summary>
    public static void Gain(float[] gamma, float[] invStd, float[] gain, int count) => Gain<float>(gamma, invStd, gain, count);

    /// <summary>gain[i] = gamma[i]·invStd[i], for i &lt; <paramref name="count"/>.</summary>
    public static void Gain(double[] gamma, double[] invStd, double[] gain, int count) => Gain<double>(gamma, invStd, gain, count);

    /// <summary>offset[i] = offset[i] − meanLo[i]·slope[i] in float (the product rounded first), for i &lt; <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FoldLowPart(float[] offset, float[] meanLo, float[] slope, int count)
    {
        Statistics.Check(offset.Length, count);
        Statistics.Check(meanLo.Length, count);
        Statistics.Check(slope.Length, count);
        ref float o = ref MemoryMarshal.GetArrayDataReference(offset);
        ref float lo = ref MemoryMarshal.GetArrayDataReference(meanLo);
        ref float s = ref MemoryMarshal.GetArrayDataReference(slope);
        int i = 0;
        for (; i <= count - 8; i += 8)
        {
            Vector256<float> product = Vector256.LoadUnsafe(ref lo, (nuint)i) * Vector256.LoadUnsafe(ref s, (nuint)i);
            (Vector256.LoadUnsafe(ref o, (nuint)i) - product).StoreUnsafe(ref o, (nuint)i);
        }
        for (; i < count; i++)
        {
            float product = Unsafe.Add(ref lo, i) * Unsafe.Add(ref s, i);
            Unsafe.Add(ref o, i) -= product;
        }
    }

    private static void SlopeAndOffset<T>(double[] invStd, double[] sums, int squaresRow, double invCount, T[] slope, T[] offset, bool centered, int count)
        where T : unmanaged
    {
        if (squaresRow < count || (long)squaresRow + count > sums.Length)
        {
            throw new ArgumentException($"expected Σg in sums[0, {count}) and Σg·x̂ in sums[{squaresRow}, {squaresRow} + {count}) of {sums.Length} values");
        }
        ScaledSlopeAndOffset(invStd, sums, squaresRow, 0, [], invCount, slope, offset, centered, count);
    }

    private static void SlopeAndOffsetOfParameterSums<T>(double[] invStd, double[] sums, int dySumRow, T[] gamma, double invCount, T[] slope, T[] offset, bool centered, int count)
        where T : unmanaged
    {
        if (dySumRow < count || (long)dySumRow + count > sums.Length)
        {
            throw new ArgumentException($"expected Σdy·x̂ in sums[0, {count}) and Σdy in sums[{dySumRow}, {dySumRow} + {count}) of {sums.Length} values");
        }
        ScaledSlopeAndOffset(invStd, sums, 0, dySumRow, gamma, invCount, slope, offset, centered, count);
    }

    /// <summary>
    /// Both: with s = invStd[i] and g = gamma[i] (1 where <paramref name="gamma"/> is empty), slope[i] = s·s·(g·X[i])·invCount
    /// and offset[i] = s·(g·S[i])·invCount (0 where not <paramref name="centered"/>), X from <paramref name="xhatRow"/> and S
    /// from <paramref name="sumRow"/> of <paramref name="sums"/>, in double, rounded once (g·X is X exactly where g is 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScaledSlopeAndOffset<T>(double[] invStd, double[] sums, int xhatRow, int sumRow, T[] gamma, double invCount, T[] slope, T[] offset, bool centered, int count)
        where T : unmanaged
    {
        bool hasGamma = gamma.Length != 0;
        if (hasGamma)
        {
            Statistics.Check(gamma.Length, count);
        }
        Statistics.Check(invStd.Length, count);
        Statistics.Check(slope.Length, count);
        Statistics.Check(offset.Length, count);
        ref double inv = ref MemoryMarshal.GetArrayDataReference(invStd);
        ref double xhatSums = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(sums), xhatRow);
        ref double plainSums = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(sums), sumRow);
        ref T g = ref MemoryMarshal.GetArrayDataReference(gamma);
        ref T slopeRef = ref MemoryMarshal.GetArrayDataReference(slope);
        ref T offsetRef = ref MemoryMarshal.GetArrayDataReference(offset);
        var scale = Vector256.Create(invCount);
        int i = 0;
        for (; i <= count - 4; i += 4)
        {
            Vector256<double> s = Vector256.LoadUnsafe(ref inv, (nuint)i);
            Vector256<double> gain = hasGamma ? LoadFour(ref g, i) : Vector256<double>.One;
            StoreFour(s * s * (gain * Vector256.LoadUnsafe(ref xhatSums, (nuint)i)) * scale, ref slopeRef, i);
            StoreFour(centered ? s * (gain * Vector256.LoadUnsafe(ref plainSums, (nuint)i)) * scale : Vector256<double>.Zero, ref offsetRef, i);
        }
        for (; i < count; i++)
        {
            double s = Unsafe.Add(ref inv, i);
            double gain = hasGamma ? ToDouble(Unsafe.Add(ref g, i)) : 1.0;
            Unsafe.Add(ref slopeRef, i) = FromDouble<T>(s * s * (gain * Unsafe.Add(ref xhatSums, i)) * invCount);
            Unsafe.Add(ref offsetRef, i) = FromDouble<T>(centered ? s * (gain * Unsafe.Add(ref plainSums, i)) * invCount : 0.0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gain<T>(T[] gamma, T[] invStd, T[] gain, int count)
        where T : unmanaged
    {
        Statistics.Check(gamma.Length, count);
        Statistics.Check(invStd.Length, count);
        Statistics.Check(gain.Length, count);
        ref T g = ref MemoryMarshal.GetArrayDataReference(gamma);
        ref T s = ref MemoryMarshal.GetArrayDataReference(invStd);
        ref T o = ref MemoryMarshal.GetArrayDataReference(gain);
        int i = 0;
        for (; i <= count - Vector256<T>.Count; i += Vector256<T>.Count)
        {
            (Vector256.LoadUnsafe(ref g, (nuint)i) * Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref o, (nuint)i);
        }
        for (; i < count; i++)
        {
            // One lane of the same multiply, in the element type.
            Unsafe.Add(ref o, i) = (Vector256.CreateScalarUnsafe(Unsafe.Add(ref g, i)) * Vector256.CreateScalarUnsafe(Unsafe.Add(ref s, i))).ToScalar();
        }
    }
}
