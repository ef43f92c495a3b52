using System;
using NormGen.Tests.Threading;
using Xunit;

namespace NormGen.Tests.Semantics;

[Normalize(Shape = "N,D=37", Axes = "D")]
internal partial class InPlaceLayerNorm37 { }

[Normalize(Shape = "N,C=6,H=7,W=7", Axes = "NHW")]
internal partial class InPlaceBatchNorm7x7 { }

[Normalize(Shape = "N,C=8,H=5,W=5", Axes = "CHW", Groups = 4)]
internal partial class InPlaceGroupNorm { }

[Normalize(Shape = "N,D=24", Axes = "D", Kind = NormKind.Rms)]
internal partial class InPlaceRmsNorm { }

[Normalize(Shape = "N,H=3,W=3,C=12", Axes = "NHW")]
internal partial class InPlaceChannelsLastBatchNorm { }

// Channels-last InstanceNorm, sample by sample through the column kernels: chunks of whole samples (2,400 values a
// sample, 24 columns) and samples whose rows are shared out (163,840 values).
[Normalize(Shape = "N,H=10,W=10,C=24", Axes = "HW")]
internal partial class InPlaceChannelsLastInstanceNorm { }

[Normalize(Shape = "N,H=64,W=40,C=64", Axes = "HW")]
internal partial class InPlaceLargeChannelsLastInstanceNorm { }

// LayerNorm over the channels of (N, C, H, W), γ and β per row of a sample: chunks of whole samples, and samples whose
// rows are shared out.
[Normalize(Shape = "N,C=24,H=10,W=10", Axes = "C")]
internal partial class InPlaceChannelsLayerNorm { }

[Normalize(Shape = "N,C=96,H=40,W=40", Axes = "C")]
internal partial class InPlaceLargeChannelsLayerNorm { }

// Rows × columns with columns left over after the whole vectors: the last tile is the vector ending at the last column,
// which writes its last lanes alone (37: y flat, dx tiled; 2100: y and dx tiled).
[Normalize(Shape = "N,C=37", Axes = "N")]
internal partial class InPlaceBatchNorm1d37 { }

[Normalize(Shape = "N,C=2100", Axes = "N")]
internal partial class InPlaceBatchNorm1d2100 { }

/// <summary>
/// "x and y may be the same memory", "dx and dy may be the same memory": a call in place must give the same bits as
/// the same call into separate memory — for runs with a tail, several runs per group, rows × columns, and an output
/// large enough to be streamed and split over threads.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class InPlaceTests
{
    private delegate void Forward(ReadOnlySpan<float> x, Span<float> y);

    private delegate void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx);

    [Fact]
    public void LayerNorm_with_a_tail_in_place() =>
        AssertInPlace(9 * InPlaceLayerNorm37.SampleSize, () => { var l = new InPlaceLayerNorm37(); return (l.Forward, l.Backward); });

    [Fact]
    public void BatchNorm_with_short_runs_in_place()
    {
        AssertInPlace(5 * InPlaceBatchNorm7x7.SampleSize, () => { var l = new InPlaceBatchNorm7x7(); return (l.ForwardTraining, l.Backward); });
        AssertInPlace(5 * InPlaceBatchNorm7x7.SampleSize, () =>
        {
            var l = new InPlaceBatchNorm7x7();
            l.LoadRunningStatistics([1f, -2f, 3f, 0.5f, 100f, -7f], [0.5f, 2f, 1f, 4f, 9f, 0.25f]);
            return (l.ForwardInference, null);
        });
    }

    [Fact]
    public void GroupNorm_in_place() =>
        AssertInPlace(7 * InPlaceGroupNorm.SampleSize, () => { var l = new InPlaceGroupNorm(); return (l.Forward, l.Backward); });

    [Fact]
    public void RmsNorm_in_place() =>
        AssertInPlace(11 * InPlaceRmsNorm.SampleSize, () => { var l = new InPlaceRmsNorm(); return (l.Forward, l.Backward); });

    [Fact]
    public void Channels_last_BatchNorm_in_place() =>
        AssertInPlace(13 * InPlaceChannelsLastBatchNorm.SampleSize, () => { var l = new InPlaceChannelsLastBatchNorm(); return (l.ForwardTraining, l.Backward); });

    [Fact]
    public void Channels_last_InstanceNorm_in_place()
    {
        AssertInPlace(37 * InPlaceChannelsLastInstanceNorm.SampleSize, () => { var l = new InPlaceChannelsLastInstanceNorm { MaxDegreeOfParallelism = 2 }; return (l.Forward, l.Backward); });
        AssertInPlace(2 * InPlaceLargeChannelsLastInstanceNorm.SampleSize, () => { var l = new InPlaceLargeChannelsLastInstanceNorm { MaxDegreeOfParallelism = 2 }; return (l.Forward, l.Backward); });
    }

    [Fact]
    public void LayerNorm_over_channels_in_place()
    {
        AssertInPlace(29 * InPlaceChannelsLayerNorm.SampleSize, () => { var l = new InPlaceChannelsLayerNorm { MaxDegreeOfParallelism = 2 }; return (l.Forward, l.Backward); });
        AssertInPlace(2 * InPlaceLargeChannelsLayerNorm.SampleSize, () => { var l = new InPlaceLargeChannelsLayerNorm { MaxDegreeOfParallelism = 2 }; return (l.Forward, l.Backward); });
    }

    [Fact]
    public void BatchNorm1d_with_columns_after_the_whole_vectors_in_place()
    {
        AssertInPlace(45 * InPlaceBatchNorm1d37.SampleSize, () => { var l = new InPlaceBatchNorm1d37(); return (l.ForwardTraining, l.Backward); });
        AssertInPlace(13 * InPlaceBatchNorm1d2100.SampleSize, () => { var l = new InPlaceBatchNorm1d2100(); return (l.ForwardTraining, l.Backward); });
    }

    // 5200 rows of 512 floats: x and y past what the L3 holds, so the forward streams at two threads as well as the backward.
    [Fact]
    public void Streamed_and_threaded_LayerNorm_in_place() =>
        AssertInPlace(5200 * ThreadedLayerNorm.SampleSize, () => { var l = new ThreadedLayerNorm { MaxDegreeOfParallelism = 2 }; return (l.Forward, l.Backward); });

    /// <summary>Runs forward (and backward) once into separate memory and once in place, each on a fresh layer.</summary>
    private static void AssertInPlace(int length, Func<(Forward Forward, Backward? Backward)> create)
    {
        float[] x = Values(length, 31, 3);
        float[] dy = Values(length, 32, 0);

        var (forward, backward) = create();
        var y = new float[length];
        forward(x, y);
        var dx = new float[length];
        backward?.Invoke(x, dy, dx);

        (forward, backward) = create();
        float[] inPlace = (float[])x.Clone();
        forward(inPlace, inPlace);
        AssertSame("y", y, inPlace);
        if (backward is not null)
        {
            float[] gradient = (float[])dy.Clone();
            backward(x, gradient, gradient);
            AssertSame("dx", dx, gradient);
        }
    }

    private static void AssertSame(string name, float[] expected, float[] actual)
    {
        Assert.Contains(expected, v => v != 0);
        SameBits.Assert<float>(name, expected, "into separate memory", actual, "in place");
    }

    private static float[] Values(int length, int seed, double offset)
    {
        var rng = new Random(seed);
        var a = new float[length];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)(offset + (rng.NextDouble() * 4) - 2 + (i % 5));
        }
        return a;
    }
}
