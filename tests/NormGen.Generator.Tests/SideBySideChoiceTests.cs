using System.Linq;
using System.Text.RegularExpressions;
using NormGen.Generator.Tests.Support;
using Xunit;

namespace NormGen.Generator.Tests;

/// <summary>
/// Which channels-first BatchNorm kernels take a chunk's channels side by side in memory order: those whose runs are 1–8
/// cache lines and whose samples lie a multiple of 4 KiB apart, or whose runs are under 4 lines, the backward and
/// training's y, and for runs of under four vectors (4×4 maps) training's statistics too. The numeric tests compare these layers with a layer of one more
/// channel; this checks that the layers they rely on take the paths they are meant to.
/// </summary>
public sealed class SideBySideChoiceTests
{
    [Theory]
    // 8×8 maps, samples 8 KiB apart: training's y and the backward (the statistics group by group, faster there).
    [InlineData("N,C=32,H=8,W=8", true, false, true)]
    // 4×4 maps (one cache line a run), samples 16 KiB apart: the statistics too.
    [InlineData("N,C=256,H=4,W=4", true, true, true)]
    // Runs of 20 floats, samples 20 KiB apart: group by group, since dx's scalar tail would not give group by group's bits.
    [InlineData("N,C=256,H=4,W=5", false, false, false)]
    // Runs of 100 floats (10×10 maps, partial lines written as vectors), samples 100 KiB apart.
    [InlineData("N,C=256,H=10,W=10", true, false, true)]
    // One more channel: samples no longer a multiple of 4 KiB apart, so group by group for runs of 4 lines and more.
    [InlineData("N,C=33,H=8,W=8", false, false, false)]
    // Runs under 4 lines go side by side wherever the samples lie, with as many channels as a call has chunks.
    [InlineData("N,C=257,H=4,W=4", true, true, true)]
    [InlineData("N,C=100,H=4,W=4", true, true, true)]
    [InlineData("N,C=7,H=4,W=4", false, false, false)]
    // Double runs of two vectors: the statistics too; double 4×4 maps (four vectors a run) keep them group by group.
    [InlineData("N,C=16,H=2,W=4", true, true, true, "double")]
    [InlineData("N,C=16,H=4,W=4", true, false, true, "double")]
    // 14×14 maps (784 bytes a run, 13 cache sets): group by group, measured faster.
    [InlineData("N,C=256,H=14,W=14", false, false, false)]
    public void Channels_go_side_by_side_where_samples_share_cache_sets_and_runs_are_short(string shape, bool y, bool statistics, bool backward, string elementType = "float")
    {
        string text = Generate(shape, elementType);
        string forward = GeneratorHarness.Kernel(text, "StatisticsAndNormalizeChunk");

        Assert.Equal(y, forward.Contains("// y for the chunk's groups side by side"));
        Assert.Equal(statistics, forward.Contains("// Σd and Σd² with d = x − pivot for the chunk's groups side by side"));
        Assert.Equal(backward, GeneratorHarness.Kernel(text, "BackwardChunk").Contains("blocks = stackalloc"));
    }

    [Fact]
    public void A_run_of_two_vectors_loads_and_stores_only_the_partial_sums_its_loop_adds_to()
    {
        string backward = GeneratorHarness.Kernel(Generate("N,C=256,H=4,W=4"), "BackwardChunk");

        Assert.Contains("var groupDyBlock0 = NormGenSimd.At(ref block, 0);", backward);
        Assert.Contains("var groupDyXhatBlock0 = NormGenSimd.At(ref block, 4);", backward);
        Assert.DoesNotContain("groupDyBlock1", backward);
        Assert.DoesNotContain("groupDyXhatBlock1", backward);
        // The group's constants come ready-made from constants[], not from the saved statistics, in the runs' loops.
        Assert.Equal(2, Regex.Matches(backward, @"var meanHiV = NormGenSimd\.Splat\(k\);").Count);
        Assert.Single(Regex.Matches(backward, @"state\.SavedMean\["));
    }

