using System;
using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// Kernels for the rows × columns layout (BatchNorm1d on (N, C), channels-last BatchNorm): one statistic per column.
/// A tile of a few vectors of columns keeps its sums (or, for y and dx, its per-column constants) in registers while
/// a block of rows streams past, instead of a load and store of a per-column array for every value.
/// </summary>
internal static partial class ColumnKernels
{
    /// <summary>Vectors per tile of Σx: eight independent sums keep both vector adders busy.</summary>
    private const int SumTile = 8;

    /// <summary>Vectors per tile of the kernels with two sums, or with three or four constants, per vector (registers).</summary>
    private const int PairTile = 4;

    /// <summary>
    /// Vectors per 512-bit tile of the two-sum kernels, Σd and Σd² or Σdy and Σdy·(x − hi) (two sums and one constant per
    /// vector: 24 of AVX-512's 32 registers). Each row of a block gives the loads eight cache lines in a row (of x, and
    /// of dy) instead of four, which the prefetchers follow far better down rows of a wide BatchNorm1d (x[64,4096]: the
    /// Σd and Σd² loop 17.9 → 13.3 µs on the AVX-512 machine, the same values; a loop reading x and dy that way 34.8 →
    /// 24.8 µs). 256-bit loops keep <see cref="PairTile"/>: sixteen registers hold no more.
    /// </summary>
    private const int WidePairTile = 8;

    /// <summary>
    /// Rows per block: a block's sums hold at most this many values a lane in the element type before they are added
    /// to the partial sums in double (float blocks stay under the 512 values the numerics allow), and the block's
    /// rows stay in cache while every tile of columns reads them.
    /// </summary>
    private const int RowBlock = 32;

    /// <summary>
    /// The most bytes of per-column constants a kernel reads from the L1 cache for every vector in row order: half of a
    /// 48 KiB L1, so the rows streaming through keep the other half.
    /// </summary>
    private const int RowOrderConstantBytes = 24 * 1024;

    /// <summary>
    /// Rows per step of a row-order loop where the rows start on cache lines (else one; see EmitRowOrder): each vector of
    /// per-column constants, loaded once, serves both rows. The
    /// constants live in .NET arrays, 16-byte aligned, so a 64-byte load of them reads two cache lines; sharing it halves
    /// those reads (BatchNorm1d x[256,512] inference's y loop 1.05–1.14× faster, measured; more rows gained nothing more).
    /// </summary>
    private const int RowOrderRows = 2;

    public static void EmitSums(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        EmitHeader(w, ctx, "LanePartials", "sumRef");
        if (NarrowPeriod(ctx) is int narrowPeriod)
        {
            EmitNarrowPlainSums(w, ctx, narrowPeriod);
            return;
        }
        w.Line(rms
            ? $"// Σx² per column: tiles of {TileColumns(ctx, SumTile)} columns sum {RowBlock} rows in registers, then add to the chunk's partial sums in double."
            : $"// Σx per column (a first mean): tiles of {TileColumns(ctx, SumTile)} columns sum {RowBlock} rows in registers, then add to the chunk's partial sums in double.");
        EitherWidth(w, ctx, SumTile, shape => ForEachTile(w, ctx, shape, SumTile, ["sum"], (s, vectors) =>
        {
            for (int v = 0; v < vectors; v++)
            {
                string value = $"{Simd}.{s.Load}(ref xRef, start + {v * s.Width})";
                w.Line(rms
                    ? $"var v{v} = {value}; sum{v} = {Simd}.MultiplyAdd(v{v}, v{v}, sum{v});"
                    : $"sum{v} += {value};");
            }
        }, (s, v) => [$"{Simd}.AddWidenedTo(ref sumRef, column + {v * s.Width}, sum{v});"],
        () =>
        {
            if (rms)
            {
                w.Line("double v = NormGenSimd.At(ref xRef, start);");
            }
            w.Line(rms ? "sum += v * v;" : "sum += NormGenSimd.At(ref xRef, start);");
        }, ["NormGenSimd.At(ref sumRef, column) += sum;"]));
    }

