namespace NormGen.Generator.Emit;

/// <summary>
/// The vectors a loop is written in: <c>Vector256</c> (every x64 processor the runtime vectorizes on) or <c>Vector512</c>
/// (the loop a kernel runs beside it where <c>Vector512.IsHardwareAccelerated</c>). Both compute the same values lane
/// by lane, so a kernel gives the same bits either way.
/// </summary>
internal readonly struct VectorShape
{
    private VectorShape(int width, bool wide)
    {
        Width = width;
        IsWide = wide;
    }

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

    public static VectorShape Narrow(KernelContext ctx) => new(ctx.Width, wide: false);

    public static VectorShape Wide(KernelContext ctx) => new(2 * ctx.Width, wide: true);
}
