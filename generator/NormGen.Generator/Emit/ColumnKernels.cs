using System;
using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// Reductions for the rows × columns layout (BatchNorm1d on (N, C), channels-last BatchNorm): one statistic per
/// column. A tile of 16 columns keeps its sums in registers while a block of 8 rows streams past, then adds them
/// to the chunk's partial sums in double, instead of a load-add-store per row.
/// </summary>
internal static class ColumnKernels
{
    private const int Tile = 16;

    public static void EmitSums(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        int vectors = Tile / ctx.Width;
        EmitHeader(w, ctx, "LanePartials", "sumRef");
        w.Line(rms
            ? $"// Σx² per column: tiles of {Tile} columns sum {RowBlock} rows in registers, then add to the chunk's partial sums in double."
            : $"// Σx per column (a first mean): tiles of {Tile} columns sum {RowBlock} rows in registers, then add to the chunk's partial sums in double.");
        ForEachTile(w, ctx, ["sum"], () =>
        {
            for (int v = 0; v < vectors; v++)
            {
                string value = $"{Simd}.Load(ref xRef, start + {v * ctx.Width})";
                w.Line(rms
                    ? $"var v{v} = {value}; sum{v} = {Simd}.MultiplyAdd(v{v}, v{v}, sum{v});"
                    : $"sum{v} += {value};");
            }
        }, v => [$"{Simd}.AddWidenedTo(ref sumRef, column + {v * ctx.Width}, sum{v});"],
        () =>
        {
            if (rms)
            {
                w.Line("double v = NormGenSimd.At(ref xRef, start);");
            }
            w.Line(rms ? "sum += v * v;" : "sum += NormGenSimd.At(ref xRef, start);");
        }, ["NormGenSimd.At(ref sumRef, column) += sum;"]);
    }

    /// <summary>
    /// Σd and Σd² per column with d = x − pivot, the pivot being the first mean rounded to the element type: the corrected
    /// two-pass algorithm (mean = pivot + Σd/n, variance = Σd²/n − (Σd/n)²), so the first mean may be a little off.
    /// </summary>
    public static void EmitSquaredDeviations(CodeWriter w, KernelContext ctx)
    {
        int vectors = Tile / ctx.Width;
        EmitHeader(w, ctx, null, null);
        w.Line($"const int laneStride = count + {StateEmitter.PartialPadding};");
        PartialSums.EmitRowPair(w, "LanePartials", "laneStride", "sumDRef", "sumD2Ref");
        w.Line($"ref {ctx.T} pivotRef = ref {Simd}.Ref(state.LaneMeanHi);");
        w.Line($"// Σd and Σd² per column, d = x − pivot: tiles of {Tile} columns sum {RowBlock} rows in registers.");
        ForEachTile(w, ctx, ["sumD", "sumD2"], () =>
        {
            for (int v = 0; v < vectors; v++)
            {
                w.Line($"var d{v} = {Simd}.Load(ref xRef, start + {v * ctx.Width}) - pivot{v};");
                w.Line($"sumD{v} += d{v};");
                w.Line($"sumD2{v} = {Simd}.MultiplyAdd(d{v}, d{v}, sumD2{v});");
            }
        }, v => [
            $"{Simd}.AddWidenedTo(ref sumDRef, column + {v * ctx.Width}, sumD{v});",
            $"{Simd}.AddWidenedTo(ref sumD2Ref, column + {v * ctx.Width}, sumD2{v});"],
        () =>
        {
            w.Line("double d = NormGenSimd.At(ref xRef, start) - NormGenSimd.At(ref pivotRef, column);");
            w.Line("sumD += d;");
            w.Line("sumD2 += d * d;");
        }, ["NormGenSimd.At(ref sumDRef, column) += sumD;", "NormGenSimd.At(ref sumD2Ref, column) += sumD2;"],
        tileSetup: () =>
        {
            for (int v = 0; v < vectors; v++)
            {
                w.Line($"var pivot{v} = {Simd}.Load(ref pivotRef, column + {v * ctx.Width});");
            }
        });
    }

