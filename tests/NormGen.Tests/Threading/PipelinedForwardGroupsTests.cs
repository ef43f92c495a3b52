using System;
using Xunit;

namespace NormGen.Tests.Threading;

[Normalize(Shape = "N,C=64,H=32,W=32", Axes = "CHW", Groups = 8)]
public partial class PipelinedForwardGroupNorm { }

/// <summary>
/// Where y streams past the cache and the processor has AVX-512, GroupNorm's forward over groups of channels is a
/// pipeline: each run of a group's statistics pass also writes the same run of the previous group's y. A group's
/// statistics and y depend on its own values alone, so a sample's y from a streamed batch must be the bits of the same
/// sample normalized in a call of its own (in the cache: group by group), wherever y starts within a cache line (the
/// runs' partial lines are written apart from the loop), in place, and at one and two threads.
/// </summary>
public sealed class PipelinedForwardGroupsTests
{
    /// <summary>48 samples of 64 channels of 1024 floats: x and y 12 MiB each, a call that streams y at one and two threads.</summary>
    [Fact]
    public void A_streamed_batch_gives_each_sample_the_bits_of_a_call_of_its_own()
    {
        const int samples = 48;
        int sample = PipelinedForwardGroupNorm.SampleSize;
        int length = samples * sample;
        long bytes = length * (long)sizeof(float);
        // The premise: y streams (by size, not by trial) at one thread and at two.
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx.IsSupported, NormGen.Internal.Threading.StreamsOutput(bytes, bytes, 2 * bytes));
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx.IsSupported, NormGen.Internal.Threading.StreamsOutput(bytes / 2, bytes / 2, 2 * bytes));

        var rng = new Random(5301);
        float[] x = TestData.To<float>(TestData.RoundToFloat(TestData.Normal(rng, length, 3, 2)));
        float[] gamma = TestData.To<float>(TestData.RoundToFloat(TestData.Uniform(rng, 64, 0.5, 1.5)));
        float[] beta = TestData.To<float>(TestData.RoundToFloat(TestData.Uniform(rng, 64, -0.5, 0.5)));
        PipelinedForwardGroupNorm Layer(int threads)
        {
            var layer = new PipelinedForwardGroupNorm { MaxDegreeOfParallelism = threads };
            gamma.CopyTo(layer.Gamma);
            beta.CopyTo(layer.Beta);
            return layer;
        }

        // Each sample alone: a call of 512 KiB, in the cache, group by group.
        var expected = new float[length];
        PipelinedForwardGroupNorm alone = Layer(1);
        for (int s = 0; s < samples; s++)
        {
            alone.Forward(x.AsSpan(s * sample, sample), expected.AsSpan(s * sample, sample));
        }

        foreach (int threads in new[] { 1, 2 })
        {
            foreach (int offsetBytes in new[] { 0, 12, 32 })
            {
                Span<float> y = LineOffset.Span<float>(length, offsetBytes);
                Layer(threads).Forward(x, y);
                SameBits.Assert<float>("y", expected, "each sample alone", y, $"the batch at {threads} thread(s), y {offsetBytes} bytes past a line");
            }
        }
        float[] inPlace = (float[])x.Clone();
        Layer(2).Forward(inPlace, inPlace);
        SameBits.Assert<float>("y", expected, "each sample alone", inPlace, "the batch in place (y over x)");
    }
}
