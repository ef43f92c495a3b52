using System;
using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// The loop nests of the column kernels: blocks of rows × tiles of columns (<see cref="ForEachTile"/>), rows in memory
/// order (<see cref="EmitRowOrder"/>), and the choice between a Vector256 nest alone and a Vector512 twin beside it
/// (<see cref="EitherWidth"/>).
/// </summary>
internal static partial class ColumnKernels
{
    /// <summary>
    /// Blocks of <see cref="RowBlock"/> rows; in each, the tiles of <paramref name="tileVectors"/> vectors of columns (sums in
    /// registers over the block's rows, then added to the chunk's partial sums), one narrower tile for the whole vectors
    /// left over (and, in 512-bit loops, one tile of a 256-bit vector), then the columns left over one by one, as the
    /// 256-bit loop leaves them. <paramref name="row"/>, <paramref name="store"/> and <paramref name="tileSetup"/> take
    /// the tile's vector shape, and its vector count or the vector's index.
    /// </summary>
    private static void ForEachTile(CodeWriter w, KernelContext ctx, VectorShape shape, int tileVectors, string[] sums,
        Action<VectorShape, int> row, Func<VectorShape, int, IEnumerable<string>> store,
        Action scalarRow, IEnumerable<string> scalarStore, Action<VectorShape, int>? tileSetup = null)
    {
        Segment rows = ctx.Layout.Segments[0];
        int columns = ctx.Layout.Segments[1].Size;
        var narrow = VectorShape.Narrow(ctx);
        var split = new ColumnSplit(ctx, shape, tileVectors);
        string r = ctx.LoopVariable(rows);
        using (w.Block($"for (int rowBlock = chunkFirst; rowBlock < chunkLast; rowBlock += {RowBlock})"))
        {
            w.Line($"int rowEnd = global::System.Math.Min(rowBlock + {RowBlock}, chunkLast);");
            if (split.Tiled > 0)
            {
                using (TileLoop(w, split, columns))
                {
                    EmitTile(shape, tileVectors);
                }
            }
            if (split.ShapeVectors > 0)
            {
                using (w.Block(split.Tiled == 0
                    ? $"// All {split.ShapeVectors * shape.Width} columns in one tile."
                    : shape.IsWide
                        ? $"// The {split.ShapeVectors * shape.Width} columns from {split.Tiled} that fill whole 512-bit vectors: a narrower tile."
                        : $"// The last {split.ShapeVectors * shape.Width} columns that fill whole vectors: a narrower tile."))
                {
                    w.Line($"const int column = {split.Tiled};");
                    EmitTile(shape, split.ShapeVectors);
                }
            }
            if (split.NarrowVectors > 0)
            {
                using (w.Block($"// The {split.NarrowVectors * narrow.Width} columns from {split.AfterShape} that fill a 256-bit vector."))
                {
                    w.Line($"const int column = {split.AfterShape};");
                    EmitTile(narrow, split.NarrowVectors);
                }
            }
            if (columns > split.VectorColumns && columns >= narrow.Width)
            {
                int left = columns - split.VectorColumns;
                using (w.Block($"// The last {left} column{(left == 1 ? "" : "s")}: the 256-bit vector ending at the last column, its first {narrow.Width - left} lanes (columns done above) left out."))
                {
                    w.Line($"const int column = {columns - narrow.Width};");
                    EmitTile(narrow.WithLastLanes(left), 1);
                }
            }
            else if (columns > split.VectorColumns)
            {
                using (w.Block($"for (int column = {split.VectorColumns}; column < {columns}; column++)"))
                {
                    foreach (string sum in sums)
                    {
                        w.Line($"double {sum} = 0.0;");
                    }
                    using (w.Block($"for (int {r} = rowBlock; {r} < rowEnd; {r}++)"))
                    {
                        w.Line($"int start = {r} * {columns} + column;");
                        scalarRow();
                    }
                    foreach (string line in scalarStore)
                    {
                        w.Line(line);
                    }
                }
            }
        }

        void EmitTile(VectorShape tile, int vectors)
        {
            // One vector of the element type per Width columns: a block's sums hold at most RowBlock values a lane, which
            // the element type keeps exact enough; each block's sums are then added to the partial sums in double.
            string zero = $"{Simd}.{tile.Splat}({(ctx.IsFloat ? "0f" : "0.0")})";
            tileSetup?.Invoke(tile, vectors);
            foreach (string sum in sums)
            {
                w.Line($"var {sum}0 = {zero};" + string.Concat(Enumerable.Range(1, vectors - 1).Select(k => $" var {sum}{k} = {sum}0;")));
            }
            using (w.Block($"for (int {r} = rowBlock; {r} < rowEnd; {r}++)"))
            {
                w.Line($"int start = {r} * {columns} + column;");
                row(tile, vectors);
            }
            if (tile.LastLanes > 0)
            {
                foreach (string sum in sums)
                {
                    w.Line($"{sum}0 = {Simd}.LastLanes({sum}0, {tile.LastLanes});");
                }
            }
            for (int k = 0; k < vectors; k++)
            {
                foreach (string line in store(tile, k))
                {
                    w.Line(line);
                }
            }
        }
    }

