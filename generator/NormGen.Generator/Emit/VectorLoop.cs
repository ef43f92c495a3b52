using System;
using System.Collections.Generic;
using System.Linq;

namespace NormGen.Generator.Emit;

/// <summary>
/// Emits the loop over one contiguous run <c>i = 0 .. length-1</c>: an unrolled vector loop (four vectors an
/// iteration), the remaining whole vectors, then a scalar tail. With a constant length every bound is a
/// constant and only the parts that run are written, so the text does not grow with the size.
/// </summary>
internal static class VectorLoop
{
    /// <param name="vector">Statements for one vector at element index <c>index</c>, using accumulator number <c>lane</c> (0..3).</param>
    /// <param name="scalar">Statements for one element at index <c>i</c>.</param>
    /// <param name="flush">For float sums kept in float vectors: statements that add them to double totals and clear them,
    /// written after every <see cref="FloatBlock"/> values (so a float sum never holds more than 16 values a lane) and at the end.</param>
    public static void Emit(
        CodeWriter w,
        KernelContext ctx,
        int? constantLength,
        string lengthExpression,
        Func<int, string, IEnumerable<string>> vector,
        Func<string, IEnumerable<string>> scalar,
        Action? flush = null,
        WideSums? wide = null,
        ScalarTerms? tail = null)
    {
        int width = ctx.Width;
        int block = width * KernelContext.Unroll;
        bool blocked = flush is not null && ctx.IsFloat;
        if (constantLength is int blockedLength && blocked && blockedLength > FloatBlock)
        {
            int blocksEnd = blockedLength - (blockedLength % FloatBlock);
            if (blocksEnd == FloatBlock)
            {
                EmitRange(w, ctx, 0, FloatBlock, vector, scalar, wide);
                flush!();
            }
            else
            {
                using (w.Block($"for (int block = 0; block < {blocksEnd}; block += {FloatBlock})"))
                {
                    EmitUnrolledLoop(w, ctx, $"for (int i = block; i < block + {FloatBlock}; i += {block})", FloatBlock / block, vector, wide);
                    flush!();
                }
            }
            if (blocksEnd < blockedLength)
            {
                // The values after the last whole block (a run that is a whole number of blocks has none, and its sums were
                // added at the last block's end).
                EmitRange(w, ctx, blocksEnd, blockedLength, vector, scalar, wide);
                flush!();
            }
            return;
        }
        if (constantLength is int length)
        {
            EmitRange(w, ctx, 0, length, vector, scalar, wide, tail);
            flush?.Invoke();
            return;
        }

        // A run whose length is known only at run time (the batch dims are innermost).
        using (w.Block("// The run's length is known only at run time."))
        {
            w.Line("int i = 0;");
            if (blocked)
            {
                using (w.Block($"for (; i <= {lengthExpression} - {FloatBlock}; )"))
                {
                    using (w.Block($"for (int blockEnd = i + {FloatBlock}; i < blockEnd; i += {block})"))
                    {
                        for (int lane = 0; lane < KernelContext.Unroll; lane++)
                        {
                            Write(w, vector(lane, lane == 0 ? "i" : $"i + {lane * width}"));
                        }
                    }
                    flush!();
                }
            }
            using (w.Block($"for (; i <= {lengthExpression} - {block}; i += {block})"))
            {
                for (int lane = 0; lane < KernelContext.Unroll; lane++)
                {
                    Write(w, vector(lane, lane == 0 ? "i" : $"i + {lane * width}"));
                }
            }
            using (w.Block($"for (; i <= {lengthExpression} - {width}; i += {width})"))
            {
                Write(w, vector(0, "i"));
            }
            using (w.Block($"for (; i < {lengthExpression}; i++)"))
            {
                Write(w, scalar("i"));
            }
            flush?.Invoke();
        }
    }

