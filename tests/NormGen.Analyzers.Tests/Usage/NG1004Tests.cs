using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using NormGen.Analyzers.Tests.Infrastructure;
using NormGen.Generator.Analyzers.Usage;
using Xunit;

namespace NormGen.Analyzers.Tests.Usage;

/// <summary>NG1004: a constant Momentum above 0.5 is Keras/Flax's convention; reported on the Momentum argument.</summary>
public class NG1004Tests
{
    [Fact]
    public Task WarnsOnKerasAndFlaxMomenta() => Verify.Analyzer<MomentumConventionAnalyzer>("""
        using NormGen;

        [Normalize(Shape = "N,C=8", Axes = "N", {|NG1004:Momentum = 0.99|})]
        public partial class KerasDefault { }

        [Normalize(Shape = "N,C=8", Axes = "N", {|NG1004:Momentum = 0.9|}, Epsilon = 1e-3)]
        public partial class FlaxDefault { }

        [Normalize({|NG1004:Momentum = Defaults.Momentum|}, Shape = "N,C=8", Axes = "N")]
        public partial class FromConstant { }

        static class Defaults
        {
            public const double Momentum = 0.999;
        }
        """);

    [Fact]
    public Task MessageGivesTheValueInPyTorchsConvention() => Verify.AnalyzerExpecting<MomentumConventionAnalyzer>("""
        using NormGen;

        [Normalize(Shape = "N,C=8", Axes = "N", {|#0:Momentum = 0.99|})]
        public partial class KerasDefault { }
        """,
        new DiagnosticResult("NG1004", DiagnosticSeverity.Warning).WithLocation(0).WithArguments("0.99", "0.01"));

    [Fact]
    public Task SilentForPyTorchMomenta() => Verify.Analyzer<MomentumConventionAnalyzer>("""
        using NormGen;

        [Normalize(Shape = "N,C=8", Axes = "N")]
        public partial class DefaultMomentum { }

        [Normalize(Shape = "N,C=8", Axes = "N", Momentum = 0.1)]
        public partial class PyTorchDefault { }

        [Normalize(Shape = "N,C=8", Axes = "N", Momentum = 0.5)]
        public partial class Half { }

        [Normalize(Shape = "N,C=8", Axes = "N", Momentum = 0.01)]
        public partial class Slow { }
        """);
}
