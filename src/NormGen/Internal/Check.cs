using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace NormGen.Internal;

/// <summary>
/// The argument checks of the generated API. Every check runs before any state changes, so bad input
/// throws and leaves the layer as it was; each message names what was expected and what was given.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Check
{
    /// <summary>
    /// Returns how many samples <paramref name="length"/> holds: it must be a positive multiple of
    /// <paramref name="sampleSize"/>, or exactly <paramref name="sampleSize"/> when every dim is sized.
    /// </summary>
    public static int Batch(int length, int sampleSize, bool hasUnsizedDims, string layer, string parameter)
    {
        if (!hasUnsizedDims)
        {
            if (length != sampleSize)
            {
                throw NotTheSampleSize(length, sampleSize, layer, parameter);
            }
            return 1;
        }
        if (length <= 0 || length % sampleSize != 0)
        {
            throw NoMultipleOfTheSampleSize(length, sampleSize, layer, parameter);
        }
        return length / sampleSize;
    }

    /// <summary>An output (or a second input) must have the input's length.</summary>
    public static void SameLength(int length, int expected, string layer, string parameter, string reference)
    {
        if (length != expected)
        {
            throw NotTheSameLength(length, expected, layer, parameter, reference);
        }
    }

    /// <summary>PyTorch's "Expected more than 1 value per channel when training": a variance needs two values.</summary>
    public static void TrainingGroupSize(int valuesPerStatistic, int length, string layer, string parameter)
    {
        if (valuesPerStatistic < 2)
        {
            throw TooFewValuesPerStatistic(valuesPerStatistic, length, layer, parameter);
        }
    }

    /// <summary>Backward needs the statistics of a training forward over the same input.</summary>
    public static void HasForward(int forwardLength, int length, string layer, string forward)
    {
        if (forwardLength != length)
        {
            throw NotTheForwardLength(forwardLength, length, layer, forward);
        }
    }

    /// <summary>Running statistics to load must have one entry per statistic and no negative (or NaN) variance.</summary>
    public static void RunningStatistics(ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, int expected, string layer)
    {
        Lengths(mean.Length, variance.Length, expected, layer);
        for (int i = 0; i < variance.Length; i++)
        {
            if (!(variance[i] >= 0))
            {
                throw NegativeVariance(variance[i], i, layer);
            }
        }
    }

    /// <inheritdoc cref="RunningStatistics(ReadOnlySpan{float}, ReadOnlySpan{float}, int, string)"/>
    public static void RunningStatistics(ReadOnlySpan<double> mean, ReadOnlySpan<double> variance, int expected, string layer)
    {
        Lengths(mean.Length, variance.Length, expected, layer);
        for (int i = 0; i < variance.Length; i++)
        {
            if (!(variance[i] >= 0))
            {
                throw NegativeVariance(variance[i], i, layer);
            }
        }
    }

    private static void Lengths(int meanLength, int varianceLength, int expected, string layer)
    {
        if (meanLength != expected)
        {
            throw new ArgumentException($"{layer}: expected mean.Length == {expected} (one per statistic), but it is {meanLength}.", "mean");
        }
        if (varianceLength != expected)
        {
            throw new ArgumentException($"{layer}: expected variance.Length == {expected} (one per statistic), but it is {varianceLength}.", "variance");
        }
    }

    // The exceptions are built apart from the checks (which every call makes) so that the checks stay small enough to be
    // inlined: a string interpolation in a method keeps the JIT from inlining it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArgumentException NotTheSampleSize(int length, int sampleSize, string layer, string parameter) =>
        new($"{layer}: expected {parameter}.Length == {sampleSize} (every dim of Shape is sized), but it is {length}.", parameter);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArgumentException NoMultipleOfTheSampleSize(int length, int sampleSize, string layer, string parameter) =>
        new($"{layer}: expected {parameter}.Length to be a positive multiple of SampleSize = {sampleSize}, but it is {length}.", parameter);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArgumentException NotTheSameLength(int length, int expected, string layer, string parameter, string reference) =>
        new($"{layer}: expected {parameter}.Length == {reference}.Length = {expected}, but it is {length}.", parameter);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArgumentException TooFewValuesPerStatistic(int valuesPerStatistic, int length, string layer, string parameter) =>
        new($"{layer}: expected more than 1 value per statistic when training, but {parameter}.Length = {length} gives {valuesPerStatistic}; use a larger batch.", parameter);

    /// <summary>No forward before it (a forward length of -1), or one of another length.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Exception NotTheForwardLength(int forwardLength, int length, string layer, string forward) =>
        forwardLength < 0
            ? new InvalidOperationException($"{layer} needs a {forward} before it (it uses that forward's statistics), but there was none.")
            : new ArgumentException($"{layer} expected x.Length == {forwardLength}, the length of the input to the most recent {forward}, but it is {length}.", "x");

    private static ArgumentException NegativeVariance(double value, int index, string layer) =>
        new($"{layer}: expected every variance to be >= 0, but variance[{index}] = {value}.", "variance");
}