    /// <summary>
    /// Σd and Σd² per column with d = x − pivot, the pivot being the first mean rounded to the element type: the corrected
    /// two-pass algorithm (mean = pivot + Σd/n, variance = Σd²/n − (Σd/n)²), so the first mean may be a little off.
    /// </summary>
    public static void EmitSquaredDeviations(CodeWriter w, KernelContext ctx)
    {
        EmitHeader(w, ctx, null, null);
        w.Line($"const int laneStride = count + {StateEmitter.PartialPadding};");
        PartialSums.EmitRowPair(w, "LanePartials", "laneStride", "sumDRef", "sumD2Ref");
        w.Line($"ref {ctx.T} pivotRef = ref {Simd}.Ref(state.LaneMeanHi);");
        if (NarrowPeriod(ctx) is int narrowPeriod)
        {
            EmitNarrowDeviations(w, ctx, narrowPeriod);
            return;
        }
        w.Line($"// Σd and Σd² per column, d = x − pivot: tiles of {TileColumns(ctx, PairTile)} columns sum {RowBlock} rows in registers.");
        EitherWidth(w, ctx, WidePairTile, shape => ForEachTile(w, ctx, shape, shape.IsWide ? WidePairTile : PairTile, ["sumD", "sumD2"], (s, vectors) =>
        {
            for (int v = 0; v < vectors; v++)
            {
                w.Line($"var d{v} = {Simd}.{s.Load}(ref xRef, start + {v * s.Width}) - pivot{v};");
                w.Line($"sumD{v} += d{v};");
                w.Line($"sumD2{v} = {Simd}.MultiplyAdd(d{v}, d{v}, sumD2{v});");
            }
        }, (s, v) => [
            $"{Simd}.AddWidenedTo(ref sumDRef, column + {v * s.Width}, sumD{v});",
            $"{Simd}.AddWidenedTo(ref sumD2Ref, column + {v * s.Width}, sumD2{v});"],
        () =>
        {
            w.Line("double d = NormGenSimd.At(ref xRef, start) - NormGenSimd.At(ref pivotRef, column);");
            w.Line("sumD += d;");
            w.Line("sumD2 += d * d;");
        }, ["NormGenSimd.At(ref sumDRef, column) += sumD;", "NormGenSimd.At(ref sumD2Ref, column) += sumD2;"],
        tileSetup: (s, vectors) =>
        {
            for (int v = 0; v < vectors; v++)
            {
                w.Line($"var pivot{v} = {Simd}.{s.Load}(ref pivotRef, column + {v * s.Width});");
            }
        }));
    }

