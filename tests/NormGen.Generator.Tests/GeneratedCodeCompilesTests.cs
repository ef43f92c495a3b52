using System.Linq;
using Microsoft.CodeAnalysis;
using NormGen.Generator.Tests.Support;
using Xunit;

namespace NormGen.Generator.Tests;

/// <summary>Every layout the DSL allows compiles without a warning: odd sizes, unusual axes, nesting, generics, no namespace.</summary>
public sealed class GeneratedCodeCompilesTests
{
    [Theory]
    [InlineData("""[Normalize(Shape = "N,C=3", Axes = "N")]""")]
    // The sample-split path (few channels) without γ and β, and with double data over three merged dims.
    [InlineData("""[Normalize(Shape = "N,C=3,H=224,W=224", Axes = "NHW", Affine = false)]""")]
    [InlineData("""[Normalize(Shape = "N,C=2,D=3,H=64,W=64", Axes = "NDHW", ElementType = typeof(double))]""")]
    // BatchNorm1d's flat y pass over rows narrower than a vector, and last-lanes columns without γ and β.
    [InlineData("""[Normalize(Shape = "N,C=5", Axes = "N")]""")]
    [InlineData("""[Normalize(Shape = "N,C=13", Axes = "N", Affine = false)]""")]
    [InlineData("""[Normalize(Shape = "N,H=5,W=3,C=7", Axes = "NHW", ElementType = typeof(double))]""")]
    [InlineData("""[Normalize(Shape = "N,C=5,H=3,W=3", Axes = "NH")]""")]
    [InlineData("""[Normalize(Shape = "N,H=4,W=4,C=6", Axes = "HW")]""")]
    [InlineData("""[Normalize(Shape = "N,H=4,W=4,C=32", Axes = "HWC", Groups = 8)]""")]
    [InlineData("""[Normalize(Shape = "N,H=4,W=4,C=32", Axes = "HWC", Groups = 8, Affine = false)]""")]
    [InlineData("""[Normalize(Shape = "N,D=1", Axes = "D", Kind = NormKind.Rms, Affine = false)]""")]
    [InlineData("""[Normalize(Shape = "N", Axes = "N")]""")]
    [InlineData("""[Normalize(Shape = "C=9,L=100", Axes = "L")]""")]
    [InlineData("""[Normalize(Shape = "N,T,D=13", Axes = "D", AffineAxes = "")]""")]
    [InlineData("""[Normalize(Shape = "N,C=4,L=6", Axes = "NL", AffineAxes = "CL")]""")]
    [InlineData("""[Normalize(Shape = "N,I=4,X=6", Axes = "X", Kind = NormKind.Rms)]""")]
    [InlineData("""[Normalize(Shape = "N,C=4,L=6", Axes = "L", AffineAxes = "L", ElementType = typeof(double))]""")]
    public void Compiles_without_warnings(string attribute)
    {
        foreach (string declaration in new[]
        {
            $"namespace A.B {{ {attribute} public partial class P {{ }} }}",
            $"{attribute} partial struct P {{ }}",
            $"namespace A {{ partial class Outer<T> {{ {attribute} internal partial record class P {{ }} }} }}",
        })
        {
            (GeneratorRunResult result, Compilation output) = GeneratorHarness.Generate("using NormGen;\n" + declaration);
            Assert.Null(result.Exception);
            Assert.Single(result.GeneratedSources);
            Assert.Equal("", string.Join("\n", GeneratorHarness.Problems(output).Select(d => d.GetMessage() + " @ " + d.Location.GetLineSpan().StartLinePosition.Line + ": " + d.Location.SourceTree?.GetText().Lines[d.Location.GetLineSpan().StartLinePosition.Line].ToString().Trim())));
        }
    }
}
