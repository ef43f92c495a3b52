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
    /// <summary>Parameters from which a rows × columns layer sums dγ and dβ column by column (<see cref="EmitParameterColumns"/>).</summary>
    public const int ColumnPassMinParameters = 16384;

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

    /// <summary>Columns per tile: four vectors, whose sums stay in registers while the rows go past.</summary>
    private static int ColumnTile(KernelContext ctx) => VectorShape.Narrow(ctx).Width * Unroll;

    /// <summary>The column chunks: at most <c>Threading.MaxChunks</c>, whole tiles each; the shape alone decides.</summary>
    private static int ColumnChunks(KernelContext ctx) =>
        System.Math.Max(1, System.Math.Min(8, ctx.Layout.ParameterSize / ColumnTile(ctx)));

    /// <summary>The orchestrator's lines after the dx pass: the column pass over its own chunks.</summary>
    private static void EmitParameterColumnsRun(CodeWriter w, KernelContext ctx)
    {
        w.Line($"// dγ{(ctx.HasBeta ? " and dβ" : "")} column by column over every row (see ParameterGradientsChunk): {ColumnChunks(ctx)} chunks of columns.");
        w.Line($"chunks = {ColumnChunks(ctx)};");
        w.Line(KernelMethod.Run("ParameterGradientsChunk", "x", "dy", "default"));
    }

    /// <summary>Body of <c>ParameterGradientsChunk</c>: this chunk's columns of GammaGrad (and BetaGrad) += their sums over every row.</summary>
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
        w.Line("int firstTile = chunk * tilesPerChunk;");
        w.Line($"int lastTile = global::System.Math.Min(firstTile + tilesPerChunk, {tiles});");
        w.Line($"// Per tile: the γ sums of its {tile} columns{(beta ? $", then the β sums" : "")}, in double.");
        w.Line($"global::System.Span<double> sums = stackalloc double[{(beta ? 2 * tile : tile)}];");
        w.Line($"ref double gammaSumRef = ref {Simd}.Ref(sums);");
        if (beta)
        {
            w.Line($"ref double betaSumRef = ref {Simd}.At(ref gammaSumRef, {tile});");
        }
        using (w.Block("for (int tile = firstTile; tile < lastTile; tile++)"))
        {
            w.Line($"int column = tile * {tile};");
            w.Line("sums.Clear();");
            for (int v = 0; v < Unroll; v++)
            {
                w.Line(beta
                    ? $"var gammaBlock{v} = {Simd}.Splat({zero}); var betaBlock{v} = gammaBlock{v};"
                    : $"var gammaBlock{v} = {Simd}.Splat({zero});");
            }
            w.Line($"// dy·x̂ and dy summed in the element type over blocks of {ColumnBlockRows} rows, each block added in double.");
            using (w.Block("for (int row = 0; row < rows; row++)"))
            {
                w.Line($"int start = (row * {Int(columns)}) + column;");
                w.Line("double mean = state.SavedMean[row];");
                EmitMeanSplit(w, ctx);
                w.Line($"var invStdV = {Simd}.Splat(({ctx.T})state.SavedInvStd[row]);");
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
                using (w.Block($"if ((row % {ColumnBlockRows}) == {ColumnBlockRows - 1} || row == rows - 1)"))
                {
                    for (int v = 0; v < Unroll; v++)
                    {
                        w.Line($"{Simd}.AddWidenedTo(ref gammaSumRef, {v * width}, gammaBlock{v}); gammaBlock{v} = default;");
                        if (beta)
                        {
                            w.Line($"{Simd}.AddWidenedTo(ref betaSumRef, {v * width}, betaBlock{v}); betaBlock{v} = default;");
                        }
                    }
                }
            }
            w.Line($"global::NormGen.Internal.ParameterGradients.AddColumnSums(sums.Slice(0, {tile}), state.GammaGrad, column);");
            if (beta)
            {
                w.Line($"global::NormGen.Internal.ParameterGradients.AddColumnSums(sums.Slice({tile}, {tile}), state.BetaGrad, column);");
            }
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