    /// <summary>
    /// Per column Σdy·x̂ (dγ) and Σdy (dβ) into this chunk's two rows of LanePartials, without γ: BackwardKernel adds the
    /// merged rows to GammaGrad and BetaGrad and scales them by γ for Σg·x̂ and Σg (one pair of rows per chunk, where
    /// statistic rows and parameter rows held the same sums twice).
    /// </summary>
    public static void EmitBackwardSums(CodeWriter w, KernelContext ctx)
    {
        bool rms = ctx.Spec.IsRms;
        EmitHeader(w, ctx, null, null);
        w.Line($"const int laneStride = count + {StateEmitter.PartialPadding};");
        PartialSums.EmitRowPair(w, "LanePartials", "laneStride", "dyXhatSumRef", "dySumRef");
        w.Line($"ref {ctx.T} dyRef = ref {Simd}.Ref(dy);");
        w.Line($"ref {ctx.T} invStdRef = ref {Simd}.Ref(state.LaneScale);");
        if (!rms)
        {
            PartialSums.EmitMeanReferences(w, ctx);
        }
        if (NarrowPeriod(ctx) is int narrowPeriod)
        {
            EmitNarrowBackwardSums(w, ctx, narrowPeriod);
            return;
        }
        // Only hi stays in registers down the rows (one constant a vector, as in Σd and Σd²'s tiles): lo and invStd are
        // applied once per block to the block's sums.
        string centered = rms ? "x" : "x − hi";
        string dyXhat = rms ? "Σdy·x·invStd" : ctx.IsFloat ? "(Σdy·(x − hi) − lo·Σdy)·invStd" : "Σdy·(x − hi)·invStd";
        w.Line($"// Per column Σdy and Σdy·({centered}), summed over {RowBlock} rows in registers. After each block, Σdy·x̂ =");
        w.Line($"// {dyXhat} and Σdy (dγ and dβ) are added in double to this chunk's two rows;");
        w.Line("// BackwardKernel applies γ after merging them.");
        EitherWidth(w, ctx, WidePairTile, shape => ForEachTile(w, ctx, shape, shape.IsWide ? WidePairTile : PairTile, ["dySum", "dyCentered"], (s, vectors) =>
        {
            for (int v = 0; v < vectors; v++)
            {
                int offset = v * s.Width;
                string value = $"{Simd}.{s.Load}(ref xRef, start + {offset})";
                w.Line($"var dy{v} = {Simd}.{s.Load}(ref dyRef, start + {offset});");
                w.Line($"dySum{v} += dy{v};");
                w.Line($"dyCentered{v} = {Simd}.MultiplyAdd(dy{v}, {(rms ? value : $"{value} - meanHi{v}")}, dyCentered{v});");
            }
        }, (s, v) =>
        {
            int column = v * s.Width;
            string invStd = $"{Simd}.{s.Load}(ref invStdRef, column + {column})";
            return
            [
                !rms && ctx.IsFloat
                    ? $"var dyXhat{v} = (dyCentered{v} - {Simd}.{s.Load}(ref meanLoRef, column + {column}) * dySum{v}) * {invStd};"
                    : $"var dyXhat{v} = dyCentered{v} * {invStd};",
                $"{Simd}.AddWidenedTo(ref dyXhatSumRef, column + {column}, dyXhat{v});",
                $"{Simd}.AddWidenedTo(ref dySumRef, column + {column}, dySum{v});",
            ];
        },
        () =>
        {
            w.Line("double dyValue = NormGenSimd.At(ref dyRef, start);");
            w.Line(rms
                ? "dyCentered += dyValue * NormGenSimd.At(ref xRef, start);"
                : $"dyCentered += dyValue * (NormGenSimd.At(ref xRef, start) - {ctx.SavedMean}[column]);");
            w.Line("dySum += dyValue;");
        },
        [
            $"NormGenSimd.At(ref dyXhatSumRef, column) += dyCentered * {ctx.SavedInvStd}[column];",
            "NormGenSimd.At(ref dySumRef, column) += dySum;",
        ],
        tileSetup: (s, vectors) =>
        {
            if (!rms)
            {
                for (int v = 0; v < vectors; v++)
                {
                    w.Line($"var meanHi{v} = {Simd}.{s.Load}(ref meanHiRef, column + {v * s.Width});");
                }
            }
        }));
    }

