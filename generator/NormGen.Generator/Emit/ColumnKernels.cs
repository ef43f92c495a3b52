using System;
using System.Collections.Generic;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// Reductions for the rows × columns layout (BatchNorm1d on (N, C), channels-last BatchNorm): one statistic per
/// column. A tile of 16 columns keeps its sums in four double vectors in registers while the chunk's rows stream
/// past, and adds them to the chunk's partial sums once at the end, instead of a load-add-store per row.
/// </summary>
internal static class ColumnKernels
{
    private const int Tile = 16;

    public static void EmitSums(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        EmitHeader(w, ctx, "LanePartials", "sumRef");
        w.Line(rms
            ? $"// Σx² per column: tiles of {Tile} columns keep their sums in registers across the chunk's rows."
            : $"// Σx per column: tiles of {Tile} columns keep their sums in registers across the chunk's rows.");
        ForEachTile(w, ctx, ["sum"], () =>
        {
            string[] quads = Quads(w, ctx, "v", offset => $"{Simd}.Load(ref xRef, start + {offset})", square: rms);
            for (int k = 0; k < 4; k++)
            {
                w.Line($"sum{k} += {quads[k]};");
            }
        }, k => [$"{Simd}.AddWidenedTo(ref sumRef, column + {4 * k}, sum{k});"],
        () =>
        {
            if (rms)
            {
                w.Line("double v = NormGenSimd.At(ref xRef, start);");
            }
            w.Line(rms ? "sum += v * v;" : "sum += NormGenSimd.At(ref xRef, start);");
        }, ["NormGenSimd.At(ref sumRef, column) += sum;"]);
    }

    public static void EmitSquaredDeviations(CodeWriter w, KernelContext ctx)
    {
        EmitHeader(w, ctx, "LanePartials", "sumRef");
        w.Line($"ref {ctx.T} meanHiRef = ref {Simd}.Ref(state.LaneMeanHi);");
        if (ctx.IsFloat)
        {
            w.Line($"ref float meanLoRef = ref {Simd}.Ref(state.LaneMeanLo);");
        }
        w.Line("double[] meanOut = state.ActiveMean;");
        w.Line($"// Σ(x − mean)² per column, the tile's means loaded once.");
        ForEachTile(w, ctx, ["sum"], () =>
        {
            string[] quads = Quads(w, ctx, "d", offset => Centered(ctx, "start", offset), square: true);
            for (int k = 0; k < 4; k++)
            {
                w.Line($"sum{k} += {quads[k]};");
            }
        }, k => [$"{Simd}.AddWidenedTo(ref sumRef, column + {4 * k}, sum{k});"],
        () =>
        {
            w.Line("double d = NormGenSimd.At(ref xRef, start) - meanOut[column];");
            w.Line("sum += d * d;");
        }, ["NormGenSimd.At(ref sumRef, column) += sum;"],
        tileSetup: () => EmitTileMeans(w, ctx));
    }

