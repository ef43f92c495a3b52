using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// Outputs that stream (<see cref="NormGen.Internal.Threading.StreamsOutput"/>: a thread's share past its core's cache in a
/// call past what the L3 holds) are written with non-temporal stores where the address is 32-byte aligned, and with ordinary stores elsewhere. The two must write the same bits: each layer runs
/// into an aligned output (every vector store streams) and into the same output shifted by one and by four floats (no
/// vector store is aligned, so none streams), and y and dx must be identical.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class StreamingStoreTests
{
    private delegate void Run(float[] x, float[] dy, Span<float> y, Span<float> dx);

    [Fact]
    public void BatchNorm_channels_first_streams_the_same_bits() =>
        AssertSameBitsAtEveryAlignment(StreamedLength(ThreadedBatchNorm.SampleSize), (x, dy, y, dx) =>
        {
            var layer = new ThreadedBatchNorm { MaxDegreeOfParallelism = 2 };
            layer.ForwardTraining(x, y);
            layer.Backward(x, dy, dx);
        });

    [Fact]
    public void BatchNorm_inference_streams_the_same_bits() =>
        AssertSameBitsAtEveryAlignment(StreamedLength(ThreadedBatchNorm.SampleSize), (x, _, y, trainingY) =>
        {
            var layer = new ThreadedBatchNorm { MaxDegreeOfParallelism = 2 };
            layer.ForwardTraining(x, trainingY);
            layer.ForwardInference(x, y);
        });

    [Fact]
    public void BatchNorm_channels_last_streams_the_same_bits() =>
        AssertSameBitsAtEveryAlignment(StreamedLength(ThreadedChannelsLastBatchNorm.SampleSize), (x, dy, y, dx) =>
        {
            var layer = new ThreadedChannelsLastBatchNorm { MaxDegreeOfParallelism = 2 };
            layer.ForwardTraining(x, y);
            layer.Backward(x, dy, dx);
        });

    [Fact]
    public void LayerNorm_streams_the_same_bits() =>
        AssertSameBitsAtEveryAlignment(StreamedLength(ThreadedLayerNorm.SampleSize), (x, dy, y, dx) =>
        {
            var layer = new ThreadedLayerNorm { MaxDegreeOfParallelism = 2 };
            layer.Forward(x, y);
            layer.Backward(x, dy, dx);
        });

    [Fact]
    public void GroupNorm_streams_the_same_bits() =>
        AssertSameBitsAtEveryAlignment(StreamedLength(ThreadedGroupNorm.SampleSize), (x, dy, y, dx) =>
        {
            var layer = new ThreadedGroupNorm { MaxDegreeOfParallelism = 1 };
            layer.Forward(x, y);
            layer.Backward(x, dy, dx);
        });

    [Fact]
    public void RmsNorm_streams_the_same_bits() =>
        AssertSameBitsAtEveryAlignment(StreamedLength(ThreadedRmsNorm.SampleSize), (x, dy, y, dx) =>
        {
            var layer = new ThreadedRmsNorm { MaxDegreeOfParallelism = 2 };
            layer.Forward(x, y);
            layer.Backward(x, dy, dx);
        });

    [Fact]
    public void Calls_stream_when_a_threads_share_exceeds_its_cache_and_the_call_the_L3()
    {
        const long MiB = 1L << 20;
        bool avx = Avx.IsSupported;
        // Forwards of 11 MiB tensors (22 MiB a call) on one thread and on two.
        Assert.Equal(avx, NormGen.Internal.Threading.StreamsOutput(11 * MiB, 11 * MiB, 22 * MiB));
        Assert.Equal(avx, NormGen.Internal.Threading.StreamsOutput(11 * MiB / 2, 11 * MiB / 2, 22 * MiB));
        // A backward of 1 MiB tensors on one thread: x and dy fit the L2, which streaming dx keeps them in.
        Assert.Equal(avx, NormGen.Internal.Threading.StreamsOutput(2 * MiB, 1 * MiB, 3 * MiB));
        // A backward of 4 MiB tensors (12 MiB a call) on one thread: x and dy are a quarter of the L3, which streaming
        // keeps them in; on two threads (half each) and a backward of 3 MiB tensors on one, through the cache.
        Assert.Equal(avx, NormGen.Internal.Threading.StreamsOutput(8 * MiB, 4 * MiB, 12 * MiB));
        Assert.False(NormGen.Internal.Threading.StreamsOutput(4 * MiB, 2 * MiB, 12 * MiB));
        Assert.False(NormGen.Internal.Threading.StreamsOutput(6 * MiB, 3 * MiB, 9 * MiB));
        // A forward of 8 MiB tensors on one thread (16 MiB a call): through the cache.
        Assert.False(NormGen.Internal.Threading.StreamsOutput(8 * MiB, 8 * MiB, 16 * MiB));
        // A forward of 1 MiB tensors, a forward of 4 MiB tensors (in the L3) and BatchNorm1d-sized calls stay in the cache.
        Assert.False(NormGen.Internal.Threading.StreamsOutput(1 * MiB, 1 * MiB, 2 * MiB));
        Assert.False(NormGen.Internal.Threading.StreamsOutput(4 * MiB, 4 * MiB, 8 * MiB));
        Assert.False(NormGen.Internal.Threading.StreamsOutput(1 * MiB, 512 * 1024, 3 * 512 * 1024));
    }

    /// <summary>
    /// Floats a layer of <paramref name="sampleSize"/> values a sample needs for a forward at two threads to stream:
    /// x and y together past <see cref="NormGen.Internal.Threading.CacheResidentCallBytes"/>, in whole samples.
    /// </summary>
    private static int StreamedLength(int sampleSize)
    {
        long floats = NormGen.Internal.Threading.CacheResidentCallBytes / (2 * sizeof(float)) + 1;
        return (int)((floats + sampleSize - 1) / sampleSize * sampleSize);
    }

    private static void AssertSameBitsAtEveryAlignment(int length, Run run)
    {
        // Smaller calls never stream, which would make this test pass without testing anything: the forward's x and y at
        // two threads, and the backward's x, dy and dx (larger) must stream.
        long bytes = (long)length * sizeof(float);
        Assert.True(NormGen.Internal.Threading.StreamsOutput(bytes / 2, bytes / 2, 2 * bytes) == Avx.IsSupported,
            $"{length} floats are not written with non-temporal stores at two threads; use StreamedLength.");
        float[] x = TestData.RampedFloats(length, 21);
        float[] dy = TestData.RampedFloats(length, 22);
        int[] shifts = [0, 1, 4];
        var y = new float[shifts.Length][];
        var dx = new float[shifts.Length][];
        for (int s = 0; s < shifts.Length; s++)
        {
            float[] yBuffer = GC.AllocateArray<float>(length + 16, pinned: true);
            float[] dxBuffer = GC.AllocateArray<float>(length + 16, pinned: true);
            int yStart = AlignedIndex(yBuffer) + shifts[s];
            int dxStart = AlignedIndex(dxBuffer) + shifts[s];
            run(x, dy, yBuffer.AsSpan(yStart, length), dxBuffer.AsSpan(dxStart, length));
            y[s] = yBuffer.AsSpan(yStart, length).ToArray();
            dx[s] = dxBuffer.AsSpan(dxStart, length).ToArray();
        }
        Assert.Contains(y[0], v => v != 0);
        Assert.Contains(dx[0], v => v != 0);
        for (int s = 1; s < shifts.Length; s++)
        {
            SameBits.Assert<float>("y", y[0], "written to an aligned output", y[s], $"shifted by {shifts[s]} floats");
            SameBits.Assert<float>("dx", dx[0], "written to an aligned output", dx[s], $"shifted by {shifts[s]} floats");
        }
    }

    /// <summary>The first index of a pinned array whose address is a multiple of 32 bytes.</summary>
    private static int AlignedIndex(float[] pinned)
    {
        GCHandle handle = GCHandle.Alloc(pinned, GCHandleType.Pinned);
        try
        {
            long address = handle.AddrOfPinnedObject();
            return (int)((32 - (address & 31)) & 31) / sizeof(float);
        }
        finally
        {
            handle.Free();
        }
    }
}
