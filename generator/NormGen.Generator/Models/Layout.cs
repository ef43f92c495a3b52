using System.Collections.Generic;
using System.Linq;

namespace NormGen.Generator.Models;

/// <summary>
/// A run of adjacent dims that play the same role: reduced or kept for the statistics, spanned by
/// Gamma/Beta or not. <see cref="Batch"/> segments contain the unsized leading dims, so their extent is
/// <c>batch × Size</c> with <c>batch = x.Length / SampleSize</c> known only at run time.
/// </summary>
internal sealed record Segment(bool Reduced, bool Affine, int Size, bool Batch, string Letters)
{
    /// <summary>The elements between two consecutive indices of this segment.</summary>
    public int Stride { get; init; }

    /// <summary>The Gamma/Beta entries between two consecutive indices (affine segments only).</summary>
    public int AffineStride { get; init; }
}

/// <summary>
/// The memory layout of a declaration reduced to what the kernels need: the segments in memory order
/// (size-1 dims dropped, adjacent dims with the same role merged, GroupNorm's C split into
/// group × channel-in-group) and the derived counts.
/// </summary>
internal sealed class Layout
{
    public Layout(LayerSpec spec)
    {
        Spec = spec;
        var pieces = new List<Segment>();
        foreach (Dim dim in spec.Dims)
        {
            bool reduced = spec.Axes.IndexOf(dim.Letter) >= 0;
            bool affine = spec.AffineAxes.IndexOf(dim.Letter) >= 0;
            if (dim.Letter == 'C' && spec.Groups > 1 && dim.Size is int channels)
            {
                // GroupNorm: the group index is kept (one statistic per group), the channel within it reduced.
                pieces.Add(new Segment(false, affine, spec.Groups, false, "G"));
                pieces.Add(new Segment(true, affine, channels / spec.Groups, false, "C"));
                continue;
            }
            pieces.Add(new Segment(reduced, affine, dim.Size ?? 1, dim.Size is null, dim.Letter.ToString()));
        }

        // Merge neighbours with the same role; size-1 sized dims disappear.
        var merged = new List<Segment>();
        foreach (Segment piece in pieces.Where(p => p.Batch || p.Size > 1))
        {
            if (merged.Count > 0 && merged[merged.Count - 1].Reduced == piece.Reduced && merged[merged.Count - 1].Affine == piece.Affine)
            {
                Segment last = merged[merged.Count - 1];
                merged[merged.Count - 1] = last with { Size = last.Size * piece.Size, Batch = last.Batch || piece.Batch, Letters = last.Letters + piece.Letters };
            }
            else
            {
                merged.Add(piece);
            }
        }
        if (merged.Count == 0)
        {
            merged.Add(new Segment(true, spec.AffineAxes.Length > 0, 1, false, spec.Axes));
        }

        // Strides, innermost first.
        int stride = 1;
        int affineStride = 1;
        for (int i = merged.Count - 1; i >= 0; i--)
        {
            Segment s = merged[i];
            merged[i] = s with { Stride = stride, AffineStride = s.Affine ? affineStride : 0 };
            stride *= s.Size;
            if (s.Affine)
            {
                affineStride *= s.Size;
            }
        }

        Segments = merged;
        SampleSize = spec.Dims.Aggregate(1, (p, d) => p * (d.Size ?? 1));
        ParameterSize = merged.Where(s => s.Affine).Aggregate(1, (p, s) => p * s.Size);
        StatisticsPerBatchUnit = merged.Where(s => !s.Reduced).Aggregate(1, (p, s) => p * s.Size);
        GroupSizePerBatchUnit = merged.Where(s => s.Reduced).Aggregate(1, (p, s) => p * s.Size);
        Inner = merged[merged.Count - 1];
        HasBatch = spec.Dims.Any(d => d.Size is null);
    }

    public LayerSpec Spec { get; }

    public IReadOnlyList<Segment> Segments { get; }

    /// <summary>Product of the sized dims.</summary>
    public int SampleSize { get; }

    /// <summary>Length of Gamma/Beta: product of the affine segments.</summary>
    public int ParameterSize { get; }

    /// <summary>Statistics groups, per unit of <c>batch</c> when a kept segment is the batch segment, otherwise in all.</summary>
    public int StatisticsPerBatchUnit { get; }

    /// <summary>Values in one statistics group, per unit of <c>batch</c> when the batch segment is reduced.</summary>
    public int GroupSizePerBatchUnit { get; }

    /// <summary>The innermost (contiguous) segment; the kernels vectorize over it.</summary>
    public Segment Inner { get; }

    /// <summary>The shape has unsized leading dims, so the input length decides <c>batch</c>.</summary>
    public bool HasBatch { get; }

    /// <summary>The batch dims are kept: the number of statistics groups grows with the batch.</summary>
    public bool StatisticsScaleWithBatch => Segments.Any(s => s.Batch && !s.Reduced);

    /// <summary>The batch dims are reduced: the group size grows with the batch (batch statistics).</summary>
    public bool GroupSizeScalesWithBatch => Segments.Any(s => s.Batch && s.Reduced);

    /// <summary>
    /// Group-major kernels (the innermost segment is reduced: each group is a set of contiguous runs, processed
    /// whole while it sits in cache) or lane-parallel kernels (the innermost segment is kept: neighbouring values
    /// belong to different groups, so statistics are accumulated per lane in memory order).
    /// </summary>
    public bool GroupMajor => Inner.Reduced;
}
