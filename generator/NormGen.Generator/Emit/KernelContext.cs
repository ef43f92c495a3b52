using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using NormGen.Generator.Models;

namespace NormGen.Generator.Emit;

/// <summary>
/// What every kernel emitter needs about one declaration: its layout, the element type and vector width,
/// the names of the loop variables and how to write constants.
/// </summary>
internal sealed class KernelContext
{
    /// <summary>The alias the generated files use for <c>NormGen.Internal.Simd</c> (a name no user type has).</summary>
    public const string Simd = "NormGenSimd";

    /// <summary>Vectors per unrolled iteration: four independent accumulators hide the add latency.</summary>
    public const int Unroll = 4;

    private static readonly HashSet<string> Reserved = new()
    {
        "i", "x", "y", "dx", "dy", "batch", "state", "stat", "param", "start", "mean", "variance",
    };

    private readonly Dictionary<Segment, string> _loopVariables = new();

    public KernelContext(Layout layout, string typeName, string attributeText, KernelContext? layer = null, int columnGroup = 1)
    {
        Layout = layout;
        Layer = layer;
        ColumnGroup = columnGroup;
        TypeNameWithParameters = typeName;
        TypeName = typeName.Split('<')[0];
        AttributeText = attributeText;
        foreach (Segment segment in layout.Segments)
        {
            string name = segment.Letters.ToLowerInvariant();
            _loopVariables[segment] = Reserved.Contains(name) ? name + "Index" : name;
        }
    }

    public Layout Layout { get; }

    /// <summary>
    /// The declaration's own context where this one describes a single sample of it (<see cref="SampleColumns"/>): the
    /// kernels then see one sample's rows × columns, while the documentation still describes the declaration.
    /// </summary>
    public KernelContext? Layer { get; }

    /// <summary>
    /// Columns per statistic in a column layout: 1, or, for one sample of GroupNorm channels-last, the channels of a group,
    /// whose columns' sums the column orchestrators add together (<c>NormGen.Internal.ColumnGroups</c>).
    /// </summary>
    public int ColumnGroup { get; }

    private KernelContext? _sample;
    private bool _sampleBuilt;

    /// <summary>
    /// One sample of this layer where the layer goes sample by sample through the column kernels (built once by
    /// <see cref="SampleColumns.Sample"/>); otherwise null.
    /// </summary>
    public KernelContext? SampleContext
    {
        get
        {
            if (!_sampleBuilt)
            {
                _sample = SampleColumns.Sample(this);
                _sampleBuilt = true;
            }
            return _sample;
        }
    }

    /// <summary>The saved mean Backward reads: the layer's, or, for one sample of it, that sample's copy.</summary>
    public string SavedMean => Layer is null ? "state.SavedMean" : "state.SampleSavedMean";

    /// <summary>The saved 1/std Backward reads: the layer's, or, for one sample of it, that sample's copy.</summary>
    public string SavedInvStd => Layer is null ? "state.SavedInvStd" : "state.SampleSavedInvStd";

    /// <summary>
    /// The segment whose indices are split into chunks for the threads: the outermost kept segment for group-major
    /// kernels (groups are independent; with the other kept segments, in flat order, where <see cref="ChunksFlatGroups"/>),
    /// the outermost segment for lane-parallel kernels (with partial sums per chunk); null when there is a single chunk.
    /// </summary>
    public Segment? ChunkSegment => Layout.GroupMajor
        ? Kept.FirstOrDefault()
        : Layout.Segments.Count > 1 ? Layout.Segments[0] : null;

    /// <summary>
    /// Group-major layouts whose several kept segments lead the layout (GroupNorm's (N, G), InstanceNorm's (N, C)): the
    /// chunks split the groups' flat index — n·G + g, which is also their statistic index — rather than the batch, so a
    /// batch of one sample still makes several chunks (GroupNorm(32) x[1,320,64,64] ran on one thread whatever the
    /// MaxDegreeOfParallelism). A batch of a multiple of 8 samples makes the same chunks either way.
    /// </summary>
    public bool ChunksFlatGroups => Layout.GroupMajor && Kept.Count > 1 && Kept.Skip(1).All(s => !s.Batch)
        && Layout.Segments.Take(Kept.Count).All(s => !s.Reduced);

    /// <summary>The groups per index of <see cref="ChunkSegment"/>: the product of the other kept segments' sizes.</summary>
    public int GroupsPerChunkIndex => Kept.Skip(1).Aggregate(1, (product, s) => product * s.Size);

