using System;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// y for rows of at least one step of the loop (64 floats, 32 doubles) whose per-column constants fit about half the L1, where
/// no short period of rows fills whole vectors (<see cref="FlatPeriod"/>): the chunk's rows go as one flat run of vectors
/// on y's cache lines, the column of each step's first value advancing by the step and wrapping at the row length; hi,
/// scale and shift run on past the last column (the first columns again), so a step that crosses into the next row reads
/// its columns' constants in one piece. Rows that are no whole number of lines (BatchNorm1d(1001): the lines repeat every
/// 16 rows) then need neither split vectors nor a tail per row. Where every mean was folded into the shift
/// (<c>Statistics.FoldScaleShiftNearZero</c>: each within 16 standard deviations of zero, hi = 0), the loop leaves hi
/// out: three streams a vector instead of four, the same bits. Measured (alternating builds, 1 / 2 threads): BatchNorm1d
/// x[1024,1001] inference 1.23–1.35× / 1.17× faster than row by row with four streams, x[256,512] 1.12–1.17× /
/// 1.14–1.27× faster than row order with two rows a step; the hand-written y loop over x[1024,1001]: 81–87 µs row by row
/// with four streams, 66–74 µs wrapped with three, TensorPrimitives' x·a + b row by row 78–82 µs. dx goes the same way
/// over rows of 2 KiB or more that are no whole number of lines (<see cref="EmitWrappedDx"/>).
/// </summary>
internal static partial class ColumnKernels
{
    /// <summary>
    /// How many values hi, scale and shift run on past the last column for the wrapped y pass (one unrolled step of
    /// 512-bit vectors), or null where y goes another way: rows with a flat period, rows narrower than that step (row
    /// order or tiles), layouts without per-column hi and shift, and constants larger than <see cref="WrappedYConstantBytes"/> (tiles).
    /// </summary>
    public static int? WrapExtension(KernelContext ctx) =>
        ctx.IsColumnLayout && LaneKernels.PerStatisticShift(ctx) && FlatPeriod(ctx) is null ? Extension(ctx, constants: 3, WrappedYConstantBytes) : null;

    /// <summary>
    /// The most bytes of hi, scale and shift (with the extension) the wrapped y pass reads: a little over half the L1, since
    /// this pass reads only x and writes y beside them, and where the means fold it leaves hi out. BatchNorm1d(2048)'s
    /// three arrays are 25.3 KiB: wrapped, its inference ran 1.17× (x[32,2048]), 1.25× (x[256,2048]) and 1.1–1.3×
    /// (x[1024,2048]) faster than row order with two rows a step (alternating builds, one thread).
    /// </summary>
    private const int WrappedYConstantBytes = 28 * 1024;

    /// <summary>
    /// How many values gain, hi, slope and offset run on past the last column for the wrapped dx pass, or null where dx
    /// goes another way: rows that do not go row by row (<see cref="DxInRowOrder"/>), rows of whole cache lines (row by
    /// row, two rows a step where they start on lines: BatchNorm1d x[256,512] backward 1.1× faster at one thread than
    /// wrapped, where the rows stay in the L2 and each constant loaded serves two rows), and rows whose four constants with
    /// the extension pass half the L1.
    /// </summary>
    public static int? DxWrapExtension(KernelContext ctx) =>
        DxInRowOrder(ctx) && ctx.Layout.Segments[1].Size % ctx.LineElements != 0 ? Extension(ctx, constants: 4, RowOrderConstantBytes) : null;

    /// <summary>
    /// One unrolled step of 512-bit vectors, the values a wrapped pass's <paramref name="constants"/> per-column arrays
    /// run on past the last column, where the rows are at least that long (a step then passes at most one row's end, so
    /// one subtraction wraps the column) and the arrays with it fit in <paramref name="limitBytes"/>; else null.
    /// </summary>
    private static int? Extension(KernelContext ctx, int constants, int limitBytes)
    {
        int columns = ctx.Layout.Segments[1].Size;
        int extension = Unroll * VectorShape.Wide(ctx).Width;
        bool fits = constants * (columns + extension) * ctx.ElementBytes <= limitBytes;
        return columns >= extension && fits ? extension : null;
    }

