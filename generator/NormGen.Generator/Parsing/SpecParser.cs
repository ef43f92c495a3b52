using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using NormGen.Generator.Diagnostics;
using NormGen.Generator.Models;

namespace NormGen.Generator.Parsing;

/// <summary>
/// Validates the arguments of one <c>[Normalize]</c> and applies the defaults. Shared by the generator
/// (which generates nothing on a problem) and the declaration analyzer (which reports the problem).
/// Never throws, whatever the arguments say.
/// </summary>
internal static class SpecParser
{
    private const string FloatName = "float";
    private const string DoubleName = "double";

    public static LayerSpec? Parse(AttributeArguments args, out DeclarationProblem? problem)
    {
        problem = Validate(args, out LayerSpec? spec);
        return problem is null ? spec : null;
    }

    private static DeclarationProblem? Validate(AttributeArguments args, out LayerSpec? spec)
    {
        spec = null;
        string shapeText = args.Shape ?? "";

        // Shape: letters, sizes, no repeats.
        if (!TryParseShape(shapeText, out List<Dim> dims, out string? shapeError))
        {
            return new(DiagnosticDescriptors.MalformedShape, "Shape", [shapeText, shapeError]);
        }
        char? repeated = FirstRepeat(dims.Select(d => d.Letter));
        if (repeated is char r)
        {
            return new(DiagnosticDescriptors.RepeatedLetter, "Shape", ["Shape", shapeText, r]);
        }

        // Axes: a non-empty set of letters of Shape.
        string axesText = args.Axes ?? "";
        string axes = Compact(axesText);
        if (axes.Length == 0)
        {
            return new(DiagnosticDescriptors.InvalidAxes, "Axes", [axesText, "it is empty", shapeText]);
        }
        if (FirstRepeat(axes) is char ra)
        {
            return new(DiagnosticDescriptors.RepeatedLetter, "Axes", ["Axes", axesText, ra]);
        }
        foreach (char letter in axes)
        {
            if (!dims.Any(d => d.Letter == letter))
            {
                return new(DiagnosticDescriptors.InvalidAxes, "Axes",
                    [axesText, $"'{letter}' is not a dim of Shape", shapeText]);
            }
        }

        // Unsized dims: a leading prefix, all reduced or all kept.
        int prefix = dims.TakeWhile(d => d.Size is null).Count();
        if (dims.Skip(prefix).Any(d => d.Size is null))
        {
            Dim late = dims.Skip(prefix).First(d => d.Size is null);
            return new(DiagnosticDescriptors.InvalidUnsizedDims, "Shape",
                [shapeText, $"'{late.Letter}' has no size but follows a sized dim; unsized dims (sizes from the input length) must come first, e.g. \"N,T,D=768\""]);
        }
        var unsized = dims.Take(prefix).ToList();
        if (unsized.Any(d => axes.IndexOf(d.Letter) >= 0) && unsized.Any(d => axes.IndexOf(d.Letter) < 0))
        {
            return new(DiagnosticDescriptors.InvalidUnsizedDims, "Shape",
                [shapeText, $"the unsized dims {string.Join(",", unsized.Select(d => d.Letter))} are partly reduced by Axes and partly kept; they must be all reduced or all kept"]);
        }

        // Groups: positive, divides C, and C is reduced.
        int groups = args.Groups ?? 1;
        Dim? channel = dims.FirstOrDefault(d => d.Letter == 'C');
        if (groups < 1)
        {
            return new(DiagnosticDescriptors.InvalidGroups, "Groups", [groups, "expected 1 or more"]);
        }
        if (groups > 1)
        {
            if (channel is null)
            {
                return new(DiagnosticDescriptors.InvalidGroups, "Groups", [groups, $"Shape \"{shapeText}\" has no channel dim C to split into groups"]);
            }
            if (channel.Size is not int c)
            {
                return new(DiagnosticDescriptors.InvalidGroups, "Groups", [groups, "C must have a size to be split into groups"]);
            }
            if (c % groups != 0)
            {
                return new(DiagnosticDescriptors.InvalidGroups, "Groups", [groups, $"it does not divide C = {c}"]);
            }
            if (axes.IndexOf('C') < 0)
            {
                return new(DiagnosticDescriptors.InvalidGroups, "Groups", [groups, "GroupNorm reduces over the channels of each group, so Axes must include C, e.g. \"CHW\""]);
            }
        }

        // Kind.
        bool isRms = (args.Kind ?? 0) == 1;
        if (args.Kind is int kind && kind is not (0 or 1))
        {
            return new(DiagnosticDescriptors.InvalidKindForBatchStatistics, "Kind", []);
        }
        if (isRms && axes.IndexOf('N') >= 0)
        {
            return new(DiagnosticDescriptors.InvalidKindForBatchStatistics, "Kind", []);
        }

        // Epsilon and Momentum.
        double epsilon = args.Epsilon ?? 1e-5;
        if (!(epsilon > 0) || double.IsInfinity(epsilon))
        {
            return new(DiagnosticDescriptors.InvalidEpsilon, "Epsilon", [Format(epsilon)]);
        }
        double momentum = args.Momentum ?? 0.1;
        if (!(momentum >= 0 && momentum <= 1))
        {
            return new(DiagnosticDescriptors.InvalidMomentum, "Momentum", [Format(momentum)]);
        }

        // ElementType.
        ElementKind element;
        switch (args.ElementTypeName)
        {
            case null:
            case FloatName:
                element = ElementKind.Float;
                break;
            case DoubleName:
                element = ElementKind.Double;
                break;
            default:
                return new(DiagnosticDescriptors.UnsupportedElementType, "ElementType", [args.ElementTypeName]);
        }

        // AffineAxes: sized letters of Shape; the default depends on the kind of layer.
        string affineAxes;
        bool affineExplicit = args.AffineAxes is not null;
        if (args.AffineAxes is string affineText)
        {
            affineAxes = Compact(affineText);
            if (FirstRepeat(affineAxes) is char rr)
            {
                return new(DiagnosticDescriptors.RepeatedLetter, "AffineAxes", ["AffineAxes", affineText, rr]);
            }
            foreach (char letter in affineAxes)
            {
                Dim? dim = dims.FirstOrDefault(d => d.Letter == letter);
                if (dim is null)
                {
                    return new(DiagnosticDescriptors.InvalidAffineAxes, "AffineAxes", [affineText, $"'{letter}' is not a dim of Shape", shapeText]);
                }
                if (dim.Size is null)
                {
                    return new(DiagnosticDescriptors.InvalidAffineAxes, "AffineAxes", [affineText, $"'{letter}' has no size, so Gamma and Beta could not have a fixed length", shapeText]);
                }
            }
        }
        else
        {
            affineAxes = DefaultAffineAxes(dims, axes, groups);
        }

        spec = new LayerSpec(
            ShapeText: shapeText,
            Dims: new EquatableArray<Dim>(dims),
            Axes: string.Concat(dims.Where(d => axes.IndexOf(d.Letter) >= 0).Select(d => d.Letter)),
            Groups: groups,
            IsRms: isRms,
            Epsilon: epsilon,
            Momentum: momentum,
            CumulativeAverage: args.CumulativeAverage ?? false,
            Affine: args.Affine ?? true,
            AffineAxes: string.Concat(dims.Where(d => affineAxes.IndexOf(d.Letter) >= 0).Select(d => d.Letter)),
            AffineAxesExplicit: affineExplicit,
            TrackRunningStats: args.TrackRunningStats ?? true,
            Element: element);
        return null;
    }

