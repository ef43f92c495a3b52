using NormGen;

namespace NormGen.Tests.Threading;

// The tests give these layers inputs large enough (≥ Threading.ParallelThreshold values) to run on several threads.
[Normalize(Shape = "N,C=16,H=32,W=32", Axes = "NHW")]
internal partial class ThreadedBatchNorm { }

[Normalize(Shape = "N,H=16,W=16,C=32", Axes = "NHW")]
internal partial class ThreadedChannelsLastBatchNorm { }

[Normalize(Shape = "N,D=512", Axes = "D")]
internal partial class ThreadedLayerNorm { }

[Normalize(Shape = "N,C=32,H=16,W=16", Axes = "CHW", Groups = 8)]
internal partial class ThreadedGroupNorm { }

[Normalize(Shape = "N,D=384", Axes = "D", Kind = NormKind.Rms)]
internal partial class ThreadedRmsNorm { }

[Normalize(Shape = "N,H=16,W=16,C=16", Axes = "HW")]
internal partial class ThreadedChannelsLastInstanceNorm { }

[Normalize(Shape = "N,C=1024", Axes = "N")]
internal partial class ThreadedBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float> { }

// Rows for the pipelined forward (a row's statistics pass also writes the previous row's y): longer than 2 KiB, which
// the short groups take, and shorter than 8 KiB. Whole unrolled iterations (768 floats, 512 doubles), a whole vector
// left over (1000 floats), whole and partial vectors left over (588 floats, 266 doubles).
[Normalize(Shape = "N,D=768", Axes = "D")]
internal partial class PipelinedLayerNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

[Normalize(Shape = "N,D=1000", Axes = "D")]
internal partial class PipelinedVectorTailLayerNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

[Normalize(Shape = "N,D=588", Axes = "D")]
internal partial class PipelinedPartialTailLayerNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

[Normalize(Shape = "N,D=512", Axes = "D", ElementType = typeof(double))]
internal partial class PipelinedDoubleLayerNorm : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=266", Axes = "D", ElementType = typeof(double))]
internal partial class PipelinedDoublePartialTailLayerNorm : IPerSampleLayer<double>, IAffineLayer<double> { }

// Few channels, each larger than a core's cache (Threading.SampleSplitGroupBytes) at the batches the tests use: training
// and backward split every channel across the samples. 64×64 float maps (whole unrolled iterations), and runs of 1001
// doubles (a partial vector at each run's end).
[Normalize(Shape = "N,C=3,H=64,W=64", Axes = "NHW")]
internal partial class SampleSplitBatchNorm : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=2,L=1001", Axes = "NL", ElementType = typeof(double))]
internal partial class SampleSplitDoubleBatchNorm : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

// Rows that fill no whole number of cache lines: y goes over a chunk's rows as one flat run, in periods of 4 rows of 100
// floats (400 values) and of 8 rows of 37 doubles (296 values).
[Normalize(Shape = "N,C=100", Axes = "N")]
internal partial class FlatRowsBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=37", Axes = "N", ElementType = typeof(double))]
internal partial class FlatRowsDoubleBatchNorm1d : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

// Rows × columns whose last columns (5 floats, 4 floats, 1 double) are the last lanes of the vector ending at the last
// column; 2100 floats also take the tiled y pass (their constants repeated over a period would not fit the L1 cache).
[Normalize(Shape = "N,C=37", Axes = "N")]
internal partial class ColumnTailBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=2100", Axes = "N")]
internal partial class WideColumnTailBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=37", Axes = "N", ElementType = typeof(double))]
internal partial class DoubleColumnTailBatchNorm1d : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

// Three channels of 30×30 float maps: runs of 900 values, whose last 4 are a scalar tail, summed run by run group by
// group, so the backward's sample-split path keeps each run's sums and the threads choose between the two paths.
[Normalize(Shape = "N,C=3,H=30,W=30", Axes = "NHW")]
internal partial class UnevenSplitBatchNorm : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

// The sample-split path without γ and β.
[Normalize(Shape = "N,C=3,H=64,W=64", Axes = "NHW", Affine = false)]
internal partial class SampleSplitPlainBatchNorm : IBatchStatsLayer<float>, IRunningStatsLayer<float> { }

// Rows that fill no whole number of cache lines and repeat their lines only every 16 rows (floats) or 8 (doubles), too
// many for a period: inference goes over a chunk's rows as one flat run of vectors on y's lines, the column wrapping
// at 257, hi left out where every mean was folded into the shift.
[Normalize(Shape = "N,C=257", Axes = "N")]
internal partial class WrappedRowsBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=257", Axes = "N", ElementType = typeof(double))]
internal partial class WrappedRowsDoubleBatchNorm1d : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