    /// <summary>
    /// The flat index of the chunk's first group and the end of its groups: <c>chunkFirst</c> and <c>chunkLast</c> count
    /// groups where <see cref="ChunksFlatGroups"/>, else indices of <see cref="ChunkSegment"/>, each
    /// <see cref="GroupsPerChunkIndex"/> groups.
    /// </summary>
    public (string First, string End) ChunkGroupRange
    {
        get
        {
            int groupsPerIndex = ChunksFlatGroups ? 1 : GroupsPerChunkIndex;
            return (Product("chunkFirst", groupsPerIndex), Product("chunkLast", groupsPerIndex));
        }
    }

    /// <summary>What the chunks split: the flat groups (<see cref="ChunksFlatGroups"/>) or <see cref="ChunkSegment"/>'s indices.</summary>
    public string ChunkExtent => ChunksFlatGroups ? Product(Extent(Kept[0]), GroupsPerChunkIndex) : Extent(ChunkSegment!);

    /// <summary>The number of chunks of a call.</summary>
    public string ChunkCount => ChunkCountWith(ChunkingArguments);

    /// <summary>
    /// The arguments after the extent of <c>Threading.ChunkSize</c>/<c>ChunkCount</c>: the chunking depends on the input's
    /// length as well as the extent, and on the kernel family's threshold. Every chunk keeps its own row of partial sums,
    /// so small inputs (which run on one thread) use a single chunk and large ones at most 8. Group-major kernels make
    /// one parallel pass per call and split from a smaller size than the lane kernels, which make two or three; the lane
    /// kernels' partial sums hold one value per statistic, so they pass the statistics' count as well.
    /// </summary>
    public string ChunkingArguments => Layout.GroupMajor
        ? OnePassChunkingArguments
        : $", x.Length, global::NormGen.Internal.Threading.ParallelThreshold, statistics: {StatisticsCount}";

    /// <summary>
    /// <see cref="ChunkingArguments"/> for a pass that writes y or dx and keeps no partial sums: the lane kernels' output
    /// passes split from the group-major kernels' smaller size, since what makes the lane kernels wait for larger inputs
    /// (a partial row per chunk to zero, fill and merge) is not theirs; the statistics' count still keeps a block of
    /// rows to a chunk where there would be more than two (a wide BatchNorm1d's y pass in eight chunks of 8 rows was
    /// 2–4% slower than in two). The values do not depend on the chunks. Alternating builds, two threads, BatchNorm1d
    /// x[32,2048] and x[128,512] (65,536 values, one chunk before): inference 6.4 → 4.7–5.0 µs and 5.0–5.2 → 3.3–3.4,
    /// training 14.4–14.7 → 13.2–13.6 and 8.9 → 7.3–7.5, backward 15.9–16.0 → 13.0–14.0 and 12.0 → 9.7–9.8.
    /// </summary>
    public string OutputChunkingArguments => Layout.GroupMajor
        ? OnePassChunkingArguments
        : $"{OnePassChunkingArguments}, statistics: {StatisticsCount}";

    /// <summary>The number of chunks of an output pass (<see cref="OutputChunkingArguments"/>).</summary>
    public string OutputChunkCount => ChunkCountWith(OutputChunkingArguments);

    /// <summary>Threading.ChunkCount of <see cref="ChunkExtent"/> with <paramref name="arguments"/>, or 1 where nothing is chunked.</summary>
    private string ChunkCountWith(string arguments) => ChunkSegment is not null
        ? $"global::NormGen.Internal.Threading.{ChunkingCall("ChunkCount", ChunkExtent, arguments)}"
        : "1";

    /// <summary>
    /// The fewest indices of <see cref="ChunkSegment"/> a chunk of the layer's group-major kernels holds where that is
    /// more than the input's size gives (<see cref="GroupMajorKernels.SideBySideMinChunkIndices"/>), else null.
    /// </summary>
    public int? MinChunkIndices => Layout.GroupMajor ? GroupMajorKernels.SideBySideMinChunkIndices(this) : null;

    /// <summary>
    /// <c>Threading</c>'s <paramref name="method"/> (ChunkSize or ChunkCount) of <paramref name="extent"/> with
    /// <paramref name="arguments"/>, or its <c>AtLeast</c> form where the chunks hold at least <see cref="MinChunkIndices"/>.
    /// </summary>
    public string ChunkingCall(string method, string extent, string arguments) => MinChunkIndices is int min
        ? $"{method}AtLeast({extent}, {min}{arguments})"
        : $"{method}({extent}{arguments})";

    private const string OnePassChunkingArguments = ", x.Length, global::NormGen.Internal.Threading.OnePassParallelThreshold";

    /// <summary>
    /// The layout is rows × columns with the rows reduced and one statistic (and Gamma/Beta entry) per column:
    /// BatchNorm1d on (N, C) and channels-last BatchNorm. Its reductions keep column tiles in registers across rows.
    /// </summary>
    public bool IsColumnLayout =>
        Layout.Segments.Count == 2 && Layout.Segments[0].Reduced && !Layout.Segments[0].Affine
        && !Layout.Segments[1].Reduced && !Layout.Segments[1].Batch && (Layout.Segments[1].Affine || !Spec.Affine);