    /// <summary>
    /// The loop of a pass that writes the output: each vector's value is <paramref name="value"/>(index), written to
    /// <paramref name="output"/> at <c>start + index</c>. Where <see cref="WritesEdgesApart"/> (a constant length of at
    /// least 16 cache lines, or 3 for runs that end inside a line), the whole cache lines of the run are written with
    /// stores at aligned addresses (which bypass the cache when the runner streams), wherever the output starts: a .NET array of 85 KB or more starts 24 bytes past a line, where every
    /// other vector store would split two lines and none could bypass the cache. The partial lines at both ends are
    /// written first with ordinary stores (no line gets both kinds, which would flush the write-combining buffers).
    /// Every element is computed by the same vector expression wherever it falls, so the results do not depend on the
    /// output's address; edges read only what they write or what the main loop reads before writing it, so in-place
    /// calls stay exact.
    /// </summary>
    /// <param name="value">The vector expression at an index, in the given vector shape (its loads and broadcast vectors).</param>
    /// <param name="before">Statements for each unrolled iteration at index <c>i</c> (prefetches), or null.</param>
    /// <param name="splats">The broadcast vectors <paramref name="value"/> uses (names without the V/W suffix): with them,
    /// where the processor has Vector512, runs written with their edges apart and at least <see cref="MinWideRunLines"/>
    /// lines long get a 512-bit loop over their whole lines first, each store one cache line (the 256-bit loop then
    /// writes what is left), and shorter runs of constant length at least one unrolled 512-bit iteration long run
    /// a 512-bit loop instead of the 256-bit one.</param>
    public static void EmitStores(
        CodeWriter w,
        KernelContext ctx,
        int? constantLength,
        string lengthExpression,
        string output,
        Func<VectorShape, string, string> value,
        Func<string, IEnumerable<string>> scalar,
        Func<string, IEnumerable<string>>? before = null,
        int minPartialRunLines = MinPartialRunLines,
        IReadOnlyList<string>? splats = null)
    {
        string simd = KernelContext.Simd;
        var narrow = VectorShape.Narrow(ctx);
        int width = ctx.Width;
        int block = width * KernelContext.Unroll;
        string Store(VectorShape shape, string index) => $"{simd}.StoreOutput({value(shape, index)}, ref {output}, start + {index}, streaming);";
        IEnumerable<string> NarrowVector(int lane, string index) => [.. lane == 0 && before is not null ? before(index) : [], Store(narrow, index)];
        var wide = VectorShape.Wide(ctx);
        int wideBlock = wide.Width * KernelContext.Unroll;
        if (!WritesEdgesApart(ctx, constantLength, minPartialRunLines))
        {
            if (splats is not null && GetsWideLoop(ctx, constantLength, minPartialRunLines))
            {
                int plainLength = constantLength!.Value;
                // A short run of constant length (8×8 maps: 4 lines): the 512-bit loop where the processor has it, its
                // last values (fewer than 4 vectors) as the 256-bit loop writes them.
                int wideEnd = plainLength - (plainLength % wideBlock);
                using (w.Block("if (global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)"))
                {
                    w.Line("// 512-bit vectors (AVX-512): the same values as the 256-bit loop below.");
                    w.Line(WideSplats(ctx, splats!));
                    using (w.Block($"for (int i = 0; i < {wideEnd}; i += {wideBlock})"))
                    {
                        EmitWideIteration();
                    }
                    if (wideEnd < plainLength)
                    {
                        EmitRange(w, ctx, wideEnd, plainLength, NarrowVector, scalar);
                    }
                }
                using (w.Block("else"))
                {
                    Emit(w, ctx, constantLength, lengthExpression, NarrowVector, scalar);
                }
                return;
            }
            Emit(w, ctx, constantLength, lengthExpression, NarrowVector, scalar);
            return;
        }
        int length = constantLength!.Value;
        int line = ctx.LineElements;
        string edgesComment = "// Whole cache lines with aligned stores; the partial lines at the run's two ends first, with ordinary stores.";
        if (length < MinWideRunLines * line)
        {
            // A run of under 8 lines through the cache gains nothing from aligned stores, while its edges' extra vectors
            // and blends cost about a tenth of it (LayerNorm x[512,100] forward 25.0 → 22.7 µs, BatchNorm2d x[64,512,7,7]
            // 1.03–1.05× faster); longer runs keep them (x[8,256,14,14] at 2 threads was 1.16–1.3× slower without). The
            // same vector expression over the same elements gives the same bits either way.
            using (w.Block("if (!streaming)"))
            {
                bool partialVector = length % width != 0;
                if (partialVector)
                {
                    // Loaded before any store (the output may be the input), stored after the others: its first lanes
                    // write again what the loop wrote, with the same bits. Blending it into the output instead read back a
                    // vector the loop had just stored in part, which the store buffer cannot forward (a stall every run).
                    w.Line($"// Through the cache: whole vectors from the run's start, then the vector ending at its end, computed first.");
                    w.Line($"var endVector = {value(narrow, KernelContext.Int(length - width))};");
                }
                else
                {
                    w.Line("// Through the cache: whole vectors from the run's start.");
                }
                EmitRange(w, ctx, 0, length - (length % width),
                    (lane, index) => [.. lane == 0 && before is not null ? before(index) : [], $"{simd}.Store({value(narrow, index)}, ref {output}, start + {index});"],
                    scalar);
                if (partialVector)
                {
                    w.Line($"{simd}.Store(endVector, ref {output}, start + {length - width});");
                }
            }
            using (w.Block("else"))
            {
                w.Line(edgesComment);
                EmitEdgesApart();
            }
        }
        else
        {
            using (w.Block(edgesComment))
            {
                EmitEdgesApart();
            }
        }

        // The run with its partial lines at both ends written apart and the whole lines between with aligned stores.
        void EmitEdgesApart()
        {
            w.Line($"int first = {simd}.LineStart(ref {output}, start);");
            w.Line($"int last = first + (({length} - first) & ~{line - 1});");
            using (w.Block("if (first != 0)"))
            {
                w.Line($"// [0, first): the vector at 0 and the one ending at first (its lanes alone if first < {width}).");
                w.Line($"int endingAtFirst = global::System.Math.Max(first - {width}, 0);");
                w.Line($"{simd}.StoreHead({value(narrow, "0")}, {value(narrow, "endingAtFirst")}, ref {output}, start, first);");
            }
            using (w.Block($"if (last != {length})"))
            {
                w.Line($"// [last, {length}): the vector at last and the run's last vector (its lanes alone if fewer than {width} are left).");
                w.Line($"int atLast = global::System.Math.Min(last, {length - width});");
                w.Line($"{simd}.StoreTail({value(narrow, "atLast")}, {value(narrow, $"{length - width}")}, ref {output}, start + {length}, {length} - last);");
            }
            w.Line("int i = first;");
            if (splats is not null && GetsWideLoop(ctx, constantLength, minPartialRunLines))
            {
                using (w.Block("if (global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)"))
                {
                    w.Line("// 512-bit vectors (AVX-512), a cache line each: the same values as the 256-bit loop below, which writes what is left.");
                    w.Line(WideSplats(ctx, splats!));
                    using (w.Block($"for (; i <= last - {wideBlock}; i += {wideBlock})"))
                    {
                        EmitWideIteration();
                    }
                }
            }
            using (w.Block($"for (; i <= last - {block}; i += {block})"))
            {
                if (before is not null)
                {
                    Write(w, before("i"));
                }
                for (int lane = 0; lane < KernelContext.Unroll; lane++)
                {
                    w.Line(Store(narrow, lane == 0 ? "i" : $"i + {lane * width}"));
                }
            }
            using (w.Block($"for (; i < last; i += {width})"))
            {
                w.Line(Store(narrow, "i"));
            }
        }

        // One iteration of a 512-bit loop at i: the prefetches of the two 256-bit iterations it covers, four stores.
        void EmitWideIteration()
        {
            if (before is not null)
            {
                Write(w, before("i"));
                Write(w, before($"i + {block}"));
            }
            for (int lane = 0; lane < KernelContext.Unroll; lane++)
            {
                w.Line(Store(wide, lane == 0 ? "i" : $"i + {lane * wide.Width}"));
            }
        }
    }

