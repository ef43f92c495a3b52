using System;
using Xunit;

namespace NormGen.Tests.Semantics;

/// <summary>GroupNorm(4, 16) of the golden case gn_g4_c16, with its data channels-last.</summary>
[Normalize(Shape = "N,H=8,W=8,C=16", Axes = "HWC", Groups = 4)]
internal partial class GnG4C16ChannelsLast : IPerSampleLayer<float>, IAffineLayer<float> { }

/// <summary>Samples of 8,192 values, 8 groups of 4 channels: chunks of whole samples.</summary>
[Normalize(Shape = "N,H=16,W=16,C=32", Axes = "HWC", Groups = 8)]
internal partial class SmallSampleChannelsLastGroupNorm { }

/// <summary>Samples of 131,072 values, 4 groups of 8 channels: each sample's rows shared out.</summary>
[Normalize(Shape = "N,H=64,W=64,C=32", Axes = "HWC", Groups = 4)]
internal partial class LargeSampleChannelsLastGroupNorm { }

/// <summary>Rows of 6 floats, narrower than a vector, 2 groups of 3 channels.</summary>
[Normalize(Shape = "N,H=20,W=20,C=6", Axes = "HWC", Groups = 2)]
internal partial class NarrowChannelsLastGroupNorm { }

/// <summary>No γ and β.</summary>
[Normalize(Shape = "N,H=12,W=12,C=24", Axes = "HWC", Groups = 6, Affine = false)]
internal partial class PlainChannelsLastGroupNorm { }

/// <summary>
/// GroupNorm channels-last runs each sample through the column kernels with a statistic per group of adjacent columns
/// (KernelContext.ColumnGroup): libtorch's GroupNorm case with its data channels-last, and the double reference with
/// samples of different scales at one and two threads, in both sample modes and with narrow rows.
/// </summary>
public class ChannelsLastGroupNormTests
{
    [Fact]
    public void Matches_libtorch_with_the_data_channels_last() =>
        SampleByLayoutChecks.AssertGoldenChannelsLast("gn_g4_c16", new GnG4C16ChannelsLast(), 16, 64);

    [Fact]
    public void Small_samples_match_the_reference_and_the_threads_agree() =>
        SampleByLayoutChecks.AssertReferenceAndThreads(NormLayout.GroupNormChannelsLast(13, 256, 32, 8), 13, SmallSampleChannelsLastGroupNorm.SampleSize, degree =>
        {
            var layer = new SmallSampleChannelsLastGroupNorm { MaxDegreeOfParallelism = degree };
            return ((g, b) => { g.CopyTo(layer.Gamma); b.CopyTo(layer.Beta); }, layer.Forward, layer.Backward,
                () => (layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray()));
        });

    [Fact]
    public void Large_samples_match_the_reference_and_the_threads_agree() =>
        SampleByLayoutChecks.AssertReferenceAndThreads(NormLayout.GroupNormChannelsLast(2, 4096, 32, 4), 2, LargeSampleChannelsLastGroupNorm.SampleSize, degree =>
        {
            var layer = new LargeSampleChannelsLastGroupNorm { MaxDegreeOfParallelism = degree };
            return ((g, b) => { g.CopyTo(layer.Gamma); b.CopyTo(layer.Beta); }, layer.Forward, layer.Backward,
                () => (layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray()));
        });

    [Fact]
    public void Without_parameters_matches_the_reference()
    {
        const int channels = 24, spatial = 144;
        var layer = new PlainChannelsLastGroupNorm { MaxDegreeOfParallelism = 2 };
        float[] x = SampleByLayoutChecks.SamplesOfDifferentScales(new Random(11), 7, spatial * channels);
        double[] dy = TestData.Uniform(new Random(12), x.Length, -1, 1);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        layer.Forward(x, y);
        layer.Backward(x, TestData.To<float>(dy), dx);

        ReferenceResult reference = ReferenceNorm.Compute(NormLayout.GroupNormChannelsLast(7, spatial, channels, 6), TestData.ToDouble<float>(x), dy, null, null, 1e-5);
        Tolerance.AssertClose("y", (ReadOnlySpan<float>)y, reference.Y, 2e-6);
        Tolerance.AssertClose("dx", (ReadOnlySpan<float>)dx, reference.Dx, 2e-5);
    }

    [Fact]
    public void Narrow_rows_match_the_reference_and_the_threads_agree() =>
        SampleByLayoutChecks.AssertReferenceAndThreads(NormLayout.GroupNormChannelsLast(9, 400, 6, 2), 9, NarrowChannelsLastGroupNorm.SampleSize, degree =>
        {
            var layer = new NarrowChannelsLastGroupNorm { MaxDegreeOfParallelism = degree };
            return ((g, b) => { g.CopyTo(layer.Gamma); b.CopyTo(layer.Beta); }, layer.Forward, layer.Backward,
                () => (layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray()));
        });
}
