using Partition = NormGen.Internal.Threading;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// How many chunks a call is split into, at the edges of the two thresholds: one below the kernels' threshold (the
/// call runs on the caller's thread), two up to 262,143 values, eight from 262,144; never more chunks than indices (9 indices make 5 chunks of 2);
/// and the degree of parallelism, which no longer depends on the size.
/// </summary>
public sealed class ThreadingPartitionTests
{
    [Theory]
    [InlineData(Partition.OnePassParallelThreshold - 1, Partition.OnePassParallelThreshold, 1)]
    [InlineData(Partition.OnePassParallelThreshold, Partition.OnePassParallelThreshold, 2)]
    [InlineData(Partition.ParallelThreshold - 1, Partition.OnePassParallelThreshold, 2)]
    [InlineData(Partition.ParallelThreshold - 1, Partition.ParallelThreshold, 1)]
    [InlineData(Partition.ParallelThreshold, Partition.ParallelThreshold, 2)]
    [InlineData((2 * Partition.ParallelThreshold) - 1, Partition.ParallelThreshold, 2)]
    [InlineData((2 * Partition.ParallelThreshold) - 1, Partition.OnePassParallelThreshold, 2)]
    [InlineData(2 * Partition.ParallelThreshold, Partition.ParallelThreshold, Partition.MaxChunks)]
    [InlineData(2 * Partition.ParallelThreshold, Partition.OnePassParallelThreshold, Partition.MaxChunks)]
    public void Chunks_at_the_edges_of_the_thresholds(int length, int threshold, int expected)
    {
        Assert.Equal(expected, Partition.ChunkCount(64, length, threshold));
        int size = Partition.ChunkSize(64, length, threshold);
        Assert.True(size * expected >= 64 && size * (expected - 1) < 64, $"{expected} chunks of {size} must cover 64 indices exactly");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 3)]
    [InlineData(7, 7)]
    [InlineData(9, 5)]
    public void Never_more_chunks_than_indices(int extent, int expected) =>
        Assert.Equal(expected, Partition.ChunkCount(extent, 4 * Partition.ParallelThreshold, Partition.ParallelThreshold));

    [Fact]
    public void Degree_is_the_setting_capped_by_the_processors()
    {
        Assert.Equal(1, Partition.Degree(1));
        Assert.Equal(1, Partition.Degree(0));
        Assert.Equal(System.Math.Min(2, System.Environment.ProcessorCount), Partition.Degree(2));
        Assert.Equal(System.Environment.ProcessorCount, Partition.Degree(int.MaxValue));
    }
}
