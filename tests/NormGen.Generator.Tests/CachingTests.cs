using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NormGen.Generator.Tests.Support;
using Xunit;

namespace NormGen.Generator.Tests;

/// <summary>The IDE runs the generator on every keystroke: edits that do not touch a declaration must regenerate nothing.</summary>
public sealed class CachingTests
{
    private const string Declarations = """
        using NormGen;
        namespace Demo;
        [Normalize(Shape = "N,C=64,H=32,W=32", Axes = "NHW")]
        public partial class StemNorm { }
        [Normalize(Shape = "N,T,D=768", Axes = "D")]
        public partial class TokenNorm { }
        """;

    private const string OtherCode = """
        namespace Demo;
        public static class Program { public static int Answer() => 42; }
        """;

    [Fact]
    public void An_edit_outside_the_declarations_leaves_every_tracked_step_cached()
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(Declarations, OtherCode);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);

        SyntaxTree other = compilation.SyntaxTrees.Last();
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(
            other, other.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(OtherCode.Replace("42", "43"))));
        GeneratorRunResult result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (string step in new[] { NormalizeGenerator.TrackingNames.Declarations, NormalizeGenerator.TrackingNames.ValidDeclarations })
        {
            var outputs = result.TrackedSteps[step].SelectMany(s => s.Outputs).ToList();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, output => Assert.True(
                output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"step {step} output was {output.Reason}"));
        }
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void No_step_output_holds_a_symbol_or_syntax()
    {
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(GeneratorHarness.Compile(Declarations));
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        foreach (var step in new[] { NormalizeGenerator.TrackingNames.Declarations, NormalizeGenerator.TrackingNames.ValidDeclarations }
                     .SelectMany(name => result.TrackedSteps[name]))
        {
            foreach (var (value, _) in step.Outputs)
            {
                Assert.False(value is ISymbol or SyntaxNode or Compilation or Location, $"{step.Name} produced a {value?.GetType().Name}");
            }
        }
    }

    [Fact]
    public void Changing_a_declaration_regenerates_it()
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(Declarations);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        SyntaxTree tree = compilation.SyntaxTrees.Single();
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(
            tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(Declarations.Replace("D=768", "D=512"))));
        GeneratorRunResult result = driver.RunGenerators(edited).GetRunResult().Results.Single();
        var reasons = result.TrackedSteps[NormalizeGenerator.TrackingNames.ValidDeclarations].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Contains(IncrementalStepRunReason.Modified, reasons);
        Assert.Contains("D = 512", result.GeneratedSources.Single(s => s.HintName.Contains("TokenNorm")).SourceText.ToString());
    }
}