    /// <summary>
    /// Whether <see cref="EmitStores"/> gives a run of <paramref name="constantLength"/> values a 512-bit loop (given its
    /// broadcast vectors): runs written with their edges apart from <see cref="MinWideRunLines"/> lines, other runs of
    /// constant length from one unrolled 512-bit iteration.
    /// </summary>
    public static bool GetsWideLoop(KernelContext ctx, int? constantLength, int minPartialRunLines = MinPartialRunLines) =>
        constantLength is int length
        && (WritesEdgesApart(ctx, length, minPartialRunLines)
            ? length >= MinWideRunLines * ctx.LineElements
            : length >= VectorShape.Wide(ctx).Width * KernelContext.Unroll);

    /// <summary>
    /// One line declaring the 512-bit twins (<c>nameW</c>) of the named 256-bit broadcast vectors (<c>nameV</c>), before a
    /// loop that writes in 512-bit vectors.
    /// </summary>
    public static string WideSplats(KernelContext ctx, IEnumerable<string> names) =>
        string.Join(" ", names.Select(name => $"var {VectorShape.Wide(ctx).Of(name)} = {KernelContext.Simd}.Splat512({VectorShape.Narrow(ctx).Of(name)});"));

    /// <summary>
    /// Unrolled iterations a sums loop must have for its 512-bit twin: 4 (128 floats). Joining the partial sums into 512-bit
    /// vectors before the loop and splitting them after costs a few shuffles per sum, more than a loop of one or two
    /// iterations saves.
    /// </summary>
    public const int MinWideSumsIterations = 4;

