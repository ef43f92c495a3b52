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
    /// <param name="flush">For float sums kept in float vectors: statements that add them to double totals and clear them,
    /// written after every <see cref="FloatBlock"/> values (so a float sum never holds more than 16 values a lane) and at the end.</param>
    public static void Emit(
        CodeWriter w,
        KernelContext ctx,
        int? constantLength,
        string lengthExpression,
        Func<int, string, IEnumerable<string>> vector,
        Func<string, IEnumerable<string>> scalar,
        Action? flush = null)
    {
        int width = ctx.Width;
        int block = width * KernelContext.Unroll;
        bool blocked = flush is not null && ctx.IsFloat;
        if (constantLength is int blockedLength && blocked && blockedLength > FloatBlock)
        {
            int blocksEnd = blockedLength - (blockedLength % FloatBlock);
            if (blocksEnd == FloatBlock)
            {
                EmitRange(w, ctx, 0, FloatBlock, vector, scalar);
                flush!();
            }
            else
            {
                using (w.Block($"for (int block = 0; block < {blocksEnd}; block += {FloatBlock})"))
                {
                    using (w.Block($"for (int i = block; i < block + {FloatBlock}; i += {block})"))
                    {
                        for (int lane = 0; lane < KernelContext.Unroll; lane++)
                        {
                            Write(w, vector(lane, lane == 0 ? "i" : $"i + {lane * width}"));
                        }
                    }
                    flush!();
                }
            }
            EmitRange(w, ctx, blocksEnd, blockedLength, vector, scalar);
            flush!();
            return;
        }
        if (constantLength is int length)
        {
            EmitRange(w, ctx, 0, length, vector, scalar);
            flush?.Invoke();
            return;
        }

        // A run whose length is known only at run time (the batch dims are innermost).
        using (w.Block("// The run's length is known only at run time."))
        {
            w.Line("int i = 0;");
            if (blocked)
            {
                using (w.Block($"for (; i <= {lengthExpression} - {FloatBlock}; )"))
                {
                    using (w.Block($"for (int blockEnd = i + {FloatBlock}; i < blockEnd; i += {block})"))
                    {
                        for (int lane = 0; lane < KernelContext.Unroll; lane++)
                        {
                            Write(w, vector(lane, lane == 0 ? "i" : $"i + {lane * width}"));
                        }
                    }
                    flush!();
                }
            }
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
            flush?.Invoke();
        }
    }

    /// <summary>Values a float partial sum takes before it is added to its double total: 512 = 16 per lane of 4 × 8 lanes.</summary>
    public const int FloatBlock = 512;

    /// <summary>The loops over [<paramref name="from"/>, <paramref name="to"/>) of a run: unrolled vectors, single vectors, scalars.</summary>
    private static void EmitRange(CodeWriter w, KernelContext ctx, int from, int to, Func<int, string, IEnumerable<string>> vector, Func<string, IEnumerable<string>> scalar)
    {
        int width = ctx.Width;
        int block = width * KernelContext.Unroll;
        int length = to - from;
        int blockEnd = from + length - (length % block);
        int vectorEnd = from + length - (length % width);
        if (blockEnd > from)
        {
            using (w.Block($"for (int i = {from}; i < {blockEnd}; i += {block})"))
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
        if (to > vectorEnd)
        {
            using (w.Block($"for (int i = {vectorEnd}; i < {to}; i++)"))
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
