using System;
using System.ComponentModel;

namespace NormGen.Internal;

/// <summary>How many threads a call may use.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Threading
{
    /// <summary>Below this many values a call runs on the caller's thread: waking a helper costs more than it saves.</summary>
    public const int ParallelThreshold = 1 << 16;

    /// <summary>The degree of parallelism for a call over <paramref name="length"/> values, capped by the layer's setting.</summary>
    public static int Degree(int length, int maxDegreeOfParallelism) =>
        length < ParallelThreshold ? 1 : Math.Max(1, Math.Min(maxDegreeOfParallelism, Environment.ProcessorCount));

    /// <summary>The indices per chunk when <paramref name="extent"/> indices are split into at most 64 chunks (a partition that depends on the shape only).</summary>
    public static int ChunkSize(int extent) => ChunkSize(extent, 64);

    /// <summary>The indices per chunk when <paramref name="extent"/> indices are split into at most <paramref name="maxChunks"/> chunks.</summary>
    public static int ChunkSize(int extent, int maxChunks) => Math.Max(1, (extent + maxChunks - 1) / maxChunks);

    /// <summary>The number of chunks of <see cref="ChunkSize(int)"/> indices that cover <paramref name="extent"/>.</summary>
    public static int ChunkCount(int extent) => ChunkCount(extent, 64);

    /// <summary>The number of chunks of <see cref="ChunkSize(int, int)"/> indices that cover <paramref name="extent"/>.</summary>
    public static int ChunkCount(int extent, int maxChunks) => (extent + ChunkSize(extent, maxChunks) - 1) / ChunkSize(extent, maxChunks);
}
