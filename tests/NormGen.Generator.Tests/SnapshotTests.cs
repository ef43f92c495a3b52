using System.Linq;
using Microsoft.CodeAnalysis;
using NormGen.Generator.Tests.Support;
using Xunit;

namespace NormGen.Generator.Tests;

/// <summary>The generated text of one declaration of each kind, against approved snapshots (see <see cref="Snapshot"/>).</summary>
public sealed class SnapshotTests
{
    [Theory]
    [InlineData("BatchNorm2d", "[Normalize(Shape = \"N,C=64,H=32,W=32\", Axes = \"NHW\")]")]
    [InlineData("BatchNorm2dFewChannels", "[Normalize(Shape = \"N,C=3,H=224,W=224\", Axes = \"NHW\")]")]
    [InlineData("BatchNorm2dSmallMaps", "[Normalize(Shape = \"N,C=32,H=8,W=8\", Axes = \"NHW\")]")]
    [InlineData("BatchNorm2dTinyMaps", "[Normalize(Shape = \"N,C=256,H=4,W=4\", Axes = \"NHW\")]")]
    [InlineData("BatchNorm2dOddMaps", "[Normalize(Shape = \"N,C=256,H=14,W=14\", Axes = \"NHW\")]")]
    [InlineData("BatchNorm1dWide", "[Normalize(Shape = \"N,C=1001\", Axes = \"N\")]")]
    [InlineData("BatchNorm1dOddWidth", "[Normalize(Shape = \"N,C=100\", Axes = \"N\")]")]
    [InlineData("BatchNorm2dChannelsLast", "[Normalize(Shape = \"N,H=8,W=8,C=16\", Axes = \"NHW\")]")]
    [InlineData("BatchNorm2dChannelsLastRgb", "[Normalize(Shape = \"N,H=32,W=32,C=3\", Axes = \"NHW\")]")]
    [InlineData("BatchNorm1dDouble", "[Normalize(Shape = \"N,C=128\", Axes = \"N\", ElementType = typeof(double), CumulativeAverage = true)]")]
    [InlineData("LayerNorm", "[Normalize(Shape = \"N,T,D=768\", Axes = \"D\")]")]
    [InlineData("LayerNormShortRows", "[Normalize(Shape = \"N,D=100\", Axes = \"D\")]")]
    [InlineData("LayerNormRowsInRegisters", "[Normalize(Shape = \"N,D=64\", Axes = \"D\")]")]
    [InlineData("LayerNormLongRows", "[Normalize(Shape = \"N,D=4096\", Axes = \"D\")]")]
    [InlineData("LayerNormOverChw", "[Normalize(Shape = \"N,C=16,H=33,W=33\", Axes = \"CHW\")]")]
    [InlineData("GroupNorm", "[Normalize(Shape = \"N,C=64,H=32,W=32\", Axes = \"CHW\", Groups = 8)]")]
    [InlineData("GroupNormChannelsLast", "[Normalize(Shape = \"N,H=32,W=32,C=64\", Axes = \"HWC\", Groups = 32)]")]
    [InlineData("InstanceNorm", "[Normalize(Shape = \"N,C=16,H=8,W=8\", Axes = \"HW\")]")]
    [InlineData("InstanceNormChannelsLast", "[Normalize(Shape = \"N,H=8,W=8,C=16\", Axes = \"HW\")]")]
    [InlineData("LayerNormOverChannels", "[Normalize(Shape = \"N,C=96,H=56,W=56\", Axes = \"C\")]")]
    [InlineData("RmsNorm", "[Normalize(Shape = \"N,D=768\", Axes = \"D\", Kind = NormKind.Rms, Epsilon = 1e-6)]")]
    [InlineData("BatchNormNoRunningStats", "[Normalize(Shape = \"N,C=8,H=4,W=4\", Axes = \"NHW\", TrackRunningStats = false, Affine = false)]")]
    public void Generated_text_matches_the_approved_snapshot(string name, string attribute)
    {
        string source = $$"""
            using NormGen;

            namespace Demo;

            {{attribute}}
            public partial class {{name}} { }
            """;

        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Generate(source);

        Assert.Empty(GeneratorHarness.Problems(output));
        GeneratedSourceResult file = Assert.Single(result.GeneratedSources);
        Assert.Equal($"Demo.{name}.Normalize.g.cs", file.HintName);
        Snapshot.Verify(name, file.SourceText.ToString());
    }

    [Fact]
    public void Output_is_deterministic()
    {
        const string source = """
            using NormGen;
            [Normalize(Shape = "N,C=16,H=8,W=8", Axes = "NHW")]
            partial struct Norm { }
            """;
        string first = GeneratorHarness.Generate(source).Result.GeneratedSources.Single().SourceText.ToString();
        string second = GeneratorHarness.Generate(source).Result.GeneratedSources.Single().SourceText.ToString();
        Assert.Equal(first, second);
    }

    [Fact]
    public void Generated_text_does_not_grow_with_the_sizes()
    {
        static int Length(string shape) => GeneratorHarness.Generate($$"""
            using NormGen;
            [Normalize(Shape = "{{shape}}", Axes = "D")]
            partial class Norm { }
            """).Result.GeneratedSources.Single().SourceText.Length;

        int narrow = Length("N,D=7");
        int wide = Length("N,D=768");
        int wider = Length("N,D=1536");
        int longRows = Length("N,D=8192");
        int huge = Length("N,D=1000000");
        // D = 7 is too short for the aligned-store loops, the pipelined forward and the sums loops' 512-bit twins D = 768
        // gets (a fixed amount of text more); rows of 8 KiB and more take other pipelines (where the output streams).
        // Beyond that the size does not matter.
        Assert.InRange(wide, narrow * 0.8, narrow * 2.7);
        Assert.InRange(wider, wide * 0.8, wide * 1.25);
        Assert.InRange(huge, longRows * 0.8, longRows * 1.25);
    }
}
