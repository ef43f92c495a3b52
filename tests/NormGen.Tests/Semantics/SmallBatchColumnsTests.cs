using System;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Semantics;

/// <summary>Ten columns: two whole tiles of four and a last tile overlapping the one before it.</summary>
[Normalize(Shape = "N,C=10", Axes = "N")]
internal partial class SmallBatchNorm1d10 : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

/// <summary>Fewer columns than a tile.</summary>
[Normalize(Shape = "N,C=3", Axes = "N", ElementType = typeof(double))]
internal partial class SmallBatchNorm1d3 : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

/// <summary>Whole tiles, no γ and β.</summary>
[Normalize(Shape = "N,C=8", Axes = "N", Affine = false)]
internal partial class SmallBatchNorm1d8 : IBatchStatsLayer<float>, IRunningStatsLayer<float> { }

/// <summary>
/// Training calls of at most <see cref="SmallColumns.MaxValues"/> values (BatchNorm1d x[4,10]) go through
/// <see cref="SmallColumns"/> instead of the column kernels: y, the running statistics and the Backward that reads the
/// saved statistics must still match the reference, for every kind of tile, also about a mean far from zero, and in
/// place.
/// </summary>
public class SmallBatchColumnsTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(25)]
    public void Ten_columns_match_the_reference(int rows) =>
        AssertMatchesReference(new SmallBatchNorm1d10(), rows, 10, offset: 0, rel: 1e-6);

    // Not two rows: there x̂ is ±1 and dx all rounding (~1e-16 against ~1e-6), nothing to compare relatively.
    [Theory]
    [InlineData(3)]
    [InlineData(85)]
    public void Fewer_columns_than_a_tile_match_the_reference(int rows) =>
        AssertMatchesReference(new SmallBatchNorm1d3(), rows, 3, offset: 0, rel: 1e-12);

    [Fact]
    public void Whole_tiles_without_parameters_match_the_reference() =>
        AssertMatchesReference(new SmallBatchNorm1d8(), 32, 8, offset: 0, rel: 1e-6);

    [Fact]
    public void A_mean_far_from_zero_loses_nothing() =>
        AssertMatchesReference(new SmallBatchNorm1d10(), 25, 10, offset: 1e4, rel: 1e-6);

    [Fact]
    public void In_place_gives_the_bits_of_separate_memory()
    {
        float[] x = TestData.To<float>(TestData.Uniform(new Random(3), 40, -2, 2));
        var separate = new SmallBatchNorm1d10();
        var y = new float[x.Length];
        separate.ForwardTraining(x, y);
        var inPlace = new SmallBatchNorm1d10();
        float[] xy = (float[])x.Clone();
        inPlace.ForwardTraining(xy, xy);
        Tolerance.AssertIdentical("y in place", (ReadOnlySpan<float>)y, xy);
    }

    [Fact]
    public void Bad_lengths_are_refused_with_what_was_expected()
    {
        var stats = new double[10];
        var error = Assert.Throws<ArgumentException>(() =>
            SmallColumns.Normalize<float>(new float[25], new float[25], 10, null, null, 1e-5, stats, stats, stats));
        Assert.Contains("whole number of rows of 10 columns", error.Message);
        Assert.Throws<ArgumentException>(() =>
            SmallColumns.Normalize<float>(new float[20], new float[10], 10, null, null, 1e-5, stats, stats, stats));
        Assert.Throws<ArgumentException>(() =>
            SmallColumns.Normalize<float>(new float[20], new float[20], 10, new float[9], null, 1e-5, stats, stats, stats));
    }

    /// <summary>
    /// Two training calls (the running statistics after both against PyTorch's update), then Backward, each against the
    /// double-precision reference.
    /// </summary>
    private static void AssertMatchesReference<T>(IBatchStatsLayer<T> layer, int rows, int columns, double offset, double rel)
        where T : unmanaged, System.Numerics.INumberBase<T>
    {
        Assert.True(rows * columns <= SmallColumns.MaxValues, "the call must be small enough for SmallColumns");
        var rng = new Random(rows * 100 + columns);
        double[] first = TestData.Uniform(rng, rows * columns, offset - 1, offset + 3);
        double[] x = TestData.Uniform(rng, rows * columns, offset - 2, offset + 2);
        double[] dy = TestData.Uniform(rng, rows * columns, -1, 1);
        double[]? gamma = null, beta = null;
        if (layer is IAffineLayer<T> affine)
        {
            gamma = TestData.Uniform(rng, columns, 0.5, 1.5);
            beta = TestData.Uniform(rng, columns, -0.5, 0.5);
            TestData.To<T>(gamma).CopyTo(affine.Gamma);
            TestData.To<T>(beta).CopyTo(affine.Beta);
        }
        if (typeof(T) == typeof(float))
        {
            first = TestData.RoundToFloat(first);
            x = TestData.RoundToFloat(x);
            gamma = gamma is null ? null : TestData.RoundToFloat(gamma);
            beta = beta is null ? null : TestData.RoundToFloat(beta);
        }
        var y = new T[x.Length];
        layer.ForwardTraining(TestData.To<T>(first), y);
        layer.ForwardTraining(TestData.To<T>(x), y);
        var dx = new T[x.Length];
        layer.Backward(TestData.To<T>(x), TestData.To<T>(dy), dx);

        NormLayout layout = NormLayout.BatchNormChannelsLast(rows, 1, columns);
        ReferenceResult one = ReferenceNorm.Compute(layout, first, null, gamma, beta, 1e-5);
        ReferenceResult two = ReferenceNorm.Compute(layout, x, dy, gamma, beta, 1e-5);
        Tolerance.AssertClose("y", (ReadOnlySpan<T>)y, two.Y, rel);
        Tolerance.AssertClose("dx", (ReadOnlySpan<T>)dx, two.Dx, rel * 10);

        var running = (IRunningStatsLayer<T>)layer;
        var runningMean = new double[columns];
        var runningVar = new double[columns];
        for (int c = 0; c < columns; c++)
        {
            double unbiased = rows / (rows - 1.0);
            runningMean[c] = (0.9 * ((0.9 * 0) + (0.1 * one.Mean[c]))) + (0.1 * two.Mean[c]);
            runningVar[c] = (0.9 * ((0.9 * 1) + (0.1 * one.BiasedVar[c] * unbiased))) + (0.1 * two.BiasedVar[c] * unbiased);
        }
        Tolerance.AssertClose("RunningMean", (ReadOnlySpan<T>)running.RunningMean, runningMean, rel);
        Tolerance.AssertClose("RunningVar", (ReadOnlySpan<T>)running.RunningVar, runningVar, rel);
    }
}