    /// <summary>
    /// Emits a loop nest in 256-bit vectors, or, for rows of at least one unrolled 512-bit tile, a 512-bit one where the
    /// processor has it (<c>Vector512.IsHardwareAccelerated</c>) and the 256-bit one otherwise. Each lane computes the
    /// same values in either: the same bits, with half the instructions on AVX-512 processors (BatchNorm1d x[256,512]:
    /// training 1.2× faster, inference 1.2–1.4×, measured).
    /// </summary>
    private static void EitherWidth(CodeWriter w, KernelContext ctx, int tileVectors, Action<VectorShape> emit)
    {
        if (!HasWideLoop(ctx))
        {
            emit(VectorShape.Narrow(ctx));
            return;
        }
        var wide = VectorShape.Wide(ctx);
        using (w.Block("if (global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)"))
        {
            int columns = ctx.Layout.Segments[1].Size;
            int tileColumns = Math.Min(tileVectors * wide.Width, columns - (columns % wide.Width));
            w.Line($"// 512-bit vectors (AVX-512), {tileColumns} columns a tile: the same values as the 256-bit loop below.");
            emit(wide);
        }
        using (w.Block("else"))
        {
            emit(VectorShape.Narrow(ctx));
        }
    }

    /// <summary>Whether y goes row by row (hi, scale and shift per column; see <see cref="InRowOrder"/>).</summary>
    public static bool NormalizesInRowOrder(KernelContext ctx) => InRowOrder(ctx);

    /// <summary>
    /// Whether dx goes row by row in memory order, its four per-column constants (gain, hi, slope, offset) in the L1
    /// cache (in blocks of columns where they do not fit), rather than in tiles down blocks of rows: rows of 2 KiB or
    /// more. The tiles read x and
    /// dy 128 bytes at a time from 32 rows at once, which a tensor larger than the L2 streams from memory 1.5–1.8× slower
    /// than whole rows (the dx loop alone, rows of 1001 floats × 1024; BatchNorm1d x[1024,1001] backward 1.28–1.3× faster
    /// in row order). Rows of 512 floats run as fast either way; short ones (100 floats) 1.2× slower in row order, where
    /// a tile keeps its constants in registers across 32 rows. The values are the same either way.
    /// </summary>
    public static bool DxInRowOrder(KernelContext ctx) =>
        ctx.IsColumnLayout && !ctx.Spec.IsRms && InRowOrder(ctx)
        && ctx.Layout.Segments[1].Size * ctx.ElementBytes >= DxRowOrderMinRowBytes;

    /// <summary>The shortest row (in bytes) whose dx goes in row order (<see cref="DxInRowOrder"/>).</summary>
    private const int DxRowOrderMinRowBytes = 2048;

    /// <summary>Whether a kernel has a Vector512 loop beside its Vector256 one: rows of at least one unrolled 512-bit tile.</summary>
    public static bool HasWideLoop(KernelContext ctx) => ctx.Layout.Segments[1].Size >= PairTile * VectorShape.Wide(ctx).Width;

    /// <summary>
    /// Whether a row-order kernel goes row by row in memory order: the rows are wider than a tile. Row order reads and
    /// writes each row front to back, which the hardware prefetchers follow; tiles of a wider row read a block of rows a
    /// few lines at a time (1.15× slower on BatchNorm1d x[256,512] inference). Where the per-column arrays together do not
    /// fit in half the L1 cache (<see cref="RowOrderConstantBytes"/>), the rows go in blocks of columns whose arrays do
    /// (<see cref="RowOrderBlockColumns"/>): tiles of rows 16 KiB long read 32 rows whose lines all map to the same few L1
    /// sets (BatchNorm1d x[256,4096] inference 495 → 118 µs, x[64,4096] 40 → 32 µs, measured). Rows no wider than a tile
    /// are in memory order either way, and the tile keeps its constants in registers.
    /// </summary>
    private static bool InRowOrder(KernelContext ctx) =>
        ctx.Layout.Segments[1].Size > TileColumns(ctx, PairTile);

