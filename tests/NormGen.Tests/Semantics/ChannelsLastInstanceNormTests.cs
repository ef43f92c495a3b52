using System;
using Xunit;

namespace NormGen.Tests.Semantics;

/// <summary>InstanceNorm2d(16, affine=True) of the golden case in2d_affine, with its data channels-last.</summary>
[Normalize(Shape = "N,H=8,W=8,C=16", Axes = "HW")]
internal partial class In2dAffineChannelsLast : IPerSampleLayer<float>, IAffineLayer<float> { }

/// <summary>Samples of 163,840 values: each sample's rows in chunks shared out over the threads.</summary>
[Normalize(Shape = "N,H=64,W=40,C=64", Axes = "HW")]
internal partial class LargeSampleChannelsLastInstanceNorm { }

/// <summary>Samples of 2,400 values, 24 columns (not a whole number of 16-float cache lines): chunks of whole samples.</summary>
[Normalize(Shape = "N,H=10,W=10,C=24", Axes = "HW")]
internal partial class SmallSampleChannelsLastInstanceNorm { }

/// <summary>RGB channels-last, samples of 1,200 values: the narrow passes sample by sample.</summary>
[Normalize(Shape = "N,H=20,W=20,C=3", Axes = "HW")]
internal partial class NarrowChannelsLastInstanceNorm { }

/// <summary>No γ and β.</summary>
[Normalize(Shape = "N,H=12,W=12,C=40", Axes = "HW", Affine = false)]
internal partial class PlainChannelsLastInstanceNorm { }

/// <summary>
/// Channels-last InstanceNorm runs each sample through the column kernels of BatchNorm1d (SampleColumns): against
/// libtorch's reference data, the double-precision reference with samples of different scales (a statistic copied to
/// the wrong sample, or a chunk's parameter sums left out, shows), and the same bits at one and two threads.
/// </summary>
public class ChannelsLastInstanceNormTests
{
    [Fact]
    public void Matches_libtorch_with_the_data_channels_last() =>
        SampleByLayoutChecks.AssertGoldenChannelsLast("in2d_affine", new In2dAffineChannelsLast(), 16, 64);

    [Fact]
    public void Large_samples_match_the_reference_and_the_threads_agree() =>
        SampleByLayoutChecks.AssertReferenceAndThreads(NormLayout.InstanceNormChannelsLast(3, 64 * 40, 64), 3, LargeSampleChannelsLastInstanceNorm.SampleSize, degree =>
        {
            var layer = new LargeSampleChannelsLastInstanceNorm { MaxDegreeOfParallelism = degree };
            return ((g, b) => { g.CopyTo(layer.Gamma); b.CopyTo(layer.Beta); }, layer.Forward, layer.Backward,
                () => (layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray()));
        });

    [Fact]
    public void Small_samples_match_the_reference_and_the_threads_agree() =>
        SampleByLayoutChecks.AssertReferenceAndThreads(NormLayout.InstanceNormChannelsLast(37, 100, 24), 37, SmallSampleChannelsLastInstanceNorm.SampleSize, degree =>
        {
            var layer = new SmallSampleChannelsLastInstanceNorm { MaxDegreeOfParallelism = degree };
            return ((g, b) => { g.CopyTo(layer.Gamma); b.CopyTo(layer.Beta); }, layer.Forward, layer.Backward,
                () => (layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray()));
        });

    [Fact]
    public void Three_channel_samples_match_the_reference_and_the_threads_agree() =>
        SampleByLayoutChecks.AssertReferenceAndThreads(NormLayout.InstanceNormChannelsLast(23, 400, 3), 23, NarrowChannelsLastInstanceNorm.SampleSize, degree =>
        {
            var layer = new NarrowChannelsLastInstanceNorm { MaxDegreeOfParallelism = degree };
            return ((g, b) => { g.CopyTo(layer.Gamma); b.CopyTo(layer.Beta); }, layer.Forward, layer.Backward,
                () => (layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray()));
        });

    [Fact]
    public void Without_parameters_matches_the_reference_after_a_larger_batch()
    {
        const int columns = 40, spatial = 144;
        var layer = new PlainChannelsLastInstanceNorm { MaxDegreeOfParallelism = 2 };
        // A larger batch first: the smaller one must not read what it left behind.
        float[] first = SampleByLayoutChecks.SamplesOfDifferentScales(new Random(7), 20, spatial * columns);
        layer.Forward(first, new float[first.Length]);

        float[] x = SampleByLayoutChecks.SamplesOfDifferentScales(new Random(8), 5, spatial * columns);
        double[] dy = TestData.Uniform(new Random(9), x.Length, -1, 1);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        layer.Forward(x, y);
        layer.Backward(x, TestData.To<float>(dy), dx);

        ReferenceResult reference = ReferenceNorm.Compute(NormLayout.InstanceNormChannelsLast(5, spatial, columns), TestData.ToDouble<float>(x), dy, null, null, 1e-5);
        Tolerance.AssertClose("y", (ReadOnlySpan<float>)y, reference.Y, 2e-6);
        Tolerance.AssertClose("dx", (ReadOnlySpan<float>)dx, reference.Dx, 2e-5);
    }
}
