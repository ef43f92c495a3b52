using System;

namespace NormGen.Generator.Emit;

/// <summary>
/// One generated private method. Orchestrators are called by the public API; chunk kernels process one chunk of
/// the work and are run on several threads by <c>NormGen.Internal.ChunkRunner</c>, with the signature
/// <c>(state, a, b, c, batch, chunk)</c> whose span names are <see cref="SpanNames"/>.
/// </summary>
/// <remarks>
/// A kernel is one method, whose every loop the JIT compiles with the locals of every inlined helper call (each
/// <c>NormGenSimd</c> call adds some). The JIT keeps at most 1,024 locals in registers (<c>DOTNET_JitMaxLocalsToTrack</c>);
/// a method past that spills the rest, loop variables included: a pass of two LayerNorm rows at a time written into
/// <c>BackwardChunk</c> made its row-by-row loops beside it 2.2× slower, and as fast again with the limit raised. The
/// largest kernels today (LayerNorm's <c>BackwardChunk</c> and <c>StatisticsAndNormalizeChunk</c> over rows of 1,000)
/// need 768–896 (their code changes with the limit at 768 and not at 896), so a new path of many vector locals goes in a
/// method of its own. To check a kernel: run it with <c>DOTNET_JitDisasm</c> and the limit lowered, and see whether its
/// code changes.
/// </remarks>
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