    /// <summary>The body of <c>NormalizeChunk</c> as one wrapped flat run (see the class summary).</summary>
    private static void EmitWrappedNormalize(CodeWriter w, KernelContext ctx, int extension)
    {
        int columns = ctx.Layout.Segments[1].Size;
        string fma = ctx.IsFloat ? "global::System.MathF.FusedMultiplyAdd" : "global::System.Math.FusedMultiplyAdd";
        w.Line("// y = (x − hi)·scale + shift per column: (x − mean)·invStd·γ + β with the mean's low part in the shift. The chunk's");
        w.Line("// rows as one flat run of vectors on y's cache lines (no split vectors or tail per row), the column of each step's");
        w.Line($"// first value advancing by the step and wrapping at {columns}. hi, scale and shift run on for {extension} values past the");
        w.Line($"// last column (the first {extension} again), so a step into the next row reads them in one piece.");
        EmitWrappedPass(w, ctx, "y", "state.MeansFolded",
            "// Every mean folded into the shift (hi = 0): y = x·scale + shift, three streams a vector, the same bits.",
            (shape, offset, folded) =>
            {
                string x = AtStart(shape, "x", offset);
                string centered = folded ? x : $"{x} - {AtColumn(shape, "meanHi", offset)}";
                return $"{Simd}.MultiplyAdd({centered}, {AtColumn(shape, "scale", offset)}, {AtColumn(shape, "shift", offset)})";
            },
            $"{fma}(NormGenSimd.At(ref xRef, start) - NormGenSimd.At(ref meanHiRef, column), NormGenSimd.At(ref scaleRef, column), NormGenSimd.At(ref shiftRef, column))");
    }

    /// <summary>
    /// The body of <c>BackwardDxChunk</c> as one wrapped flat run, as y's (see the class summary): dx = dy·gain − (x − hi)·slope
    /// − offset, or dy·gain − x·slope − offset where every mean was folded into the offset (five streams a vector instead
    /// of six; BatchNorm1d x[1024,1001] backward, hand-written into the generated kernel: 1.19× faster at one thread
    /// than row by row, 1.07× with hi; unchanged at two).
    /// </summary>
    private static void EmitWrappedDx(CodeWriter w, KernelContext ctx, int extension)
    {
        int columns = ctx.Layout.Segments[1].Size;
        w.Line("// dx = dy·gain − (x − hi)·slope − offset per column. The chunk's rows as one flat run of vectors on dx's cache lines,");
        w.Line($"// the column of each step's first value advancing by the step and wrapping at {columns}. gain, hi, slope and offset run on");
        w.Line($"// for {extension} values past the last column (the first {extension} again), so a step into the next row reads them in one piece.");
        EmitWrappedPass(w, ctx, "dx", "state.DxMeansFolded",
            "// Every mean folded into the offset (hi = 0): dx = dy·gain − x·slope − offset, five streams a vector, the same bits.",
            (shape, offset, folded) =>
            {
                string x = AtStart(shape, "x", offset);
                string centered = folded ? x : $"({x} - {AtColumn(shape, "meanHi", offset)})";
                return $"{AtStart(shape, "dy", offset)} * {AtColumn(shape, "gain", offset)} - {centered} * {AtColumn(shape, "slope", offset)} - {AtColumn(shape, "offset", offset)}";
            },
            "NormGenSimd.At(ref dyRef, start) * NormGenSimd.At(ref gainRef, column) - (NormGenSimd.At(ref xRef, start) - NormGenSimd.At(ref meanHiRef, column)) * NormGenSimd.At(ref slopeRef, column) - NormGenSimd.At(ref offsetRef, column)");
    }

