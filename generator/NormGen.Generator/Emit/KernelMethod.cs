using System;

namespace NormGen.Generator.Emit;

/// <summary>
/// One generated private method. Orchestrators are called by the public API; chunk kernels process one chunk of
/// the work and are run on several threads by <c>NormGen.Internal.ChunkRunner</c>, with the signature
/// <c>(state, a, b, c, batch, chunk)</c> whose span names are <see cref="SpanNames"/>.
/// </summary>
internal sealed record KernelMethod(string Name, string Summary, Action<CodeWriter, KernelContext> Body, string? Parameters = null, string[]? SpanNames = null)
{
    public bool IsChunkKernel => SpanNames is not null;

    /// <summary>Spans named like this are not used by the kernel (the runner's signature has three).</summary>
    public const string Unused = "unused";

    public static KernelMethod Chunk(string name, string summary, string a, string b, string c, Action<CodeWriter, KernelContext> body) =>
        new(name, summary, body, null, [a, b, c]);

    /// <summary>A call of a chunk kernel on every chunk, spread over the threads.</summary>
    public static string Run(string name, string a, string b, string c, string chunks = "chunks") =>
        $"state.Runner.Run(NormGenState.{name}Kernel, state, {a}, {b}, {c}, batch, {chunks}, {KernelContext.Degree});";
}
