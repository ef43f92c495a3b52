using System;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// Runs of under 8 cache lines that end inside a line are written through the cache as whole vectors and the last lanes
/// of the vector ending at the run's end, and, streamed, with their partial lines apart and aligned whole lines between.
/// The batches here stream on one thread and not on two, so the two thread counts take the two ways: every value must
/// have the same bits, and match the reference.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class ShortRunsTests
{
    [Fact]
    public void Layer_norm_rows_of_100_have_the_same_bits_streamed_or_not()
    {
        const int forwardRows = 6000, backwardRows = 3000;
        AssertStreamsOnOneThreadOnly(forwardRows * 100 * 4L, forwardRows * 100 * 4L * 2);
        AssertStreamsOnOneThreadOnly(backwardRows * 100 * 4L, backwardRows * 100 * 4L * 3);
        var rng = new Random(4301);
        float[] gamma = TestData.To<float>(TestData.Uniform(rng, 100, 0.5, 1.5));
        float[] beta = TestData.To<float>(TestData.Uniform(rng, 100, -0.5, 0.5));
        double[] x = TestData.RoundToFloat(TestData.Normal(rng, forwardRows * 100, 2, 3));
        double[] dy = TestData.RoundToFloat(TestData.Normal(rng, backwardRows * 100, 0, 1));
        (float[] Y, float[] Dx) Run(int degree)
        {
            var layer = new ShortRunLayerNorm { MaxDegreeOfParallelism = degree };
            gamma.CopyTo(layer.Gamma);
            beta.CopyTo(layer.Beta);
            float[] xs = TestData.To<float>(x);
            var y = new float[xs.Length];
            layer.Forward(xs, y);
            var small = xs.AsSpan(0, backwardRows * 100);
            var ySmall = new float[small.Length];
            layer.Forward(small, ySmall);
            var dx = new float[small.Length];
            layer.Backward(small, TestData.To<float>(dy), dx);
            return (y, dx);
        }
        var one = Run(1);
        var two = Run(2);
        var reference = ReferenceNorm.Compute(NormLayout.LayerNorm(forwardRows, 100), x, null, TestData.ToDouble<float>(gamma), TestData.ToDouble<float>(beta), 1e-5);
        Tolerance.AssertClose("ShortRunLayerNorm y", (ReadOnlySpan<float>)one.Y, reference.Y, Tolerance.FloatFloor);
        SameBits.Assert<float>("y", one.Y, "1 thread (streamed)", two.Y, "2 threads (through the cache)");
        SameBits.Assert<float>("dx", one.Dx, "1 thread (streamed)", two.Dx, "2 threads (through the cache)");
    }

    [Fact]
    public void Batch_norm_on_7x7_maps_has_the_same_bits_streamed_or_not()
    {
        const int samples = 800, sample = 8 * 49;
        AssertStreamsOnOneThreadOnly(samples * sample * 4L, samples * sample * 4L * 3);
        var rng = new Random(4302);
        var layout = NormLayout.BatchNorm(samples, 8, 49);
        double[] x = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 2, 3));
        double[] dy = TestData.RoundToFloat(TestData.Normal(rng, layout.Length, 0, 1));
        float[] gamma = TestData.To<float>(TestData.Uniform(rng, 8, 0.5, 1.5));
        float[] beta = TestData.To<float>(TestData.Uniform(rng, 8, -0.5, 0.5));
        (float[] Y, float[] Inference, float[] Dx) Run(int degree)
        {
            var layer = new ShortRunBatchNorm { MaxDegreeOfParallelism = degree };
            gamma.CopyTo(layer.Gamma);
            beta.CopyTo(layer.Beta);
            float[] xs = TestData.To<float>(x);
            var y = new float[xs.Length];
            layer.ForwardTraining(xs, y);
            var inference = new float[xs.Length];
            layer.ForwardInference(xs, inference);
            var dx = new float[xs.Length];
            layer.Backward(xs, TestData.To<float>(dy), dx);
            return (y, inference, dx);
        }
        var one = Run(1);
        var two = Run(2);
        var reference = ReferenceNorm.Compute(layout, x, dy, TestData.ToDouble<float>(gamma), TestData.ToDouble<float>(beta), 1e-5);
        Tolerance.AssertClose("ShortRunBatchNorm y", (ReadOnlySpan<float>)one.Y, reference.Y, Tolerance.FloatFloor);
        Tolerance.AssertClose("ShortRunBatchNorm dx", (ReadOnlySpan<float>)one.Dx, reference.Dx, Tolerance.FloatFloor);
        SameBits.Assert<float>("training y", one.Y, "1 thread (streamed)", two.Y, "2 threads (through the cache)");
        SameBits.Assert<float>("inference y", one.Inference, "1 thread", two.Inference, "2 threads");
        SameBits.Assert<float>("dx", one.Dx, "1 thread (streamed)", two.Dx, "2 threads (through the cache)");
    }

    /// <summary>The premise: a call of this output and working set streams on one thread and not on two (x86 with AVX).</summary>
    private static void AssertStreamsOnOneThreadOnly(long outputBytes, long workingSetBytes)
    {
        if (!System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            return;
        }
        Assert.True(NormGen.Internal.Threading.StreamsOutput(outputBytes, workingSetBytes), "expected one thread to stream");
        Assert.False(NormGen.Internal.Threading.StreamsOutput(outputBytes / 2, workingSetBytes / 2), "expected two threads not to stream");
    }
}
