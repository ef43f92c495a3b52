using System;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// Rows narrower than a 256-bit vector (channels-last BatchNorm over RGB: 3 columns; BatchNorm1d(4)): no tile of whole
/// vectors fits a row, and the tiles' fallback went column by column in scalar double, one chain of adds per column down
/// every row (x[4,224,224,3] backward 1588 µs against 101 µs channels-first). The sums passes and dx take the chunk's
/// rows as one flat run instead, in periods of rows whose values fill whole vectors (3 columns: 8 rows, 24 values, three
/// vectors), the per-column constants repeated over the period by the orchestrator; after at most
/// <see cref="NarrowBlockPeriods"/> periods each lane's sums go into its column's partial sums in double.
/// </summary>
internal static partial class ColumnKernels
{
    /// <summary>Periods per block: each lane sums at most this many values in the element type before adding them in double.</summary>
    private const int NarrowBlockPeriods = 512;

    /// <summary>
    /// The values in a period of the narrow passes, lcm(columns, a 256-bit vector's lanes), where the rows are narrower
    /// than a vector; else null.
    /// </summary>
    public static int? NarrowPeriod(KernelContext ctx)
    {
        if (!ctx.IsColumnLayout)
        {
            return null;
        }
        int columns = ctx.Layout.Segments[1].Size;
        return columns < ctx.Width ? columns / Gcd(columns, ctx.Width) * ctx.Width : null;
    }

    /// <summary>Whether dx reads gain, hi, slope and offset prepared per column by the orchestrator (row order, or narrow rows).</summary>
    public static bool DxFromPreparedConstants(KernelContext ctx) => DxInRowOrder(ctx) || (NarrowPeriod(ctx) is not null && !ctx.Spec.IsRms);

    /// <summary>
    /// A narrow sums pass: one accumulator per vector of the period for each of <paramref name="sums"/> (its name, and the
    /// reference to its partial-sums row), <paramref name="body"/>(v, index) adding vector v's values at index, each
    /// accumulator then added lane by lane to its row; the rows after the last whole period go value by value through <paramref name="scalar"/>, with
    /// <c>column</c> and <c>start</c> set. <paramref name="setup"/>(v) loads vector v's constants.
    /// </summary>
    private static void EmitNarrowSums(CodeWriter w, KernelContext ctx, int period, string comment, (string Name, string Row)[] sums,
        Action<int> setup, Action<int, string> body, Action scalar)
    {
        int columns = ctx.Layout.Segments[1].Size;
        int vectors = period / ctx.Width;
        w.Line($"// {comment}");
        w.Line($"// Rows of {columns} values, narrower than a vector: the chunk's rows as one flat run in periods of {period / columns} rows ({period} values,");
        w.Line($"// {vectors} vectors), the per-column constants repeated over the period; after at most {NarrowBlockPeriods} periods each lane's");
        w.Line("// sums go into its column's partial sums in double.");
        w.Line($"int start = chunkFirst * {Int(columns)};");
        w.Line($"int end = chunkLast * {Int(columns)};");
        for (int v = 0; v < vectors; v++)
        {
            setup(v);
        }
        using (w.Block($"while (end - start >= {Int(period)})"))
        {
            w.Line($"int blockEnd = start + (global::System.Math.Min((end - start) / {Int(period)}, {NarrowBlockPeriods}) * {Int(period)});");
            foreach ((string sum, _) in sums)
            {
                for (int v = 0; v < vectors; v++)
                {
                    w.Line($"var {sum}{v} = global::System.Runtime.Intrinsics.Vector256<{ctx.T}>.Zero;");
                }
            }
            using (w.Block($"for (; start < blockEnd; start += {Int(period)})"))
            {
                for (int v = 0; v < vectors; v++)
                {
                    body(v, v == 0 ? "start" : $"start + {Int(v * ctx.Width)}");
                }
            }
            foreach ((string sum, string row) in sums)
            {
                for (int v = 0; v < vectors; v++)
                {
                    w.Line($"{Simd}.AddLanesToColumns(ref {row}, {sum}{v}, {Int(v * ctx.Width % columns)}, {Int(columns)});");
                }
            }
        }
        w.Line($"// The rows after the last whole period (fewer than {period / columns}): value by value.");
        using (w.Block("for (; start < end; start++)"))
        {
            w.Line($"int column = start % {Int(columns)};");
            scalar();
        }
    }