    public static void EmitBackwardSums(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        EmitHeader(w, ctx, null, null);
        w.Line($"const int laneStride = count + {StateEmitter.PartialPadding};");
        w.Line($"ref double sumGRef = ref {Simd}.At(ref {Simd}.Ref(state.LanePartials), chunk * 2 * laneStride);");
        w.Line($"ref double sumGXhatRef = ref {Simd}.At(ref {Simd}.Ref(state.LanePartials), ((chunk * 2) + 1) * laneStride);");
        w.Line($"ref {ctx.T} dyRef = ref {Simd}.Ref(dy);");
        w.Line($"ref {ctx.T} invStdRef = ref {Simd}.Ref(state.LaneScale);");
        if (!rms)
        {
            w.Line($"ref {ctx.T} meanHiRef = ref {Simd}.Ref(state.LaneMeanHi);");
            if (ctx.IsFloat)
            {
                w.Line($"ref float meanLoRef = ref {Simd}.Ref(state.LaneMeanLo);");
            }
        }
        if (ctx.HasGamma)
        {
            w.Line($"ref {ctx.T} gammaRef = ref {Simd}.Ref(state.Gamma);");
            w.Line($"ref double gammaSumRef = ref {Simd}.At(ref {Simd}.Ref(state.ParameterPartials), chunk * 2 * NormGenState.PartialStride);");
        }
        if (ctx.HasBeta)
        {
            w.Line($"ref double betaSumRef = ref {Simd}.At(ref {Simd}.Ref(state.ParameterPartials), ((chunk * 2) + 1) * NormGenState.PartialStride);");
        }
        w.Line("// Per column Σdy and Σdy·x̂, in registers across the chunk's rows; then Σg = γ·Σdy and Σg·x̂ = γ·Σdy·x̂ per");
        w.Line("// statistic, and dγ = Σdy·x̂, dβ = Σdy per parameter (one of each per column).");
        ForEachTile(w, ctx, ["dySum", "dyXhat"], () =>
        {
            string[] dy = Quads(w, ctx, "dy", offset => $"{Simd}.Load(ref dyRef, start + {offset})", square: false);
            string[] product = Quads(w, ctx, "p", offset =>
                $"{Simd}.Load(ref dyRef, start + {offset}) * {(rms ? $"{Simd}.Load(ref xRef, start + {offset})" : Centered(ctx, "start", offset))} * invStd{offset / ctx.Width}", square: false);
            for (int k = 0; k < 4; k++)
            {
                w.Line($"dySum{k} += {dy[k]};");
                w.Line($"dyXhat{k} += {product[k]};");
            }
        }, k =>
        {
            var lines = new List<string>();
            string gamma = ctx.HasGamma ? $" * gamma{k}" : "";
            if (ctx.HasGamma)
            {
                lines.Add(ctx.IsFloat
                    ? $"var gamma{k} = {Simd}.Widen{(k % 2 == 0 ? "Lower" : "Upper")}({Simd}.Load(ref gammaRef, column + {8 * (k / 2)}));"
                    : $"var gamma{k} = {Simd}.Load(ref gammaRef, column + {4 * k});");
            }
            lines.Add($"{Simd}.AddWidenedTo(ref sumGRef, column + {4 * k}, dySum{k}{gamma});");
            lines.Add($"{Simd}.AddWidenedTo(ref sumGXhatRef, column + {4 * k}, dyXhat{k}{gamma});");
            if (ctx.HasGamma)
            {
                lines.Add($"{Simd}.AddWidenedTo(ref gammaSumRef, column + {4 * k}, dyXhat{k});");
            }
            if (ctx.HasBeta)
            {
                lines.Add($"{Simd}.AddWidenedTo(ref betaSumRef, column + {4 * k}, dySum{k});");
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
                        w.Line($"var {sum}0 = {Simd}.Zero; var {sum}1 = {sum}0; var {sum}2 = {sum}0; var {sum}3 = {sum}0;");
                    }
                    using (w.Block($"for (int {r} = rowBlock; {r} < rowEnd; {r}++)"))
                    {
                        w.Line($"int start = {r} * {columns} + column;");
                        row();
                    }
                    for (int k = 0; k < 4; k++)
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

    /// <summary>
    /// The tile's 16 values as four vectors of 4 doubles: float vectors of 8 are loaded once and widened into their
    /// lower and upper halves (squared first when <paramref name="square"/>); double vectors are used as they are.
    /// </summary>
    private static string[] Quads(CodeWriter w, KernelContext ctx, string name, Func<int, string> vectorAt, bool square)
    {
        var quads = new string[4];
        if (ctx.IsFloat)
        {
            for (int v = 0; v < 2; v++)
            {
                w.Line($"var {name}{v} = {vectorAt(8 * v)};");
                string value = square ? $"{name}{v} * {name}{v}" : $"{name}{v}";
                quads[2 * v] = $"{Simd}.WidenLower({value})";
                quads[(2 * v) + 1] = $"{Simd}.WidenUpper({value})";
            }
        }
        else
        {
            for (int v = 0; v < 4; v++)
            {
                w.Line($"var {name}{v} = {vectorAt(4 * v)};");
                quads[v] = square ? $"{name}{v} * {name}{v}" : $"{name}{v}";
            }
        }
        return quads;
    }

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
