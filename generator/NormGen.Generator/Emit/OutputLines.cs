namespace NormGen.Generator.Emit;

/// <summary>How a kernel's output stores cover cache lines, which decides whether they may stream (bypass the cache).</summary>
internal enum OutputLines
{
    /// <summary>Runs long enough that the partial lines at their ends are written apart (<see cref="VectorLoop.EmitStores"/>): any output address.</summary>
    EdgesApart,

    /// <summary>Runs of whole cache lines: whole lines where the output starts on a line boundary.</summary>
    WholeIfAligned,

    /// <summary>Runs that end inside a line: some lines get stores from two runs, so only ordinary stores.</summary>
    Partial,
}
