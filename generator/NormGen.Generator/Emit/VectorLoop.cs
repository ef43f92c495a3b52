using System;
using System.Collections.Generic;

namespace NormGen.Generator.Emit;

/// <summary>
/// Emits the loop over one contiguous run <c>i = 0 .. length-1</c>: an unrolled vector loop (four vectors an
/// iteration), the remaining whole vectors, then a scalar tail. With a constant length every bound is a
/// constant and only the parts that run are written, so the text does not grow with the size.
/// </summary>
internal static class VectorLoop
{
    /// <param name="vector">Statements for one vector at element index <c>index</c>, using accumulator number <c>lane</c> (0..3).</param>
    /// <param name="scalar">Statements for one element at index <c>i</c>.</param>
    public static void Emit(
        CodeWriter w,
        KernelContext ctx,
        int? constantLength,
        string lengthExpression,
        Func<int, string, IEnumerable<string>> vector,
        Func<string, IEnumerable<string>> scalar)
    {
        int width = ctx.Width;
        int block = width * KernelContext.Unroll;
        if (constantLength is int length)
        {
            int blockEnd = length - (length % block);
            int vectorEnd = length - (length % width);
            if (blockEnd > 0)
            {
                using (w.Block($"for (int i = 0; i < {blockEnd}; i += {block})"))
                {
                    for (int lane = 0; lane < KernelContext.Unroll; lane++)
                    {
                        Write(w, vector(lane, lane == 0 ? "i" : $"i + {lane * width}"));
                    }
                }
            }
            if (vectorEnd > blockEnd)
            {
                using (w.Block($"for (int i = {blockEnd}; i < {vectorEnd}; i += {width})"))
                {
                    Write(w, vector(0, "i"));
                }
            }
            if (length > vectorEnd)
            {
                using (w.Block($"for (int i = {vectorEnd}; i < {length}; i++)"))
                {
                    Write(w, scalar("i"));
                }
            }
            return;
        }

        // A run whose length is known only at run time (the batch dims are innermost).
        using (w.Block("// The run's length is known only at run time."))
        {
            w.Line("int i = 0;");
            using (w.Block($"for (; i <= {lengthExpression} - {block}; i += {block})"))
            {
                for (int lane = 0; lane < KernelContext.Unroll; lane++)
                {
                    Write(w, vector(lane, lane == 0 ? "i" : $"i + {lane * width}"));
                }
            }
            using (w.Block($"for (; i <= {lengthExpression} - {width}; i += {width})"))
            {
                Write(w, vector(0, "i"));
            }
            using (w.Block($"for (; i < {lengthExpression}; i++)"))
            {
                Write(w, scalar("i"));
            }
        }
    }

    private static void Write(CodeWriter w, IEnumerable<string> lines)
    {
        foreach (string line in lines)
        {
            w.Line(line);
        }
    }
}