    /// <summary>The design's default span of Gamma/Beta.</summary>
    private static string DefaultAffineAxes(List<Dim> dims, string axes, int groups)
    {
        bool hasChannel = dims.Any(d => d.Letter == 'C' && d.Size is not null);
        if (axes.IndexOf('N') >= 0)
        {
            // Batch statistics: the sized dims that are not reduced (BatchNorm: C).
            return string.Concat(dims.Where(d => d.Size is not null && axes.IndexOf(d.Letter) < 0).Select(d => d.Letter));
        }
        if (groups > 1 || (hasChannel && axes.IndexOf('C') < 0))
        {
            // GroupNorm and InstanceNorm: per channel.
            return "C";
        }
        // LayerNorm and RMSNorm: the reduced (normalized) dims.
        return string.Concat(dims.Where(d => d.Size is not null && axes.IndexOf(d.Letter) >= 0).Select(d => d.Letter));
    }

    private static bool TryParseShape(string text, out List<Dim> dims, out string? error)
    {
        dims = new List<Dim>();
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "it is empty";
            return false;
        }
        long product = 1;
        foreach (string rawPart in text.Split(','))
        {
            string part = rawPart.Trim();
            if (part.Length == 0)
            {
                error = "it has an empty dim (two commas, or a comma at an end)";
                return false;
            }
            char letter = part[0];
            if (letter is < 'A' or > 'Z')
            {
                error = $"'{part}' does not start with an upper-case letter";
                return false;
            }
            string rest = part.Substring(1).Trim();
            if (rest.Length == 0)
            {
                dims.Add(new Dim(letter, null));
                continue;
            }
            if (rest[0] != '=')
            {
                error = $"'{part}' is not a single letter or 'L=size'";
                return false;
            }
            string number = rest.Substring(1).Trim();
            if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size < 1)
            {
                error = $"the size in '{part}' is not a positive whole number";
                return false;
            }
            product *= size;
            if (product > int.MaxValue / 8)
            {
                error = "the sized dims hold more elements than a span can";
                return false;
            }
            dims.Add(new Dim(letter, size));
        }
        return true;
    }

    private static string Compact(string letters) =>
        string.Concat(letters.Where(ch => !char.IsWhiteSpace(ch) && ch != ','));

    private static char? FirstRepeat(IEnumerable<char> letters)
    {
        var seen = new HashSet<char>();
        foreach (char letter in letters)
        {
            if (!seen.Add(letter))
            {
                return letter;
            }
        }
        return null;
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
