using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// dγ and dβ in a pass of their own, column by column, for rows whose γ spans the whole row and has very many entries
/// (LayerNorm over [C,H,W]). The fused backward adds each row's dy·x̂ and dy into per-chunk rows of sums, which a row of
/// 16,384 or more parameters turns into megabytes of traffic per row and a merge of every chunk's rows: LayerNorm([64,56,56])
/// x[8,64,56,56] backward ran 2.4× slower than libtorch's that way. Here each chunk owns a range of columns and sums them
/// over every row in row order, so there is nothing to merge and the sums do not depend on the threads; the pass reads
/// x and dy once more instead.
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>Parameters from which a rows × columns layer sums dγ and dβ column by column (<see cref="EmitParameterColumns"/>), for up to <see cref="ColumnPassMaxRows"/> rows.</summary>
    public const int ColumnPassMinParameters = 16384;

    /// <summary>
    /// Parameters from which the column pass serves every batch: the fused backward's blocks of dγ and dβ sums (two of
    /// 256 KiB or more) no longer stay in the L2 cache beside the rows (LayerNorm([64,56,56]) x[32,64,56,56] backward 15.7
    /// ms fused, 10.9 by columns).
    /// </summary>
    public const int ColumnPassAlwaysParameters = 65536;

    /// <summary>
    /// Rows up to which a layer of fewer than <see cref="ColumnPassAlwaysParameters"/> parameters takes the column pass:
    /// with few rows per chunk, clearing and merging every chunk's rows of sums costs more than reading x and dy again
    /// (LayerNorm x[16,16384] backward 509 → 262 µs), with many the fused sums cost less (x[256,16384]: 4.3 ms fused, 6.3
    /// by columns).
    /// </summary>
    public const int ColumnPassMaxRows = 64;

    /// <summary>Rows whose dγ·x̂ and dy terms a column tile sums in the element type before adding them in double.</summary>
    private const int ColumnBlockRows = ParameterBlockGroups;

    /// <summary>
    /// Whether the layer's parameter gradients take the column pass: rows (one statistics group each) × a reduced run
    /// that γ spans entry by entry, with at least <see cref="ColumnPassMinParameters"/> entries.
    /// </summary>
    public static bool SumsParametersByColumns(KernelContext ctx) =>
        ctx.HasGamma
        && ctx.Layout.Segments.Count == 2
        && ctx.Layout.Segments[0] is { Reduced: false, Affine: false }
        && ctx.Layout.Inner is { Reduced: true, Affine: true }
        && ctx.Layout.ParameterSize >= ColumnPassMinParameters;

    /// <summary>Whether the column pass serves every batch (<see cref="ColumnPassAlwaysParameters"/>), so the fused backward is not emitted.</summary>
    public static bool AlwaysSumsParametersByColumns(KernelContext ctx) =>
        SumsParametersByColumns(ctx) && ctx.Layout.ParameterSize >= ColumnPassAlwaysParameters;

    /// <summary>Columns per tile: four vectors, whose sums stay in registers while the rows go past.</summary>
    private static int ColumnTile(KernelContext ctx) => VectorShape.Narrow(ctx).Width * Unroll;

    /// <summary>The column chunks: at most <see cref="MaxChunks"/>, whole tiles each; the shape alone decides.</summary>
    private static int ColumnChunks(KernelContext ctx) =>
        System.Math.Max(1, System.Math.Min(MaxChunks, ctx.Layout.ParameterSize / ColumnTile(ctx)));

    /// <summary>
    /// The backward orchestrator's column-pass branch (after <c>chunks</c> is set): dx alone, then the column pass, and
    /// return; for every batch from <see cref="ColumnPassAlwaysParameters"/>, else up to <see cref="ColumnPassMaxRows"/>
    /// rows, more rows falling through to the fused backward that follows.
    /// </summary>
    /// <returns>Whether the branch always returns (nothing after it runs).</returns>
    private static bool EmitColumnPassBranch(CodeWriter w, KernelContext ctx)
    {
        if (AlwaysSumsParametersByColumns(ctx))
        {
            w.Line(KernelMethod.Run("BackwardDxChunk", "x", "dy", "dx"));
            EmitParameterColumnsRun(w, ctx);
            return true;
        }
        w.Line($"// Up to {ColumnPassMaxRows} rows, dx alone and then dγ{(ctx.HasBeta ? " and dβ" : "")} column by column: with few rows per chunk, clearing");
        w.Line("// and merging every chunk's row of sums would cost more than reading x and dy again.");
        using (w.Block($"if ({ctx.Extent(ctx.Layout.Segments[0])} <= {ColumnPassMaxRows})"))
        {
            w.Line(KernelMethod.Run("BackwardDxChunk", "x", "dy", "dx"));
            EmitParameterColumnsRun(w, ctx);
            w.Line("return;");
        }
        return false;
    }

    /// <summary>The orchestrator's lines after the dx pass: the column pass over its own chunks.</summary>
    private static void EmitParameterColumnsRun(CodeWriter w, KernelContext ctx)
    {
        w.Line($"// dγ{(ctx.HasBeta ? " and dβ" : "")} column by column over every row (see ParameterGradientsChunk): {ColumnChunks(ctx)} chunks of columns.");
        w.Line($"global::NormGen.Internal.Buffers.AtLeast(ref state.ColumnSums, {(ctx.HasBeta ? "2 * ParameterSize" : "ParameterSize")});");
        w.Line($"chunks = {ColumnChunks(ctx)};");
        w.Line(KernelMethod.Run("ParameterGradientsChunk", "x", "dy", "default"));
    }

    /// <summary>
    /// Body of <c>ParameterGradientsChunk</c>: this chunk's columns of GammaGrad (and BetaGrad) += their sums over every
    /// row. Blocks of rows go through the chunk's columns in memory order (a few rows side by side, which the prefetchers
    /// follow, rather than a tile of columns down every row), each tile's sums over the block in registers, then added
    /// to the chunk's columns of <c>state.ColumnSums</c> in double.
    /// </summary>
    private static void EmitParameterColumns(CodeWriter w, KernelContext ctx)
    {
        int columns = ctx.Layout.ParameterSize;
        int tile = ColumnTile(ctx);
        int width = VectorShape.Narrow(ctx).Width;
        int tiles = columns / tile;
        int chunkCount = ColumnChunks(ctx);
        string rows = ctx.Extent(ctx.Layout.Segments[0]);
        string zero = ctx.IsFloat ? "0f" : "0.0";
        bool beta = ctx.HasBeta;
        w.Line($"ref {ctx.T} xRef = ref {Simd}.Ref(x);");
        w.Line($"ref {ctx.T} dyRef = ref {Simd}.Ref(dy);");
        w.Line($"int rows = {rows};");
        w.Line($"// This chunk's tiles of {tile} columns (the partition depends on the shape only, not on the threads).");
        w.Line($"const int tilesPerChunk = {(tiles + chunkCount - 1) / chunkCount};");
        w.Line($"int firstColumn = chunk * tilesPerChunk * {tile};");
        w.Line($"int lastColumn = global::System.Math.Min(firstColumn + (tilesPerChunk * {tile}), {Int(tiles * tile)});");
        w.Line($"// The sums of this chunk's columns, in double: γ's{(beta ? ", then β's ParameterSize further on" : "")} (no other chunk touches them).");
        w.Line("global::System.Span<double> gammaSums = new(state.ColumnSums, firstColumn, lastColumn - firstColumn);");
        w.Line("gammaSums.Clear();");
        w.Line($"ref double gammaSumRef = ref {Simd}.Ref(gammaSums);");
        if (beta)
        {
            w.Line("global::System.Span<double> betaSums = new(state.ColumnSums, ParameterSize + firstColumn, lastColumn - firstColumn);");
            w.Line("betaSums.Clear();");
            w.Line($"ref double betaSumRef = ref {Simd}.Ref(betaSums);");
        }
        w.Line($"// Per row of a block: the mean's parts and 1/std in the element type, loaded once per block.");
        bool split = ctx.IsFloat;
        w.Line($"global::System.Span<{ctx.T}> rowConstants = stackalloc {ctx.T}[{(split ? 3 : 2) * ColumnBlockRows}];");
        w.Line($"ref {ctx.T} rowConstantsRef = ref {Simd}.Ref(rowConstants);");
        using (w.Block($"for (int blockStart = 0; blockStart < rows; blockStart += {ColumnBlockRows})"))
        {
            w.Line($"int blockRows = global::System.Math.Min({ColumnBlockRows}, rows - blockStart);");
            using (w.Block("for (int r = 0; r < blockRows; r++)"))
            {
                w.Line("double mean = state.SavedMean[blockStart + r];");
                if (split)
                {
                    w.Line($"float meanHi = (float)mean;");
                    w.Line($"NormGenSimd.At(ref rowConstantsRef, r) = meanHi;");
                    w.Line($"NormGenSimd.At(ref rowConstantsRef, r + {ColumnBlockRows}) = (float)(mean - meanHi);");
                    w.Line($"NormGenSimd.At(ref rowConstantsRef, r + {2 * ColumnBlockRows}) = (float)state.SavedInvStd[blockStart + r];");
                }
                else
                {
                    w.Line("NormGenSimd.At(ref rowConstantsRef, r) = mean;");
                    w.Line($"NormGenSimd.At(ref rowConstantsRef, r + {ColumnBlockRows}) = state.SavedInvStd[blockStart + r];");
                }
            }
            w.Line($"// dy·x̂ and dy over the block's rows in the element type, each tile's then added in double.");
            using (w.Block($"for (int column = firstColumn; column < lastColumn; column += {tile})"))
            {
                for (int v = 0; v < Unroll; v++)
                {
                    w.Line(beta
                        ? $"var gammaBlock{v} = {Simd}.Splat({zero}); var betaBlock{v} = gammaBlock{v};"
                        : $"var gammaBlock{v} = {Simd}.Splat({zero});");
                }
                using (w.Block("for (int r = 0; r < blockRows; r++)"))
                {
                    w.Line($"int start = ((blockStart + r) * {Int(columns)}) + column;");
                    if (split)
                    {
                        w.Line($"var meanHiV = {Simd}.Splat(NormGenSimd.At(ref rowConstantsRef, r));");
                        w.Line($"var meanLoV = {Simd}.Splat(NormGenSimd.At(ref rowConstantsRef, r + {ColumnBlockRows}));");
                        w.Line($"var invStdV = {Simd}.Splat(NormGenSimd.At(ref rowConstantsRef, r + {2 * ColumnBlockRows}));");
                    }
                    else
                    {
                        w.Line($"var meanV = {Simd}.Splat(NormGenSimd.At(ref rowConstantsRef, r));");
                        w.Line($"var invStdV = {Simd}.Splat(NormGenSimd.At(ref rowConstantsRef, r + {ColumnBlockRows}));");
                    }
                    for (int v = 0; v < Unroll; v++)
                    {
                        string at = v == 0 ? "start" : $"start + {v * width}";
                        w.Line($"var dy{v} = {Simd}.Load(ref dyRef, {at});");
                        w.Line($"gammaBlock{v} = {Simd}.MultiplyAdd(dy{v}, {Centered(ctx, $"{Simd}.Load(ref xRef, {at})")} * invStdV, gammaBlock{v});");
                        if (beta)
                        {
                            w.Line($"betaBlock{v} += dy{v};");
                        }
                    }
                }
                w.Line("int at = column - firstColumn;");
                for (int v = 0; v < Unroll; v++)
                {
                    string at = v == 0 ? "at" : $"at + {v * width}";
                    w.Line($"{Simd}.AddWidenedTo(ref gammaSumRef, {at}, gammaBlock{v});");
                    if (beta)
                    {
                        w.Line($"{Simd}.AddWidenedTo(ref betaSumRef, {at}, betaBlock{v});");
                    }
                }
            }
        }
        w.Line("global::NormGen.Internal.ParameterGradients.AddColumnSums(gammaSums, state.GammaGrad, firstColumn);");
        if (beta)
        {
            w.Line("global::NormGen.Internal.ParameterGradients.AddColumnSums(betaSums, state.BetaGrad, firstColumn);");
        }
        if (columns > tiles * tile)
        {
            using (w.Block($"if (chunk == {chunkCount - 1})"))
            {
                w.Line($"// The {columns - (tiles * tile)} columns after the last whole tile, one at a time, in double.");
                using (w.Block($"for (int column = {Int(tiles * tile)}; column < {Int(columns)}; column++)"))
                {
                    w.Line("double gammaSum = 0.0;");
                    if (beta)
                    {
                        w.Line("double betaSum = 0.0;");
                    }
                    using (w.Block("for (int row = 0; row < rows; row++)"))
                    {
                        w.Line($"double dyValue = NormGenSimd.At(ref dyRef, (row * {Int(columns)}) + column);");
                        w.Line($"gammaSum += dyValue * ((NormGenSimd.At(ref xRef, (row * {Int(columns)}) + column) - state.SavedMean[row]) * state.SavedInvStd[row]);");
                        if (beta)
                        {
                            w.Line("betaSum += dyValue;");
                        }
                    }
                    w.Line($"state.GammaGrad[column] += ({ctx.T})gammaSum;");
                    if (beta)
                    {
                        w.Line($"state.BetaGrad[column] += ({ctx.T})betaSum;");
                    }
                }
            }
        }
    }
}
