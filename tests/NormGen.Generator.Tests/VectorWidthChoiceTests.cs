using System.Linq;
using NormGen.Generator.Tests.Support;
using Xunit;

namespace NormGen.Generator.Tests;

/// <summary>
/// Which declarations get Vector512 loops beside their Vector256 ones (rows or runs long enough for at least one
/// unrolled 512-bit iteration), and that the generated kernel summary says so exactly when they do.
/// </summary>
public sealed class VectorWidthChoiceTests
{
    [Theory]
    // Column layouts: rows of at least 64 floats (32 doubles), or rows that are no whole number of cache lines (the flat
    // y pass, in 512-bit vectors for any width).
    [InlineData("N,C=512", "N", "float", true)]
    [InlineData("N,C=64", "N", "float", true)]
    [InlineData("N,C=37", "N", "double", true)]
    [InlineData("N,C=37", "N", "float", true)]
    [InlineData("N,C=32", "N", "float", false)]
    [InlineData("N,H=8,W=8,C=16", "NHW", "float", false)]
    // Group-major output passes: runs of whole lines from 8 lines, shorter constant runs from 64 floats.
    [InlineData("N,D=768", "D", "float", true)]
    [InlineData("N,C=64,H=32,W=32", "NHW", "float", true)]
    [InlineData("N,C=64,H=14,W=14", "NHW", "float", true)]
    [InlineData("N,C=32,H=8,W=8", "NHW", "float", true)]
    [InlineData("N,C=16,H=4,W=4", "NHW", "float", false)]
    [InlineData("N,C=64,H=7,W=7", "NHW", "float", false)]
    // LayerNorm rows of 32 to 128 floats: the backward's rows in registers.
    [InlineData("N,D=32", "D", "float", true)]
    [InlineData("N,D=16", "D", "float", false)]
    public void Vector512_loops_where_rows_or_runs_are_long_enough_and_the_summary_says_so(string shape, string axes, string element, bool wide)
    {
        string text = GeneratorHarness.Generate($$"""
            using NormGen;
            [Normalize(Shape = "{{shape}}", Axes = "{{axes}}", ElementType = typeof({{element}}))]
            partial class Norm { }
            """).Result.GeneratedSources.Single().SourceText.ToString();

        Assert.Equal(wide, text.Contains("if (global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)"));
        Assert.Equal(wide, text.Contains("Load512("));
        Assert.Equal(wide, text.Contains("with a Vector512 twin"));
    }

    /// <summary>
    /// GroupNorm over 4×4 maps: runs of 16 floats get no 512-bit loop, but the statistics pass sums a group's 8 runs as
    /// one of 128 values, which has its 512-bit twin, and the summary names it.
    /// </summary>
    [Fact]
    public void A_group_summed_as_one_run_gets_the_sums_twin_and_the_summary_says_so()
    {
        string text = GeneratorHarness.Generate("""
            using NormGen;
            [Normalize(Shape = "N,C=8,H=4,W=4", Axes = "CHW", AffineAxes = "C")]
            partial class Norm { }
            """).Result.GeneratedSources.Single().SourceText.ToString();

        Assert.Contains("one run of 128 values", text);
        Assert.Contains("NormGenSimd.Join(sumDBlock0, sumDBlock1)", text);
        Assert.Contains("(the group-by-group sums loops with a Vector512 twin, taken where the processor has AVX-512)", text);
    }
}