    /// <summary>Whether <see cref="Emit"/> gives a run of <paramref name="constantLength"/> values a 512-bit sums loop (given its twin).</summary>
    public static bool GetsWideSums(KernelContext ctx, int? constantLength) =>
        constantLength is int length && length / (ctx.Width * KernelContext.Unroll) >= MinWideSumsIterations;

    /// <summary>
    /// Cache lines a run must span for <see cref="EmitStores"/> to give it a 512-bit loop: 8, two of its iterations
    /// (LayerNorm x[8192,768] forward 1.12× faster with it, backward 1.05×, measured).
    /// </summary>
    public const int MinWideRunLines = 8;

    /// <summary>Cache lines a run must span for <see cref="EmitStores"/> to align its stores: 16 lines, 1 KiB.</summary>
    public const int MinAlignedRunLines = 16;

    /// <summary>
    /// Cache lines from which a run that ends inside a line (7×7 and 14×14 maps) also gets aligned stores: it shares
    /// lines with the next run, so only then can it stream, and every value, the last few included, comes from the
    /// vector expression instead of a scalar tail (BatchNorm x[64,128,7,7] training and backward 1.3× faster,
    /// x[64,256,14,14] 1.25–1.5×).
    /// </summary>
    public const int MinPartialRunLines = 3;

    /// <summary>
    /// Whether <see cref="EmitStores"/> writes a run of <paramref name="constantLength"/> values with its edges apart
    /// (aligned whole lines between them). Short runs keep the plain loop: the edges' extra vectors and lane-by-lane
    /// stores cost more than the split stores they avoid (BatchNorm on 8×8 maps, whole lines already: 1.02–1.05×
    /// slower with them).
    /// </summary>
    public static bool WritesEdgesApart(KernelContext ctx, int? constantLength, int minPartialRunLines = MinPartialRunLines)
    {
        int line = ctx.LineElements;
        return constantLength is int length
            && (length >= MinAlignedRunLines * line || (length % line != 0 && length >= minPartialRunLines * line));
    }

    /// <summary>Values a float partial sum takes before it is added to its double total: 512 = 16 per lane of 4 × 8 lanes.</summary>
    public const int FloatBlock = 512;