    /// <summary>Σx (or Σx²) per column over narrow rows.</summary>
    private static void EmitNarrowPlainSums(CodeWriter w, KernelContext ctx, int period)
    {
        bool rms = ctx.Spec.IsRms;
        EmitNarrowSums(w, ctx, period, rms ? "Σx² per column." : "Σx per column (a first mean).", [("sum", "sumRef")],
            _ => { },
            (v, index) => w.Line(rms
                ? $"var v{v} = {Simd}.Load(ref xRef, {index}); sum{v} = {Simd}.MultiplyAdd(v{v}, v{v}, sum{v});"
                : $"sum{v} += {Simd}.Load(ref xRef, {index});"),
            () =>
            {
                w.Line("double v = NormGenSimd.At(ref xRef, start);");
                w.Line(rms ? "NormGenSimd.At(ref sumRef, column) += v * v;" : "NormGenSimd.At(ref sumRef, column) += v;");
            });
    }

    /// <summary>Σd and Σd² per column over narrow rows, d = x − pivot, the pivots repeated over the period.</summary>
    private static void EmitNarrowDeviations(CodeWriter w, KernelContext ctx, int period)
    {
        EmitNarrowSums(w, ctx, period, "Σd and Σd² per column, d = x − pivot.", [("sumD", "sumDRef"), ("sumSquares", "sumD2Ref")],
            v => w.Line($"var pivot{v} = {Simd}.Load(ref pivotRef, {Int(v * ctx.Width)});"),
            (v, index) =>
            {
                w.Line($"var d{v} = {Simd}.Load(ref xRef, {index}) - pivot{v};");
                w.Line($"sumD{v} += d{v};");
                w.Line($"sumSquares{v} = {Simd}.MultiplyAdd(d{v}, d{v}, sumSquares{v});");
            },
            () =>
            {
                w.Line("double d = NormGenSimd.At(ref xRef, start) - NormGenSimd.At(ref pivotRef, column);");
                w.Line("NormGenSimd.At(ref sumDRef, column) += d;");
                w.Line("NormGenSimd.At(ref sumD2Ref, column) += d * d;");
            });
    }

