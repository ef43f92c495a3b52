using System.Threading.Tasks;
using NormGen.Analyzers.Tests.Infrastructure;
using NormGen.Generator.Analyzers.Usage;
using Xunit;

namespace NormGen.Analyzers.Tests.Usage;

/// <summary>NG1003: ForwardTraining on a constant-length input that gives one value per statistics group, on the input argument.</summary>
public class NG1003Tests
{
    private static Task Check(string source, bool topLevelStatements = false) =>
        Verify.Analyzer<SingleValueBatchAnalyzer>(source, topLevelStatements);

    [Fact]
    public Task WarnsOnABatchOfOneFromArraysAndStackalloc() => Check("""
        using System;

        class Trainer
        {
            void Run(float[] y)
            {
                var bn = new Bn16();
                bn.ForwardTraining({|NG1003:new float[16]|}, y);

                var x = new float[Bn16.SampleSize];
                bn.ForwardTraining({|NG1003:x|}, y);

                Span<float> onStack = stackalloc float[16];
                bn.ForwardTraining({|NG1003:onStack|}, y);

                bn.ForwardTraining({|NG1003:stackalloc float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }|}, y);

                var big = new float[64];
                bn.ForwardTraining({|NG1003:big.AsSpan(0, 16)|}, y);
                bn.ForwardTraining({|NG1003:big.AsSpan(48)|}, y);
                bn.ForwardTraining({|NG1003:new ReadOnlySpan<float>(big, 16, 16)|}, y);
            }
        }
        """);

    [Fact]
    public Task WarnsOnReadonlyFieldsAndCollectionExpressions() => Check("""
        class Trainer
        {
            private static readonly float[] Single = new float[Bn16.SampleSize];
            private readonly float[] _pair = new float[2 * Bn16.SampleSize];
            private readonly float[] _reassigned = new float[16];

            Trainer() { _reassigned = new float[32]; }

            void Run(float[] y)
            {
                var bn = new Bn16();
                bn.ForwardTraining({|NG1003:Single|}, y);
                bn.ForwardTraining(_pair, y);
                bn.ForwardTraining(_reassigned, y);
                float[] literal = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
                bn.ForwardTraining({|NG1003:literal|}, y);
            }
        }
        """);

    [Fact]
    public Task WarnsOnEveryCallWhenTheShapeIsFullySizedWithOneValuePerChannel() => Check("""
        class Trainer
        {
            void Run(float[] x, float[] y)
            {
                var bn = new BnBatchOfOne();
                bn.ForwardTraining({|NG1003:x|}, y);
            }
        }
        """);

    [Fact]
    public Task WarnsInTopLevelStatements() => Check("""
        var bn = new Bn16();
        var x = new float[16];
        var y = new float[16];
        bn.ForwardTraining({|NG1003:x|}, y);
        """,
        topLevelStatements: true);

    [Fact]
    public Task SilentForBatchesOfTwoOrMoreAndUnknownLengths() => Check("""
        using System;

        class Trainer
        {
            void Run(float[] unknown, float[] y, int n)
            {
                var bn = new Bn16();
                bn.ForwardTraining(new float[32], y);
                bn.ForwardTraining(unknown, y);
                bn.ForwardTraining(new float[16 * n], y);
                bn.ForwardTraining(unknown.AsSpan(0, n), y);
                bn.ForwardTraining(unknown.AsSpan(16), y);

                var reassigned = new float[16];
                reassigned = new float[64];
                bn.ForwardTraining(reassigned, y);

                var byRef = new float[16];
                Resize(ref byRef);
                bn.ForwardTraining(byRef, y);

                bn.ForwardInference(new float[16], y);
            }

            static void Resize(ref float[] values) => values = new float[64];
        }
        """);

    [Fact]
    public Task SilentWhenTheGroupSpansMoreThanTheBatch() => Check("""
        class Trainer
        {
            void Run(float[] y)
            {
                // BatchNorm1d over (N, C, L=50): a batch of one still gives 50 values per channel.
                var bn = new Bn16L();
                bn.ForwardTraining(new float[16 * 50], y);
            }
        }
        """);

    [Fact]
    public Task SilentWhenTheLengthIsNotAMultipleOfSampleSize() => Check("""
        class Trainer
        {
            void Run(float[] y)
            {
                var bn = new Bn16();
                bn.ForwardTraining(new float[15], y);
            }
        }
        """);
}
