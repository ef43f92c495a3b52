using System;
using Xunit;

namespace NormGen.Tests.Semantics;

/// <summary>
/// "Zero bytes allocated per call after the first" for the layouts that go sample by sample (worker states, the row
/// passes' scratch), rows narrower than a vector and small BatchNorm1d calls, as <c>ThreadingTests</c> checks the others.
/// </summary>
[Collection(nameof(Threading.ThreadingTests))]
public class NewLayoutsAllocationTests
{
    [Fact]
    public void Calls_allocate_nothing_after_the_first()
    {
        const int degree = 2;
        var steps = new Action[]
        {
            PerSample(new SmallSampleChannelsLastInstanceNorm { MaxDegreeOfParallelism = degree }, 6 * SmallSampleChannelsLastInstanceNorm.SampleSize, (l, x, y) => l.Forward(x, y), (l, x, dy, dx) => l.Backward(x, dy, dx)),
            PerSample(new LargeSampleChannelsLastInstanceNorm { MaxDegreeOfParallelism = degree }, LargeSampleChannelsLastInstanceNorm.SampleSize, (l, x, y) => l.Forward(x, y), (l, x, dy, dx) => l.Backward(x, dy, dx)),
            PerSample(new SmallSampleChannelsLastGroupNorm { MaxDegreeOfParallelism = degree }, 5 * SmallSampleChannelsLastGroupNorm.SampleSize, (l, x, y) => l.Forward(x, y), (l, x, dy, dx) => l.Backward(x, dy, dx)),
            PerSample(new LargeSampleChannelsLayerNorm { MaxDegreeOfParallelism = degree }, LargeSampleChannelsLayerNorm.SampleSize, (l, x, y) => l.Forward(x, y), (l, x, dy, dx) => l.Backward(x, dy, dx)),
            PerSample(new SmallSampleChannelsLayerNorm { MaxDegreeOfParallelism = degree }, 7 * SmallSampleChannelsLayerNorm.SampleSize, (l, x, y) => l.Forward(x, y), (l, x, dy, dx) => l.Backward(x, dy, dx)),
            PerSample(new NarrowBatchNorm3 { MaxDegreeOfParallelism = degree }, 20 * NarrowBatchNorm3.SampleSize, (l, x, y) => { l.ForwardTraining(x, y); l.ForwardInference(x, y); }, (l, x, dy, dx) => l.Backward(x, dy, dx)),
            PerSample(new SmallBatchNorm1d10 { MaxDegreeOfParallelism = degree }, 4 * SmallBatchNorm1d10.SampleSize, (l, x, y) => { l.ForwardTraining(x, y); l.ForwardInference(x, y); }, (l, x, dy, dx) => l.Backward(x, dy, dx)),
        };
        void Step()
        {
            foreach (Action step in steps)
            {
                step();
            }
        }
        // Past tiered compilation (30 calls), as ThreadingTests does.
        for (int i = 0; i < 40; i++)
        {
            Step();
        }
        long allocated = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++)
            {
                Step();
            }
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(allocated == 0, $"5 rounds of calls allocated at least {allocated} bytes in each of 3 windows; expected 0.");
    }

    private delegate void ForwardOf<TLayer>(TLayer layer, ReadOnlySpan<float> x, Span<float> y);

    private delegate void BackwardOf<TLayer>(TLayer layer, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx);

    /// <summary>One layer's forward and backward on its own data, as one step.</summary>
    private static Action PerSample<TLayer>(TLayer layer, int length, ForwardOf<TLayer> forward, BackwardOf<TLayer> backward)
    {
        var rng = new Random(length);
        float[] x = TestData.To<float>(TestData.Uniform(rng, length, -1, 3));
        float[] dy = TestData.To<float>(TestData.Uniform(rng, length, -1, 1));
        var y = new float[length];
        var dx = new float[length];
        return () =>
        {
            forward(layer, x, y);
            backward(layer, x, dy, dx);
        };
    }
}