    /// <summary>
    /// The backward's side-by-side sums have a 512-bit twin where the runs are whole unrolled iterations (each pair of a
    /// channel's partial sums read and written as one vector), and only there: runs of 16 floats (4×4) or 100 (10×10,
    /// single vectors and a partial one after the iterations) keep the 256-bit loop alone.
    /// </summary>
    [Theory]
    [InlineData("N,C=32,H=8,W=8", "float", true)]
    [InlineData("N,C=16,H=8,W=8", "double", true)]
    [InlineData("N,C=16,H=4,W=8", "float", true)]
    [InlineData("N,C=256,H=4,W=4", "float", false)]
    [InlineData("N,C=256,H=10,W=10", "float", false)]
    public void Side_by_side_sums_go_512_bit_where_runs_are_whole_iterations(string shape, string elementType, bool wide)
    {
        string backward = GeneratorHarness.Kernel(Generate(shape, elementType), "BackwardChunk");

        Assert.Contains("blocks = stackalloc", backward);
        Assert.Equal(wide, backward.Contains("NormGenSimd.AsPairs(ref NormGenSimd.At(ref blocksRef, 8 * (c - chunkFirst)))"));
        Assert.Equal(wide, backward.Contains("var groupDyBlocks01 = NormGenSimd.At(ref pairs, 0); var groupDyBlocks23 = NormGenSimd.At(ref pairs, 1);"));
    }

    /// <summary>
    /// Where the samples lie a multiple of 4 KiB apart and the runs are 4 lines or more, a side-by-side chunk holds at least
    /// 2 KiB of each sample, but a call keeps at least 4 chunks; both the forward's and the backward's orchestrator and
    /// chunk kernel use the same minimum (the partial sums are sized by the count). Runs under 4 lines, and calls whose
    /// eight chunks already hold 2 KiB, keep the plain partition.
    /// </summary>
    [Theory]
    [InlineData("N,C=32,H=8,W=8", "float", 8)]     // 256 bytes a run: 8 channels, 4 chunks
    [InlineData("N,C=16,H=8,W=8", "float", 4)]     // 8 channels would leave 2 chunks: 4 channels, 4 chunks
    [InlineData("N,C=16,H=8,W=8", "double", 4)]    // 512 bytes a run: 4 channels
    [InlineData("N,C=64,H=8,W=8", "float", null)]  // eight chunks of 8 channels already
    [InlineData("N,C=256,H=4,W=4", "float", null)] // runs of one line
    [InlineData("N,C=33,H=8,W=8", "float", null)]  // group by group
    public void Side_by_side_chunks_hold_2_KiB_of_each_sample_in_at_least_4_chunks(string shape, string elementType, int? min)
    {
        string text = Generate(shape, elementType);
        string channels = Regex.Match(shape, @"C=(\d+)").Groups[1].Value;
        foreach (string orchestrator in new[] { "NormalizeWithOwnStatistics", "BackwardKernel" })
        {
            string kernel = GeneratorHarness.Kernel(text, orchestrator);
            Assert.Contains(min is int m
                ? $"int chunks = global::NormGen.Internal.Threading.ChunkCountAtLeast({channels}, {m}, x.Length, "
                : $"int chunks = global::NormGen.Internal.Threading.ChunkCount({channels}, x.Length, ", kernel);
        }
        foreach (string chunk in new[] { "StatisticsAndNormalizeChunk", "BackwardChunk" })
        {
            string kernel = GeneratorHarness.Kernel(text, chunk);
            Assert.Contains(min is int m
                ? $"int chunkSize = global::NormGen.Internal.Threading.ChunkSizeAtLeast({channels}, {m}, x.Length, "
                : $"int chunkSize = global::NormGen.Internal.Threading.ChunkSize({channels}, x.Length, ", kernel);
        }
    }

    private static string Generate(string shape, string elementType = "float") =>
        GeneratorHarness.Generate($$"""
            using NormGen;
            [Normalize(Shape = "{{shape}}", Axes = "NHW", ElementType = typeof({{elementType}}))]
            partial class Norm { }
            """).Result.GeneratedSources.Single().SourceText.ToString();
}
