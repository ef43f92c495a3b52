using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NormGen.Internal;

/// <summary>
/// Per-statistic preparation shared by the generated layers: the running-statistics update, 1/sqrt(var + ε), and the
/// fold of mean, 1/std, γ and β into the hi/scale/shift the normalize loops read. A layer with hundreds of statistics
/// does this on every call, so each is a vector loop over doubles (4 statistics at a time) with the same operations,
/// in the same order, as the scalar formula in its summary: the results are the scalar formula's, bit for bit.
/// Compiled fully optimized from the first call (AggressiveOptimization), like the generated kernels, so that no
/// later recompilation runs (or allocates) while a model trains.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Statistics
{
    /// <summary>
    /// Both running statistics of a training step, for the first <paramref name="count"/> values:
    /// runningMean[i] = (T)((1 − momentum)·runningMean[i] + momentum·mean[i]) and
    /// runningVar[i] = (T)((1 − momentum)·runningVar[i] + momentum·variance[i]·varianceFactor) (the unbiased correction).
    /// One loop, so that the two updates overlap: a small layer's update is a handful of vectors, bound by their latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void UpdateRunning(float[] runningMean, float[] runningVar, double[] mean, double[] variance, double momentum, double varianceFactor, int count)
    {
        Check(runningMean.Length, count);
        Check(runningVar.Length, count);
        Check(mean.Length, count);
        Check(variance.Length, count);
        ref float rm = ref MemoryMarshal.GetArrayDataReference(runningMean);
        ref float rv = ref MemoryMarshal.GetArrayDataReference(runningVar);
        ref double m = ref MemoryMarshal.GetArrayDataReference(mean);
        ref double v = ref MemoryMarshal.GetArrayDataReference(variance);
        var keep = Vector256.Create(1.0 - momentum);
        var take = Vector256.Create(momentum);
        var scale = Vector256.Create(varianceFactor);
        int i = 0;
        for (; i <= count - 8; i += 8)
        {
            (Vector256<double> meanLower, Vector256<double> meanUpper) = Vector256.Widen(Vector256.LoadUnsafe(ref rm, (nuint)i));
            (Vector256<double> varLower, Vector256<double> varUpper) = Vector256.Widen(Vector256.LoadUnsafe(ref rv, (nuint)i));
            meanLower = (keep * meanLower) + (take * Vector256.LoadUnsafe(ref m, (nuint)i));
            meanUpper = (keep * meanUpper) + (take * Vector256.LoadUnsafe(ref m, (nuint)(i + 4)));
            varLower = (keep * varLower) + (take * Vector256.LoadUnsafe(ref v, (nuint)i) * scale);
            varUpper = (keep * varUpper) + (take * Vector256.LoadUnsafe(ref v, (nuint)(i + 4)) * scale);
            Vector256.Narrow(meanLower, meanUpper).StoreUnsafe(ref rm, (nuint)i);
            Vector256.Narrow(varLower, varUpper).StoreUnsafe(ref rv, (nuint)i);
        }
        for (; i < count; i++)
        {
            Unsafe.Add(ref rm, i) = (float)(((1.0 - momentum) * Unsafe.Add(ref rm, i)) + (momentum * Unsafe.Add(ref m, i)));
            Unsafe.Add(ref rv, i) = (float)(((1.0 - momentum) * Unsafe.Add(ref rv, i)) + (momentum * Unsafe.Add(ref v, i) * varianceFactor));
        }
    }

    /// <summary>The double overload of <see cref="UpdateRunning(float[], float[], double[], double[], double, double, int)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void UpdateRunning(double[] runningMean, double[] runningVar, double[] mean, double[] variance, double momentum, double varianceFactor, int count)
    {
        Check(runningMean.Length, count);
        Check(runningVar.Length, count);
        Check(mean.Length, count);
        Check(variance.Length, count);
        ref double rm = ref MemoryMarshal.GetArrayDataReference(runningMean);
        ref double rv = ref MemoryMarshal.GetArrayDataReference(runningVar);
        ref double m = ref MemoryMarshal.GetArrayDataReference(mean);
        ref double v = ref MemoryMarshal.GetArrayDataReference(variance);
        var keep = Vector256.Create(1.0 - momentum);
        var take = Vector256.Create(momentum);
        var scale = Vector256.Create(varianceFactor);
        int i = 0;
        for (; i <= count - 4; i += 4)
        {
            ((keep * Vector256.LoadUnsafe(ref rm, (nuint)i)) + (take * Vector256.LoadUnsafe(ref m, (nuint)i))).StoreUnsafe(ref rm, (nuint)i);
            ((keep * Vector256.LoadUnsafe(ref rv, (nuint)i)) + (take * Vector256.LoadUnsafe(ref v, (nuint)i) * scale)).StoreUnsafe(ref rv, (nuint)i);
        }
        for (; i < count; i++)
        {
            Unsafe.Add(ref rm, i) = ((1.0 - momentum) * Unsafe.Add(ref rm, i)) + (momentum * Unsafe.Add(ref m, i));
            Unsafe.Add(ref rv, i) = ((1.0 - momentum) * Unsafe.Add(ref rv, i)) + (momentum * Unsafe.Add(ref v, i) * varianceFactor);
        }
    }

    /// <summary>mean[i] = running[i] and invStd[i] = 1 / sqrt(variance[i] + ε) in double, for the first <paramref name="count"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MeanAndInverseStd(float[] runningMean, float[] runningVar, double epsilon, double[] mean, double[] invStd, int count)
    {
        Check(runningMean.Length, count);
        Check(runningVar.Length, count);
        Check(mean.Length, count);
        Check(invStd.Length, count);
        ref float m = ref MemoryMarshal.GetArrayDataReference(runningMean);
        ref float v = ref MemoryMarshal.GetArrayDataReference(runningVar);
        ref double meanOut = ref MemoryMarshal.GetArrayDataReference(mean);
        ref double invStdOut = ref MemoryMarshal.GetArrayDataReference(invStd);
        var eps = Vector256.Create(epsilon);
        var one = Vector256.Create(1.0);
        int i = 0;
        for (; i <= count - 8; i += 8)
        {
            (Vector256<double> meanLower, Vector256<double> meanUpper) = Vector256.Widen(Vector256.LoadUnsafe(ref m, (nuint)i));
            meanLower.StoreUnsafe(ref meanOut, (nuint)i);
            meanUpper.StoreUnsafe(ref meanOut, (nuint)(i + 4));
            (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(Vector256.LoadUnsafe(ref v, (nuint)i));
            (one / Vector256.Sqrt(lower + eps)).StoreUnsafe(ref invStdOut, (nuint)i);
            (one / Vector256.Sqrt(upper + eps)).StoreUnsafe(ref invStdOut, (nuint)(i + 4));
        }
        for (; i < count; i++)
        {
            Unsafe.Add(ref meanOut, i) = Unsafe.Add(ref m, i);
            Unsafe.Add(ref invStdOut, i) = 1.0 / Math.Sqrt(Unsafe.Add(ref v, i) + epsilon);
        }
    }

    /// <summary>mean[i] = running[i] and invStd[i] = 1 / sqrt(variance[i] + ε), for the first <paramref name="count"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MeanAndInverseStd(double[] runningMean, double[] runningVar, double epsilon, double[] mean, double[] invStd, int count)
    {
        Check(runningMean.Length, count);
        Check(runningVar.Length, count);
        Check(mean.Length, count);
        Check(invStd.Length, count);
        Array.Copy(runningMean, mean, count);
        ref double v = ref MemoryMarshal.GetArrayDataReference(runningVar);
        ref double invStdOut = ref MemoryMarshal.GetArrayDataReference(invStd);
        var eps = Vector256.Create(epsilon);
        var one = Vector256.Create(1.0);
        int i = 0;
        for (; i <= count - 4; i += 4)
        {
            (one / Vector256.Sqrt(Vector256.LoadUnsafe(ref v, (nuint)i) + eps)).StoreUnsafe(ref invStdOut, (nuint)i);
        }
        for (; i < count; i++)
        {
            Unsafe.Add(ref invStdOut, i) = 1.0 / Math.Sqrt(Unsafe.Add(ref v, i) + epsilon);
        }
    }

    /// <summary>
    /// For the first <paramref name="count"/> statistics: hi = (float)mean, s = invStd·γ, scale = (float)s and
    /// shift = (float)(β − (mean − hi)·s), so that (x − hi)·scale + shift = (x − mean)·invStd·γ + β with the mean's low
    /// part in the shift. An empty <paramref name="gamma"/> stands for γ = 1, an empty <paramref name="beta"/> for β = 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FoldScaleShift(double[] mean, double[] invStd, float[] gamma, float[] beta, float[] meanHi, float[] scale, float[] shift, int count) =>
        Fold(mean, invStd, gamma, beta, meanHi, scale, shift, count, foldNearMeans: false);

    /// <summary>
    /// As <see cref="FoldScaleShift(double[], double[], float[], float[], float[], float[], float[], int)"/>, except that
    /// a statistic whose mean lies within <see cref="FoldedMeanLimit"/> standard deviations of zero gets hi = 0 and
    /// shift = (float)(β − mean·s): y = x·scale + shift, PyTorch's inference formula, whose rounding of the shift then
    /// costs y little (see <see cref="FoldedMeanLimit"/>). Returns whether every hi is 0, so that a loop may leave hi out
    /// (three streams a vector instead of four) with the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool FoldScaleShiftNearZero(double[] mean, double[] invStd, float[] gamma, float[] beta, float[] meanHi, float[] scale, float[] shift, int count) =>
        Fold(mean, invStd, gamma, beta, meanHi, scale, shift, count, foldNearMeans: true);

    /// <summary>
    /// How many standard deviations from zero a mean may lie and still be folded into the shift
    /// (<see cref="FoldScaleShiftNearZero(double[], double[], float[], float[], float[], float[], float[], int)"/>):
    /// x·scale + shift then rounds terms of up to about (|x̂| + 2·16)·|γ|, against |x̂|·|γ| for (x − hi)·scale + shift,
    /// an error of at most 2.3e-6·|γ| for |x̂| ≤ 6 — PyTorch's own formula, and a quarter of the 1e-5 the tests hold
    /// float results to. A mean further out (1e4 with a standard deviation of 1, where PyTorch misses by 4e-4) keeps hi.
    /// </summary>
    public const double FoldedMeanLimit = 16.0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Fold(double[] mean, double[] invStd, float[] gamma, float[] beta, float[] meanHi, float[] scale, float[] shift, int count, bool foldNearMeans)
    {
        CheckFold(mean.Length, invStd.Length, gamma.Length, beta.Length, meanHi.Length, scale.Length, shift.Length, count);
        bool hasGamma = gamma.Length != 0;
        bool hasBeta = beta.Length != 0;
        ref double meanRef = ref MemoryMarshal.GetArrayDataReference(mean);
        ref double invStdRef = ref MemoryMarshal.GetArrayDataReference(invStd);
        ref float gammaRef = ref MemoryMarshal.GetArrayDataReference(gamma);
        ref float betaRef = ref MemoryMarshal.GetArrayDataReference(beta);
        ref float hiRef = ref MemoryMarshal.GetArrayDataReference(meanHi);
        ref float scaleRef = ref MemoryMarshal.GetArrayDataReference(scale);
        ref float shiftRef = ref MemoryMarshal.GetArrayDataReference(shift);
        bool allFolded = true;
        var limit = Vector256.Create(FoldedMeanLimit);
        int i = 0;
        for (; i <= count - 8; i += 8)
        {
            Vector256<double> meanLower = Vector256.LoadUnsafe(ref meanRef, (nuint)i);
            Vector256<double> meanUpper = Vector256.LoadUnsafe(ref meanRef, (nuint)(i + 4));
            Vector256<float> hi = Vector256.Narrow(meanLower, meanUpper);
            Vector256<double> sLower = Vector256.LoadUnsafe(ref invStdRef, (nuint)i);
            Vector256<double> sUpper = Vector256.LoadUnsafe(ref invStdRef, (nuint)(i + 4));
            if (foldNearMeans)
            {
                // |mean|·invStd ≤ limit: hi = 0 in those lanes (all bits clear), the whole mean goes into the shift.
                Vector256<int> near = Vector256.Narrow(
                    Vector256.LessThanOrEqual(Vector256.Abs(meanLower) * sLower, limit).AsInt64(),
                    Vector256.LessThanOrEqual(Vector256.Abs(meanUpper) * sUpper, limit).AsInt64());
                hi = Vector256.AndNot(hi.AsInt32(), near).AsSingle();
                allFolded &= Vector256.EqualsAll(hi.AsInt32(), Vector256<int>.Zero);
            }
            (Vector256<double> hiLower, Vector256<double> hiUpper) = Vector256.Widen(hi);
            if (hasGamma)
            {
                (Vector256<double> gammaLower, Vector256<double> gammaUpper) = Vector256.Widen(Vector256.LoadUnsafe(ref gammaRef, (nuint)i));
                sLower *= gammaLower;
                sUpper *= gammaUpper;
            }
            Vector256<double> betaLower = Vector256<double>.Zero;
            Vector256<double> betaUpper = Vector256<double>.Zero;
            if (hasBeta)
            {
                (betaLower, betaUpper) = Vector256.Widen(Vector256.LoadUnsafe(ref betaRef, (nuint)i));
            }
            StoreIfChanged(hi, ref hiRef, i);
            StoreIfChanged(Vector256.Narrow(sLower, sUpper), ref scaleRef, i);
            StoreIfChanged(Vector256.Narrow(betaLower - ((meanLower - hiLower) * sLower), betaUpper - ((meanUpper - hiUpper) * sUpper)), ref shiftRef, i);
        }
        for (; i < count; i++)
        {
            double m = Unsafe.Add(ref meanRef, i);
            float hi = foldNearMeans && Math.Abs(m) * Unsafe.Add(ref invStdRef, i) <= FoldedMeanLimit ? 0f : (float)m;
            allFolded &= BitConverter.SingleToInt32Bits(hi) == 0;
            double s = Unsafe.Add(ref invStdRef, i) * (hasGamma ? Unsafe.Add(ref gammaRef, i) : 1.0);
            StoreIfChanged(hi, ref Unsafe.Add(ref hiRef, i));
            StoreIfChanged((float)s, ref Unsafe.Add(ref scaleRef, i));
            StoreIfChanged((float)((hasBeta ? Unsafe.Add(ref betaRef, i) : 0.0) - ((m - hi) * s)), ref Unsafe.Add(ref shiftRef, i));
        }
        return allFolded;
    }

    /// <summary>
    /// For the first <paramref name="count"/> statistics: hi = mean, scale = invStd·γ and shift = β (double data needs no
    /// low part). An empty <paramref name="gamma"/> stands for γ = 1, an empty <paramref name="beta"/> for β = 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FoldScaleShift(double[] mean, double[] invStd, double[] gamma, double[] beta, double[] meanHi, double[] scale, double[] shift, int count) =>
        Fold(mean, invStd, gamma, beta, meanHi, scale, shift, count, foldNearMeans: false);

    /// <summary>
    /// As <see cref="FoldScaleShift(double[], double[], double[], double[], double[], double[], double[], int)"/>, except
    /// that a statistic whose mean lies within <see cref="FoldedMeanLimit"/> standard deviations of zero gets hi = 0 and
    /// shift = β − mean·s (see the float overload). Returns whether every hi is 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool FoldScaleShiftNearZero(double[] mean, double[] invStd, double[] gamma, double[] beta, double[] meanHi, double[] scale, double[] shift, int count) =>
        Fold(mean, invStd, gamma, beta, meanHi, scale, shift, count, foldNearMeans: true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Fold(double[] mean, double[] invStd, double[] gamma, double[] beta, double[] meanHi, double[] scale, double[] shift, int count, bool foldNearMeans)
    {
        CheckFold(mean.Length, invStd.Length, gamma.Length, beta.Length, meanHi.Length, scale.Length, shift.Length, count);
        bool hasGamma = gamma.Length != 0;
        bool hasBeta = beta.Length != 0;
        ref double meanRef = ref MemoryMarshal.GetArrayDataReference(mean);
        ref double invStdRef = ref MemoryMarshal.GetArrayDataReference(invStd);
        ref double gammaRef = ref MemoryMarshal.GetArrayDataReference(gamma);
        ref double betaRef = ref MemoryMarshal.GetArrayDataReference(beta);
        ref double hiRef = ref MemoryMarshal.GetArrayDataReference(meanHi);
        ref double scaleRef = ref MemoryMarshal.GetArrayDataReference(scale);
        ref double shiftRef = ref MemoryMarshal.GetArrayDataReference(shift);
        bool allFolded = true;
        var limit = Vector256.Create(FoldedMeanLimit);
        int i = 0;
        for (; i <= count - 4; i += 4)
        {
            Vector256<double> m = Vector256.LoadUnsafe(ref meanRef, (nuint)i);
            Vector256<double> invStdV = Vector256.LoadUnsafe(ref invStdRef, (nuint)i);
            Vector256<double> s = hasGamma ? invStdV * Vector256.LoadUnsafe(ref gammaRef, (nuint)i) : invStdV;
            Vector256<double> beta4 = hasBeta ? Vector256.LoadUnsafe(ref betaRef, (nuint)i) : Vector256<double>.Zero;
            Vector256<double> hi = m;
            if (foldNearMeans)
            {
                // |mean|·invStd ≤ limit: hi = 0 in those lanes (all bits clear), the whole mean goes into the shift.
                hi = Vector256.AndNot(m, Vector256.LessThanOrEqual(Vector256.Abs(m) * invStdV, limit));
                allFolded &= Vector256.EqualsAll(hi.AsInt64(), Vector256<long>.Zero);
            }
            StoreIfChanged(hi, ref hiRef, i);
            StoreIfChanged(s, ref scaleRef, i);
            // β − (mean − hi)·s: β itself where hi = mean.
            StoreIfChanged(foldNearMeans ? beta4 - ((m - hi) * s) : beta4, ref shiftRef, i);
        }
        for (; i < count; i++)
        {
            double m = Unsafe.Add(ref meanRef, i);
            double invStdValue = Unsafe.Add(ref invStdRef, i);
            double hi = foldNearMeans && Math.Abs(m) * invStdValue <= FoldedMeanLimit ? 0.0 : m;
            allFolded &= BitConverter.DoubleToInt64Bits(hi) == 0;
            double s = invStdValue * (hasGamma ? Unsafe.Add(ref gammaRef, i) : 1.0);
            double beta1 = hasBeta ? Unsafe.Add(ref betaRef, i) : 0.0;
            StoreIfChanged(hi, ref Unsafe.Add(ref hiRef, i));
            StoreIfChanged(s, ref Unsafe.Add(ref scaleRef, i));
            StoreIfChanged(foldNearMeans ? beta1 - ((m - hi) * s) : beta1, ref Unsafe.Add(ref shiftRef, i));
        }
        return allFolded;
    }

    // The folded constants are written only where their bits change. Inference with unchanged running statistics, γ and β
    // folds the same values every call, and the helper threads read them: a store, even of the same bits, takes each line
    // back from the helpers' caches, and they miss on all of them in the next call (BatchNorm1d x[256,512] inference at
    // two threads: about 1.5 µs of a 10 µs call).
    private static void StoreIfChanged<T>(Vector256<T> value, ref T destination, int index)
    {
        if (!Vector256.EqualsAll(Vector256.LoadUnsafe(ref destination, (nuint)index).AsInt64(), value.AsInt64()))
        {
            value.StoreUnsafe(ref destination, (nuint)index);
        }
    }

    private static void StoreIfChanged(float value, ref float destination)
    {
        if (BitConverter.SingleToInt32Bits(destination) != BitConverter.SingleToInt32Bits(value))
        {
            destination = value;
        }
    }

    private static void StoreIfChanged(double value, ref double destination)
    {
        if (BitConverter.DoubleToInt64Bits(destination) != BitConverter.DoubleToInt64Bits(value))
        {
            destination = value;
        }
    }

    /// <summary>FoldScaleShift's arrays hold <paramref name="count"/> values each; γ and β may be empty (1 and 0).</summary>
    private static void CheckFold(int mean, int invStd, int gamma, int beta, int meanHi, int scale, int shift, int count)
    {
        Check(mean, count);
        Check(invStd, count);
        Check(meanHi, count);
        Check(scale, count);
        Check(shift, count);
        if (gamma != 0)
        {
            Check(gamma, count);
        }
        if (beta != 0)
        {
            Check(beta, count);
        }
    }

    /// <summary>
    /// hi[i] = (float)mean[i] and lo[i] = (float)(mean[i] − hi[i]), for i &lt; <paramref name="count"/>: float data's mean as
    /// hi + lo, so that (x − hi) − lo is exact to float precision (shared by <see cref="SumStatistics"/> and
    /// <see cref="DxConstants"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SplitMeans(double[] mean, float[] hi, float[] lo, int count)
    {
        Check(mean.Length, count);
        Check(hi.Length, count);
        Check(lo.Length, count);
        ref double m = ref MemoryMarshal.GetArrayDataReference(mean);
        ref float hiRef = ref MemoryMarshal.GetArrayDataReference(hi);
        ref float loRef = ref MemoryMarshal.GetArrayDataReference(lo);
        int i = 0;
        for (; i <= count - 8; i += 8)
        {
            Vector256<double> lower = Vector256.LoadUnsafe(ref m, (nuint)i);
            Vector256<double> upper = Vector256.LoadUnsafe(ref m, (nuint)(i + 4));
            Vector256<float> high = Vector256.Narrow(lower, upper);
            high.StoreUnsafe(ref hiRef, (nuint)i);
            (Vector256<double> highLower, Vector256<double> highUpper) = Vector256.Widen(high);
            Vector256.Narrow(lower - highLower, upper - highUpper).StoreUnsafe(ref loRef, (nuint)i);
        }
        for (; i < count; i++)
        {
            double value = Unsafe.Add(ref m, i);
            float high = (float)value;
            Unsafe.Add(ref hiRef, i) = high;
            Unsafe.Add(ref loRef, i) = (float)(value - high);
        }
    }

    /// <summary>Refuses an array shorter than the count it is used for (shared with <see cref="SumStatistics"/>).</summary>
    internal static void Check(int length, int count)
    {
        if (length < count)
        {
            throw TooShort(length, count);
        }
    }

    // Built apart so that Check, made many times a call, stays small enough to be inlined.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArgumentException TooShort(int length, int count) => new($"expected at least {count} values, got {length}");
}
