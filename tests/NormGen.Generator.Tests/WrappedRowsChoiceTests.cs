using System.Linq;
using NormGen.Generator.Tests.Support;
using Xunit;

namespace NormGen.Generator.Tests;

/// <summary>
/// Which BatchNorm1d inference passes go over a chunk's rows as one wrapped flat run (hi left out where every mean was
/// folded): rows of at least one step (64 floats, 32 doubles) with no short period of rows filling whole vectors, whose
/// constants fit about half the L1 (28 KiB). The numeric tests (WrappedRowsTests, RowOrderAlignmentTests) use 257-, 512- and 128-column
/// layers; this checks that those and the benchmarks' 1001 and 512 columns take the path, and the other shapes keep theirs.
/// </summary>
public sealed class WrappedRowsChoiceTests
{
    [Theory]
    [InlineData(1001, "float", true)]
    [InlineData(257, "float", true)]
    [InlineData(257, "double", true)]
    // A period of 4 rows (400 values) with its constants in the L1: the flat period pass.
    [InlineData(100, "float", false)]
    // Whole cache lines, from one step of 64 floats (32 doubles) on: wrapped too.
    [InlineData(512, "float", true)]
    [InlineData(64, "float", true)]
    [InlineData(128, "double", true)]
    // Whole lines narrower than a step: row by row.
    [InlineData(48, "float", false)]
    [InlineData(24, "double", false)]
    // Constants of 3 × (2048 + 64) floats, 25.3 KiB, within the wrapped pass's 28 KiB (1.17–1.25× faster than row order);
    // 3 × (2326 + 64) floats pass it, and 3 × (4095 + 64): tiles.
    [InlineData(2048, "float", true)]
    [InlineData(2326, "float", false)]
    [InlineData(4095, "float", false)]
    // 63 floats: a period of 16 rows (1008 values, 12 KiB of constants) is short enough for the period pass.
    [InlineData(63, "float", false)]
    public void Rows_of_a_step_or_more_with_no_short_period_go_as_one_wrapped_run(int columns, string elementType, bool wrapped)
    {
        string text = Generate(columns, elementType);
        string normalize = GeneratorHarness.Kernel(text, "NormalizeChunk");

        Assert.Equal(wrapped, normalize.Contains($"wrapping at {columns}."));
        Assert.Equal(wrapped, normalize.Contains("if (meansFolded)"));
        Assert.Equal(wrapped, text.Contains("FoldScaleShiftNearZero("));
        Assert.Equal(wrapped, text.Contains("public bool MeansFolded;"));
    }

    [Theory]
    // Rows of 2 KiB or more (dx row by row) that are no whole number of cache lines: dx wrapped too.
    [InlineData(1001, "float", true)]
    [InlineData(257, "double", true)]
    // Whole cache lines: row by row, two rows a step where they start on lines.
    [InlineData(512, "float", false)]
    // Under 2 KiB (257 floats): dx in tiles.
    [InlineData(257, "float", false)]
    // Four constants of 1500 + 64 floats pass half the L1: row by row.
    [InlineData(1500, "float", false)]
    public void Dx_rows_of_partial_lines_go_as_one_wrapped_run(int columns, string elementType, bool wrapped)
    {
        string text = Generate(columns, elementType);
        string dx = GeneratorHarness.Kernel(text, "BackwardDxChunk");

        Assert.Equal(wrapped, dx.Contains($"wrapping at {columns}."));
        Assert.Equal(wrapped, dx.Contains("bool meansFolded = state.DxMeansFolded;"));
        Assert.Equal(wrapped, text.Contains("public bool DxMeansFolded;"));
    }

    private static string Generate(int columns, string elementType) =>
        GeneratorHarness.Generate($$"""
            using NormGen;
            [Normalize(Shape = "N,C={{columns}}", Axes = "N", ElementType = typeof({{elementType}}))]
            partial class Norm { }
            """).Result.GeneratedSources.Single().SourceText.ToString();
}