// Rows of whole cache lines with their per-column constants in the L1 cache: y goes as one wrapped flat run (as above),
// dx row by row in memory order, two rows a step where x and dx start on cache lines, one elsewhere.
[Normalize(Shape = "N,C=512", Axes = "N")]
internal partial class RowOrderBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=128", Axes = "N", ElementType = typeof(double))]
internal partial class RowOrderDoubleBatchNorm1d : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

// Rows of whole lines narrower than a wrapped step (64 floats, 32 doubles) and wider than a tile: y row by row in memory
// order, two rows a step where x and y start on cache lines, one elsewhere.
[Normalize(Shape = "N,C=48", Axes = "N")]
internal partial class RowOrderNarrowBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=24", Axes = "N", ElementType = typeof(double))]
internal partial class RowOrderNarrowDoubleBatchNorm1d : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

// Rows of 2 KiB or more also take dx row by row (512 floats above; 1001 here, with vectors of 16, 8 and a value after
// the last whole vector).
[Normalize(Shape = "N,C=1001", Axes = "N")]
internal partial class RowOrderOddBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

// Rows whose constants pass half the L1 go row by row in blocks of columns: y in blocks of 2048 floats (4141 = two
// blocks of tiles, then two 512-bit vectors, a 256-bit one and 5 values) and 1024 doubles, dx in blocks of 1536 floats
// and 768 doubles; 4096 floats are whole lines (two rows a step where x and y start on lines).
[Normalize(Shape = "N,C=4141", Axes = "N")]
internal partial class BlockedRowsBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=4096", Axes = "N")]
internal partial class BlockedLinesBatchNorm1d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=2077", Axes = "N", ElementType = typeof(double))]
internal partial class BlockedRowsDoubleBatchNorm1d : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

// Without γ the row-order dx reads 1/std itself as its gain.
[Normalize(Shape = "N,C=512", Axes = "N", Affine = false)]
internal partial class RowOrderPlainBatchNorm1d : IBatchStatsLayer<float>, IRunningStatsLayer<float> { }

// Rows whose γ has so many entries (16,384 or more) that dγ and dβ take a pass of their own, column by column, for up to
// 64 rows (from 65,536 entries for every batch): LayerNorm over [C,H,W] with 16 columns after the last whole tile of 32,
// doubles with 6 after the last tile of 16, RMSNorm without β, and LayerNorm over [C,H,W] of 69,696 entries.
[Normalize(Shape = "N,C=16,H=33,W=33", Axes = "CHW")]
internal partial class ColumnPassLayerNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

[Normalize(Shape = "N,D=16390", Axes = "D", ElementType = typeof(double))]
internal partial class ColumnPassDoubleLayerNorm : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=16384", Axes = "D", Kind = NormKind.Rms)]
internal partial class ColumnPassRmsNorm : IPerSampleLayer<float>, IScaledLayer<float> { }

[Normalize(Shape = "N,C=64,H=33,W=33", Axes = "CHW")]
internal partial class AlwaysColumnPassLayerNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

// Runs of under 8 cache lines that end inside a line (100 floats, 7×7 maps of 49): through the cache they are written
// as whole vectors and the last lanes of the vector ending at the run's end; streamed, with their edges apart.
[Normalize(Shape = "N,D=100", Axes = "D")]
internal partial class ShortRunLayerNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

[Normalize(Shape = "N,C=8,H=7,W=7", Axes = "NHW")]
internal partial class ShortRunBatchNorm : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

// Rows of 16 KiB and more with γ along the row, whose backward (and LayerNorm's forward) takes the two-stage pipeline
// where the output streams (2 MiB and more at one thread): LayerNorm over 4096 floats and 2048 doubles, RMSNorm over
// 4096 floats (no β, no Σg).
[Normalize(Shape = "N,D=4096", Axes = "D")]
internal partial class PipelinedBackwardLayerNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

[Normalize(Shape = "N,D=2048", Axes = "D", ElementType = typeof(double))]
internal partial class PipelinedBackwardDoubleLayerNorm : IPerSampleLayer<double>, IAffineLayer<double> { }

[Normalize(Shape = "N,D=4096", Axes = "D", Kind = NormKind.Rms)]
internal partial class PipelinedBackwardRmsNorm : IPerSampleLayer<float>, IScaledLayer<float> { }

