namespace NormGen.Generator.Emit;

/// <summary>
/// The vectors a loop is written in: <c>Vector256</c> (every x64 processor the runtime vectorizes on) or <c>Vector512</c>
/// (the loop a kernel runs beside it where <c>Vector512.IsHardwareAccelerated</c>). Both compute the same values lane
/// by lane, so a kernel gives the same bits either way.
/// </summary>
internal readonly struct VectorShape
{
    private VectorShape(int width, bool wide, int lastLanes = 0)
    {
        Width = width;
        IsWide = wide;
        LastLanes = lastLanes;
    }

    /// <summary>
    /// For the column kernels' last tile, the vector ending at a row's last column: how many of its last lanes are its
    /// own (the others belong to columns another tile covers); 0 for whole vectors.
    /// </summary>
    public int LastLanes { get; }

    /// <summary>This shape for a vector of which only the last <paramref name="lanes"/> lanes count.</summary>
    public VectorShape WithLastLanes(int lanes) => new(Width, IsWide, lanes);

    /// <summary>
    /// The statement that writes <paramref name="value"/> to <paramref name="output"/> at <c>start + index</c>: the kernels'
    /// <c>StoreOutput</c>, or for a last-lanes vector a store of those lanes alone.
    /// </summary>
    public string Store(string value, string output, string index) => LastLanes == 0
        ? $"{KernelContext.Simd}.StoreOutput({value}, ref {output}, start + {index}, streaming);"
        : $"{KernelContext.Simd}.StoreLastLanes({value}, ref {output}, start + {index}, {LastLanes});";

    /// <summary>Elements per vector.</summary>
    public int Width { get; }

    /// <summary>True for <c>Vector512</c>.</summary>
    public bool IsWide { get; }

    /// <summary>The <c>NormGenSimd</c> method that loads one vector.</summary>
    public string Load => IsWide ? "Load512" : "Load";

    /// <summary>The <c>NormGenSimd</c> method that broadcasts a value.</summary>
    public string Splat => IsWide ? "Splat512" : "Splat";

    /// <summary>
    /// The name of a broadcast vector in this shape: <c>scaleV</c> (256-bit, declared where the kernel computes it) or
    /// <c>scaleW</c> (its 512-bit twin, declared before a 512-bit loop).
    /// </summary>
    public string Of(string name) => name + (IsWide ? "W" : "V");

    /// <summary>
    /// The partial-sum vector of <paramref name="name"/> that accumulator <paramref name="lane"/> of a sums loop adds to:
    /// <c>nameBlock0</c> to <c>nameBlock3</c> (256-bit), or <c>nameBlocks01</c> and <c>nameBlocks23</c> (512-bit, lane 0
    /// or 1: two of the 256-bit ones side by side, which <see cref="VectorLoop"/> joins before the loop and splits after).
    /// </summary>
    public string Sum(string name, int lane) => IsWide ? $"{name}Blocks{2 * lane}{2 * lane + 1}" : $"{name}Block{lane}";

    public static VectorShape Narrow(KernelContext ctx) => new(ctx.Width, wide: false);

    public static VectorShape Wide(KernelContext ctx) => new(2 * ctx.Width, wide: true);
}
