using System.Text;

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

    // Declared after Declarations: static initializers run in textual order.
    public static string Source { get; } = Build();

    private static string Build()
    {
        var text = new StringBuilder();
        text.AppendLine("using System;");
        text.AppendLine("using NormGen;");
        text.AppendLine();
        foreach ((string name, string kind, string attribute) in Declarations)
        {
            text.AppendLine($"[Normalize({attribute})]");
            text.AppendLine($"public partial {kind} {name} {{ }}");
            text.AppendLine();
        }

        return text.ToString();
    }
}