    /// <summary>How the kernels go, for the generated remarks: what the tiles hold, then how y and dx go where not in tiles.</summary>
    public static string Description(KernelContext ctx)
    {
        int columns = ctx.Layout.Segments[1].Size;
        string? flatY = FlatPeriod(ctx) is int period
            ? $"y goes over the chunk's rows as one flat run in periods of {period / columns} rows (whole vectors), its per-column constants repeated over the period in the L1 cache"
            : WrapExtension(ctx) is not null
                ? "y goes over the chunk's rows as one flat run of vectors on y's cache lines, the column wrapping at the row's end, its per-column constants in the L1 cache (x·scale + shift where every mean lies within 16 standard deviations of zero)"
                : null;
        bool yInRows = flatY is null && NormalizesInRowOrder(ctx);
        bool dxWrapped = DxWrapExtension(ctx) is not null;
        bool dxInRows = DxInRowOrder(ctx) && !dxWrapped;
        var tiled = new List<string>();
        var apart = new List<string>();
        if (flatY is not null)
        {
            apart.Add(flatY);
        }
        // Wide rows go in blocks of columns whose constants fit the L1 (RowOrderBlockColumns).
        string blocks = RowOrderBlockColumns(ctx, 3) < columns || (dxInRows && RowOrderBlockColumns(ctx, 4) < columns) ? ", in blocks of columns," : "";
        if (yInRows && dxInRows)
        {
            apart.Add($"y and dx go row by row in memory order{blocks} with their per-column constants in the L1 cache");
        }
        else
        {
            AddRowOrder(yInRows, "y");
            AddRowOrder(dxInRows, "dx");
        }
        if (dxWrapped)
        {
            apart.Add("dx goes over the chunk's rows as one flat run of vectors on dx's cache lines, the column wrapping at the row's end, its per-column constants in the L1 cache (dy·gain − x·slope − offset where every mean lies within 16 standard deviations of zero)");
        }
        string inTiles = tiled.Count == 0 ? "" : $", or their per-column constants for {string.Join(" and ", tiled)},";
        string rest = string.Concat(apart.Select(part => "; " + part));
        return $"rows × columns with one statistic per column: tiles of a few vectors of columns keep their sums{inTiles} in registers over blocks of 32 rows{rest}";

        void AddRowOrder(bool inRows, string output)
        {
            if (inRows)
            {
                string block = RowOrderBlockColumns(ctx, output == "dx" ? 4 : 3) < columns ? ", in blocks of columns," : "";
                apart.Add($"{output} goes row by row in memory order{block} with its per-column constants in the L1 cache");
            }
            else if (output == "dx" ? !dxWrapped : flatY is null)
            {
                tiled.Add(output);
            }
        }
    }

    /// <summary>
    /// y = (x − hi)·scale + shift per column, the three prepared per statistic by <c>NormalizeWithStatistics</c>. Rows wider
    /// than a tile go row by row in memory order (in blocks of columns past <see cref="RowOrderConstantBytes"/> of
    /// constants), reading the constants from the L1 cache (with a Vector512 loop beside the Vector256 one); rows of one
    /// tile keep them in registers over a block of rows. Either way each value costs one subtraction, one fused
    /// multiply-add and one store.
    /// </summary>
    public static void EmitNormalize(CodeWriter w, KernelContext ctx)
    {
        EmitHeader(w, ctx, null, null, withCount: false, outputPass: true);
        w.Line($"ref {ctx.T} yRef = ref {Simd}.Ref(y);");
        int? extension = WrapExtension(ctx);
        // The wrapped pass writes whole lines from y's first line boundary on, its two edges with ordinary stores.
        GroupMajorKernels.EmitStreaming(w, "y", extension is null ? RowLines(ctx) : OutputLines.EdgesApart);
        w.Line($"ref {ctx.T} meanHiRef = ref {Simd}.Ref(state.ActiveMeanHi);");
        w.Line($"ref {ctx.T} scaleRef = ref {Simd}.Ref(state.ActiveScale);");
        w.Line($"ref {ctx.T} shiftRef = ref {Simd}.Ref(state.ActiveShift);");
        if (extension is int values)
        {
            EmitWrappedNormalize(w, ctx, values);
            return;
        }
        if (FlatPeriod(ctx) is int period)
        {
            EmitFlatNormalize(w, ctx, period);
            return;
        }
        if (NormalizesInRowOrder(ctx))
        {
            int columns = ctx.Layout.Segments[1].Size;
            w.Line("// y = (x − hi)·scale + shift per column: (x − mean)·invStd·γ + β with the mean's low part in the shift. Row by");
            w.Line($"// row in memory order: hi, scale and shift ({RowOrderConstantsText(ctx, 3)}) stay in the L1 cache while the rows stream");
            w.Line("// past, and where two rows go a step each vector of them, loaded once, serves both.");
            EmitRowOrderPass(w, ctx, "yRef", ["meanHi", "scale", "shift"],
                (load, v, index) => $"{Simd}.MultiplyAdd({Simd}.{load}(ref xRef, {index}) - meanHi{v}, scale{v}, shift{v})",
                (at, constant) => $"({ctx.T})((NormGenSimd.At(ref xRef, {at}) - {constant("meanHi")}) * {constant("scale")} + {constant("shift")})");
            return;
        }
        w.Line("// y = (x − hi)·scale + shift per column: (x − mean)·invStd·γ + β with the mean's low part in the shift. Tiles of");
        w.Line($"// {TileColumns(ctx, PairTile)} columns keep their hi, scale and shift in registers while a block of {RowBlock} rows streams past.");
        ForEachTile(w, ctx, VectorShape.Narrow(ctx), PairTile, [], (s, vectors) =>
        {
            for (int v = 0; v < vectors; v++)
            {
                int offset = v * s.Width;
                w.Line(s.Store($"{Simd}.MultiplyAdd({Simd}.{s.Load}(ref xRef, start + {offset}) - meanHi{v}, scale{v}, shift{v})", "yRef", Int(offset)));
            }
        }, (_, _) => [],
        () => w.Line($"NormGenSimd.At(ref yRef, start) = ({ctx.T})((NormGenSimd.At(ref xRef, start) - NormGenSimd.At(ref meanHiRef, column)) * NormGenSimd.At(ref scaleRef, column) + NormGenSimd.At(ref shiftRef, column));"),
        [],
        tileSetup: (s, vectors) =>
        {
            for (int v = 0; v < vectors; v++)
            {
                int offset = v * s.Width;
                w.Line($"var meanHi{v} = {Simd}.{s.Load}(ref meanHiRef, column + {offset}); var scale{v} = {Simd}.{s.Load}(ref scaleRef, column + {offset}); var shift{v} = {Simd}.{s.Load}(ref shiftRef, column + {offset});");
            }
        });
    }