    /// <summary>
    /// The columns a row-order pass with <paramref name="constants"/> per-column arrays takes per block: every column where
    /// the arrays fit in <see cref="RowOrderConstantBytes"/>, else the most whole 512-bit tiles whose arrays do (a multiple
    /// of both widths' tiles, so that either loop nest's blocks end on its tiles).
    /// </summary>
    private static int RowOrderBlockColumns(KernelContext ctx, int constants)
    {
        int columns = ctx.Layout.Segments[1].Size;
        if (constants * columns * ctx.ElementBytes <= RowOrderConstantBytes)
        {
            return columns;
        }
        int tile = Unroll * VectorShape.Wide(ctx).Width;
        return Math.Max(tile, RowOrderConstantBytes / (constants * ctx.ElementBytes) / tile * tile);
    }

    /// <summary>
    /// Over the chunk's rows in memory order, two rows at a time (<see cref="RowOrderRows"/>) where every row of
    /// <paramref name="input"/> and <paramref name="output"/> starts on a cache line, else one:
    /// <paramref name="vector"/> writes the statements for one vector of columns in every row of the step, given the load
    /// method (<c>Load</c> or <c>Load512</c>), the vector's index, its offset in the tile and the rows in the step (the
    /// second row's elements are one row length further on); <paramref name="scalar"/> those for one column left over, given
    /// the rows in the step. With at least one 512-bit tile of columns, a Vector512 loop runs where the processor has it;
    /// its columns left over take Vector256 vectors, then scalars, as the Vector256 loop's do, so both give the same bits.
    /// </summary>
    /// <remarks>
    /// Why only aligned rows go in pairs: stores alternating between two rows that do not start on a line (a .NET array's
    /// data starts 24 bytes past one) ran 2.2–3.4× slower than the same stores one row at a time (BatchNorm1d x[256,512]
    /// inference 14 → 46 µs with y 16 or 32 bytes past a line; rows of 520 or 1000 floats, which alternate between
    /// aligned and not, 1.8–2× slower in pairs), while pairs gain only 0–12% over single rows where every row is aligned.
    /// </remarks>
    private static void EmitRowOrder(CodeWriter w, KernelContext ctx, string input, string output, int constants, Action<string, int, int, int> vector, Action<int> scalar)
    {
        int columns = ctx.Layout.Segments[1].Size;
        int blockColumns = RowOrderBlockColumns(ctx, constants);
        bool rowsWholeLines = columns % ctx.LineElements == 0;
        if (rowsWholeLines)
        {
            w.Line($"// Two rows a step only where every row starts on a cache line (rows of {Int(columns)} values are whole lines):");
            w.Line("// stores alternating between two rows that straddle lines run 2–3× slower than one row at a time.");
            w.Line($"bool rowPairs = {Simd}.IsLineAligned(ref {input}) && {Simd}.IsLineAligned(ref {output});");
        }
        EitherWidth(w, ctx, Unroll, shape =>
        {
            Segment rows = ctx.Layout.Segments[0];
            string r = ctx.LoopVariable(rows);
            var split = new ColumnSplit(ctx, shape, Unroll);
            if (split.Tiled > blockColumns)
            {
                EmitBlocks(shape, split, r);
                return;
            }
            EmitRowSteps(r, stepRows => EmitRows(shape, split, r, stepRows));
        });

        // The chunk's rows: two a step where rowPairs holds (rows of whole lines), then one a step.
        void EmitRowSteps(string r, Action<int> emitStep)
        {
            w.Line($"int {r} = chunkFirst;");
            if (rowsWholeLines)
            {
                using (w.Block($"for (; rowPairs && {r} + {RowOrderRows - 1} < chunkLast; {r} += {RowOrderRows})"))
                {
                    emitStep(RowOrderRows);
                }
            }
            using (w.Block($"for (; {r} < chunkLast; {r}++)"))
            {
                emitStep(1);
            }
        }

        // Every row's tiles a block of columns at a time, then the columns after the tiles row by row.
        void EmitBlocks(VectorShape shape, ColumnSplit split, string r)
        {
            w.Line($"// In blocks of {Int(blockColumns)} columns: every row's first block, then every row's next.");
            using (w.Block($"for (int block = 0; block < {Int(split.Tiled)}; block += {Int(blockColumns)})"))
            {
                w.Line($"int blockEnd = global::System.Math.Min(block + {Int(blockColumns)}, {Int(split.Tiled)});");
                EmitRowSteps(r, stepRows => EmitBlockTiles(shape, split, r, stepRows));
            }
            if (columns > split.Tiled)
            {
                using (w.Block($"for (int {r} = chunkFirst; {r} < chunkLast; {r}++)"))
                {
                    w.Line($"int row = {r} * {Int(columns)};");
                    EmitColumnsAfterTiles(shape, split, 1);
                }
            }
        }

        void EmitBlockTiles(VectorShape shape, ColumnSplit split, string r, int stepRows)
        {
            w.Line($"int row = {r} * {Int(columns)};");
            using (w.Block($"for (int column = block; column < blockEnd; column += {Int(split.TileColumns)})"))
            {
                w.Line("int start = row + column;");
                for (int v = 0; v < Unroll; v++)
                {
                    vector(shape.Load, v, v * shape.Width, stepRows);
                }
            }
        }

        void EmitRows(VectorShape shape, ColumnSplit split, string r, int stepRows)
        {
            w.Line($"int row = {r} * {Int(columns)};");
            if (split.Tiled > 0)
            {
                using (TileLoop(w, split, columns))
                {
                    w.Line("int start = row + column;");
                    for (int v = 0; v < Unroll; v++)
                    {
                        vector(shape.Load, v, v * shape.Width, stepRows);
                    }
                }
            }
            EmitColumnsAfterTiles(shape, split, stepRows);
        }

        void EmitColumnsAfterTiles(VectorShape shape, ColumnSplit split, int stepRows)
        {
            EmitLeftOver(split.Tiled, split.ShapeVectors, shape, stepRows);
            EmitLeftOver(split.AfterShape, split.NarrowVectors, VectorShape.Narrow(ctx), stepRows);
            if (columns > split.VectorColumns)
            {
                using (w.Block($"for (int column = {Int(split.VectorColumns)}; column < {Int(columns)}; column++)"))
                {
                    w.Line("int start = row + column;");
                    scalar(stepRows);
                }
            }
        }

        void EmitLeftOver(int first, int vectors, VectorShape shape, int stepRows)
        {
            if (vectors == 0)
            {
                return;
            }
            using (w.Block(first == 0
                ? $"// All {vectors * shape.Width} columns, {vectors} vector{(vectors == 1 ? "" : "s")}."
                : $"// The {vectors * shape.Width} columns from {first} that fill whole vectors."))
            {
                w.Line($"const int column = {Int(first)};");
                w.Line("int start = row + column;");
                for (int v = 0; v < vectors; v++)
                {
                    vector(shape.Load, v, v * shape.Width, stepRows);
                }
            }
        }
    }

