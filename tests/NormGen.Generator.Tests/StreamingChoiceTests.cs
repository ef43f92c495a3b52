using System.Linq;
using System.Text.RegularExpressions;
using NormGen.Generator.Tests.Support;
using Xunit;

namespace NormGen.Generator.Tests;

/// <summary>
/// Non-temporal (streaming) stores only where every cache line of the output is written whole: a line written partly
/// with them and partly with ordinary stores flushes the write-combining buffers (1.1–2.4× slower on 14×14 maps).
/// Every output kernel of a declaration must declare the flag the same, expected way.
/// </summary>
public sealed class StreamingChoiceTests
{
    private const string Runner = "bool streaming = state.Runner.StreamsOutput;";
    private const string IfAligned = "bool streaming = state.Runner.StreamsOutput && NormGenSimd.IsLineAligned(ref {0}Ref);";
    private const string Never = "bool streaming = NormGenSimd.NotStreaming;";

    [Theory]
    // Runs of 1024 values: the partial lines at their ends are written apart, so any address may stream.
    [InlineData("N,C=64,H=32,W=32", "NHW", Runner, Runner)]
    [InlineData("N,D=768", "D", Runner, Runner)]
    // Runs of 196 values (12¼ lines) end inside a line: their edges are written apart too.
    [InlineData("N,C=64,H=14,W=14", "NHW", Runner, Runner)]
    // Runs of 49 values: edges apart in the group-by-group passes, a plain loop (ordinary stores) in memory-order inference.
    [InlineData("N,C=64,H=7,W=7", "NHW", Runner, Never)]
    // Runs of 64 values (whole lines) and rows of 512: whole lines where the output starts on one; BatchNorm1d's wrapped
    // y pass writes whole lines from y's first line boundary on, its two edges apart, at any address (rows of 1001 too,
    // whose dx pass is wrapped as well).
    [InlineData("N,C=32,H=8,W=8", "NHW", IfAligned, IfAligned)]
    [InlineData("N,C=512", "N", IfAligned, Runner)]
    [InlineData("N,C=1001", "N", Runner, Runner)]
    [InlineData("N,H=8,W=8,C=16", "NHW", IfAligned, IfAligned)]
    // Rows of 100 and samples of 7 (under 3 lines): lines shared between runs, ordinary stores only.
    [InlineData("N,C=100", "N", Never, Never)]
    [InlineData("N,D=7", "D", Never, Never)]
    public void Output_kernels_stream_only_where_they_write_whole_lines(string shape, string axes, string expected, string expectedInference)
    {
        string text = GeneratorHarness.Generate($$"""
            using NormGen;
            [Normalize(Shape = "{{shape}}", Axes = "{{axes}}")]
            partial class Norm { }
            """).Result.GeneratedSources.Single().SourceText.ToString();

        // Each kernel method's flag, by method name (the inference pass of BatchNorm is NormalizeChunk).
        var flags = Regex.Matches(text, @"private static void (\w+)\((?:(?!private static void)[\s\S])*?(bool streaming = [^\r\n]*)")
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        // Every layer has a forward and a backward kernel that write an output.
        Assert.True(flags.Count >= 2, $"expected the output kernels' streaming flags, found {flags.Count}");
        foreach ((string method, string declaration) in flags)
        {
            string want = method == "NormalizeChunk" && text.Contains("ForwardInference") ? expectedInference : expected;
            string output = declaration.Contains("ref dxRef") ? "dx" : "y";
            Assert.True(string.Format(want, output) == declaration, $"{method}: expected `{string.Format(want, output)}`, found `{declaration}`");
        }
    }
}
