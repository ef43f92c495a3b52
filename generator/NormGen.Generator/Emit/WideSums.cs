using System;
using System.Collections.Generic;

namespace NormGen.Generator.Emit;

/// <summary>
/// The 512-bit twin of a sums loop (<see cref="VectorLoop.Emit"/>): the partial sums it adds to (<c>nameBlock0..3</c>),
/// the broadcast vectors its statements use (<c>nameV</c>, twinned as <c>nameW</c>), and its statements for one 512-bit
/// vector at an index, into the pair of partial sums <see cref="VectorShape.Sum"/> names for lane 0 or 1; and
/// <see cref="Condition"/>, a boolean expression the twin also needs besides the processor's AVX-512, if any.
/// </summary>
internal sealed record WideSums(IReadOnlyList<string> Sums, IReadOnlyList<string> Splats, Func<int, string, IEnumerable<string>> Vector)
{
    public string? Condition { get; init; }
}
