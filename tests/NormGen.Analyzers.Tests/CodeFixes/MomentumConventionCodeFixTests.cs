using System.Threading.Tasks;
using NormGen.Analyzers.Tests.Infrastructure;
using NormGen.CodeFixes;
using NormGen.Generator.Analyzers.Usage;
using Xunit;

namespace NormGen.Analyzers.Tests.CodeFixes;

/// <summary>The NG1004 fix: Momentum = m becomes 1 - m, written as the exact decimal literal.</summary>
public class MomentumConventionCodeFixTests
{
    [Theory]
    [InlineData("0.99", "0.01")]
    [InlineData("0.9", "0.1")]
    [InlineData("0.999", "0.001")]
    [InlineData("0.75", "0.25")]
    [InlineData("0.99d", "0.01")]
    [InlineData("1.0", "0.0")]
    public Task ReplacesMWithOneMinusM(string momentum, string expected) =>
        Verify.CodeFix<MomentumConventionAnalyzer, MomentumConventionCodeFix>(
            $$"""
            using NormGen;

            [Normalize(Shape = "N,C=8", Axes = "N", {|NG1004:Momentum = {{momentum}}|}, Epsilon = 1e-3)]
            public partial class Imported { }
            """,
            $$"""
            using NormGen;

            [Normalize(Shape = "N,C=8", Axes = "N", Momentum = {{expected}}, Epsilon = 1e-3)]
            public partial class Imported { }
            """);

    [Fact]
    public Task ReplacesAConstantReferenceWithTheLiteral() =>
        Verify.CodeFix<MomentumConventionAnalyzer, MomentumConventionCodeFix>(
            """
            using NormGen;

            [Normalize(Shape = "N,C=8", Axes = "N", {|NG1004:Momentum = Keras.Momentum|})]
            public partial class Imported { }

            static class Keras
            {
                public const double Momentum = 0.99;
            }
            """,
            """
            using NormGen;

            [Normalize(Shape = "N,C=8", Axes = "N", Momentum = 0.01)]
            public partial class Imported { }

            static class Keras
            {
                public const double Momentum = 0.99;
            }
            """);
}