    /// <summary>
    /// dx = dy·γ·invStd − (x − mean)·slope − offset per column, with the slope and offset prepared per statistic by
    /// <c>BackwardKernel</c>: a tile keeps γ·invStd, the mean's high part, the slope and the offset in registers.
    /// </summary>
    public static void EmitDx(CodeWriter w, KernelContext ctx)
    {
        EmitHeader(w, ctx, null, null, withCount: false, outputPass: true);
        w.Line($"ref {ctx.T} dyRef = ref {Simd}.Ref(dy);");
        w.Line($"ref {ctx.T} dxRef = ref {Simd}.Ref(dx);");
        // The wrapped pass writes whole lines from dx's first line boundary on, its two edges with ordinary stores.
        GroupMajorKernels.EmitStreaming(w, "dx", DxWrapExtension(ctx) is null ? RowLines(ctx) : OutputLines.EdgesApart);
        if (NarrowPeriod(ctx) is int narrowPeriod)
        {
            w.Line($"ref {ctx.T} gainRef = ref {Simd}.Ref(state.{(ctx.HasGamma ? "LaneGain" : "LaneScale")});");
            w.Line($"ref {ctx.T} meanHiRef = ref {Simd}.Ref(state.LaneMeanHi);");
            w.Line($"ref {ctx.T} slopeRef = ref {Simd}.Ref(state.LaneSlope);");
            w.Line($"ref {ctx.T} offsetRef = ref {Simd}.Ref(state.LaneOffset);");
            EmitNarrowDx(w, ctx, narrowPeriod);
            return;
        }
        if (DxInRowOrder(ctx))
        {
            EmitDxInRowOrder(w, ctx);
            return;
        }
        w.Line($"ref {ctx.T} invStdRef = ref {Simd}.Ref(state.LaneScale);");
        w.Line($"ref {ctx.T} slopeRef = ref {Simd}.Ref(state.LaneSlope);");
        w.Line($"ref {ctx.T} offsetRef = ref {Simd}.Ref(state.LaneOffset);");
        PartialSums.EmitMeanReferences(w, ctx);
        if (ctx.HasGamma)
        {
            w.Line($"ref {ctx.T} gammaRef = ref {Simd}.Ref(state.Gamma);");
        }
        w.Line("// dx = dy·gain − (x − hi)·slope − offset per column, gain = γ·invStd and (float) the mean's low part folded into the");
        w.Line($"// offset: tiles of {TileColumns(ctx, PairTile)} columns keep the four in registers while a block of {RowBlock} rows streams past.");
        EitherWidth(w, ctx, PairTile, shape => ForEachTile(w, ctx, shape, PairTile, [], (s, vectors) =>
        {
            for (int v = 0; v < vectors; v++)
            {
                int offset = v * s.Width;
                w.Line(s.Store($"{Simd}.{s.Load}(ref dyRef, start + {offset}) * gain{v} - ({Simd}.{s.Load}(ref xRef, start + {offset}) - meanHi{v}) * slope{v} - offset{v}", "dxRef", Int(offset)));
            }
        }, (_, _) => [],
        () => w.Line($"NormGenSimd.At(ref dxRef, start) = ({ctx.T})(NormGenSimd.At(ref dyRef, start){(ctx.HasGamma ? " * state.Gamma[column]" : "$")} * {ctx.SavedInvStd}[column] - (NormGenSimd.At(ref xRef, start) - {ctx.SavedMean}[column]) * NormGenSimd.At(ref slopeRef, column) - NormGenSimd.At(ref offsetRef, column));"),
        [],
        tileSetup: (s, vectors) =>
        {
            for (int v = 0; v < vectors; v++)
            {
                int offset = v * s.Width;
                string at(string name) => $"{Simd}.{s.Load}(ref {name}Ref, column + {offset})";
                w.Line($"var gain{v} = {(ctx.HasGamma ? at("gamma") + " * " : "")}{at("invStd")}; var meanHi{v} = {at("meanHi")}; var slope{v} = {at("slope")};");
                w.Line(ctx.IsFloat
                    ? $"var offset{v} = {at("offset")} - {at("meanLo")} * slope{v};"
                    : $"var offset{v} = {at("offset")};");
            }
        }));
    }

