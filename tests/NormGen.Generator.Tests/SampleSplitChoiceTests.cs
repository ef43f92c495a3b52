using System.Linq;
using System.Text.RegularExpressions;
using NormGen.Generator.Tests.Support;
using Xunit;

namespace NormGen.Generator.Tests;

/// <summary>
/// Which BatchNorm layers with few channels let the threads choose between the sample-split path and group by group:
/// those whose sample-split sums are added as group by group adds them (float runs group by group sums one by one, one
/// run of a channel per sample; for training, runs of whole vectors), so that the two paths give the same bits. The
/// others split by the channel's size alone. The numeric tests
/// (SampleSplitTests) compare the bits of the two paths; this checks which layers they rely on take which condition.
/// </summary>
public sealed class SampleSplitChoiceTests
{
    [Theory]
    // 32×32 and 224×224 float maps: runs of more than half a float block, summed run by run group by group.
    [InlineData("N,C=3,H=32,W=32", "NHW", "float", true, true)]
    [InlineData("N,C=3,H=224,W=224", "NHW", "float", true, true)]
    // 30×30 maps: a scalar tail in every run, summed by the same loop either way in the backward; training's group by
    // group adds the tail value by value into its running total, which the split does not keep.
    [InlineData("N,C=3,H=30,W=30", "NHW", "float", true, false)]
    // 16×16 maps: group by group sums two runs a float block, which the split cannot.
    [InlineData("N,C=3,H=16,W=16", "NHW", "float", false, false)]
    // Doubles: group by group sums across runs.
    [InlineData("N,C=2,L=1001", "NL", "double", false, false)]
    public void The_threads_choose_the_path_where_both_give_the_same_bits(string shape, string axes, string elementType, bool threadsChoose, bool threadsChooseTraining)
    {
        string text = GeneratorHarness.Generate($$"""
            using NormGen;
            [Normalize(Shape = "{{shape}}", Axes = "{{axes}}", ElementType = typeof({{elementType}}))]
            partial class Norm { }
            """).Result.GeneratedSources.Single().SourceText.ToString();
        Assert.Equal(threadsChoose, ThreadsChoose(GeneratorHarness.Kernel(text, "BackwardKernel")));
        Assert.Equal(threadsChooseTraining, ThreadsChoose(GeneratorHarness.Kernel(text, "NormalizeWithOwnStatistics")));
    }

    /// <summary>Whether the kernel's sample-split test passes the threads (the four-argument SplitsGroupsAcrossSamples).</summary>
    private static bool ThreadsChoose(string kernel)
    {
        var test = Regex.Match(kernel, @"Threading\.SplitsGroupsAcrossSamples\(([^;]*)\)\)");
        Assert.True(test.Success, "no sample-split test in the kernel");
        return test.Groups[1].Value.Contains("Threading.Degree(state.MaxDegreeOfParallelism)");
    }
}
