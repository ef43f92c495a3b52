using System;
using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;

namespace NormGen.Generator.Emit;

/// <summary>Emits nested <c>for</c> loops over segments, outermost first, with constant bounds (or a multiple of <c>batch</c>).</summary>
internal static class SegmentLoops
{
    /// <param name="chunked">The loop over <see cref="KernelContext.ChunkSegment"/> covers only this chunk's indices.</param>
    /// <param name="descending">The (unchunked) loops count down, so the body sees the positions in reverse memory order.</param>
    public static void Emit(CodeWriter w, KernelContext ctx, IReadOnlyList<Segment> segments, Action body, bool chunked = false, bool descending = false)
    {
        if (chunked && ctx.ChunksFlatGroups && segments.SequenceEqual(ctx.Kept))
        {
            using (w.Block("for (int group = chunkFirst; group < chunkLast; group++)"))
            {
                EmitKeptIndices(w, ctx, "group");
                body();
            }
            return;
        }
        Emit(w, ctx, segments, 0, body, chunked, descending);
    }

    /// <summary>The kept segments' loop variables from a group's flat index (in which the innermost kept segment runs fastest).</summary>
    /// <param name="onlyAffine">Only those that index γ and β.</param>
    public static void EmitKeptIndices(CodeWriter w, KernelContext ctx, string group, bool onlyAffine = false)
    {
        var kept = ctx.Kept;
        var lines = new List<string>();
        int inner = 1;
        for (int i = kept.Count - 1; i >= 0; i--)
        {
            Segment segment = kept[i];
            if (!onlyAffine || (segment.Affine && ctx.HasGamma))
            {
                string quotient = inner == 1 ? group : $"{group} / {KernelContext.Int(inner)}";
                lines.Add(i == 0
                    ? $"int {ctx.LoopVariable(segment)} = {quotient};"
                    : $"int {ctx.LoopVariable(segment)} = {quotient} % {KernelContext.Int(segment.Size)};");
            }
            inner *= segment.Size;
        }
        // Outermost first, as the loops they replace.
        lines.Reverse();
        foreach (string line in lines)
        {
            w.Line(line);
        }
    }

    private static void Emit(CodeWriter w, KernelContext ctx, IReadOnlyList<Segment> segments, int depth, Action body, bool chunked, bool descending)
    {
        if (depth == segments.Count)
        {
            body();
            return;
        }
        Segment segment = segments[depth];
        string v = ctx.LoopVariable(segment);
        string header = chunked && segment == ctx.ChunkSegment
            ? $"for (int {v} = chunkFirst; {v} < chunkLast; {v}++)"
            : descending
            ? $"for (int {v} = {Last(ctx.Extent(segment))}; {v} >= 0; {v}--)"
            : $"for (int {v} = 0; {v} < {ctx.Extent(segment)}; {v}++)";
        using (w.Block(header))
        {
            Emit(w, ctx, segments, depth + 1, body, chunked, descending);
        }
    }

    /// <summary>The last index below <paramref name="extent"/>: a constant where the extent is one.</summary>
    private static string Last(string extent) => int.TryParse(extent, out int size) ? (size - 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{extent} - 1";

    /// <summary>
    /// This chunk's range of <see cref="KernelContext.ChunkSegment"/> indices: the fixed partition the threads share out
    /// (an output pass's where <paramref name="outputPass"/>: <see cref="KernelContext.OutputChunkingArguments"/>).
    /// </summary>
    public static void EmitChunkRange(CodeWriter w, KernelContext ctx, bool outputPass = false)
    {
        if (ctx.ChunkSegment is not Segment segment)
        {
            return;
        }
        string extent = ctx.ChunkExtent;
        w.Line(ctx.ChunksFlatGroups
            ? $"// This chunk's share of the ({string.Join(", ", ctx.Kept.Select(k => k.Letters))}) groups, in their flat order (the partition depends on the shape only, not on the threads)."
            : ctx.MinChunkIndices is int min
            ? $"// This chunk's share of the {segment.Letters} indices, at least {min}, for longer pieces of each sample read in memory order (the partition depends on the shape only, not on the threads)."
            : $"// This chunk's share of the {segment.Letters} indices (the partition depends on the shape only, not on the threads).");
        w.Line($"int chunkSize = global::NormGen.Internal.Threading.{ctx.ChunkingCall("ChunkSize", extent, outputPass ? ctx.OutputChunkingArguments : ctx.ChunkingArguments)};");
        w.Line("int chunkFirst = chunk * chunkSize;");
        w.Line($"int chunkLast = global::System.Math.Min(chunkFirst + chunkSize, {extent});");
    }

    /// <summary>The Gamma/Beta index of the current position, without the innermost segment's contribution.</summary>
    public static string ParameterOffset(KernelContext ctx) =>
        ctx.Offset(ctx.Layout.Segments.Take(ctx.Layout.Segments.Count - 1).Where(s => s.Affine).Select(s => (s, s.AffineStride)));

    /// <summary>Whether Gamma/Beta vary along the innermost (contiguous) segment, so they are loaded as vectors.</summary>
    public static bool AffineAlongRun(KernelContext ctx) => ctx.Layout.Inner.Affine;
}
