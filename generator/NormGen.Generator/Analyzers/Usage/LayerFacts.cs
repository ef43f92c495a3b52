using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace NormGen.Generator.Analyzers.Usage;

/// <summary>
/// What the usage analyzers need to know about one <c>[Normalize]</c> type, read straight from the attribute's
/// constants (independently of the generator's parser): whether it has batch statistics, running statistics,
/// and the sizes that decide how many values each statistics group holds.
/// </summary>
internal sealed class LayerFacts
{
    private LayerFacts(bool batchStatistics, bool trackRunningStats, string axes, int groups, IReadOnlyList<ShapeDim>? dims)
    {
        BatchStatistics = batchStatistics;
        TrackRunningStats = trackRunningStats;
        Axes = axes;
        Groups = groups;
        Dims = dims;
    }

    /// <summary><c>N</c> is among <c>Axes</c>: ForwardTraining/ForwardInference instead of Forward.</summary>
    public bool BatchStatistics { get; }

    /// <summary>The attribute's <c>TrackRunningStats</c> (default true).</summary>
    public bool TrackRunningStats { get; }

    /// <summary>Running statistics exist: batch statistics and <c>TrackRunningStats</c>.</summary>
    public bool HasRunningStatistics => BatchStatistics && TrackRunningStats;

    /// <summary>The reduced letters.</summary>
    public string Axes { get; }

    /// <summary>The attribute's <c>Groups</c> (default 1).</summary>
    public int Groups { get; }

    /// <summary>The dims of <c>Shape</c>, or null when it does not parse (the declaration analyzer reports that).</summary>
    public IReadOnlyList<ShapeDim>? Dims { get; }

    /// <summary>The name of the training forward: <c>ForwardTraining</c> for batch statistics, <c>Forward</c> otherwise.</summary>
    public string TrainingForwardName => BatchStatistics ? "ForwardTraining" : "Forward";

    public static LayerFacts From(AttributeData attribute)
    {
        string shape = "";
        string axes = "";
        int groups = 1;
        bool track = true;
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            object? value = argument.Value.Kind == TypedConstantKind.Array ? null : argument.Value.Value;
            switch (argument.Key)
            {
                case "Shape" when value is string s:
                    shape = s;
                    break;
                case "Axes" when value is string a:
                    axes = a;
                    break;
                case "Groups" when value is int g:
                    groups = g;
                    break;
                case "TrackRunningStats" when value is bool t:
                    track = t;
                    break;
            }
        }

        return new LayerFacts(axes.IndexOf('N') >= 0, track, axes, groups, ShapeDim.Parse(shape));
    }
}

/// <summary>One dim of <c>Shape</c>: its letter, and its size or null when the input's length decides it.</summary>
internal readonly struct ShapeDim
{
    public ShapeDim(char letter, long? size)
    {
        Letter = letter;
        Size = size;
    }

    public char Letter { get; }

    public long? Size { get; }

    /// <summary>Parses <c>"N,C=64,H=32"</c>; null when malformed (that is the declaration analyzer's business).</summary>
    public static IReadOnlyList<ShapeDim>? Parse(string shape)
    {
        if (string.IsNullOrWhiteSpace(shape))
        {
            return null;
        }

        var dims = new List<ShapeDim>();
        foreach (string rawPart in shape.Split(','))
        {
            string part = rawPart.Trim();
            if (part.Length == 0 || part[0] < 'A' || part[0] > 'Z')
            {
                return null;
            }

            string rest = part.Substring(1).Trim();
            if (rest.Length == 0)
            {
                dims.Add(new ShapeDim(part[0], null));
                continue;
            }

            if (rest[0] != '=' || !long.TryParse(rest.Substring(1).Trim(), out long size) || size <= 0)
            {
                return null;
            }

            dims.Add(new ShapeDim(part[0], size));
        }

        return dims;
    }
}
