using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using NormGen.Generator.Tests.Support;
using Xunit;

namespace NormGen.Generator.Tests;

/// <summary>
/// Each NG0xxx at its exact location (the span between <c>[|</c> and <c>|]</c> in the source), with nothing generated
/// for the declaration and no exception from the generator.
/// </summary>
public sealed class DeclarationDiagnosticTests
{
    [Theory]
    [InlineData("NG0001", """[Normalize(Shape = "N,C=4", Axes = "N")] class [|Plain|] { }""")]
    [InlineData("NG0001", """class [|Outer|] { [Normalize(Shape = "N,C=4", Axes = "N")] partial class Inner { } }""")]
    [InlineData("NG0002", """[Normalize(Shape = [|"N,C=x"|], Axes = "N")] partial class P { }""")]
    [InlineData("NG0002", """[Normalize(Shape = [|"N,,C=4"|], Axes = "N")] partial class P { }""")]
    [InlineData("NG0002", """[Normalize(Shape = [|"n,C=4"|], Axes = "C")] partial class P { }""")]
    [InlineData("NG0002", """[Normalize(Shape = [|"N,C=0"|], Axes = "N")] partial class P { }""")]
    [InlineData("NG0002", """[[|Normalize(Axes = "N")|]] partial class P { }""")]
    [InlineData("NG0003", """[Normalize(Shape = [|"N,C=4,C=5"|], Axes = "N")] partial class P { }""")]
    [InlineData("NG0003", """[Normalize(Shape = "N,C=4,H=2", Axes = [|"NHH"|])] partial class P { }""")]
    [InlineData("NG0004", """[Normalize(Shape = "N,C=4", Axes = [|"NX"|])] partial class P { }""")]
    [InlineData("NG0004", """[Normalize(Shape = "N,C=4", Axes = [|""|])] partial class P { }""")]
    [InlineData("NG0005", """[Normalize(Shape = [|"C=4,N"|], Axes = "N")] partial class P { }""")]
    [InlineData("NG0005", """[Normalize(Shape = [|"N,T,D=8"|], Axes = "TD")] partial class P { }""")]
    [InlineData("NG0006", """[Normalize(Shape = "N,C=6,L=4", Axes = "CL", Groups = [|4|])] partial class P { }""")]
    [InlineData("NG0006", """[Normalize(Shape = "N,C=6,L=4", Axes = "CL", Groups = [|0|])] partial class P { }""")]
    [InlineData("NG0006", """[Normalize(Shape = "N,D=6", Axes = "D", Groups = [|2|])] partial class P { }""")]
    [InlineData("NG0006", """[Normalize(Shape = "N,C=6,L=4", Axes = "L", Groups = [|2|])] partial class P { }""")]
    [InlineData("NG0007", """[Normalize(Shape = "N,D=6", Axes = "D", Epsilon = [|0|])] partial class P { }""")]
    [InlineData("NG0007", """[Normalize(Shape = "N,D=6", Axes = "D", Epsilon = [|double.PositiveInfinity|])] partial class P { }""")]
    [InlineData("NG0007", """[Normalize(Shape = "N,D=6", Axes = "D", Epsilon = [|double.NaN|])] partial class P { }""")]
    [InlineData("NG0008", """[Normalize(Shape = "N,C=6", Axes = "N", Momentum = [|1.5|])] partial class P { }""")]
    [InlineData("NG0008", """[Normalize(Shape = "N,C=6", Axes = "N", Momentum = [|-0.1|])] partial class P { }""")]
    [InlineData("NG0009", """[Normalize(Shape = "N,C=6", Axes = "N", ElementType = [|typeof(int)|])] partial class P { }""")]
    [InlineData("NG0010", """[Normalize(Shape = "N,C=6", Axes = "N", AffineAxes = [|"Q"|])] partial class P { }""")]
    [InlineData("NG0010", """[Normalize(Shape = "N,C=6", Axes = "C", AffineAxes = [|"N"|])] partial class P { }""")]
    [InlineData("NG0011", """[Normalize(Shape = "N,C=6", Axes = "N", Kind = [|NormKind.Rms|])] partial class P { }""")]
    [InlineData("NG0012", """[Normalize(Shape = "N,C=6", Axes = "N")] static partial class [|P|] { }""")]
    public void Reports_the_error_at_the_argument_and_generates_nothing(string id, string declaration)
    {
        (string source, TextSpan expected) = Markup("using NormGen;\n" + declaration);

        Diagnostic diagnostic = Assert.Single(GeneratorHarness.Analyze(source));
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(expected, diagnostic.Location.SourceSpan);

        (GeneratorRunResult result, _) = GeneratorHarness.Generate(source);
        Assert.Null(result.Exception);
        Assert.Empty(result.GeneratedSources);
    }

    [Theory]
    [InlineData("""[Normalize(Shape = "N,C=64,H=32,W=32", Axes = "NHW")] partial class P { }""")]
    [InlineData("""[Normalize(Shape = "N,C=12,H=5,W=7", Axes = "CHW", Groups = 1, AffineAxes = "C")] partial class P { }""")]
    [InlineData("""[Normalize(Shape = "N,D=768", Axes = "D", Kind = NormKind.Rms, Momentum = 0.5)] partial struct P { }""")]
    [InlineData("""[Normalize(Shape = "C=8,L=3", Axes = "L", ElementType = typeof(double), Epsilon = 1e-3)] partial record P { }""")]
    [InlineData("""partial class Outer<T> { [Normalize(Shape = "N,C=4", Axes = "N", Momentum = 1.0)] partial class P { } }""")]
    public void Valid_declarations_report_nothing(string declaration)
    {
        string source = "using NormGen;\n" + declaration;
        Assert.Empty(GeneratorHarness.Analyze(source));
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Generate(source);
        Assert.Single(result.GeneratedSources);
        Assert.Empty(GeneratorHarness.Problems(output));
    }

    private static (string Source, TextSpan Span) Markup(string markup)
    {
        int start = markup.IndexOf("[|", System.StringComparison.Ordinal);
        int end = markup.IndexOf("|]", System.StringComparison.Ordinal) - 2;
        return (markup.Replace("[|", "").Replace("|]", ""), TextSpan.FromBounds(start, end));
    }
}
