using System.Collections.Generic;
using System.Linq;
using static NormGen.Generator.Emit.KernelContext;

namespace NormGen.Generator.Emit;

/// <summary>
/// The output of the previous row in the long-row pipelines (forward y, backward dx), written beside the next row's sums
/// pass. The output may not start on a cache line (a .NET array of 85 KB or more starts 24 bytes past one): the row's
/// partial lines at both ends are written first with ordinary stores (the output may be an input, and the ends' vectors
/// read values the whole lines overwrite), the whole lines between with aligned stores from <c>previousLineStart</c>, an
/// unrolled iteration's worth beside each iteration of the sums, and what those leave after the sums.
/// </summary>
internal static partial class GroupMajorKernels
{
    /// <summary>
    /// The previous row's vector at an index: (index, where x and the other inputs count from, the index in γ/β past
    /// <c>param</c> or null for the same) → its expression.
    /// </summary>
    internal delegate string PreviousRowVector(string index, string start, string? gammaIndex);

    /// <summary>
    /// Before a pipelined sums pass over a long row: the previous row's line bounds (<c>previousFirst</c>,
    /// <c>previousLast</c>), its partial end lines, <c>previousDone</c> (how much of its whole lines the iterations beside
    /// the sums write) and <c>previousLineStart</c>.
    /// </summary>
    private static void EmitPreviousRowEdges(CodeWriter w, KernelContext ctx, int run, string output, PreviousRowVector value)
    {
        int width = ctx.Width;
        int line = ctx.LineElements;
        string at(string index) => value(index, "previousStart", null);
        w.Line("// Its whole cache lines are written with aligned stores, beside the sums from its first line on; the partial");
        w.Line("// lines at its two ends first, with ordinary stores.");
        w.Line($"int previousFirst = {Simd}.LineStart(ref {output}, previousStart);");
        w.Line($"int previousLast = previousFirst + (({Int(run)} - previousFirst) & ~{line - 1});");
        using (w.Block("if (previousFirst != 0)"))
        {
            w.Line($"int endingAtFirst = global::System.Math.Max(previousFirst - {width}, 0);");
            w.Line($"{Simd}.StoreHead({at("0")}, {at("endingAtFirst")}, ref {output}, previousStart, previousFirst);");
        }
        using (w.Block($"if (previousLast != {Int(run)})"))
        {
            w.Line($"int atLast = global::System.Math.Min(previousLast, {Int(run - width)});");
            w.Line($"{Simd}.StoreTail({at("atLast")}, {at(Int(run - width))}, ref {output}, previousStart + {Int(run)}, {Int(run)} - previousLast);");
        }
        int iteration = width * Unroll;
        if (run % iteration == 0)
        {
            w.Line("// The iterations beside the sums write [previousFirst, previousFirst + previousDone): every line where the run");
            w.Line("// starts on one, else all but the last iteration's (the run's last partial line takes its place).");
            w.Line($"int previousDone = previousFirst == 0 ? {Int(run)} : {Int(run - iteration)};");
        }
        else
        {
            // Runs that are no whole number of iterations: the iterations stop short of the run's end, and the loop after
            // them writes the lines they leave.
            w.Line($"// The iterations beside the sums (the first {Int(run - run % iteration)} values) write [previousFirst, previousFirst + previousDone):");
            w.Line("// as many whole iterations' worth of lines as fit both them and the run's whole lines.");
            w.Line($"int previousDone = global::System.Math.Min({Int(run - run % iteration)}, (previousLast - previousFirst) & ~{iteration - 1});");
        }
        w.Line("int previousLineStart = previousStart + previousFirst;");
    }

    /// <summary>An unrolled iteration's stores of the previous row at <c>i</c>, where they fall within <c>previousDone</c>.</summary>
    private static IEnumerable<string> Guarded(IEnumerable<string> stores) =>
        ["if (i < previousDone)", "{", .. stores.Select(store => "    " + store), "}"];

    /// <summary>
    /// After an unrolled iteration of the pipelined sums at <c>i</c>: the previous row's whole lines over the same number
    /// of values from <c>previousLineStart</c>, where they fall within <c>previousDone</c>: one 256-bit vector a lane, or
    /// with a <paramref name="shape"/> of 512-bit vectors (<paramref name="value"/> in that shape) one a cache line.
    /// </summary>
    private static IEnumerable<string> PreviousLineStores(KernelContext ctx, string output, PreviousRowVector value, VectorShape? shape = null)
    {
        int width = (shape ?? VectorShape.Narrow(ctx)).Width;
        return Guarded(Enumerable.Range(0, ctx.Width * Unroll / width).Select(k =>
        {
            string index = k == 0 ? "i" : $"i + {k * width}";
            return $"{Simd}.StoreOutput({value(index, "previousLineStart", $"previousFirst + {index}")}, ref {output}, previousLineStart + {index}, streaming);";
        }));
    }

    /// <summary>
    /// After the pipelined sums: the previous row's whole lines the iterations beside them left (<paramref name="unit"/>:
    /// what the generated comment calls the previous row, "group's run" in the pipelines over groups).
    /// </summary>
    private static void EmitPreviousRowRemainder(CodeWriter w, KernelContext ctx, string output, PreviousRowVector value, string unit = "row")
    {
        w.Line(ConstantRunLength(ctx) is int run && run % (ctx.Width * Unroll) == 0
            ? $"// The previous {unit}'s whole lines after the ones written beside the sums (one iteration's at most)."
            : $"// The previous {unit}'s whole lines after the ones written beside the sums.");
        using (w.Block($"for (int i = previousFirst + previousDone; i < previousLast; i += {ctx.Width})"))
        {
            w.Line($"{Simd}.StoreOutput({value("i", "previousStart", null)}, ref {output}, previousStart + i, streaming);");
        }
    }
}
