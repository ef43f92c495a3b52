using System;
using System.Collections.Generic;
using System.Linq;

namespace NormGen.Generator.Emit;

/// <summary>
/// What a sums loop adds for one element, for a run's last values (those after its whole vectors) summed as a tree
/// rather than one at a time into the double totals (<see cref="VectorLoop.EmitTail"/>): <see cref="Values"/> declares
/// one element's values at an index, their names ending in a suffix (<c>At192</c> for the value at 192); each of <see cref="Terms"/> names a double total
/// and gives one element's term (by suffix) that it adds.
/// </summary>
internal sealed record ScalarTerms(Func<string, string, IEnumerable<string>> Values, IReadOnlyList<(string Sum, Func<string, string> Term)> Terms)
{
    /// <summary>One element's statements at <paramref name="index"/> adding its terms one by one (a scalar loop's body).</summary>
    public string[] Lines(string index, string suffix) =>
        [.. Values(index, suffix), .. Terms.Select(t => $"{t.Sum} += {t.Term(suffix)};")];
}