// Channels-first BatchNorm on 32×32 maps (runs of 1024 floats), whose backward takes the group pipeline where dx streams.
[Normalize(Shape = "N,C=16,H=32,W=32", Axes = "NHW")]
internal partial class PipelinedBackwardBatchNorm : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

// The same on 28×28 maps: runs of 784 floats, 16 past the sums' last whole iteration.
[Normalize(Shape = "N,C=16,H=28,W=28", Axes = "NHW")]
internal partial class PipelinedBackwardBatchNorm28 : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

// GroupNorm(4, 32) on 32×32 maps: groups of 8 runs of 1024 floats (32 KiB), whose backward takes the group pipeline where
// dx streams and two threads or more run; γ differs by channel, so each run of the previous group has its own gain.
[Normalize(Shape = "N,C=32,H=32,W=32", Axes = "CHW", Groups = 4)]
internal partial class PipelinedBackwardGroupNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

// GroupNorm(1, 8) on 32×32 maps: one group of 8 runs of 1024 floats a sample, the same pipeline over the batch dim.
[Normalize(Shape = "N,C=8,H=32,W=32", Axes = "CHW", Groups = 1, AffineAxes = "C")]
internal partial class PipelinedBackwardSampleGroupNorm : IPerSampleLayer<float>, IAffineLayer<float> { }

// Groups side by side in memory order (runs of 4–8 cache lines, samples a multiple of 4 KiB apart), each beside a layer
// of one more channel, whose samples are not, which computes the same channels group by group.
[Normalize(Shape = "N,C=32,H=8,W=8", Axes = "NHW")]
internal partial class MemoryOrderBatchNorm : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=33,H=8,W=8", Axes = "NHW")]
internal partial class GroupOrderBatchNorm : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=256,H=10,W=10", Axes = "NHW")]
internal partial class MemoryOrderTailBatchNorm : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=257,H=10,W=10", Axes = "NHW")]
internal partial class GroupOrderTailBatchNorm : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

// Runs of one cache line (4×4 maps), side by side wherever the samples lie, beside a layer of fewer channels than a
// call's chunks, which computes the same channels group by group.
[Normalize(Shape = "N,C=256,H=4,W=4", Axes = "NHW")]
internal partial class MemoryOrderLineBatchNorm : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=100,H=4,W=4", Axes = "NHW")]
internal partial class MemoryOrderUnalignedLineBatchNorm : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

[Normalize(Shape = "N,C=7,H=4,W=4", Axes = "NHW")]
internal partial class GroupOrderLineBatchNorm : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }

// Double runs of two vectors (2×4 maps): statistics, y and dx side by side; the reference has fewer channels than chunks.
[Normalize(Shape = "N,C=16,H=2,W=4", Axes = "NHW", ElementType = typeof(double))]
internal partial class MemoryOrderShortDoubleBatchNorm : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

[Normalize(Shape = "N,C=7,H=2,W=4", Axes = "NHW", ElementType = typeof(double))]
internal partial class GroupOrderShortDoubleBatchNorm : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

[Normalize(Shape = "N,C=16,H=4,W=8", Axes = "NHW", ElementType = typeof(double))]
internal partial class MemoryOrderDoubleBatchNorm : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

[Normalize(Shape = "N,C=17,H=4,W=8", Axes = "NHW", ElementType = typeof(double))]
internal partial class GroupOrderDoubleBatchNorm : IBatchStatsLayer<double>, IAffineLayer<double>, IRunningStatsLayer<double> { }

// One sample of these is 65,536 values (two chunks of its groups, see OneSampleGroupsTests): GroupNorm over groups of
// 32 KiB, InstanceNorm over 32×32 maps (group by group) and over 8×8 maps (the short groups a vector's width at a time).
[Normalize(Shape = "N,C=64,H=32,W=32", Axes = "CHW", Groups = 8)]
internal partial class OneSampleGroupNorm : IGroupLayer { }

[Normalize(Shape = "N,C=64,H=32,W=32", Axes = "HW")]
internal partial class OneSampleInstanceNorm : IGroupLayer { }

[Normalize(Shape = "N,C=1024,H=8,W=8", Axes = "HW")]
internal partial class OneSampleShortInstanceNorm : IGroupLayer { }

// One sample of 16 channels of 64×64 floats: 65,536 values, two chunks of the inference pass's runs (sample × channel).
[Normalize(Shape = "N,C=16,H=64,W=64", Axes = "NHW")]
internal partial class OneSampleBatchNorm2d : IBatchStatsLayer<float>, IAffineLayer<float>, IRunningStatsLayer<float> { }
