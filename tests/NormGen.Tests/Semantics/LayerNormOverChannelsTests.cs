using System;
using Xunit;

namespace NormGen.Tests.Semantics;

/// <summary>Samples of 153,600 values: each sample's rows (channels) in chunks shared out over the threads.</summary>
[Normalize(Shape = "N,C=96,H=40,W=40", Axes = "C")]
internal partial class LargeSampleChannelsLayerNorm { }

/// <summary>Samples of 2,400 values, 100 columns: chunks of whole samples.</summary>
[Normalize(Shape = "N,C=24,H=10,W=10", Axes = "C")]
internal partial class SmallSampleChannelsLayerNorm { }

/// <summary>No γ and β: the sample's column kernels alone.</summary>
[Normalize(Shape = "N,C=32,H=9,W=9", Axes = "C", Affine = false)]
internal partial class PlainChannelsLayerNorm { }

/// <summary>
/// LayerNorm over the channels of (N, C, H, W) — ConvNeXt's LayerNorm2d — runs each sample through the column kernels
/// (a statistic per position, over the channel rows) and applies γ and β per row (SampleColumns.ScalesRows): against the
/// double-precision reference, with one and two threads giving the same bits.
/// </summary>
public class LayerNormOverChannelsTests
{
    [Fact]
    public void Large_samples_match_the_reference_and_the_threads_agree() =>
        SampleByLayoutChecks.AssertReferenceAndThreads(NormLayout.LayerNormOverChannels(2, 96, 1600), 2, LargeSampleChannelsLayerNorm.SampleSize, degree =>
        {
            var layer = new LargeSampleChannelsLayerNorm { MaxDegreeOfParallelism = degree };
            return ((g, b) => { g.CopyTo(layer.Gamma); b.CopyTo(layer.Beta); }, layer.Forward, layer.Backward,
                () => (layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray()));
        });

    [Fact]
    public void Small_samples_match_the_reference_and_the_threads_agree() =>
        SampleByLayoutChecks.AssertReferenceAndThreads(NormLayout.LayerNormOverChannels(29, 24, 100), 29, SmallSampleChannelsLayerNorm.SampleSize, degree =>
        {
            var layer = new SmallSampleChannelsLayerNorm { MaxDegreeOfParallelism = degree };
            return ((g, b) => { g.CopyTo(layer.Gamma); b.CopyTo(layer.Beta); }, layer.Forward, layer.Backward,
                () => (layer.GammaGrad.ToArray(), layer.BetaGrad.ToArray()));
        });

    [Fact]
    public void Without_parameters_matches_the_reference()
    {
        const int channels = 32, spatial = 81;
        var layer = new PlainChannelsLayerNorm { MaxDegreeOfParallelism = 2 };
        float[] x = SampleByLayoutChecks.SamplesOfDifferentScales(new Random(5), 6, channels * spatial);
        double[] dy = TestData.Uniform(new Random(6), x.Length, -1, 1);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        layer.Forward(x, y);
        layer.Backward(x, TestData.To<float>(dy), dx);

        ReferenceResult reference = ReferenceNorm.Compute(NormLayout.LayerNormOverChannels(6, channels, spatial), TestData.ToDouble<float>(x), dy, null, null, 1e-5);
        Tolerance.AssertClose("y", (ReadOnlySpan<float>)y, reference.Y, 2e-6);
        Tolerance.AssertClose("dx", (ReadOnlySpan<float>)dx, reference.Dx, 2e-5);
    }
}
