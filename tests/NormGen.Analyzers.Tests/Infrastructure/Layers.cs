using System.Text;
using System.Text.RegularExpressions;

namespace NormGen.Analyzers.Tests.Infrastructure;

/// <summary>
/// The <c>[Normalize]</c> declarations the tests use, in a source file of their own; the generator (run by the test)
/// adds their members, so the code under test compiles exactly as a user's would.
/// </summary>
internal static class Layers
{
    public const string FileName = "/0/Layers.cs";

    private static readonly (string Name, string Kind, string Attribute)[] Declarations =
    {
        // BatchNorm1d(4) on (N, C): running statistics.
        ("BatchNorm", "class", "Shape = \"N,C=4\", Axes = \"N\""),
        // BatchNorm2d(3) as a struct.
        ("BatchNormValue", "struct", "Shape = \"N,C=3,H=2,W=2\", Axes = \"NHW\""),
        // BatchNorm1d(16) on (N, C) and on (N, C, L=50), for NG1003.
        ("Bn16", "class", "Shape = \"N,C=16\", Axes = \"N\""),
        ("Bn16L", "class", "Shape = \"N,C=16,L=50\", Axes = \"NL\""),
        // A fully sized batch of one: every ForwardTraining sees one value per channel.
        ("BnBatchOfOne", "class", "Shape = \"N=1,C=8\", Axes = \"N\""),
        // Batch statistics without running statistics.
        ("NoRunningStats", "class", "Shape = \"N,C=4\", Axes = \"N\", TrackRunningStats = false"),
        // Per-sample statistics: LayerNorm, GroupNorm, InstanceNorm, RMSNorm.
        ("TokenNorm", "class", "Shape = \"N,T,D=8\", Axes = \"D\""),
        ("GroupNorm4", "class", "Shape = \"N,C=8,H=2,W=2\", Axes = \"CHW\", Groups = 4"),
        ("InstanceNorm", "class", "Shape = \"N,C=4,H=2,W=2\", Axes = \"HW\""),
        ("Rms", "class", "Shape = \"N,D=8\", Axes = \"D\", Kind = NormKind.Rms"),
    };

    /// <summary>
    /// The declarations <paramref name="testSource"/> mentions (each generated type adds some compile time, so a test
    /// gets only the layers it uses); null when it uses none.
    /// </summary>
    public static string? SourceFor(string testSource)
    {
        var text = new StringBuilder();
        text.AppendLine("using NormGen;");
        text.AppendLine();
        bool any = false;
        foreach ((string name, string kind, string attribute) in Declarations)
        {
            if (!Regex.IsMatch(testSource, $@"\b{name}\b"))
            {
                continue;
            }

            any = true;
            text.AppendLine($"[Normalize({attribute})]");
            text.AppendLine($"public partial {kind} {name} {{ }}");
            text.AppendLine();
        }

        return any ? text.ToString() : null;
    }
}