    /// <summary>
    /// The accumulators (lanes 0 to 3 of the vector callback) that <see cref="Emit"/> gives the vectors of a run of
    /// <paramref name="length"/> values without float blocks: all four from one unrolled iteration up, else lane 0 alone
    /// (the single-vector loop's).
    /// </summary>
    public static int LanesUsed(KernelContext ctx, int length) =>
        length >= ctx.Width * KernelContext.Unroll ? KernelContext.Unroll : length >= ctx.Width ? 1 : 0;

    /// <summary>The loops over [<paramref name="from"/>, <paramref name="to"/>) of a run: unrolled vectors, single vectors, scalars.</summary>
    private static void EmitRange(CodeWriter w, KernelContext ctx, int from, int to, Func<int, string, IEnumerable<string>> vector, Func<string, IEnumerable<string>> scalar, WideSums? wide = null, ScalarTerms? tail = null)
    {
        int width = ctx.Width;
        int block = width * KernelContext.Unroll;
        int length = to - from;
        int blockEnd = from + length - (length % block);
        int vectorEnd = from + length - (length % width);
        if (blockEnd > from)
        {
            EmitUnrolledLoop(w, ctx, $"for (int i = {from}; i < {blockEnd}; i += {block})", (blockEnd - from) / block, vector, wide);
        }
        if (vectorEnd > blockEnd)
        {
            using (w.Block($"for (int i = {blockEnd}; i < {vectorEnd}; i += {width})"))
            {
                Write(w, vector(0, "i"));
            }
        }
        EmitTail(w, vectorEnd, to, scalar, tail);
    }

    /// <summary>
    /// The values [<paramref name="from"/>, <paramref name="to"/>) after a run's whole vectors: one at a time in a loop,
    /// or, given <paramref name="tail"/> and more than one value, each value's terms summed pairwise and the sums added to
    /// the double totals once. A group of many short runs (BatchNorm on 14×14 maps) otherwise strings every run's last
    /// values into one chain of dependent additions through its totals, which the sums of the group wait on.
    /// </summary>
    public static void EmitTail(CodeWriter w, int from, int to, Func<string, IEnumerable<string>> scalar, ScalarTerms? tail)
    {
        int count = to - from;
        if (count <= 0)
        {
            return;
        }
        if (tail is null || count == 1)
        {
            using (w.Block($"for (int i = {from}; i < {to}; i++)"))
            {
                Write(w, scalar("i"));
            }
            return;
        }
        using (w.Block($"// The last {count} values' terms summed pairwise, then added to the sums once."))
        {
            for (int j = from; j < to; j++)
            {
                Write(w, tail.Values(KernelContext.Int(j), $"At{KernelContext.Int(j)}"));
            }
            foreach ((string sum, Func<string, string> term) in tail.Terms)
            {
                var terms = new List<string>();
                for (int j = from; j < to; j++)
                {
                    terms.Add(term($"At{KernelContext.Int(j)}"));
                }
                w.Line($"{sum} += {Tree(terms, 0, count, nested: false)};");
            }
        }
    }

    /// <summary>
    /// The sum of <paramref name="terms"/>[from, to) as a balanced tree of additions (the first half, then the second),
    /// in parentheses where <paramref name="nested"/> in a larger sum.
    /// </summary>
    private static string Tree(IReadOnlyList<string> terms, int from, int to, bool nested = true)
    {
        if (to - from == 1)
        {
            return terms[from];
        }
        int middle = from + ((to - from + 1) / 2);
        string sum = $"{Tree(terms, from, middle)} + {Tree(terms, middle, to)}";
        return nested ? $"({sum})" : sum;
    }

    /// <summary>
    /// The 512-bit loop of a sums twin alone over [<paramref name="from"/>, <paramref name="to"/>) (whole unrolled
    /// iterations), into 512-bit partial sums the caller keeps (no joining or splitting around it).
    /// </summary>
    public static void EmitWideLoop(CodeWriter w, KernelContext ctx, int from, int to, WideSums wide) =>
        EmitWideIterations(w, ctx, $"for (int i = {from}; i < {to}; i += {ctx.Width * KernelContext.Unroll})", wide);