    public static void EmitBackwardSums(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        EmitHeader(w, ctx, null, null);
        w.Line($"const int laneStride = count + {StateEmitter.PartialPadding};");
        PartialSums.EmitRowPair(w, "LanePartials", "laneStride", "sumGRef", "sumGXhatRef");
        w.Line($"ref {ctx.T} dyRef = ref {Simd}.Ref(dy);");
        w.Line($"ref {ctx.T} invStdRef = ref {Simd}.Ref(state.LaneScale);");
        if (!rms)
        {
            PartialSums.EmitMeanReferences(w, ctx);
        }
        if (ctx.HasGamma)
        {
            w.Line($"ref {ctx.T} gammaRef = ref {Simd}.Ref(state.Gamma);");
        }
        PartialSums.EmitParameterRows(w, ctx);
        int vectors = Tile / ctx.Width;
        w.Line($"// Per column Σdy and Σdy·x̂, summed over {RowBlock} rows in registers; then Σg = γ·Σdy and Σg·x̂ = γ·Σdy·x̂ per");
        w.Line("// statistic, and dγ = Σdy·x̂, dβ = Σdy per parameter (one of each per column), added in double.");
        ForEachTile(w, ctx, ["dySum", "dyXhat"], () =>
        {
            for (int v = 0; v < vectors; v++)
            {
                int offset = v * ctx.Width;
                w.Line($"var dy{v} = {Simd}.Load(ref dyRef, start + {offset});");
                w.Line($"dySum{v} += dy{v};");
                w.Line($"dyXhat{v} = {Simd}.MultiplyAdd(dy{v}, {(rms ? $"{Simd}.Load(ref xRef, start + {offset})" : Centered(ctx, "start", offset))} * invStd{v}, dyXhat{v});");
            }
        }, v =>
        {
            var lines = new List<string>();
            string gamma = ctx.HasGamma ? $" * gamma{v}" : "";
            if (ctx.HasGamma)
            {
                lines.Add($"var gamma{v} = {Simd}.Load(ref gammaRef, column + {v * ctx.Width});");
            }
            lines.Add($"{Simd}.AddWidenedTo(ref sumGRef, column + {v * ctx.Width}, dySum{v}{gamma});");
            lines.Add($"{Simd}.AddWidenedTo(ref sumGXhatRef, column + {v * ctx.Width}, dyXhat{v}{gamma});");
            if (ctx.HasGamma)
            {
                lines.Add($"{Simd}.AddWidenedTo(ref gammaSumRef, column + {v * ctx.Width}, dyXhat{v});");
            }
            if (ctx.HasBeta)
            {
                lines.Add($"{Simd}.AddWidenedTo(ref betaSumRef, column + {v * ctx.Width}, dySum{v});");
            }
            return lines;
        },
        () =>
        {
            w.Line("double dyValue = NormGenSimd.At(ref dyRef, start);");
            w.Line(rms
                ? "dyXhat += dyValue * NormGenSimd.At(ref xRef, start) * state.SavedInvStd[column];"
                : "dyXhat += dyValue * (NormGenSimd.At(ref xRef, start) - state.SavedMean[column]) * state.SavedInvStd[column];");
            w.Line("dySum += dyValue;");
        },
        [
            ctx.HasGamma ? "double gamma = state.Gamma[column];" : "const double gamma = 1.0;",
            "NormGenSimd.At(ref sumGRef, column) += gamma * dySum;",
            "NormGenSimd.At(ref sumGXhatRef, column) += gamma * dyXhat;",
            .. ctx.HasGamma ? new[] { "NormGenSimd.At(ref gammaSumRef, column) += dyXhat;" } : [],
            .. ctx.HasBeta ? new[] { "NormGenSimd.At(ref betaSumRef, column) += dySum;" } : [],
        ],
        tileSetup: () =>
        {
            if (!rms)
            {
                EmitTileMeans(w, ctx);
            }
            for (int v = 0; v < Tile / ctx.Width; v++)
            {
                w.Line($"var invStd{v} = {Simd}.Load(ref invStdRef, column + {v * ctx.Width});");
            }
        });
    }

