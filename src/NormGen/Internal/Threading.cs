using System;
using System.ComponentModel;

namespace NormGen.Internal;

/// <summary>How many threads a call may use.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Threading
{
    /// <summary>
    /// Below this many values a call of the lane kernels (BatchNorm1d, channels-last BatchNorm) is one chunk, on the
    /// caller's thread: their training and backward make two or three parallel passes, each a hand-off to the helpers
    /// and a merge of per-chunk sums, which cost more than a second thread saves on smaller inputs (BatchNorm1d
    /// x[128,512] training at two threads: 19.7 µs as one chunk, 22.2 as two).
    /// </summary>
    public const int ParallelThreshold = 1 << 17;

    /// <summary>
    /// The same for the group-major kernels (LayerNorm, RMSNorm, GroupNorm, InstanceNorm, channels-first BatchNorm),
    /// which make one parallel pass per call: from this many values (libtorch's grain size too) two threads pay off.
    /// Measured at two threads, one chunk against two: LayerNorm x[64,768] forward 12.0 → 7.8 µs, backward 21.3 → 17.8;
    /// RMSNorm x[64,768] backward 16.4 → 11.9; BatchNorm2d x[32,32,8,8] training 18.3 → 14.6, backward 21.4 → 15.7.
    /// </summary>
    public const int OnePassParallelThreshold = 1 << 15;

    /// <summary>
    /// The threads a call may use: the layer's setting, capped by the processor count. A call split into one chunk runs
    /// on the caller's thread whatever this says (<see cref="ChunkSize(int, int, int)"/> decides that from the input's size).
    /// </summary>
    public static int Degree(int maxDegreeOfParallelism) =>
        Math.Max(1, Math.Min(maxDegreeOfParallelism, Environment.ProcessorCount));

    /// <summary>The most chunks a call is split into: enough to keep up to 8 threads busy, few to merge.</summary>
    public const int MaxChunks = 8;

    /// <summary>
    /// The indices per chunk when <paramref name="extent"/> indices are shared out: one chunk for an input of
    /// <paramref name="length"/> values below the kernels' <paramref name="parallelThreshold"/> (it runs on one thread),
    /// two below twice <see cref="ParallelThreshold"/> (each still worth a thread: BatchNorm1d x[256,512] runs 1.3×
    /// faster on two), else at most <see cref="MaxChunks"/>. The partition depends on the shape and the batch only, never
    /// on the threads, so results do not either.
    /// </summary>
    public static int ChunkSize(int extent, int length, int parallelThreshold) =>
        IndicesPerChunk(extent, Chunks(length, parallelThreshold));

    /// <summary>The number of chunks of <see cref="ChunkSize(int, int, int)"/> indices that cover <paramref name="extent"/>.</summary>
    public static int ChunkCount(int extent, int length, int parallelThreshold) =>
        ChunksOf(extent, ChunkSize(extent, length, parallelThreshold));

    /// <summary>
    /// <see cref="ChunkSize(int, int, int)"/> with at least <paramref name="minIndices"/> indices a chunk: for the
    /// side-by-side kernels, whose chunk reads its indices' runs of every sample in memory order, a piece of each sample
    /// of at least 2 KiB (the generator computes <paramref name="minIndices"/> from the run's bytes). Results do not
    /// depend on it: each index's sums stay within one chunk whatever the chunks' size.
    /// </summary>
    public static int ChunkSizeAtLeast(int extent, int minIndices, int length, int parallelThreshold) =>
        Math.Max(ChunkSize(extent, length, parallelThreshold), Math.Min(minIndices, extent));

    /// <summary>The number of chunks of <see cref="ChunkSizeAtLeast"/> indices that cover <paramref name="extent"/>.</summary>
    public static int ChunkCountAtLeast(int extent, int minIndices, int length, int parallelThreshold) =>
        ChunksOf(extent, ChunkSizeAtLeast(extent, minIndices, length, parallelThreshold));

    /// <summary>
    /// <see cref="ChunkSize(int, int, int)"/> for the lane kernels, whose every chunk keeps its own rows of partial sums,
    /// one per statistic (<paramref name="statistics"/>), zeroed, filled and merged on every call: where a call would
    /// make more than two chunks, as many as hold at least <see cref="ValuesPerPartialSum"/> values per statistic each,
    /// in a power of two (so two, four or eight threads share them evenly), and never fewer than two. A wide BatchNorm1d
    /// on a small batch otherwise cut its rows into eight chunks of a few rows, whose partial sums were half as large as
    /// their data (x[64,4096] in eight chunks of 8 rows, against two of 32: training 1.1× / 1.3× and backward 1.25× /
    /// 1.3× faster at 1 / 2 threads in two). The partition still depends on the shape and the batch only.
    /// </summary>
    public static int ChunkSize(int extent, int length, int parallelThreshold, int statistics)
    {
        int chunks = Chunks(length, parallelThreshold);
        if (chunks > 2)
        {
            long fit = length / Math.Max(1L, (long)ValuesPerPartialSum * statistics);
            chunks = fit >= MaxChunks ? MaxChunks : fit >= 4 ? 4 : 2;
        }
        return IndicesPerChunk(extent, chunks);
    }

    /// <summary>The number of chunks of <see cref="ChunkSize(int, int, int, int)"/> indices that cover <paramref name="extent"/>.</summary>
    public static int ChunkCount(int extent, int length, int parallelThreshold, int statistics) =>
        ChunksOf(extent, ChunkSize(extent, length, parallelThreshold, statistics));

    /// <summary>One chunk below <paramref name="parallelThreshold"/> values, two below twice <see cref="ParallelThreshold"/>, else <see cref="MaxChunks"/>.</summary>
    private static int Chunks(int length, int parallelThreshold) =>
        length < parallelThreshold ? 1 : length < 2 * ParallelThreshold ? 2 : MaxChunks;

    /// <summary>The chunks of <paramref name="chunkSize"/> indices that cover <paramref name="extent"/>.</summary>
    private static int ChunksOf(int extent, int chunkSize) => (extent + chunkSize - 1) / chunkSize;

    /// <summary>The indices per chunk that share <paramref name="extent"/> out in <paramref name="chunks"/> chunks (at least one).</summary>
    private static int IndicesPerChunk(int extent, int chunks) => Math.Max(1, (extent + chunks - 1) / chunks);

    /// <summary>
    /// The fewest values a lane kernel's chunk sums per statistic where the call makes more than two chunks: 32, a block
    /// of rows of the column kernels' tiles.
    /// </summary>
    public const int ValuesPerPartialSum = 32;

    /// <summary>
    /// Channels-first BatchNorm with few channels (fewer than <see cref="MaxChunks"/>) splits each channel across the samples
    /// (two parallel passes with per-chunk sums merged in chunk order) rather than sharing out whole channels, where a
    /// channel holds more than this many bytes: group by group, such a channel is read from memory twice anyway (it does
    /// not stay in a core's 2 MiB L2 between its sums and its output), and three channels over two threads split 2 : 1.
    /// Smaller channels stay group by group, where the second pass finds the channel in the cache.
    /// </summary>
    public const long SampleSplitGroupBytes = 2L << 20;

    /// <summary>
    /// Whether a call of a layer that has the sample-split path takes it: its groups (<paramref name="groupBytes"/> each)
    /// are larger than <see cref="SampleSplitGroupBytes"/> (such a call is many times <see cref="OnePassParallelThreshold"/>
    /// values, so always worth several chunks). Shape and batch decide, never the threads, so results do not depend on them.
    /// </summary>
    public static bool SplitsGroupsAcrossSamples(long groupBytes) => groupBytes > SampleSplitGroupBytes;

    /// <summary>
    /// Whether a call takes the sample-split path where the layer's sample-split sums are added as group by group adds
    /// them (the same bits either way, so the threads may decide): where <see cref="SplitsGroupsAcrossSamples(long)"/>, and also
    /// where more than one thread would share out <paramref name="groups"/> groups unevenly (three channels over two
    /// threads split 2 : 1, and a call with fewer groups than threads leaves some idle) while the split makes more than
    /// one chunk (<paramref name="splitChunks"/>). On one thread group by group stays, whose second pass finds the group
    /// in the cache. Measured on BatchNorm2d x[256,3,32,32] (1 MiB channels, alternating builds, seven pairs): backward at
    /// two threads split 266–351 µs against 421–553 group by group, at one thread 709–857 against 618–801; training at two
    /// threads 201–287 against 258–368, at one 410–527 against 358–479.
    /// </summary>
    public static bool SplitsGroupsAcrossSamples(long groupBytes, int groups, int splitChunks, int degree) =>
        SplitsGroupsAcrossSamples(groupBytes) || (degree > 1 && splitChunks > 1 && groups % degree != 0);

    /// <summary>
    /// Outputs of at least this many bytes are written with non-temporal stores. Measured on a 2 MiB-L2 machine: a
    /// 1 MiB output is written faster through the cache, a 2 MiB one 1.3× faster around it (no read of each line
    /// before it is overwritten), and that gap stays for every larger size.
    /// </summary>
    public const long StreamingThreshold = 2L << 20;

    /// <summary>
    /// A call whose data per thread is more than this writes its output with non-temporal stores even when the output
    /// share is smaller than <see cref="StreamingThreshold"/>: the output's lines would evict the inputs from the thread's
    /// cache (BatchNorm2d backward x[128,32,8,8], 3 MiB a call on one thread: 1.2–1.4× faster streaming). It is a little
    /// over the 2 MiB L2, not the L2 itself, because every other call runs its chunks in reverse (<see cref="ChunkRunner{TState, T}"/>):
    /// a share a little larger than the L2 loses only its excess each call, and writing through the cache is then faster
    /// (BatchNorm2d x[8,256,14,14] backward at two threads, 2.3 MiB a thread: 86–92 → 75–76 µs; x[4,256,14,14] backward
    /// on one thread 71–76 → 65–72 µs).
    /// </summary>
    public const long WorkingSetStreamingThreshold = 5L << 19;

    /// <summary>
    /// A call that reads and writes at most this many bytes in all stays in the last-level cache from one call to the
    /// next, and writing its output through the cache beats writing it to memory, however large each thread's share:
    /// 20 MiB, five eighths of the 32 MiB L3 of the AMD EPYC (Zen 5) machines issue 4 is measured on, where non-temporal
    /// stores go to memory at 20–25 GB/s for two cores while the L3 copies at 110–200 GB/s. Through the cache (alternating
    /// builds, 1 / 2 threads): GroupNorm(1) x[8,64,56,56] forward (12 MiB) 1.3× / 1.7× faster, BatchNorm2d x[32,64,32,32]
    /// inference (16 MiB) 1.4× / 2×, x[16,3,224,224] inference (18.4 MiB) 1.35× / 2.2× and training 1.15× / 1.65×;
    /// GroupNorm(32) x[8,256,28,28] backward (18.4 MiB) 0.86× / 1.35×. From 24 MiB (BatchNorm2d x[32,64,32,32] backward)
    /// streaming wins again, 2× at one thread: the L3 is shared with the machine's other cores. Whether a smaller call's
    /// data is still in the L3 when the next call comes, sizes cannot tell: such calls are timed both ways
    /// (<see cref="MayStreamOutput"/>).
    /// </summary>
    public const long CacheResidentCallBytes = 20L << 20;

    /// <summary>
    /// Whether a call's output is written with non-temporal stores (x86 with AVX only), given one thread's share of what
    /// it reads (<paramref name="inputShareBytes"/>) and writes (<paramref name="outputShareBytes"/>) and the bytes of the
    /// whole call (<paramref name="callBytes"/>). A share, because each thread keeps to its own chunks call after call
    /// (<see cref="ChunkClaims"/>): at two threads, BatchNorm2d x[8,256,14,14] inference (3 MiB in all) stays in the two
    /// cores' caches. The share must be larger than a core's cache — its output at least <see cref="StreamingThreshold"/>,
    /// or all of it more than <see cref="WorkingSetStreamingThreshold"/> — and then either the call is larger than the
    /// last-level cache holds (<see cref="CacheResidentCallBytes"/>) or streaming keeps the inputs in the L2 or the L3
    /// (<see cref="StreamingKeepsInputsInL2"/>, <see cref="StreamingKeepsInputsInL3"/>).
    /// </summary>
    public static bool StreamsOutput(long inputShareBytes, long outputShareBytes, long callBytes) =>
        ExceedsCoreCache(inputShareBytes, outputShareBytes)
        && (callBytes > CacheResidentCallBytes
            || StreamingKeepsInputsInL2(inputShareBytes, outputShareBytes)
            || StreamingKeepsInputsInL3(inputShareBytes, outputShareBytes))
        && System.Runtime.Intrinsics.X86.Avx.IsSupported;

    /// <summary>
    /// Whether a call that <see cref="StreamsOutput"/> keeps in the cache might be faster streamed: one thread's share is
    /// larger than its core's cache, and only the whole call's fitting the last-level cache (at most
    /// <see cref="CacheResidentCallBytes"/>) kept it there (a pass that writes no output, a statistics pass, has nothing to
    /// stream). Whether that cache still holds the call's data when the next call comes depends on what else the process
    /// and the machine do, so <see cref="StreamingTrials"/> times such calls both ways.
    /// </summary>
    public static bool MayStreamOutput(long inputShareBytes, long outputShareBytes, long callBytes) =>
        outputShareBytes > 0
        && ExceedsCoreCache(inputShareBytes, outputShareBytes)
        && !StreamsOutput(inputShareBytes, outputShareBytes, callBytes)
        && System.Runtime.Intrinsics.X86.Avx.IsSupported;

    /// <summary>
    /// Whether one thread's share of a call is larger than a core's cache: its output at least
    /// <see cref="StreamingThreshold"/>, or all of it more than <see cref="WorkingSetStreamingThreshold"/>. Such a share
    /// comes from the L3 or memory every call; where it comes from the L3, the long-row backward pipeline (each row's
    /// sums pass also writing the previous row's dx) hides that better than row-by-row passes.
    /// </summary>
    public static bool ExceedsCoreCache(long inputShareBytes, long outputShareBytes) =>
        outputShareBytes >= StreamingThreshold || inputShareBytes + outputShareBytes > WorkingSetStreamingThreshold;

    /// <summary>
    /// A backward whose x and dy fit a core's 2 MiB L2 while dx does not fit beside them: written through the cache, dx
    /// would evict them and the next call read them from the L3; streamed, they stay (BatchNorm2d x[128,32,8,8] backward
    /// on one thread, 2 MiB of x and dy: 1.7× faster streaming). An output as large as the inputs (a forward) gains less
    /// than writing it to memory costs.
    /// </summary>
    public static bool StreamingKeepsInputsInL2(long inputShareBytes, long outputShareBytes) =>
        inputShareBytes <= CoreL2Bytes && 2 * outputShareBytes <= inputShareBytes;

    /// <summary>
    /// A backward whose one thread reads a quarter of the L3 or more of x and dy: written through the cache, dx takes a
    /// third of the call's lines through the L3, which (shared with the machine's other cores) then keeps too little of x
    /// and dy for the next call; streamed, dx goes to memory at the speed of its non-temporal stores and x and dy stay.
    /// Measured on one thread (alternating runs, streaming against through the cache): GroupNorm(32) x[8,256,28,28]
    /// backward (12 MiB of x and dy) 1.49× faster, GroupNorm(1) x[8,64,56,56] 1.25×, InstanceNorm x[16,64,32,32] (8 MiB)
    /// 1.15×; shares of 6 MiB (BatchNorm2d x[256,3,32,32]) and 3 MiB (x[8,256,14,14]) were 0.94× and 0.87×, and at two
    /// threads, half the share each, through the cache wins (1.1–1.3×): two cores' non-temporal stores share 20–25 GB/s.
    /// </summary>
    public static bool StreamingKeepsInputsInL3(long inputShareBytes, long outputShareBytes) =>
        inputShareBytes >= L3QuarterBytes && 2 * outputShareBytes <= inputShareBytes;

    /// <summary>
    /// Whether a kernel whose pieces of work within a chunk are independent should run them last to first on the calls
    /// that take the chunks last to first (<see cref="ChunkRunner{TState, T}.Descending"/>): where one thread's share of
    /// the call's bytes is a little larger than its core's 1 MiB L2, so that the previous call's last runs are still
    /// there. Measured on the memory-order inference (survey harness, against TensorPrimitives in the same process, three
    /// rounds): BatchNorm2d x[1,64,56,56] at one thread (1.6 MiB) 1.15–1.25× faster, x[4,64,56,56] at two (3.2 MiB a
    /// thread) 1.05×, x[32,128,16,16] at two (4 MiB) 1.1×; but an L2-resident x[16,3,32,32] 1.2× slower (each run's
    /// stream started anew, for nothing to find) and a 16 MiB x[32,64,32,32] at one thread 1.07× slower.
    /// </summary>
    public static bool DescendingRunsPay(long shareBytes) => shareBytes > DescendingMinShareBytes && shareBytes <= DescendingMaxShareBytes;

    private const long DescendingMinShareBytes = 1L << 20;
    private const long DescendingMaxShareBytes = 4L << 20;

    /// <summary>A quarter of the 32 MiB L3 of the AMD EPYC machines measured.</summary>
    private const long L3QuarterBytes = 8L << 20;

    /// <summary>
    /// A core's L2 cache on the Intel Xeon VM these thresholds were set on: 2 MiB. The AMD EPYC (Zen 5) machines issue 4 is
    /// measured on have 1 MiB a core; the thresholds were kept there, where they measured no worse.
    /// </summary>
    private const long CoreL2Bytes = 2L << 20;
}