    /// <summary>
    /// Opens the loop over a row's whole tiles of columns; where there is exactly one tile, a block for it with
    /// <c>column</c> a constant 0 instead (a loop that runs once reads as if it did more).
    /// </summary>
    private static CodeWriter.Scope TileLoop(CodeWriter w, ColumnSplit split, int columns)
    {
        if (split.Tiled != split.TileColumns)
        {
            return w.Block($"for (int column = 0; column < {Int(split.Tiled)}; column += {Int(split.TileColumns)})");
        }
        CodeWriter.Scope block = w.Block(split.Tiled == columns
            ? $"// All {Int(columns)} columns, one tile."
            : $"// The first {Int(split.Tiled)} columns, one tile.");
        w.Line("const int column = 0;");
        return block;
    }

    /// <summary>
    /// How a row's columns split for a loop nest in vectors of one shape: unrolled tiles of a given number of vectors up
    /// to <see cref="Tiled"/>, whole vectors of the shape up to <see cref="AfterShape"/>, then, in a 512-bit nest, one
    /// 256-bit vector if the columns left fill it. <see cref="VectorColumns"/> is where the 256-bit nest's vectors end
    /// too, so both widths leave the same columns to the scalar loop (and give the same bits).
    /// </summary>
    private readonly struct ColumnSplit
    {
        public ColumnSplit(KernelContext ctx, VectorShape shape, int tileVectors)
        {
            int columns = ctx.Layout.Segments[1].Size;
            int narrow = VectorShape.Narrow(ctx).Width;
            TileColumns = tileVectors * shape.Width;
            Tiled = columns - (columns % TileColumns);
            ShapeVectors = (columns - Tiled) / shape.Width;
            AfterShape = Tiled + (ShapeVectors * shape.Width);
            NarrowVectors = shape.IsWide ? (columns - AfterShape) / narrow : 0;
            VectorColumns = AfterShape + (NarrowVectors * narrow);
        }

        /// <summary>Columns in one unrolled tile.</summary>
        public int TileColumns { get; }

        /// <summary>Columns in whole tiles.</summary>
        public int Tiled { get; }

        /// <summary>Whole vectors of the shape after the tiles.</summary>
        public int ShapeVectors { get; }

        /// <summary>Columns in whole tiles and whole vectors of the shape.</summary>
        public int AfterShape { get; }

        /// <summary>256-bit vectors after those, in a 512-bit nest (0 or 1).</summary>
        public int NarrowVectors { get; }

        /// <summary>Columns written by vectors; the rest go one by one.</summary>
        public int VectorColumns { get; }
    }
}
