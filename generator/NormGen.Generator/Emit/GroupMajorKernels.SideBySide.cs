using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// Channels-first BatchNorm over many channels of short runs: runs of 4–8 cache lines whose samples lie a multiple of
/// 4 KiB apart (x[128,32,8,8]: 8 KiB apart), and runs of 1–3 lines wherever they lie. Group by group, every run of a
/// channel of the first kind falls in the same few sets of the L1 and L2 caches (a channel's 128 runs of 8×8 values
/// share 4 of the L1's 64 sets), so the runs evict one another and the lines the sums pass read are gone when dx reads
/// them; runs of the second kind are a line or two each, and a group's sums wait on one another run after run. Here a
/// chunk's channels go side by side in memory order instead, sample by sample: the training forward's y after each
/// channel's statistics (for runs under four vectors the statistics' sums too), and the backward. Each channel keeps its
/// partial-sum vectors in a small array between its runs, adds its runs in the same order and flushes them to double
/// after as many runs as group by group; y and dx are written with the same constants and formula — the same bits as
/// group by group. (Measured on the gradient sums alone over x[128,32,8,8], one thread: 36–38 µs group by group, 24–26
/// in memory order, 22 group by group with 33 channels, whose samples lie 8448 bytes apart; whole calls, alternating
/// builds, 1 / 2 threads: x[128,32,8,8] training forward 2.4× / 2.2× faster, backward 1.07× / 1.3–1.7×; x[32,512,4,4]
/// training 1.95× / 1.9×, backward 2.2× / 2.0×.)
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>
    /// The runs that go side by side, in bytes: 1 to 8 cache lines. Measured (alternating builds, 1 / 2 threads): 8×8
    /// maps (256 bytes) backward 1.07× / 1.7× faster; 4×4 maps (64 bytes) backward 2.2× / 2.0× once each run loads and
    /// stores only the partial-sum vectors its loop adds to and reads its group's constants ready-made (0.97× before),
    /// training 1.95× / 1.9× with its statistics' sums side by side too; 14×14 maps (784 bytes, whose runs spread over
    /// 13 sets) 0.85× / 0.95×, so those stay group by group.
    /// </summary>
    private const int MemoryOrderMinRunBytes = 64, MemoryOrderMaxRunBytes = 512;

    /// <summary>
    /// Runs shorter than this, in bytes (under 4 cache lines), go side by side wherever their samples lie (BatchNorm2d
    /// x[32,500,4,4], samples 32000 bytes apart, 1 / 2 threads: backward 1.6× / 1.5× and training 1.12× / 1.07× faster
    /// than group by group); 8×8 maps with 60 channels were no faster side by side.
    /// </summary>
    internal const int MemoryOrderAnyStrideMaxRunBytes = 256;

    /// <summary>The distance, in bytes, whose multiples map to the same L1 sets (64 sets of 64-byte lines).</summary>
    private const int CacheSetSpanBytes = 4096;

    /// <summary>
    /// Whether the training forward's y pass and the backward go over a chunk's channels in memory order: BatchNorm folded
    /// like inference (<see cref="FoldsOncePerCall"/>) with enough channels to share out whole (the sample-split path takes
    /// fewer), one kept dim (the chunked channels), runs of <see cref="MemoryOrderMinRunBytes"/> to
    /// <see cref="MemoryOrderMaxRunBytes"/> summed several to a float block, and samples a multiple of
    /// <see cref="CacheSetSpanBytes"/> apart (or runs under <see cref="MemoryOrderAnyStrideMaxRunBytes"/>). A run's dx has no
    /// scalar tail (whole vectors, or partial lines written as vectors): group by group, a scalar tail computes in double
    /// from the unrounded gain, slope and offset, which would give other bits than their float vectors.
    /// </summary>
    internal static bool GroupsSideBySide(KernelContext ctx) =>
        FoldsOncePerCall(ctx) && !ctx.Spec.IsRms && !ctx.Layout.StatisticsScaleWithBatch
        && ctx.Layout.StatisticsPerBatchUnit >= MaxChunks
        && ctx.Kept.Count == 1 && ctx.ChunkSegment == ctx.Kept[0]
        && OuterReduced(ctx).Count == 1 && !OuterReduced(ctx)[0].Affine
        && ConstantRunLength(ctx) is int run
        && run * ctx.ElementBytes >= MemoryOrderMinRunBytes && run * ctx.ElementBytes <= MemoryOrderMaxRunBytes
        && RunsPerBlock(ctx) is int
        && (run % ctx.Width == 0 || VectorLoop.WritesEdgesApart(ctx, run))
        && ((long)ctx.Layout.SampleSize * ctx.ElementBytes % CacheSetSpanBytes == 0 || run * ctx.ElementBytes < MemoryOrderAnyStrideMaxRunBytes);

    /// <summary>
    /// The bytes of each sample a side-by-side chunk reads at least, where its samples lie a multiple of 4 KiB apart: 2 KiB,
    /// half a page. A chunk of 4 channels of 8×8 maps read 1 KiB of each page, 16 lines, before jumping to the next
    /// sample's. Measured on the Intel VM (a hand copy of the generated BatchNorm2d x[N,32,8,8] backward with its chunk
    /// size set, alternating in one process, medians): 8 channels a chunk against 4 at two threads 1.05–1.27× faster
    /// (N = 128, 5 runs), 1.12–1.27× (N = 64), 1.06× (N = 32); at one thread 1.02–1.09×; the training forward 1.07–1.11×
    /// at one thread, 1.02× at two. 16 channels were no faster than 8. The generated code, alternating processes against
    /// 4 channels a chunk (medians): the backward at two threads 123–161 → 97–117 µs (5 pairs), at one within the noise;
    /// the training forward at two threads 59–87 → 52–60 µs (6 pairs).
    /// </summary>
    private const int SideBySideMinChunkBytes = 2048;

    /// <summary>
    /// The fewest chunks <see cref="SideBySideMinChunkBytes"/> leaves a call: 4, two a thread at two threads, so that a
    /// thread held up still has a chunk the other can take. BatchNorm2d x[256,16,8,8] (alternating processes, medians, two
    /// threads) in two chunks of 8 channels, one a thread, was 0.77–0.91× as fast as in eight of 2 (training forward;
    /// backward 0.8–1.05×), in four of 4 0.94–1.12× (backward 1.0–1.18×).
    /// </summary>
    private const int SideBySideMinChunks = 4;

    /// <summary>
    /// The fewest channels a chunk of a <see cref="GroupsSideBySide"/> layer holds where its samples lie a multiple of
    /// 4 KiB apart and its runs are 4 cache lines or more: enough for <see cref="SideBySideMinChunkBytes"/> of each
    /// sample, but never fewer than <see cref="SideBySideMinChunks"/> chunks. Null elsewhere, and where eight chunks
    /// already hold that many. The cost: such a call uses at most as many threads as it has chunks (BatchNorm2d
    /// x[128,32,8,8]: 4, not 8).
    /// </summary>
    internal static int? SideBySideMinChunkIndices(KernelContext ctx)
    {
        if (!GroupsSideBySide(ctx))
        {
            return null;
        }
        int runBytes = ConstantRunLength(ctx)!.Value * ctx.ElementBytes;
        if (runBytes < MemoryOrderAnyStrideMaxRunBytes)
        {
            return null;
        }
        int channels = ctx.Kept[0].Size;
        int min = System.Math.Min((SideBySideMinChunkBytes + runBytes - 1) / runBytes, channels / SideBySideMinChunks);
        return min * MaxChunks > channels ? min : null;
    }

    /// <summary>
    /// Whether the side-by-side sums have a 512-bit twin, taken where the processor has AVX-512: runs of whole unrolled
    /// iterations (32, 64, 96 or 128 floats; 8×8 maps), whose four partial-sum vectors per sum lie in <c>blocks</c> in
    /// pairs that a 512-bit vector reads and writes as one, so the twin needs no joining or splitting around its loop
    /// (which is why group by group keeps to runs of at least <see cref="VectorLoop.MinWideSumsIterations"/> iterations).
    /// Runs with single vectors after their iterations add those to one partial sum, which a 512-bit lane pair cannot
    /// reproduce bit for bit, and keep the 256-bit loop. Measured on the Intel VM (a hand copy of the generated
    /// BatchNorm2d x[N,32,8,8] backward, one thread, alternating in one process): the sums pass 1.23–1.36× faster, the
    /// whole backward 1.14–1.19× (N = 32, 64: data in the L2) and 1.14× (N = 128); the generated x[128,32,8,8]
    /// backward in alternating processes (medians of 9 pairs): 1.05–1.38× at one thread (1.1× in most pairs), within
    /// the noise at two (111–175 against 96–193 µs).
    /// </summary>
    internal static bool SideBySideSumsGoWide(KernelContext ctx) =>
        GroupsSideBySide(ctx) && ConstantRunLength(ctx)!.Value % (ctx.Width * Unroll) == 0;

    /// <summary>
    /// Whether the training forward also sums each group's Σd and Σd² side by side (runs under one unrolled iteration,
    /// such as 4×4 maps: 2× faster than group by group) rather than group by group (8×8 maps, whose runs' sums in
    /// registers, read group by group, were 1.2× faster than loading and storing their four vectors per sum every run).
    /// </summary>
    internal static bool SumsStatisticsSideBySide(KernelContext ctx) =>
        GroupsSideBySide(ctx) && VectorLoop.LanesUsed(ctx, ConstantRunLength(ctx)!.Value) < Unroll;

    /// <summary>
    /// The body of <c>StatisticsAndNormalizeChunk</c> for <see cref="GroupsSideBySide"/>: each group's mean and variance
    /// (<see cref="SumsStatisticsSideBySide"/>: Σd and Σd² about its pivot side by side in memory order, the same sums as
    /// group by group, a group whose pivot lies far out summed again group by group as group by group's second attempt;
    /// else group by group), then y for the chunk's groups in memory order, each run with its group's hi, scale and shift
    /// computed once per group as group by group computes them (the same bits).
    /// </summary>
    private static void EmitSideBySideForward(CodeWriter w, KernelContext ctx)
    {
        string c = ctx.LoopVariable(ctx.Kept[0]);
        string[] names = ["sumD", "sumD2"];
        string[] constants = ForwardConstants(ctx);
        if (SumsStatisticsSideBySide(ctx))
        {
            w.Line($"// One statistics group per ({string.Join(", ", ctx.Kept.Select(k => k.Letters))}), its runs of {ConstantRunLength(ctx)} values taken side by side with the chunk's other groups'");
            w.Line("// in memory order: its pivot, its Σd and Σd², its mean and variance, then y.");
        }
        w.Line($"// Each group's {string.Join(", ", constants)} in a row of constants[], which every run reads.");
        w.Line($"global::System.Span<{ctx.T}> constants = stackalloc {ctx.T}[{constants.Length} * (chunkLast - chunkFirst)];");
        w.Line($"ref {ctx.T} constantsRef = ref {Simd}.Ref(constants);");
        if (!SumsStatisticsSideBySide(ctx))
        {
            ForEachGroup(w, ctx, prefetch: true, ownStatistics: true, body: () =>
            {
                EmitMeanAndVariance(w, ctx);
                EmitSaveStatistics(w, ctx);
                EmitConstantsRow(w, ctx, constants);
                EmitForwardConstants(w, ctx, constants);
            });
        }
        else
        {
            w.Line("// Each group's pivot, as group by group: the mean of its first values.");
            ForEachGroup(w, ctx, body: () =>
            {
                EmitPivot(w, ctx);
                EmitConstantsRow(w, ctx, constants);
                w.Line($"{GroupConstant(constants, "k", "pivot")} = pivot;");
            });
            w.Line();
            w.Line("// Σd and Σd² with d = x − pivot for the chunk's groups side by side, sample by sample in memory order: group by");
            w.Line("// group, runs a multiple of 4 KiB apart share a few cache sets and evict one another.");
            EmitSideBySideSums(w, ctx, names,
                perRun: shape => SplatGroupConstants(w, ctx, shape, constants, "pivot"),
                tailScalars: () => w.Line($"{ctx.T} pivot = {GroupConstant(constants, "k", "pivot")};"),
                vector: DeviationSums(ctx), scalar: DeviationSumsScalar, wide: WideDeviationSums(ctx));
            w.Line();
            w.Line("// Each group's mean and variance from its sums: mean = pivot + Σd/n, variance = Σd²/n − (Σd/n)².");
            ForEachGroup(w, ctx, body: () =>
            {
                EmitConstantsRow(w, ctx, constants);
                w.Line($"{ctx.T} pivot = {GroupConstant(constants, "k", "pivot")};");
                w.Line($"double meanShift = totals[2 * ({c} - chunkFirst)] * invCount;");
                w.Line("double mean = pivot + meanShift;");
                w.Line($"double variance = global::System.Math.Max(totals[2 * ({c} - chunkFirst) + 1] * invCount - meanShift * meanShift, 0.0);");
                using (w.Block("if (!(meanShift * meanShift <= variance))"))
                {
                    w.Line("// The group's pivot lies further out than a standard deviation (rare): summed again about the mean");
                    w.Line("// found, group by group, as the group-by-group pass does in its second attempt.");
                    w.Line($"pivot = ({ctx.T})mean;");
                    w.Line($"var pivotV = {Simd}.Splat(pivot);");
                    EmitBlockedSums(w, ctx, names, DeviationSums(ctx), DeviationSumsScalar);
                    w.Line("meanShift = sumD * invCount;");
                    w.Line("mean = pivot + meanShift;");
                    w.Line("variance = global::System.Math.Max(sumD2 * invCount - meanShift * meanShift, 0.0);");
                }
                EmitSaveStatistics(w, ctx);
                EmitForwardConstants(w, ctx, constants);
            });
        }
        w.Line();
        w.Line($"// y for the chunk's groups side by side, sample by sample in memory order: (x − {(ctx.IsFloat ? "hi" : "mean")})·scale{(HasFoldedShift(ctx) ? " + shift" : "")}{(ctx.IsFloat ? "," : ".")}");
        if (ctx.IsFloat)
        {
            w.Line("// the mean's low part in the shift.");
        }
        ForEachRunSideBySide(w, ctx, () =>
        {
            SplatGroupConstants(w, ctx, constants, FoldedRunSplats(ctx));
            VectorLoop.EmitStores(w, ctx, ConstantRunLength(ctx), RunLength(ctx), "yRef",
                (s, index) => FoldedRunValue(ctx, s, index),
                scalar: _ => throw new System.InvalidOperationException("GroupsSideBySide takes runs whose y has no scalar tail"),
                minPartialRunLines: VectorLoop.MinPartialRunLines, splats: FoldedRunSplats(ctx));
        });
    }

    /// <summary>
    /// y's constants in the group's row <c>k</c> of <c>constants</c> from its <c>mean</c> and <c>invStd</c>: the mean's high
    /// part (or the mean), scale = invStd·γ and shift = β − (mean's low part)·scale, as group by group computes them.
    /// </summary>
    private static void EmitForwardConstants(CodeWriter w, KernelContext ctx, string[] constants)
    {
        w.Line("// y's constants, as group by group computes them.");
        string param = SegmentLoops.ParameterOffset(ctx);
        w.Line($"double scale = {FoldedScale(ctx, param)};");
        if (ctx.IsFloat)
        {
            w.Line("float meanHi = (float)mean;");
            w.Line($"{GroupConstant(constants, "k", "meanHi")} = meanHi;");
        }
        else
        {
            w.Line($"{GroupConstant(constants, "k", "mean")} = mean;");
        }
        w.Line($"{GroupConstant(constants, "k", "scale")} = ({ctx.T})scale;");
        if (HasFoldedShift(ctx))
        {
            w.Line($"{GroupConstant(constants, "k", "shift")} = ({ctx.T})({FoldedShift(ctx, ctx.HasBeta ? $"NormGenSimd.At(ref betaRef, {param})" : "0.0")});");
        }
    }

    /// <summary>
    /// Two sums per group over the chunk's runs in memory order: each group's partial-sum vectors wait in <c>blocks</c>
    /// between its runs (four per name, of which a run loads and stores those its loop adds to) and are added to the
    /// double <c>totals</c> (two per group, in the order of <paramref name="names"/>) after as many runs as group by
    /// group: the same sums in the same order. <paramref name="perRun"/> declares what the vector lines use (in the shape
    /// given), <paramref name="tailScalars"/> what a scalar tail uses beside the group's totals (named as
    /// <paramref name="names"/>); <paramref name="wide"/> is the loop's 512-bit twin (<see cref="SideBySideSumsGoWide"/>).
    /// </summary>
    private static void EmitSideBySideSums(CodeWriter w, KernelContext ctx, string[] names, System.Action<VectorShape> perRun, System.Action tailScalars,
        System.Func<int, string, IEnumerable<string>> vector, string[] scalar, WideSums wide)
    {
        string c = ctx.LoopVariable(ctx.Kept[0]);
        string vectorType = $"global::System.Runtime.Intrinsics.Vector256<{ctx.T}>";
        int run = ConstantRunLength(ctx)!.Value;
        int runs = RunsPerBlock(ctx)!.Value;
        int lanes = VectorLoop.LanesUsed(ctx, run);
        bool scalarTail = run % ctx.Width != 0;
        w.Line("// Each group's partial sums wait in blocks[] between its runs (four vectors per sum) and are added in double");
        w.Line("// after as many runs as group by group.");
        w.Line("int groups = chunkLast - chunkFirst;");
        w.Line($"global::System.Span<{vectorType}> blocks = stackalloc {vectorType}[8 * groups];");
        w.Line("blocks.Clear();");
        w.Line($"ref {vectorType} blocksRef = ref {Simd}.Ref(blocks);");
        w.Line("global::System.Span<double> totals = stackalloc double[2 * groups];");
        w.Line("totals.Clear();");
        void Flush()
        {
            using (w.Block($"for (int {c} = chunkFirst; {c} < chunkLast; {c}++)"))
            {
                w.Line($"int block = 8 * ({c} - chunkFirst);");
                w.Line($"totals[2 * ({c} - chunkFirst)] += {Simd}.SumWidened(blocks[block], blocks[block + 1], blocks[block + 2], blocks[block + 3]);");
                w.Line($"totals[2 * ({c} - chunkFirst) + 1] += {Simd}.SumWidened(blocks[block + 4], blocks[block + 5], blocks[block + 6], blocks[block + 7]);");
                w.Line("blocks.Slice(block, 8).Clear();");
            }
        }
        if (ctx.IsFloat)
        {
            w.Line($"// Runs of {run} values: the float sums span {runs} runs before they are added in double.");
            w.Line("int blockRuns = 0;");
        }
        ForEachRunSideBySide(w, ctx, declareStat: scalarTail, afterSample: ctx.IsFloat ? () =>
        {
            using (w.Block($"if (++blockRuns == {runs})"))
            {
                Flush();
                w.Line("blockRuns = 0;");
            }
        } : null, body: () =>
        {
            if (SideBySideSumsGoWide(ctx))
            {
                using (w.Block($"if ({VectorLoop.WideSumsCondition(wide)})"))
                {
                    w.Line("// 512-bit vectors (AVX-512), each a pair of the group's partial-sum vectors in blocks[], read and written as one:");
                    w.Line("// every lane adds the same values in the same order as the 256-bit loop below, so the sums are the same.");
                    perRun(VectorShape.Wide(ctx));
                    w.Line($"ref {WideVectorType(ctx)} pairs = ref {Simd}.AsPairs(ref {Simd}.At(ref blocksRef, 8 * ({c} - chunkFirst)));");
                    PairVectors(w, names, (name, k) => $"var {name} = {Simd}.At(ref pairs, {k});");
                    VectorLoop.EmitWideLoop(w, ctx, 0, run, wide);
                    PairVectors(w, names, (name, k) => $"{Simd}.At(ref pairs, {k}) = {name};");
                }
                using (w.Block("else"))
                {
                    EmitNarrowRun();
                }
            }
            else
            {
                EmitNarrowRun();
            }
        });
        Flush();

        void EmitNarrowRun()
        {
            perRun(VectorShape.Narrow(ctx));
            w.Line($"ref {vectorType} block = ref {Simd}.At(ref blocksRef, 8 * ({c} - chunkFirst));");
            if (lanes < 4)
            {
                w.Line($"// Runs of {run / ctx.Width} vectors add to the first of each sum's four vectors only.");
            }
            BlockVectors(w, names, lanes, (name, k) => $"var {name} = {Simd}.At(ref block, {k});");
            if (scalarTail)
            {
                w.Line("// The run's last values, after its whole vectors, add to the group's double sums.");
                tailScalars();
                w.Line($"ref double {names[0]} = ref totals[2 * ({c} - chunkFirst)];");
                w.Line($"ref double {names[1]} = ref totals[2 * ({c} - chunkFirst) + 1];");
            }
            VectorLoop.Emit(w, ctx, run, RunLength(ctx), vector, _ => scalar);
            BlockVectors(w, names, lanes, (name, k) => $"{Simd}.At(ref block, {k}) = {name};");
        }
    }

    /// <summary>The 512-bit vector type of the layer's element type.</summary>
    private static string WideVectorType(KernelContext ctx) => $"global::System.Runtime.Intrinsics.Vector512<{ctx.T}>";

    /// <summary>
    /// One statement per 512-bit pair of a group's partial-sum vectors (<c>nameBlocks01</c>, <c>nameBlocks23</c>: pairs
    /// 2n and 2n + 1 of <c>blocks</c>' row for name n), a line per name.
    /// </summary>
    private static void PairVectors(CodeWriter w, string[] names, System.Func<string, int, string> statement)
    {
        for (int n = 0; n < names.Length; n++)
        {
            w.Line($"{statement($"{names[n]}Blocks01", 2 * n)} {statement($"{names[n]}Blocks23", 2 * n + 1)}");
        }
    }

    /// <summary>
    /// The loops over the chunk's runs in memory order — samples outside, the chunk's groups inside — with <c>start</c>
    /// for each run (and <c>stat</c> where <paramref name="declareStat"/>: only a scalar tail reads the saved statistics,
    /// the vectors read the chunk's rows of constants); <paramref name="afterSample"/> follows each sample's runs.
    /// </summary>
    /// <param name="descending">Last sample first, and within it the last group first.</param>
    private static void ForEachRunSideBySide(CodeWriter w, KernelContext ctx, System.Action body, bool descending = false, System.Action? afterSample = null,
        bool declareStat = false)
    {
        Segment channels = ctx.Kept[0];
        Segment samples = OuterReduced(ctx)[0];
        string c = ctx.LoopVariable(channels);
        string n = ctx.LoopVariable(samples);
        string extent = ctx.Extent(samples);
        using (w.Block(descending ? $"for (int {n} = {extent} - 1; {n} >= 0; {n}--)" : $"for (int {n} = 0; {n} < {extent}; {n}++)"))
        {
            using (w.Block(descending ? $"for (int {c} = chunkLast - 1; {c} >= chunkFirst; {c}--)" : $"for (int {c} = chunkFirst; {c} < chunkLast; {c}++)"))
            {
                if (declareStat)
                {
                    w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
                }
                w.Line($"int start = {ctx.Offset([(channels, channels.Stride), (samples, samples.Stride)])};");
                body();
            }
            afterSample?.Invoke();
        }
    }

    /// <summary>
    /// One statement per partial-sum vector of a group's block that a run's loop adds to (the first <paramref name="lanes"/>
    /// of the four per name, which lie in <c>blocks</c> name after name), a line per name.
    /// </summary>
    private static void BlockVectors(CodeWriter w, string[] names, int lanes, System.Func<string, int, string> statement)
    {
        for (int n = 0; n < names.Length; n++)
        {
            w.Line(string.Join(" ", Enumerable.Range(0, lanes).Select(lane => statement($"{names[n]}Block{lane}", 4 * n + lane))));
        }
    }

    /// <summary>
    /// <c>ref T k</c> at the group's row of <c>constants</c> (rows laid out as <paramref name="layout"/>), and the
    /// broadcast vectors (<c>nameV</c>) of the given entries from it.
    /// </summary>
    private static void SplatGroupConstants(CodeWriter w, KernelContext ctx, string[] layout, params string[] names) =>
        SplatGroupConstants(w, ctx, VectorShape.Narrow(ctx), layout, names);

    /// <summary>
    /// <c>ref T k</c> at the group's row of <c>constants</c>, and the broadcast vectors of the given entries from it in
    /// <paramref name="shape"/> (<c>nameV</c>, or for 512-bit vectors <c>nameW</c>).
    /// </summary>
    private static void SplatGroupConstants(CodeWriter w, KernelContext ctx, VectorShape shape, string[] layout, params string[] names)
    {
        EmitConstantsRow(w, ctx, layout);
        w.Line(string.Join(" ", names.Select(name => $"var {shape.Of(name)} = {Simd}.{shape.Splat}({GroupConstant(layout, "k", name)});")));
    }

    /// <summary><c>ref T k</c> at the group's row of <c>constants</c>, rows laid out as <paramref name="layout"/>.</summary>
    private static void EmitConstantsRow(CodeWriter w, KernelContext ctx, string[] layout) =>
        w.Line($"ref {ctx.T} k = ref {Simd}.At(ref constantsRef, {layout.Length} * ({ctx.LoopVariable(ctx.Kept[0])} - chunkFirst));");

    /// <summary>
    /// A group's constants as the backward's runs take them, in the order they lie in each group's row of
    /// <c>constants</c>: the parts of the mean (<see cref="MeanSplats"/>) and 1/std, then dx's gain, slope and offset.
    /// </summary>
    private static string[] BackwardConstants(KernelContext ctx) => [.. MeanSplats(ctx), "invStd", "gain", "slope", "offset"];

    /// <summary>
    /// A group's constants as the forward takes them: its pivot where the statistics' sums go side by side
    /// (<see cref="SumsStatisticsSideBySide"/>), then y's (<see cref="FoldedRunSplats"/>: the mean's high part or the mean,
    /// scale, and shift).
    /// </summary>
    private static string[] ForwardConstants(KernelContext ctx) =>
        [.. SumsStatisticsSideBySide(ctx) ? new[] { "pivot" } : [], .. FoldedRunSplats(ctx)];

    /// <summary>The element of the group row <paramref name="row"/> that holds the constant <paramref name="name"/> of <paramref name="layout"/>.</summary>
    private static string GroupConstant(string[] layout, string row, string name)
    {
        int index = System.Array.IndexOf(layout, name);
        return index == 0 ? row : $"{Simd}.At(ref {row}, {index})";
    }

    /// <summary>The body of <c>BackwardChunk</c> for <see cref="GroupsSideBySide"/>.</summary>
    private static void EmitSideBySideBackward(CodeWriter w, KernelContext ctx)
    {
        string c = ctx.LoopVariable(ctx.Kept[0]);
        string[] constants = BackwardConstants(ctx);

        w.Line($"// Each group's {string.Join(", ", constants)} in a row of constants[], which every run reads: a run of a few");
        w.Line("// vectors would otherwise spend as long converting and broadcasting them as on its values. Computed as group by group.");
        w.Line($"global::System.Span<{ctx.T}> constants = stackalloc {ctx.T}[{constants.Length} * (chunkLast - chunkFirst)];");
        w.Line($"ref {ctx.T} constantsRef = ref {Simd}.Ref(constants);");
        using (w.Block($"for (int {c} = chunkFirst; {c} < chunkLast; {c}++)"))
        {
            w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
            w.Line("double mean = state.SavedMean[stat];");
            EmitConstantsRow(w, ctx, constants);
            if (ctx.IsFloat)
            {
                w.Line("float meanHi = (float)mean;");
                w.Line($"{GroupConstant(constants, "k", "meanHi")} = meanHi;");
                w.Line($"{GroupConstant(constants, "k", "meanLo")} = (float)(mean - meanHi);");
            }
            else
            {
                w.Line($"{GroupConstant(constants, "k", "mean")} = mean;");
            }
            w.Line($"{GroupConstant(constants, "k", "invStd")} = ({ctx.T})state.SavedInvStd[stat];");
        }
        w.Line();
        w.Line("// Σdy and Σdy·x̂ for the chunk's groups side by side, sample by sample in memory order: group by group, runs a");
        w.Line("// multiple of 4 KiB apart share a few cache sets and evict one another. The same sums as group by group, the same dx.");
        EmitSideBySideSums(w, ctx, ["groupDy", "groupDyXhat"],
            perRun: shape => SplatGroupConstants(w, ctx, shape, constants, [.. MeanSplats(ctx), "invStd"]),
            tailScalars: () =>
            {
                w.Line("double mean = state.SavedMean[stat];");
                w.Line("double invStd = state.SavedInvStd[stat];");
            },
            vector: (lane, index) => GroupGradientSums(ctx, lane, index), scalar: GroupGradientSumsScalar(ctx),
            wide: WideGradientSums(ctx, "groupDy"));

        w.Line();
        w.Line("// Each group's dγ and dβ terms and dx's constants: dx = invStd·(g − mean(g) − x̂·mean(g·x̂)), written as");
        w.Line("// dy·gain − (x − mean)·slope − offset.");
        using (w.Block($"for (int {c} = chunkFirst; {c} < chunkLast; {c}++)"))
        {
            w.Line($"int stat = {ctx.Offset(ctx.StatisticTerms())};");
            w.Line($"double groupDy = totals[2 * ({c} - chunkFirst)], groupDyXhat = totals[2 * ({c} - chunkFirst) + 1];");
            w.Line("double invStd = state.SavedInvStd[stat];");
            EmitGroupGradientTerms(w, ctx);
            EmitConstantsRow(w, ctx, constants);
            w.Line($"{GroupConstant(constants, "k", "gain")} = ({ctx.T})(invStd * gamma);");
            w.Line($"{GroupConstant(constants, "k", "slope")} = ({ctx.T})(invStd * invStd * sumGXhat * invCount);");
            w.Line($"{GroupConstant(constants, "k", "offset")} = ({ctx.T})(invStd * sumG * invCount);");
        }

        w.Line();
        w.Line("// dx in memory order, last sample first: the first runs written are those the sums pass read last.");
        ForEachRunSideBySide(w, ctx, descending: true, body: () =>
        {
            // Only vectors (GroupsSideBySide): no scalar tail, which would need the double mean and the scalar constants.
            SplatGroupConstants(w, ctx, constants, [.. MeanSplats(ctx), "gain", "slope", "offset"]);
            EmitRunDx(w, ctx, VectorLoop.MinPartialRunLines);
        });
    }
}
