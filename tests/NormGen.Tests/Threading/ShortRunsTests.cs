using System;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// Runs of under 8 cache lines that end inside a line are written through the cache as whole vectors and the last lanes
/// of the vector ending at the run's end, and, streamed, with their partial lines apart and aligned whole lines between.
/// Each output is computed both ways and must have the same bits, and match the reference: the backward of a batch
/// whose x and dy fit the L2 streams on one thread and not on two; a forward streams in a call past what the L3 holds and not
/// in a small one over its first samples (each sample's output is the same whatever the batch).
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class ShortRunsTests
{
    [Fact]
    public void Layer_norm_rows_of_100_have_the_same_bits_streamed_or_not()
    {
        const int forwardRows = 27000, backwardRows = 2400, row = 100;
        AssertStreamsWhole(forwardRows * row * 4L, forwardRows * row * 4L);
        AssertStreamsNeither(backwardRows * row * 4L, backwardRows * row * 4L);
        AssertStreamsOnOneThreadOnly(backwardRows * row * 4L * 2, backwardRows * row * 4L);
        var rng = new Random(4301);
        float[] gamma = TestData.To<float>(TestData.Uniform(rng, row, 0.5, 1.5));
        float[] beta = TestData.To<float>(TestData.Uniform(rng, row, -0.5, 0.5));
        double[] x = TestData.RoundToFloat(TestData.Normal(rng, forwardRows * row, 2, 3));
        double[] dy = TestData.RoundToFloat(TestData.Normal(rng, backwardRows * row, 0, 1));
        (float[] Y, float[] SmallY, float[] Dx) Run(int degree)
        {
            var layer = new ShortRunLayerNorm { MaxDegreeOfParallelism = degree };
            gamma.CopyTo(layer.Gamma);
            beta.CopyTo(layer.Beta);
            float[] xs = TestData.To<float>(x);
            var y = new float[xs.Length];
            layer.Forward(xs, y);
            var small = xs.AsSpan(0, backwardRows * row);
            var ySmall = new float[small.Length];
            layer.Forward(small, ySmall);
            var dx = new float[small.Length];
            layer.Backward(small, TestData.To<float>(dy), dx);
            return (y, ySmall, dx);
        }
        var one = Run(1);
        var two = Run(2);
        var reference = ReferenceNorm.Compute(NormLayout.LayerNorm(forwardRows, row), x, null, TestData.ToDouble<float>(gamma), TestData.ToDouble<float>(beta), 1e-5);
        Tolerance.AssertClose("ShortRunLayerNorm y", (ReadOnlySpan<float>)one.Y, reference.Y, Tolerance.FloatFloor);
        var smallReference = ReferenceNorm.Compute(NormLayout.LayerNorm(backwardRows, row), x.AsSpan(0, backwardRows * row).ToArray(), dy, TestData.ToDouble<float>(gamma), TestData.ToDouble<float>(beta), 1e-5);
        Tolerance.AssertClose("ShortRunLayerNorm dx", (ReadOnlySpan<float>)one.Dx, smallReference.Dx, Tolerance.FloatFloor);
        SameBits.Assert<float>("y", one.Y.AsSpan(0, backwardRows * row).ToArray(), "a streamed call", one.SmallY, "a call in the cache");
        SameBits.Assert<float>("y", one.Y, "1 thread", two.Y, "2 threads");
        SameBits.Assert<float>("dx", one.Dx, "1 thread (streamed)", two.Dx, "2 threads (through the cache)");
    }

    [Fact]
    public void Batch_norm_on_7x7_maps_has_the_same_bits_streamed_or_not()
    {
        const int samples = 600, largeSamples = 6800, sample = 8 * 49;
        AssertStreamsOnOneThreadOnly(samples * sample * 4L * 2, samples * sample * 4L);
        AssertStreamsNeither(samples * sample * 4L, samples * sample * 4L);
        AssertStreamsWhole(largeSamples * sample * 4L, largeSamples * sample * 4L);
        var rng = new Random(4302);
        var layout = NormLayout.BatchNorm(samples, 8, 49);
        double[] x = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 2, 3));
        double[] dy = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 0, 1));
        float[] gamma = TestData.To<float>(TestData.Uniform(rng, 8, 0.5, 1.5));
        float[] beta = TestData.To<float>(TestData.Uniform(rng, 8, -0.5, 0.5));
        (float[] Y, float[] Inference, float[] LargeInference, float[] Dx) Run(int degree)
        {
            var layer = new ShortRunBatchNorm { MaxDegreeOfParallelism = degree };
            gamma.CopyTo(layer.Gamma);
            beta.CopyTo(layer.Beta);
            float[] xs = TestData.To<float>(x);
            var y = new float[xs.Length];
            layer.ForwardTraining(xs, y);
            var inference = new float[xs.Length];
            layer.ForwardInference(xs, inference);
            // The same samples again and again: a call past what the L3 holds, whose first samples are the small call's.
            var large = new float[largeSamples * sample];
            for (int i = 0; i < large.Length; i += xs.Length)
            {
                xs.AsSpan(0, Math.Min(xs.Length, large.Length - i)).CopyTo(large.AsSpan(i));
            }
            var largeInference = new float[large.Length];
            layer.ForwardInference(large, largeInference);
            var dx = new float[xs.Length];
            layer.Backward(xs, TestData.To<float>(dy), dx);
            return (y, inference, largeInference, dx);
        }
        var one = Run(1);
        var two = Run(2);
        var reference = ReferenceNorm.Compute(layout, x, dy, TestData.ToDouble<float>(gamma), TestData.ToDouble<float>(beta), 1e-5);
        Tolerance.AssertClose("ShortRunBatchNorm y", (ReadOnlySpan<float>)one.Y, reference.Y, Tolerance.FloatFloor);
        Tolerance.AssertClose("ShortRunBatchNorm dx", (ReadOnlySpan<float>)one.Dx, reference.Dx, Tolerance.FloatFloor);
        SameBits.Assert<float>("training y", one.Y, "1 thread", two.Y, "2 threads");
        SameBits.Assert<float>("inference y", one.Inference, "1 thread", two.Inference, "2 threads");
        SameBits.Assert<float>("inference y", one.LargeInference.AsSpan(0, one.Inference.Length).ToArray(), "a streamed call", one.Inference, "a call in the cache");
        SameBits.Assert<float>("inference y", one.LargeInference, "1 thread", two.LargeInference, "2 threads");
        SameBits.Assert<float>("dx", one.Dx, "1 thread (streamed)", two.Dx, "2 threads (through the cache)");
    }

    /// <summary>The premise: a call of these inputs and output streams on one thread and not on two (x86 with AVX).</summary>
    private static void AssertStreamsOnOneThreadOnly(long inputBytes, long outputBytes)
    {
        if (!System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            return;
        }
        long call = inputBytes + outputBytes;
        Assert.True(NormGen.Internal.Threading.StreamsOutput(inputBytes, outputBytes, call), "expected one thread to stream");
        Assert.False(NormGen.Internal.Threading.StreamsOutput(inputBytes / 2, outputBytes / 2, call), "expected two threads not to stream");
    }

    /// <summary>The premise: a call of these inputs and output streams on one thread and on two (x86 with AVX).</summary>
    private static void AssertStreamsWhole(long inputBytes, long outputBytes)
    {
        if (!System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            return;
        }
        long call = inputBytes + outputBytes;
        Assert.True(NormGen.Internal.Threading.StreamsOutput(inputBytes, outputBytes, call), "expected one thread to stream");
        Assert.True(NormGen.Internal.Threading.StreamsOutput(inputBytes / 2, outputBytes / 2, call), "expected two threads to stream");
    }

    /// <summary>The premise: a call of these inputs and output streams on no thread count.</summary>
    private static void AssertStreamsNeither(long inputBytes, long outputBytes)
    {
        long call = inputBytes + outputBytes;
        Assert.False(NormGen.Internal.Threading.StreamsOutput(inputBytes, outputBytes, call), "expected one thread not to stream");
        Assert.False(NormGen.Internal.Threading.StreamsOutput(inputBytes / 2, outputBytes / 2, call), "expected two threads not to stream");
    }
}
