using System;
using System.Collections.Generic;
using System.Linq;
using NormGen.Generator.Models;

namespace NormGen.Generator.Emit;

/// <summary>Emits nested <c>for</c> loops over segments, outermost first, with constant bounds (or a multiple of <c>batch</c>).</summary>
internal static class SegmentLoops
{
    public static void Emit(CodeWriter w, KernelContext ctx, IReadOnlyList<Segment> segments, Action body) =>
        Emit(w, ctx, segments, 0, body);

    private static void Emit(CodeWriter w, KernelContext ctx, IReadOnlyList<Segment> segments, int depth, Action body)
    {
        if (depth == segments.Count)
        {
            body();
            return;
        }
        Segment segment = segments[depth];
        string v = ctx.LoopVariable(segment);
        using (w.Block($"for (int {v} = 0; {v} < {ctx.Extent(segment)}; {v}++)"))
        {
            Emit(w, ctx, segments, depth + 1, body);
        }
    }

    /// <summary>The Gamma/Beta index of the current position, without the innermost segment's contribution.</summary>
    public static string ParameterOffset(KernelContext ctx) =>
        ctx.Offset(ctx.Layout.Segments.Take(ctx.Layout.Segments.Count - 1).Where(s => s.Affine).Select(s => (s, s.AffineStride)));

    /// <summary>Whether Gamma/Beta vary along the innermost (contiguous) segment, so they are loaded as vectors.</summary>
    public static bool AffineAlongRun(KernelContext ctx) => ctx.Layout.Inner.Affine;
}