    /// <summary>
    /// dx row by row in memory order (<see cref="DxInRowOrder"/>), or as one wrapped flat run where the constants with
    /// their extension fit (<see cref="DxWrapExtension"/>), from the per-column gain, hi, slope and offset the
    /// orchestrator prepared (gain = γ·invStd and the offset with the mean's low part folded in, as the tiles compute them
    /// in registers), so every value has the bits the tiles give it.
    /// </summary>
    private static void EmitDxInRowOrder(CodeWriter w, KernelContext ctx)
    {
        int columns = ctx.Layout.Segments[1].Size;
        w.Line($"ref {ctx.T} gainRef = ref {Simd}.Ref(state.{(ctx.HasGamma ? "LaneGain" : "LaneScale")});");
        w.Line($"ref {ctx.T} meanHiRef = ref {Simd}.Ref(state.LaneMeanHi);");
        w.Line($"ref {ctx.T} slopeRef = ref {Simd}.Ref(state.LaneSlope);");
        w.Line($"ref {ctx.T} offsetRef = ref {Simd}.Ref(state.LaneOffset);");
        if (DxWrapExtension(ctx) is int extension)
        {
            EmitWrappedDx(w, ctx, extension);
            return;
        }
        w.Line("// dx = dy·gain − (x − hi)·slope − offset per column. Row by row in memory order: gain, hi, slope and offset");
        w.Line($"// ({RowOrderConstantsText(ctx, 4)}) stay in the L1 cache while the rows stream past.");
        EmitRowOrderPass(w, ctx, "dxRef", ["gain", "meanHi", "slope", "offset"],
            (load, v, index) => $"{Simd}.{load}(ref dyRef, {index}) * gain{v} - ({Simd}.{load}(ref xRef, {index}) - meanHi{v}) * slope{v} - offset{v}",
            (at, constant) => $"NormGenSimd.At(ref dyRef, {at}) * {constant("gain")} - (NormGenSimd.At(ref xRef, {at}) - {constant("meanHi")}) * {constant("slope")} - {constant("offset")}");
    }

