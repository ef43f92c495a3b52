using System.Linq;
using NormGen.Generator.Models;

namespace NormGen.Generator.Emit;

/// <summary>Plain-words descriptions of a declaration for the generated documentation comments.</summary>
internal static class LayerDescription
{
    /// <summary>The PyTorch layer the declaration corresponds to.</summary>
    public static string Kind(LayerSpec spec)
    {
        if (spec.IsRms)
        {
            return "RMS normalization";
        }
        if (spec.BatchStatistics)
        {
            return "Batch normalization";
        }
        if (spec.Groups > 1)
        {
            return "Group normalization";
        }
        bool channelKept = spec.Dims.Any(d => d.Letter == 'C') && spec.Axes.IndexOf('C') < 0;
        return channelKept ? "Instance normalization" : "Layer normalization";
    }

    /// <summary>E.g. "N×C×H×W, row-major (W fastest); N = x.Length / 1024 at run time; C = 16, H = 8, W = 8".</summary>
    public static string Layout(LayerSpec spec, int sampleSize)
    {
        string dims = string.Join("×", spec.Dims.Select(d => d.Letter));
        string sizes = string.Join(", ", spec.Dims.Where(d => d.Size is not null).Select(d => $"{d.Letter} = {d.Size}"));
        var unsized = spec.Dims.Where(d => d.Size is null).Select(d => d.Letter.ToString()).ToList();
        string batch = unsized.Count == 0
            ? "every dim sized, so x.Length = " + sampleSize
            : $"{string.Join("·", unsized)} = x.Length / {sampleSize} at run time";
        return $"x is {dims}, row-major ({spec.Dims[spec.Dims.Count - 1].Letter} fastest); {(sizes.Length > 0 ? sizes + "; " : "")}{batch}.";
    }

    /// <summary>What one statistic covers, e.g. "one mean and variance per C, over N·H·W".</summary>
    public static string Statistics(LayerSpec spec)
    {
        string kept = string.Concat(spec.Dims.Where(d => spec.Axes.IndexOf(d.Letter) < 0).Select(d => d.Letter));
        string reduced = string.Join("·", spec.Dims.Where(d => spec.Axes.IndexOf(d.Letter) >= 0).Select(d => d.Letter));
        string what = spec.IsRms ? "one mean square" : "one mean and (biased) variance";
        string per = spec.Groups > 1
            ? $"per ({(kept.Length > 0 ? string.Join(", ", kept.ToCharArray()) + ", " : "")}group of C / {spec.Groups} channels)"
            : kept.Length == 0 ? "for the whole input" : $"per ({string.Join(", ", kept.ToCharArray())})";
        return $"{what} {per}, over {reduced}{(spec.Groups > 1 ? " (C within the group)" : "")}.";
    }

    /// <summary>The forward formula.</summary>
    public static string Formula(LayerSpec spec)
    {
        string eps = KernelContext.Double(spec.Epsilon);
        if (spec.IsRms)
        {
            return $"y = x / sqrt(mean(x²) + {eps}){(spec.Affine ? " · γ" : "")}";
        }
        return $"y = (x − mean) / sqrt(var + {eps}){(spec.Affine ? " · γ + β" : "")}";
    }

    /// <summary>Which dims Gamma and Beta span.</summary>
    public static string Affine(LayerSpec spec, int parameterSize)
    {
        if (!spec.Affine)
        {
            return "No Gamma or Beta (Affine = false).";
        }
        string span = spec.AffineAxes.Length == 0 ? "a single value" : string.Join("×", spec.AffineAxes.ToCharArray());
        return $"{(spec.IsRms ? "Gamma spans" : "Gamma and Beta span")} {span} ({parameterSize} values), broadcast over the other dims.";
    }
}
