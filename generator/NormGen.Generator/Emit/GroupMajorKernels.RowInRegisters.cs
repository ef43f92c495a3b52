using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// The backward over short rows with γ along the row (LayerNorm and RMSNorm over 32 to 384 floats) where the processor
/// has AVX-512: a row's x and dy are a few 512-bit vectors, loaded once into locals for both the gradient sums and dx
/// (and dx reuses g = γ·dy and x − mean from the sums). The 256-bit kernel's sums loop and dx loop each load x, dy and
/// γ, and its sums run 256-bit, their 512-bit twin needing rows of 128 floats. Harness, one thread, against the
/// 256-bit loops: LayerNorm x[4096,64] backward 78–80 → 53–54 µs (a hand-written variant that loaded x and dy again for
/// dx: 60–62), x[32,64] 0.67 → 0.51 µs. Each 512-bit partial sum is a pair of the 256-bit loop's, added in the same
/// order, and dx is the same expression of the same values, so the two paths agree bit for bit.
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>
    /// The most 512-bit vectors a row may have (384 floats). From 8 vectors a row's centered x and g no longer all fit the
    /// 32 registers and some wait on the stack (in the L1 cache) for dx, which still beat the loops (survey harness, one
    /// thread: LayerNorm x[784,192] backward 30 → 24.5 µs, x[2048,256] 98–103 → 84–91, x[4096,384] 321–327 → 255–301);
    /// rows of 512 were no faster (x[128,512] 11.2–11.4 → 10.7–14.0 µs).
    /// </summary>
    private const int MaxRegisterRowVectors = 24;

    /// <summary>
    /// The 512-bit vectors of a row whose backward takes <see cref="EmitRowInRegistersBackward"/>: one run of a constant
    /// length, a whole number of the 256-bit loop's unrolled iterations (so its partial sums pair up) and at most
    /// <see cref="MaxRegisterRowVectors"/> vectors; γ along the row; null for other layouts.
    /// </summary>
    internal static int? RowInRegistersVectors(KernelContext ctx)
    {
        int wide = VectorShape.Wide(ctx).Width;
        return ctx.HasGamma && SegmentLoops.AffineAlongRun(ctx) && OuterReduced(ctx).Count == 0
            && ConstantRunLength(ctx) is int run && run % (ctx.Width * Unroll) == 0 && run / wide <= MaxRegisterRowVectors
            ? run / wide
            : null;
    }

    /// <summary>
    /// One row's backward with its vectors in locals (after <c>mean</c>, <c>invStd</c> and their splats): Σg and Σg·x̂, the
    /// row's dγ/dβ terms (unless a column pass sums them), then dx. Declares <c>sumG</c> (LayerNorm) and <c>sumGXhat</c>.
    /// </summary>
    private static void EmitRowInRegistersBackward(CodeWriter w, KernelContext ctx, int vectors, bool columnPass)
    {
        var shape = VectorShape.Wide(ctx);
        bool rms = ctx.Spec.IsRms;
        w.Line($"// The row's {vectors} vectors of x and dy stay in registers from the sums to dx. Each 512-bit partial sum holds two");
        w.Line("// of the 256-bit loop's side by side, added in the same order, so the sums are the same.");
        w.Line(VectorLoop.WideSplats(ctx, [.. MeanSplats(ctx), "invStd"]));
        // Vector v is lane v % 2 of the 256-bit loop's iteration v / 2: each pair of its partial sums adds vectors p, p + 2,
        // … in that order, from zero as they start (so that a row of zeros sums to +0 alike).
        w.Line($"var zeroW = {Simd}.Splat512({(ctx.IsFloat ? "0f" : "0.0")});");
        string[] sums = GradientSumsAlongRunNames(ctx);
        foreach (string sum in sums)
        {
            w.Line($"var {shape.Sum(sum, 0)} = zeroW; var {shape.Sum(sum, 1)} = zeroW;");
        }
        for (int v = 0; v < vectors; v++)
        {
            string x = $"{Simd}.Load512(ref xRef, {At("start", v, shape)})";
            string param = At("param", v, shape);
            w.Line($"var {Row(rms, v)} = {(rms ? x : Centered(ctx, shape, x))};");
            w.Line($"var dy{v} = {Simd}.Load512(ref dyRef, {At("start", v, shape)});");
            w.Line($"var g{v} = dy{v} * {Simd}.Load512(ref gammaRef, {param});");
            w.Line($"var xhat{v} = {Row(rms, v)} * invStdW;");
            string sumG = shape.Sum("sumG", v % 2), sumGXhat = shape.Sum("sumGXhat", v % 2);
            if (!rms)
            {
                w.Line($"{sumG} += g{v};");
            }
            w.Line($"{sumGXhat} = {Simd}.MultiplyAdd(g{v}, xhat{v}, {sumGXhat});");
            if (!columnPass)
            {
                foreach (string line in ParameterBlockTerms(ctx, shape, $"dy{v}", $"xhat{v}", param))
                {
                    w.Line(line);
                }
            }
        }
        foreach (string sum in sums)
        {
            w.Line($"var ({sum}Block0, {sum}Block1) = {Simd}.Halves({shape.Sum(sum, 0)}); var ({sum}Block2, {sum}Block3) = {Simd}.Halves({shape.Sum(sum, 1)});");
            w.Line($"double {sum} = {Simd}.SumWidened({sum}Block0, {sum}Block1, {sum}Block2, {sum}Block3);");
        }
        w.Line();
        w.Line(rms
            ? "// dx = invStd·(g − x̂·mean(g·x̂)), written as g·invStd − x·slope."
            : "// dx = invStd·(g − mean(g) − x̂·mean(g·x̂)), written as g·invStd − (x − mean)·slope − offset.");
        EmitSlopeAndOffset(w, ctx);
        w.Line(VectorLoop.WideSplats(ctx, rms ? ["slope"] : ["slope", "offset"]));
        for (int v = 0; v < vectors; v++)
        {
            string offset = rms ? "" : " - offsetW";
            w.Line($"{Simd}.StoreOutput(g{v} * invStdW - {Row(rms, v)} * slopeW{offset}, ref dxRef, {At("start", v, shape)}, streaming);");
        }
    }

    /// <summary>The local holding the row's vector <paramref name="v"/> of x − mean, or of x for RMSNorm.</summary>
    private static string Row(bool rms, int v) => rms ? $"x{v}" : $"centered{v}";

    /// <summary>The index of the row's vector <paramref name="v"/> past <paramref name="origin"/> (<c>start</c>, <c>param</c>).</summary>
    private static string At(string origin, int v, VectorShape shape) => v == 0 ? origin : $"{origin} + {Int(v * shape.Width)}";
}