    /// <summary>
    /// An output pass in row order (<see cref="EmitRowOrder"/>): each vector of the per-column <paramref name="constants"/>
    /// (arrays behind <c>{name}Ref</c>) loaded once per step as <c>{name}{v}</c>, then <paramref name="vector"/>(load
    /// method, v, index) written to <paramref name="output"/> for every row of the step; the columns after the last whole
    /// vector get <paramref name="scalar"/>(index, constant at this column).
    /// </summary>
    private static void EmitRowOrderPass(CodeWriter w, KernelContext ctx, string output, string[] constants,
        Func<string, int, string, string> vector, Func<string, Func<string, string>, string> scalar)
    {
        int columns = ctx.Layout.Segments[1].Size;
        EmitRowOrder(w, ctx, "xRef", output, constants.Length, (load, v, offset, stepRows) =>
        {
            w.Line(string.Join(" ", constants.Select(c => $"var {c}{v} = {Simd}.{load}(ref {c}Ref, column + {offset});")));
            for (int k = 0; k < stepRows; k++)
            {
                string index = $"start + {(k * columns) + offset}";
                w.Line($"{Simd}.StoreOutput({vector(load, v, index)}, ref {output}, {index}, streaming);");
            }
        },
        stepRows =>
        {
            for (int k = 0; k < stepRows; k++)
            {
                string at = k == 0 ? "start" : $"start + {k * columns}";
                w.Line($"NormGenSimd.At(ref {output}, {at}) = {scalar(at, c => $"NormGenSimd.At(ref {c}Ref, column)")};");
            }
        });
    }

    private static void EmitHeader(CodeWriter w, KernelContext ctx, string? partials, string? name, bool withCount = true, bool outputPass = false)
    {
        if (withCount)
        {
            w.Line($"const int count = {ctx.Layout.Segments[1].Size};");
        }
        if (partials is not null)
        {
            PartialSums.EmitRow(w, partials, name!);
        }
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        SegmentLoops.EmitChunkRange(w, ctx, outputPass);
    }

    /// <summary>
    /// The bytes of a row-order pass's <paramref name="constants"/> per-column arrays, "6 KiB", or, where they go in blocks
    /// of columns (<see cref="RowOrderBlockColumns"/>), "24 KiB a block of 2048 columns".
    /// </summary>
    private static string RowOrderConstantsText(KernelContext ctx, int constants)
    {
        int columns = ctx.Layout.Segments[1].Size;
        int block = RowOrderBlockColumns(ctx, constants);
        return block >= columns
            ? Kib(constants * columns * ctx.ElementBytes)
            : $"{Kib(constants * block * ctx.ElementBytes)} a block of {Int(block)} columns";
    }

    /// <summary>A size in bytes as "6 KiB" (rounded up) or "768 B".</summary>
    private static string Kib(int bytes) => bytes < 1024 ? $"{bytes} B" : $"{(bytes + 1023) / 1024} KiB";

    /// <summary>
    /// Tiles of whole vectors write whole cache lines of every row where the rows are whole lines long (and the output
    /// starts on a line); otherwise a row's last line is shared with the next row, written by another tile or later.
    /// </summary>
    private static OutputLines RowLines(KernelContext ctx) =>
        ctx.Layout.Segments[1].Size % ctx.LineElements == 0 ? OutputLines.WholeIfAligned : OutputLines.Partial;

    /// <summary>Columns in a tile of <paramref name="vectors"/> vectors.</summary>
    private static int TileColumns(KernelContext ctx, int vectors) => vectors * ctx.Width;
}