    private static void EmitHeader(CodeWriter w, KernelContext ctx, string? partials, string? name)
    {
        w.Line($"const int count = {ctx.Layout.Segments[1].Size};");
        if (partials is not null)
        {
            w.Line($"ref double {name} = ref {Simd}.At(ref {Simd}.Ref(state.{partials}), chunk * count);");
        }
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        SegmentLoops.EmitChunkRange(w, ctx);
    }

    /// <summary>
    /// Blocks of <see cref="RowBlock"/> rows; in each, the column tiles (sums in registers over the block's rows, then added
    /// to the chunk's partial sums), then the columns left over, one by one. The block's rows sit in L1 while its tiles
    /// are read: walking one tile down many rows would touch lines a power-of-two stride apart, which share a few L1 sets.
    /// </summary>
    private static void ForEachTile(CodeWriter w, KernelContext ctx, string[] sums, Action row, Func<int, IEnumerable<string>> store,
        Action scalarRow, IEnumerable<string> scalarStore, Action? tileSetup = null)
    {
        // One vector of the element type per Width columns: a block's sums hold at most RowBlock values a lane, which
        // the element type keeps exact enough; each block's sums are then added to the partial sums in double.
        int stores = Tile / ctx.Width;
        string zero = $"{Simd}.Splat({(ctx.IsFloat ? "0f" : "0.0")})";
        Segment rows = ctx.Layout.Segments[0];
        int columns = ctx.Layout.Segments[1].Size;
        int tiled = columns - (columns % Tile);
        string r = ctx.LoopVariable(rows);
        using (w.Block($"for (int rowBlock = chunkFirst; rowBlock < chunkLast; rowBlock += {RowBlock})"))
        {
            w.Line($"int rowEnd = global::System.Math.Min(rowBlock + {RowBlock}, chunkLast);");
            if (tiled > 0)
            {
                using (w.Block($"for (int column = 0; column < {tiled}; column += {Tile})"))
                {
                    tileSetup?.Invoke();
                    foreach (string sum in sums)
                    {
                        w.Line($"var {sum}0 = {zero};" + string.Concat(Enumerable.Range(1, stores - 1).Select(k => $" var {sum}{k} = {sum}0;")));
                    }
                    using (w.Block($"for (int {r} = rowBlock; {r} < rowEnd; {r}++)"))
                    {
                        w.Line($"int start = {r} * {columns} + column;");
                        row();
                    }
                    for (int k = 0; k < stores; k++)
                    {
                        foreach (string line in store(k))
                        {
                            w.Line(line);
                        }
                    }
                }
            }
            if (columns > tiled)
            {
                using (w.Block($"for (int column = {tiled}; column < {columns}; column++)"))
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
    }

    /// <summary>Rows per block of the column reductions: 8 rows of a tile are 8 cache lines, one L1 set's ways.</summary>
    private const int RowBlock = 8;

    /// <summary>The tile's means, loaded once per tile: hi and lo floats for float data.</summary>
    private static void EmitTileMeans(CodeWriter w, KernelContext ctx)
    {
        for (int v = 0; v < Tile / ctx.Width; v++)
        {
            w.Line($"var meanHi{v} = {Simd}.Load(ref meanHiRef, column + {v * ctx.Width});");
            if (ctx.IsFloat)
            {
                w.Line($"var meanLo{v} = {Simd}.Load(ref meanLoRef, column + {v * ctx.Width});");
            }
        }
    }

    /// <summary>x − mean for the vector at <paramref name="offset"/> within the tile.</summary>
    private static string Centered(KernelContext ctx, string start, int offset)
    {
        int v = offset / ctx.Width;
        return ctx.IsFloat
            ? $"({Simd}.Load(ref xRef, {start} + {offset}) - meanHi{v} - meanLo{v})"
            : $"({Simd}.Load(ref xRef, {start} + {offset}) - meanHi{v})";
    }
}