    /// <summary>The loop <paramref name="header"/> of a sums twin: two 512-bit vectors an iteration, at i and one vector on.</summary>
    private static void EmitWideIterations(CodeWriter w, KernelContext ctx, string header, WideSums wide)
    {
        using (w.Block(header))
        {
            Write(w, wide.Vector(0, "i"));
            Write(w, wide.Vector(1, $"i + {VectorShape.Wide(ctx).Width}"));
        }
    }

    /// <summary>The condition of a sums twin's branch: the processor's AVX-512, and the twin's own condition if it has one.</summary>
    public static string WideSumsCondition(WideSums wide) =>
        "global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated" + (wide.Condition is null ? "" : $" && {wide.Condition}");

    /// <summary>Before a sums twin's loop: its 512-bit broadcast vectors, and its partial sums joined from the 256-bit ones.</summary>
    public static void EmitWideSumsJoined(CodeWriter w, KernelContext ctx, WideSums wide)
    {
        var shape = VectorShape.Wide(ctx);
        if (wide.Splats.Count > 0)
        {
            w.Line(WideSplats(ctx, wide.Splats));
        }
        foreach (string sum in wide.Sums)
        {
            w.Line($"var {shape.Sum(sum, 0)} = {KernelContext.Simd}.Join({sum}Block0, {sum}Block1); var {shape.Sum(sum, 1)} = {KernelContext.Simd}.Join({sum}Block2, {sum}Block3);");
        }
    }

    /// <summary>After a sums twin's loop: its partial sums split back into the 256-bit ones.</summary>
    public static void EmitWideSumsSplit(CodeWriter w, KernelContext ctx, WideSums wide)
    {
        var shape = VectorShape.Wide(ctx);
        foreach (string sum in wide.Sums)
        {
            w.Line($"({sum}Block0, {sum}Block1) = {KernelContext.Simd}.Halves({shape.Sum(sum, 0)}); ({sum}Block2, {sum}Block3) = {KernelContext.Simd}.Halves({shape.Sum(sum, 1)});");
        }
    }

    /// <summary>
    /// The unrolled loop <paramref name="header"/> (four vectors an iteration, <paramref name="iterations"/> times); for
    /// sums with a 512-bit twin (<paramref name="wide"/>) and at least <see cref="MinWideSumsIterations"/> iterations, that
    /// twin where the processor has Vector512, with the 256-bit loop beside it.
    /// </summary>
    private static void EmitUnrolledLoop(CodeWriter w, KernelContext ctx, string header, int iterations, Func<int, string, IEnumerable<string>> vector, WideSums? wide)
    {
        int width = ctx.Width;
        if (wide is not null && iterations >= MinWideSumsIterations)
        {
            using (w.Block($"if ({WideSumsCondition(wide)})"))
            {
                w.Line("// 512-bit vectors (AVX-512), each holding two of the 256-bit loop's partial sums side by side: every lane adds the");
                w.Line("// same values in the same order as there, so the sums are the same, in half the instructions.");
                EmitWideSumsJoined(w, ctx, wide);
                EmitWideIterations(w, ctx, header, wide);
                EmitWideSumsSplit(w, ctx, wide);
            }
            using (w.Block("else"))
            {
                EmitNarrow();
            }
            return;
        }
        EmitNarrow();

        void EmitNarrow()
        {
            using (w.Block(header))
            {
                for (int lane = 0; lane < KernelContext.Unroll; lane++)
                {
                    Write(w, vector(lane, lane == 0 ? "i" : $"i + {lane * width}"));
                }
            }
        }
    }

    private static void Write(CodeWriter w, IEnumerable<string> lines)
    {
        foreach (string line in lines)
        {
            w.Line(line);
        }
    }
}
