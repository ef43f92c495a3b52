using System.Threading.Tasks;
using NormGen.Analyzers.Tests.Infrastructure;
using NormGen.CodeFixes;
using NormGen.Generator.Analyzers;
using Xunit;

namespace NormGen.Analyzers.Tests.CodeFixes;

/// <summary>The NG0001 fix: adds <c>partial</c> to the type and to every containing type that lacks it.</summary>
public class MakePartialCodeFixTests
{
    private static Task Check(string source, string fixedSource) =>
        Verify.CodeFix<DeclarationAnalyzer, MakePartialCodeFix>(source, fixedSource);

    [Fact]
    public Task AddsPartialAfterTheOtherModifiers() => Check(
        """
        using NormGen;

        [Normalize(Shape = "N,C=8", Axes = "N")]
        public sealed class {|NG0001:StemNorm|} { }
        """,
        """
        using NormGen;

        [Normalize(Shape = "N,C=8", Axes = "N")]
        public sealed partial class StemNorm { }
        """);

    [Fact]
    public Task AddsPartialWhenThereAreNoModifiers() => Check(
        """
        using NormGen;

        // BatchNorm1d(8)
        [Normalize(Shape = "N,C=8", Axes = "N")]
        struct {|NG0001:StemNorm|} { }
        """,
        """
        using NormGen;

        // BatchNorm1d(8)
        [Normalize(Shape = "N,C=8", Axes = "N")]
        partial struct StemNorm { }
        """);

    [Fact]
    public Task AddsPartialToEveryContainingTypeThatLacksIt() => Check(
        """
        using NormGen;

        namespace Models
        {
            public class Outer
            {
                internal partial class Middle
                {
                    [Normalize(Shape = "N,D=16", Axes = "D")]
                    public class {|NG0001:TokenNorm|} { }
                }
            }
        }
        """,
        """
        using NormGen;

        namespace Models
        {
            public partial class Outer
            {
                internal partial class Middle
                {
                    [Normalize(Shape = "N,D=16", Axes = "D")]
                    public partial class TokenNorm { }
                }
            }
        }
        """);
}