    /// <summary>
    /// Σdy and Σdy·(x − hi) (RMSNorm: Σdy·x) per column over narrow rows, hi repeated over the period; then per column
    /// Σdy·x̂ = (Σdy·(x − hi) − lo·Σdy)·invStd, as the tiles compute it per block.
    /// </summary>
    private static void EmitNarrowBackwardSums(CodeWriter w, KernelContext ctx, int period)
    {
        bool rms = ctx.Spec.IsRms;
        int columns = ctx.Layout.Segments[1].Size;
        EmitNarrowSums(w, ctx, period, rms ? "Σdy and Σdy·x per column." : "Σdy and Σdy·(x − hi) per column.", [("dySum", "dySumRef"), ("dyCentered", "dyXhatSumRef")],
            v =>
            {
                if (!rms)
                {
                    w.Line($"var meanHi{v} = {Simd}.Load(ref meanHiRef, {Int(v * ctx.Width)});");
                }
            },
            (v, index) =>
            {
                string x = $"{Simd}.Load(ref xRef, {index})";
                w.Line($"var dy{v} = {Simd}.Load(ref dyRef, {index});");
                w.Line($"dySum{v} += dy{v};");
                w.Line($"dyCentered{v} = {Simd}.MultiplyAdd(dy{v}, {(rms ? x : $"{x} - meanHi{v}")}, dyCentered{v});");
            },
            () =>
            {
                w.Line("double dyValue = NormGenSimd.At(ref dyRef, start);");
                w.Line("NormGenSimd.At(ref dySumRef, column) += dyValue;");
                w.Line(rms
                    ? "NormGenSimd.At(ref dyXhatSumRef, column) += dyValue * NormGenSimd.At(ref xRef, start);"
                    : "NormGenSimd.At(ref dyXhatSumRef, column) += dyValue * (NormGenSimd.At(ref xRef, start) - NormGenSimd.At(ref meanHiRef, column));");
            });
        string lowPart = !rms && ctx.IsFloat ? " − lo·Σdy" : "";
        w.Line($"// Per column: Σdy·x̂ = (Σdy·{(rms ? "x" : "(x − hi)")}{lowPart})·invStd.");
        using (w.Block($"for (int column = 0; column < {Int(columns)}; column++)"))
        {
            string centered = !rms && ctx.IsFloat
                ? "NormGenSimd.At(ref dyXhatSumRef, column) - NormGenSimd.At(ref meanLoRef, column) * NormGenSimd.At(ref dySumRef, column)"
                : "NormGenSimd.At(ref dyXhatSumRef, column)";
            w.Line($"NormGenSimd.At(ref dyXhatSumRef, column) = ({centered}) * NormGenSimd.At(ref invStdRef, column);");
        }
    }

    /// <summary>
    /// dx = dy·gain − (x − hi)·slope − offset over narrow rows as one flat run in periods, the four constants prepared per
    /// column (as the row-order pass reads them) and repeated over the period by the orchestrator.
    /// </summary>
    private static void EmitNarrowDx(CodeWriter w, KernelContext ctx, int period)
    {
        int columns = ctx.Layout.Segments[1].Size;
        int vectors = period / ctx.Width;
        w.Line("// dx = dy·gain − (x − hi)·slope − offset per column (gain = γ·invStd, the mean's low part folded into the offset).");
        w.Line($"// Rows of {columns} values, narrower than a vector: the chunk's rows as one flat run in periods of {period / columns} rows ({period}");
        w.Line($"// values, {vectors} vectors), the four constants repeated over the period and held in registers.");
        w.Line($"int start = chunkFirst * {Int(columns)};");
        w.Line($"int end = chunkLast * {Int(columns)};");
        for (int v = 0; v < vectors; v++)
        {
            string at(string name) => $"{Simd}.Load(ref {name}Ref, {Int(v * ctx.Width)})";
            w.Line($"var gain{v} = {at("gain")}; var meanHi{v} = {at("meanHi")}; var slope{v} = {at("slope")}; var offset{v} = {at("offset")};");
        }
        using (w.Block($"for (; start + {Int(period)} <= end; start += {Int(period)})"))
        {
            for (int v = 0; v < vectors; v++)
            {
                string index = v == 0 ? "start" : $"start + {Int(v * ctx.Width)}";
                w.Line($"{Simd}.StoreOutput({Simd}.Load(ref dyRef, {index}) * gain{v} - ({Simd}.Load(ref xRef, {index}) - meanHi{v}) * slope{v} - offset{v}, ref dxRef, {index}, streaming);");
            }
        }
        w.Line($"// The rows after the last whole period (fewer than {period / columns}): value by value.");
        using (w.Block("for (; start < end; start++)"))
        {
            w.Line($"int column = start % {Int(columns)};");
            w.Line("NormGenSimd.At(ref dxRef, start) = NormGenSimd.At(ref dyRef, start) * NormGenSimd.At(ref gainRef, column) - (NormGenSimd.At(ref xRef, start) - NormGenSimd.At(ref meanHiRef, column)) * NormGenSimd.At(ref slopeRef, column) - NormGenSimd.At(ref offsetRef, column);");
        }
    }
}
