using Partition = NormGen.Internal.Threading;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// How many chunks a call is split into, at the edges of the two thresholds: one below the kernels' threshold (the
/// call runs on the caller's thread), two up to 262,143 values, eight from 262,144; never more chunks than indices (9 indices make 5 chunks of 2);
/// the degree of parallelism, which no longer depends on the size; and when outputs are streamed.
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

    /// <summary>
    /// The lane kernels' partition: where eight chunks would be made, only as many (a power of two, at least two) as hold
    /// 32 values per statistic each, since each chunk has its own partial sums per statistic; fewer chunks unchanged.
    /// </summary>
    [Theory]
    [InlineData(64, 4096, 2)]      // BatchNorm1d x[64,4096]: two chunks of 32 rows, not eight of 8
    [InlineData(96, 4096, 2)]      // room for three: two of 48
    [InlineData(128, 4096, 4)]
    [InlineData(255, 4096, 4)]
    [InlineData(256, 4096, Partition.MaxChunks)]
    [InlineData(512, 512, Partition.MaxChunks)]  // 512 rows of 512: as before
    [InlineData(32, 4096, 2)]      // 131,072 values: two chunks below 262,144, as before
    [InlineData(16, 4096, 1)]      // below the threshold: one
    [InlineData(4096, 64, Partition.MaxChunks)]
    public void Lane_chunks_hold_32_values_per_statistic_where_more_than_two_are_made(int rows, int columns, int expected)
    {
        int length = rows * columns;
        Assert.Equal(expected, Partition.ChunkCount(rows, length, Partition.ParallelThreshold, columns));
        int size = Partition.ChunkSize(rows, length, Partition.ParallelThreshold, columns);
        Assert.True(size * expected >= rows && size * (expected - 1) < rows, $"{expected} chunks of {size} must cover {rows} rows exactly");
    }

    /// <summary>
    /// The side-by-side kernels' partition: at least the given indices a chunk (all of them where there are fewer), and
    /// never smaller chunks than the plain partition's (one chunk below the threshold stays one).
    /// </summary>
    [Theory]
    [InlineData(32, 8, 128 * 2048, 4, 8)]                                    // BatchNorm2d x[128,32,8,8]: 4 chunks of 8, not 8 of 4
    [InlineData(16, 4, 256 * 1024, 4, 4)]                                    // x[256,16,8,8]: 4 of 4, not 8 of 2
    [InlineData(64, 8, 128 * 4096, Partition.MaxChunks, 8)]                  // eight chunks of 8 already
    [InlineData(32, 8, Partition.OnePassParallelThreshold - 1, 1, 32)]       // one chunk below the threshold
    [InlineData(32, 8, Partition.ParallelThreshold, 2, 16)]                  // two chunks of 16, more than 8 each
    [InlineData(6, 8, 128 * 2048, 1, 6)]                                     // fewer indices than the minimum: one chunk
    public void Side_by_side_chunks_hold_at_least_the_given_indices(int extent, int minIndices, int length, int chunks, int size)
    {
        Assert.Equal(chunks, Partition.ChunkCountAtLeast(extent, minIndices, length, Partition.OnePassParallelThreshold));
        Assert.Equal(size, Partition.ChunkSizeAtLeast(extent, minIndices, length, Partition.OnePassParallelThreshold));
    }

    [Fact]
    public void Degree_is_the_setting_capped_by_the_processors()
    {
        Assert.Equal(1, Partition.Degree(1));
        Assert.Equal(1, Partition.Degree(0));
        Assert.Equal(System.Math.Min(2, System.Environment.ProcessorCount), Partition.Degree(2));
        Assert.Equal(System.Environment.ProcessorCount, Partition.Degree(int.MaxValue));
    }

    [Fact]
    public void Outputs_stream_from_2_MiB_a_thread_or_data_over_2_5_MiB_a_thread_in_calls_past_20_MiB()
    {
        const long MiB = 1L << 20;
        const long Large = 64 * MiB;
        if (!System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            Assert.False(Partition.StreamsOutput(Large, Large, 2 * Large));
            return;
        }
        // A thread's share larger than a core's cache, in a call larger than the L3 holds.
        Assert.True(Partition.StreamsOutput(2 * MiB, 2 * MiB, Large));
        Assert.False(Partition.StreamsOutput(MiB / 4, 2 * MiB - 1, Large));
        // BatchNorm2d x[8,256,14,14] backward at 2 threads: 0.77 MiB of dx in 2.3 MiB a thread stays in the cache.
        Assert.False(Partition.StreamsOutput(1_605_632, 802_816, Large));
        Assert.False(Partition.StreamsOutput(3 * MiB / 2, MiB, Large));
        Assert.True(Partition.StreamsOutput(2 * MiB, MiB, Large));
        // The same shares in a call the L3 holds (20 MiB in all) go through the cache: a forward of 10 MiB tensors.
        Assert.False(Partition.StreamsOutput(10 * MiB, 10 * MiB, 20 * MiB));
        Assert.True(Partition.StreamsOutput(10 * MiB, 10 * MiB, 20 * MiB + 4));
        Assert.False(Partition.StreamsOutput(4 * MiB, 2 * MiB, 6 * MiB));
        // ... except a backward whose x and dy fit the L2, which streaming dx keeps there (x[128,32,8,8] on one thread).
        Assert.True(Partition.StreamsOutput(2 * MiB, MiB, 3 * MiB));
        Assert.False(Partition.StreamsOutput(2 * MiB + 4, MiB, 3 * MiB + 4));
        Assert.False(Partition.StreamsOutput(2 * MiB, MiB + 4, 3 * MiB + 4));
    }

    [Fact]
    public void A_share_exceeds_the_core_cache_from_2_MiB_of_output_or_2_5_MiB_in_all()
    {
        const long MiB = 1L << 20;
        Assert.True(Partition.ExceedsCoreCache(0, 2 * MiB));
        Assert.False(Partition.ExceedsCoreCache(MiB / 2 - 1, 2 * MiB - 1));
        Assert.True(Partition.ExceedsCoreCache(MiB / 2 + 2, 2 * MiB - 1));
        Assert.False(Partition.ExceedsCoreCache(3 * MiB / 2, MiB));
    }
}
