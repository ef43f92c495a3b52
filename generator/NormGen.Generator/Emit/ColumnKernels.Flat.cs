using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// y for rows that are no whole number of cache lines (BatchNorm1d(100), say). Row by row, every row ends in a partial
/// vector and scalar columns, and most vectors of a row that starts mid-line split two lines. The y pass is elementwise
/// with per-column constants, so it treats the chunk's rows as one flat run instead: a period of rows whose values fill
/// whole 512-bit vectors (4 rows of 100 floats: 400 values, 25 vectors), with hi, scale and shift repeated over the
/// period, so that every vector of the run is whole and the constants of each vector are those at the same offset in the
/// period (BatchNorm1d x[64,100] inference: the y pass 1.25 → 0.64 µs, hand-written; the call 1.55 → 0.95 µs).
/// </summary>
internal static partial class ColumnKernels
{
    /// <summary>
    /// The values in a period of the flat y pass: lcm(columns, a cache line's elements), where the rows are no whole number
    /// of lines and the three repeated constant arrays fit in <see cref="RowOrderConstantBytes"/>; null for the row passes.
    /// </summary>
    public static int? FlatPeriod(KernelContext ctx)
    {
        if (!ctx.IsColumnLayout)
        {
            return null;
        }
        int columns = ctx.Layout.Segments[1].Size;
        int line = ctx.LineElements;
        if (columns % line == 0)
        {
            return null;
        }
        long period = (long)(columns / Gcd(columns, line)) * line;
        return 3 * period * ctx.ElementBytes <= RowOrderConstantBytes ? (int)period : null;
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    /// <summary>The body of <c>NormalizeChunk</c> in flat periods (see the class summary).</summary>
    private static void EmitFlatNormalize(CodeWriter w, KernelContext ctx, int period)
    {
        int columns = ctx.Layout.Segments[1].Size;
        var wide = VectorShape.Wide(ctx);
        var narrow = VectorShape.Narrow(ctx);
        string fma = ctx.IsFloat ? "global::System.MathF.FusedMultiplyAdd" : "global::System.Math.FusedMultiplyAdd";
        w.Line($"// y = (x − hi)·scale + shift per column: (x − mean)·invStd·γ + β with the mean's low part in the shift. Rows of {columns}");
        w.Line($"// values fill no whole number of cache lines: the chunk's rows as one flat run, in periods of {period / columns} rows ({period}");
        int wideVectors = period / wide.Width;
        w.Line($"// values, {wideVectors} 512-bit vector{(wideVectors == 1 ? "" : "s")}), with hi, scale and shift repeated over the period (NormalizeWithStatistics");
        w.Line($"// fills {period} of each), so that every vector is whole.");
        w.Line($"int start = chunkFirst * {Int(columns)};");
        w.Line($"int end = chunkLast * {Int(columns)};");
        using (w.Block("if (global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)"))
        {
            w.Line("// 512-bit vectors (AVX-512): the same values as the 256-bit loop below.");
            EmitPeriods(wide);
        }
        using (w.Block("else"))
        {
            EmitPeriods(narrow);
        }
        w.Line($"// The rows after the last whole period (fewer than {period / columns}): whole vectors, then single values, fused alike.");
        w.Line("int k = 0;");
        using (w.Block($"for (; k + {narrow.Width} <= end - start; k += {narrow.Width})"))
        {
            w.Line(Store(narrow, "k"));
        }
        using (w.Block("for (; k < end - start; k++)"))
        {
            w.Line($"NormGenSimd.At(ref yRef, start + k) = {fma}(NormGenSimd.At(ref xRef, start + k) - NormGenSimd.At(ref meanHiRef, k), NormGenSimd.At(ref scaleRef, k), NormGenSimd.At(ref shiftRef, k));");
        }

        void EmitPeriods(VectorShape shape)
        {
            int vectors = period / shape.Width;
            int unrolled = vectors / Unroll * Unroll;
            using (w.Block($"for (; start + {Int(period)} <= end; start += {Int(period)})"))
            {
                if (unrolled > 0)
                {
                    using (w.Block($"for (int i = 0; i < {Int(unrolled * shape.Width)}; i += {Int(Unroll * shape.Width)})"))
                    {
                        for (int v = 0; v < Unroll; v++)
                        {
                            w.Line(Store(shape, v == 0 ? "i" : $"i + {v * shape.Width}"));
                        }
                    }
                }
                for (int v = unrolled; v < vectors; v++)
                {
                    w.Line(Store(shape, Int(v * shape.Width)));
                }
            }
        }

        // The value at offset k of the period (also the offset from start).
        string Store(VectorShape shape, string k) =>
            shape.Store($"{Simd}.MultiplyAdd({Simd}.{shape.Load}(ref xRef, start + {k}) - {Simd}.{shape.Load}(ref meanHiRef, {k}), {Simd}.{shape.Load}(ref scaleRef, {k}), {Simd}.{shape.Load}(ref shiftRef, {k}))", "yRef", k);
    }
}