    /// <summary>The degree of parallelism of a call over x.</summary>
    public const string Degree = "global::NormGen.Internal.Threading.Degree(state.MaxDegreeOfParallelism)";

    public LayerSpec Spec => Layout.Spec;

    /// <summary>The user's type name, for error messages.</summary>
    public string TypeName { get; }

    /// <summary>The type's name as code refers to it, with its type parameters, e.g. <c>Norm&lt;T&gt;</c>.</summary>
    public string TypeNameWithParameters { get; }

    /// <summary>The attribute as written, restated in the generated documentation.</summary>
    public string AttributeText { get; }

    /// <summary>A documentation paragraph restating the declaration and the layout, for every generated method.</summary>
    public string DeclarationParagraph => Layer?.DeclarationParagraph ??
        "/// <para>" + NormalizeEmitter.Xml($"For {AttributeText}: {LayerDescription.Layout(Spec, Layout.SampleSize)}") + "</para>";

    public bool IsFloat => Spec.Element == ElementKind.Float;

    /// <summary>The element type keyword: <c>float</c> or <c>double</c>.</summary>
    public string T => IsFloat ? "float" : "double";

    /// <summary>Lanes in a <c>Vector256</c> of <see cref="T"/>.</summary>
    public int Width => IsFloat ? 8 : 4;

    /// <summary>Bytes per element of <see cref="T"/>.</summary>
    public int ElementBytes => IsFloat ? 4 : 8;

    /// <summary>Elements in a 64-byte cache line: 16 floats, 8 doubles.</summary>
    public int LineElements => 64 / ElementBytes;

    public bool HasGamma => Spec.Affine;

    public bool HasBeta => Spec.Affine && !Spec.IsRms;

    public string LoopVariable(Segment segment) => _loopVariables[segment];

    /// <summary>The extent of a segment: a constant, or a multiple of the run-time <c>batch</c>.</summary>
    public string Extent(Segment segment) =>
        !segment.Batch ? Int(segment.Size) : segment.Size == 1 ? "batch" : $"batch * {Int(segment.Size)}";

    /// <summary>Sum of <c>loopVariable · factor</c> over the given segments, e.g. <c>n * 65536 + c * 1024</c>; "0" when empty.</summary>
    public string Offset(IEnumerable<(Segment Segment, int Factor)> terms)
    {
        var parts = terms.Where(t => t.Factor != 0)
            .Select(t => t.Factor == 1 ? LoopVariable(t.Segment) : $"{LoopVariable(t.Segment)} * {Int(t.Factor)}")
            .ToList();
        return parts.Count == 0 ? "0" : string.Join(" + ", parts);
    }

    /// <summary>The kept segments in memory order: one statistics group per combination of their indices.</summary>
    public IReadOnlyList<Segment> Kept => Layout.Segments.Where(s => !s.Reduced).ToList();

    /// <summary>Index strides of the kept segments in the statistics arrays (mixed radix, innermost fastest).</summary>
    public IEnumerable<(Segment Segment, int Factor)> StatisticTerms()
    {
        var kept = Kept;
        int factor = 1;
        var terms = new List<(Segment, int)>();
        for (int i = kept.Count - 1; i >= 0; i--)
        {
            terms.Insert(0, (kept[i], factor));
            factor *= kept[i].Size;
        }
        return terms;
    }

    /// <summary>The number of statistics groups: a constant, or a multiple of <c>batch</c> when the batch dims are kept.</summary>
    public string StatisticsCount =>
        Layout.StatisticsScaleWithBatch ? Product("batch", Layout.StatisticsPerBatchUnit) : Int(Layout.StatisticsPerBatchUnit);

    /// <summary>
    /// Values in one statistics group: a constant, or a multiple of <c>batch</c> for batch statistics; where a group spans
    /// <see cref="ColumnGroup"/> columns (GroupNorm channels-last), their values over every row.
    /// </summary>
    public string GroupSize =>
        Layout.GroupSizeScalesWithBatch
            ? Product("batch", Layout.GroupSizePerBatchUnit * ColumnGroup)
            : Int(Layout.GroupSizePerBatchUnit * ColumnGroup);

    public static string Product(string variable, int factor) => factor == 1 ? variable : $"{variable} * {Int(factor)}";

    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A double literal that round-trips, e.g. <c>1E-05</c> → <c>1E-05</c>, <c>1</c> → <c>1.0</c>.</summary>
    public static string Double(double value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains(".") || text.Contains("E") ? text : text + ".0";
    }

    /// <summary>A literal of the element type.</summary>
    public string Literal(double value) => IsFloat ? Double(value) + "f" : Double(value);
}