    /// <summary>The vector of the per-column array behind <c>{name}Ref</c> at <paramref name="offset"/> in the step.</summary>
    private static string AtColumn(VectorShape shape, string name, int offset) => $"{Simd}.{shape.Load}(ref {name}Ref, column + {offset})";

    /// <summary>The vector of the data behind <c>{name}Ref</c> at <paramref name="offset"/> in the step.</summary>
    private static string AtStart(VectorShape shape, string name, int offset) => $"{Simd}.{shape.Load}(ref {name}Ref, start + {offset})";

    /// <summary>
    /// A wrapped flat run over the chunk's rows writing <paramref name="output"/>: the values before its first line boundary
    /// one by one (<paramref name="scalar"/>, the value at <c>start</c> and <c>column</c>), then unrolled steps and single
    /// lines of vectors (<paramref name="vector"/>(shape, offset in the step, whether every mean was folded)) in both forms,
    /// chosen by <paramref name="foldedFlag"/>, then the values after the last whole line one by one. Every value has one
    /// formula wherever it falls, so the forms and widths give the same bits.
    /// </summary>
    private static void EmitWrappedPass(CodeWriter w, KernelContext ctx, string output, string foldedFlag, string foldedComment,
        Func<VectorShape, int, bool, string> vector, string scalar)
    {
        int columns = ctx.Layout.Segments[1].Size;
        w.Line($"int start = chunkFirst * {Int(columns)};");
        w.Line($"int end = chunkLast * {Int(columns)};");
        w.Line("int column = 0;");
        w.Line($"// The values before {output}'s first cache line boundary, one by one (ordinary stores: the previous chunk writes the");
        w.Line("// rest of that line).");
        using (w.Block($"for (int head = global::System.Math.Min({Simd}.LineStart(ref {output}Ref, start), end - start); head > 0; head--, start++)"))
        {
            EmitScalar();
        }
        w.Line(foldedComment);
        w.Line($"bool meansFolded = {foldedFlag};");
        using (w.Block("if (global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)"))
        {
            w.Line("// 512-bit vectors (AVX-512), a cache line each: the same values as the 256-bit loops below.");
            EmitBothForms(VectorShape.Wide(ctx));
        }
        using (w.Block("else"))
        {
            EmitBothForms(VectorShape.Narrow(ctx));
        }
        w.Line("// The values after the last whole cache line, one by one.");
        using (w.Block("for (; start < end; start++)"))
        {
            EmitScalar();
        }

        void EmitBothForms(VectorShape shape)
        {
            using (w.Block("if (meansFolded)"))
            {
                EmitSteps(shape, folded: true);
            }
            using (w.Block("else"))
            {
                EmitSteps(shape, folded: false);
            }
        }

        void EmitSteps(VectorShape shape, bool folded)
        {
            int step = Unroll * shape.Width;
            using (w.Block($"for (; start + {Int(step)} <= end; start += {Int(step)})"))
            {
                for (int v = 0; v < Unroll; v++)
                {
                    w.Line(shape.Store(vector(shape, v * shape.Width, folded), $"{output}Ref", Int(v * shape.Width)));
                }
                EmitAdvance(step);
            }
            // Then a cache line at a time, so that no line is written partly by vectors and partly one by one.
            using (w.Block($"for (; start + {Int(ctx.LineElements)} <= end; start += {Int(ctx.LineElements)})"))
            {
                for (int offset = 0; offset < ctx.LineElements; offset += shape.Width)
                {
                    w.Line(shape.Store(vector(shape, offset, folded), $"{output}Ref", Int(offset)));
                }
                EmitAdvance(ctx.LineElements);
            }
        }

        void EmitAdvance(int values)
        {
            w.Line($"column += {Int(values)};");
            using (w.Block($"if (column >= {Int(columns)})"))
            {
                w.Line($"column -= {Int(columns)};");
            }
        }

        void EmitScalar()
        {
            w.Line($"NormGenSimd.At(ref {output}Ref, start) = {scalar};");
            using (w.Block($"if (++column == {Int(columns)})"))
            {
                w.Line("column = 0;");
            }
        }
    }
}
