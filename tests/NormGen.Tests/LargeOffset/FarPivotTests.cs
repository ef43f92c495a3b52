using System;
using Xunit;

namespace NormGen.Tests.LargeOffset;

/// <summary>
/// The group-major statistics pass sums x − pivot with the pivot taken from each group's first values; where those lie
/// far from the rest (here the first 8 values of every group 1.0 above values of std 0.01, 22–90 standard deviations of the
/// group away: K² = n/8 for groups of n values), one pass about that pivot loses K² times more of the variance to
/// rounding, and the kernel must sum again about the mean it found. Outputs within 5e-7·max|ref| of the two-pass double
/// reference on the same float values (a tolerance 20× tighter than the other tests', which one pass would miss 7×).
/// </summary>
public class FarPivotTests
{
    // The two-pass accuracy: 5e-8–1e-7 of max|y| measured; one pass about the far pivot gave 3.5e-6–5.6e-6.
    private const double Rel = 5e-7;
    private const double Eps = 1e-5;
    private const int FarValues = 8;

    [Fact]
    public void LayerNorm_rows_whose_first_values_lie_far_from_the_rest()
    {
        var layout = NormLayout.LayerNorm(2, 65536);
        var layer = new FarPivotLayerNorm();
        (double[] x, ReferenceResult r) = Case(layer, layout, new Random(2001), Starts(2, 65536));

        var y = new float[x.Length];
        layer.Forward(TestData.To<float>(x), y);

        Tolerance.AssertClose("FarPivotLayerNorm y", (ReadOnlySpan<float>)y, r.Y, Rel);
    }

    [Fact]
    public void BatchNorm2d_channels_whose_first_sample_starts_far_from_the_rest()
    {
        // x[64,8,8,8]: a channel's group is 64 runs of 64 values, its pivot from sample 0's run.
        var layout = NormLayout.BatchNorm(64, 8, 64);
        var layer = new OffsetBatchNorm2d();
        (double[] x, ReferenceResult r) = Case(layer, layout, new Random(2002), Starts(8, 64));
        (double[] refMean, double[] refVar) = ReferenceNorm.UpdateRunning(new double[8], Ones(8), r, 0.1);

        var y = new float[x.Length];
        layer.ForwardTraining(TestData.To<float>(x), y);

        Tolerance.AssertClose("OffsetBatchNorm2d y", (ReadOnlySpan<float>)y, r.Y, Rel);
        Tolerance.AssertClose("OffsetBatchNorm2d RunningMean", (ReadOnlySpan<float>)layer.RunningMean, refMean, Rel);
        Tolerance.AssertClose("OffsetBatchNorm2d RunningVar", (ReadOnlySpan<float>)layer.RunningVar, refVar, Rel);
    }

    /// <summary>
    /// BatchNorm1d's one pass takes each column's pivot from 32 rows spread over the batch (every 64th of 2048 rows).
    /// Column 5's sampled rows lie 1.0 above values of std 0.01: its pivot lies 7.9 standard deviations from its mean, so
    /// the kernel must take the two passes: within 1.2e-7·max|ref| of the reference (measured: 4.8e-8 with them, 3.6e-7
    /// with one pass about that pivot).
    /// </summary>
    [Fact]
    public void BatchNorm1d_columns_whose_sampled_rows_lie_far_from_the_rest() =>
        AssertColumnsWithFarSampledRows(new FarPivotBatchNorm1d(), 24, 2003, 1.2e-7);

    /// <summary>
    /// The same for rows narrower than a vector (3 columns: the narrow passes, in periods of 8 rows; the far column's
    /// largest y is 8.6, one float step of which is 1.1e-7 of max|ref|): measured 1.22e-7·max|ref| with the two passes,
    /// 2.8e-6 with one pass about the far pivot.
    /// </summary>
    [Fact]
    public void Narrow_BatchNorm1d_columns_whose_sampled_rows_lie_far_from_the_rest() =>
        AssertColumnsWithFarSampledRows(new FarPivotNarrowBatchNorm1d(), 3, 2004, 2.5e-7);

    private static void AssertColumnsWithFarSampledRows<TLayer>(TLayer layer, int columns, int seed, double rel)
        where TLayer : IBatchStatsLayer<float>, IAffineLayer<float>
    {
        const int rows = 2048;
        var layout = NormLayout.BatchNormChannelsLast(rows, 1, columns);
        var far = new int[rows / 64];
        for (int k = 0; k < far.Length; k++)
        {
            far[k] = (k * 64 * columns) + (5 % columns);
        }
        var rng = new Random(seed);
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, columns, 0.5, 1.5));
        double[] beta = TestData.RoundToFloat(TestData.Uniform(rng, columns, -0.5, 0.5));
        TestData.To<float>(gamma).CopyTo(layer.Gamma);
        TestData.To<float>(beta).CopyTo(layer.Beta);
        double[] x = TestData.Normal(rng, layout.Length, 0, 0.01);
        foreach (int i in far)
        {
            x[i] += 1.0;
        }
        x = TestData.RoundToFloat(x);
        var r = ReferenceNorm.Compute(layout, x, null, gamma, beta, Eps);

        var y = new float[x.Length];
        layer.ForwardTraining(TestData.To<float>(x), y);

        Tolerance.AssertClose($"{typeof(TLayer).Name} y", (ReadOnlySpan<float>)y, r.Y, rel);
    }

    /// <summary>
    /// Gives the layer float γ and β, and returns x (far first values at <paramref name="groupStarts"/>) with the double
    /// reference for it.
    /// </summary>
    private static (double[] X, ReferenceResult Reference) Case(IAffineLayer<float> layer, NormLayout layout, Random rng, int[] groupStarts)
    {
        double[] gamma = TestData.RoundToFloat(TestData.Uniform(rng, layout.ParamCount, 0.5, 1.5));
        double[] beta = TestData.RoundToFloat(TestData.Uniform(rng, layout.ParamCount, -0.5, 0.5));
        TestData.To<float>(gamma).CopyTo(layer.Gamma);
        TestData.To<float>(beta).CopyTo(layer.Beta);
        double[] x = WithFarFirstValues(rng, layout.Length, groupStarts);
        double[] dy = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 0, 1));
        return (x, ReferenceNorm.Compute(layout, x, dy, gamma, beta, Eps));
    }

    /// <summary>Values of std 0.01 about 0, with 1.0 added to the first <see cref="FarValues"/> of each group, as floats.</summary>
    private static double[] WithFarFirstValues(Random rng, int length, int[] groupStarts)
    {
        double[] x = TestData.Normal(rng, length, 0, 0.01);
        foreach (int start in groupStarts)
        {
            for (int i = 0; i < FarValues; i++)
            {
                x[start + i] += 1.0;
            }
        }
        return TestData.RoundToFloat(x);
    }

    /// <summary>The first index of each of <paramref name="count"/> groups <paramref name="stride"/> apart.</summary>
    private static int[] Starts(int count, int stride)
    {
        var starts = new int[count];
        for (int g = 0; g < count; g++)
        {
            starts[g] = g * stride;
        }
        return starts;
    }

    private static double[] Ones(int count)
    {
        var ones = new double[count];
        Array.Fill(ones, 1.0);
        return ones;
    }
}
