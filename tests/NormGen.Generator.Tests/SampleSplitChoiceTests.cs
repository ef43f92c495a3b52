using System.Linq;
using NormGen.Generator.Tests.Support;
using Xunit;

namespace NormGen.Generator.Tests;

/// <summary>
/// Which BatchNorm layers with few channels let the threads choose the backward's path: those whose sample-split backward
/// adds the runs' sums as group by group does (float runs group by group sums one by one, one run of a channel per
/// sample), so that the two paths give the same bits. The others split by the channel's size alone. The numeric tests
/// (SampleSplitTests) compare the bits of the two paths; this checks which layers they rely on take which condition.
/// </summary>
public sealed class SampleSplitChoiceTests
{
    [Theory]
    // 32×32 and 224×224 float maps: runs of more than half a float block, summed run by run group by group.
    [InlineData("N,C=3,H=32,W=32", "NHW", "float", true)]
    [InlineData("N,C=3,H=224,W=224", "NHW", "float", true)]
    // 30×30 maps: a scalar tail in every run, summed by the same loop either way.
    [InlineData("N,C=3,H=30,W=30", "NHW", "float", true)]
    // 16×16 maps: group by group sums two runs a float block, which the split cannot.
    [InlineData("N,C=3,H=16,W=16", "NHW", "float", false)]
    // Doubles: group by group sums across runs.
    [InlineData("N,C=2,L=1001", "NL", "double", false)]
    public void The_threads_choose_the_backward_where_both_paths_give_the_same_bits(string shape, string axes, string elementType, bool threadsChoose)
    {
        string text = GeneratorHarness.Generate($$"""
            using NormGen;
            [Normalize(Shape = "{{shape}}", Axes = "{{axes}}", ElementType = typeof({{elementType}}))]
            partial class Norm { }
            """).Result.GeneratedSources.Single().SourceText.ToString();
        string backward = GeneratorHarness.Kernel(text, "BackwardKernel");

        Assert.Equal(threadsChoose, backward.Contains("Threading.SplitsBackwardAcrossSamples("));
        Assert.Equal(!threadsChoose, backward.Contains("Threading.SplitsGroupsAcrossSamples("));
        // The training forward splits by the channel's size alone either way.
        Assert.Contains("Threading.SplitsGroupsAcrossSamples(", GeneratorHarness.Kernel(text, "NormalizeWithOwnStatistics"));
    }
}
