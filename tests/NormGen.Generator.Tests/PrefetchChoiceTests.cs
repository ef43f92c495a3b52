using System.Linq;
using System.Text.RegularExpressions;
using NormGen.Generator.Tests.Support;
using Xunit;

namespace NormGen.Generator.Tests;

/// <summary>
/// Where the row-by-row kernels ask for the next row: in the first pass, into L1 (rows up to 8 KiB, and every backward,
/// whose first pass asks two rows ahead when the call runs on one thread)
/// or, in the forward over rows of 8–16 KiB (whose y pass fills L1 with the row, γ and β), into L2; and not at all for
/// longer rows, which the hardware prefetcher follows, nor in RMSNorm's forward over rows of 8–16 KiB (faster without).
/// </summary>
public sealed class PrefetchChoiceTests
{
    [Theory]
    // 3 KiB rows: the forward's statistics pass (Σd, Σd²) prefetches the next row into L1.
    [InlineData("N,D=768", "Standard", 768, "Prefetch", "sumDBlock0 +=")]
    // 16 KiB rows: into L2.
    [InlineData("N,D=4096", "Standard", 4096, "PrefetchToL2", "sumDBlock0 +=")]
    [InlineData("N,D=2048", "Standard", 2048, "PrefetchToL2", "sumDBlock0 +=")]
    // RMSNorm has no β: its statistics pass (Σx²) prefetches short rows into L1.
    [InlineData("N,D=768", "Rms", 768, "Prefetch", "sumSqBlock0 =")]
    public void The_forward_statistics_pass_prefetches_the_next_row_into_the_cache_its_row_length_calls_for(string shape, string kind, int row, string method, string passMarker)
    {
        string forward = GeneratorHarness.Kernel(Generate(shape, kind), "StatisticsAndNormalizeChunk");

        var prefetches = Regex.Matches(forward, @"NormGenSimd\.(Prefetch\w*)\(ref (\w+), start \+ (\d+) \+ i").ToList();
        Assert.NotEmpty(prefetches);
        Assert.All(prefetches, p =>
        {
            Assert.Equal(method, p.Groups[1].Value);
            Assert.Equal("xRef", p.Groups[2].Value);
            Assert.Equal(row.ToString(), p.Groups[3].Value);
        });
        // The prefetches sit in the statistics pass's loop: the first line after them that accumulates is that pass's.
        int at = forward.IndexOf(prefetches[0].Value, System.StringComparison.Ordinal);
        int nextSum = Regex.Match(forward.Substring(at), @"(sumDBlock0 \+=|sumSqBlock0 =)").Index;
        Assert.StartsWith(passMarker, forward.Substring(at + nextSum));
    }

    [Theory]
    [InlineData("N,D=768", 768)]
    [InlineData("N,D=4096", 4096)]
    public void The_backward_prefetches_x_and_dy_into_L1_in_its_first_pass_two_rows_ahead_on_one_thread_one_on_two(string shape, int row)
    {
        string backward = GeneratorHarness.Kernel(Generate(shape, "Standard"), "BackwardChunk");

        Assert.Contains($"int ahead = state.Runner.RunsAlone ? {2 * row} : {row};", backward);
        var prefetches = Regex.Matches(backward, @"NormGenSimd\.(Prefetch\w*)\(ref (\w+), start \+ (\w+) \+ i").ToList();
        Assert.Equal(["dyRef", "xRef"], prefetches.Select(p => p.Groups[2].Value).Distinct().Order());
        Assert.All(prefetches, p =>
        {
            Assert.Equal("Prefetch", p.Groups[1].Value);
            Assert.Equal("ahead", p.Groups[3].Value);
        });
    }

    [Fact]
    public void RmsNorm_leaves_the_forwards_rows_of_8_to_16_KiB_to_the_hardware_prefetcher()
    {
        string text = Generate("N,D=4096", "Rms");

        Assert.DoesNotContain("Prefetch", GeneratorHarness.Kernel(text, "StatisticsAndNormalizeChunk"));
        Assert.Contains("NormGenSimd.Prefetch(ref xRef", GeneratorHarness.Kernel(text, "BackwardChunk"));
    }

    [Fact]
    public void Rows_over_16_KiB_are_left_to_the_hardware_prefetcher()
    {
        string text = Generate("N,D=8192", "Standard");

        Assert.DoesNotContain("Prefetch", GeneratorHarness.Kernel(text, "StatisticsAndNormalizeChunk"));
        Assert.DoesNotContain("Prefetch", GeneratorHarness.Kernel(text, "BackwardChunk"));
    }

    private static string Generate(string shape, string kind) =>
        GeneratorHarness.Generate($$"""
            using NormGen;
            [Normalize(Shape = "{{shape}}", Axes = "D", Kind = NormKind.{{kind}})]
            partial class Norm { }
            """).Result.GeneratedSources.Single().SourceText.ToString();
}
