using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using NormGen.Analyzers.Tests.Infrastructure;
using NormGen.Generator.Analyzers.Usage;
using Xunit;

namespace NormGen.Analyzers.Tests.Usage;

/// <summary>NG1001 must warn, at the whole ForwardInference call: each case the issue lists, and a few more shapes of them.</summary>
public class NG1001MustWarnTests
{
    private static Task Check(string source, bool topLevelStatements = false, params string[] moreSources) =>
        Verify.Analyzer<UntrainedInstanceAnalyzer>(source, topLevelStatements, moreSources);

    [Fact]
    public Task LocalCreatedWithNewAndInferredBeforeAnyTraining() => Check("""
        class Evaluator
        {
            void Run(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                {|NG1001:bn.ForwardInference(x, y)|};
            }
        }
        """);

    [Fact]
    public Task MessageNamesTheInstance() => Verify.AnalyzerExpecting<UntrainedInstanceAnalyzer>("""
        class Evaluator
        {
            void Run(float[] x, float[] y)
            {
                var stem = new BatchNorm();
                {|#0:stem.ForwardInference(x, y)|};
            }
        }
        """,
        new DiagnosticResult("NG1001", DiagnosticSeverity.Warning).WithLocation(0).WithArguments("stem"));

    [Fact]
    public Task InferencePrecedesTheFirstTrainingCall() => Check("""
        class Trainer
        {
            void Run(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                {|NG1001:bn.ForwardInference(x, y)|};
                bn.ForwardTraining(x, y);
                bn.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task EveryBranchInfersOnAnUntrainedInstance() => Check("""
        class Evaluator
        {
            void Run(bool validation, float[] x, float[] y)
            {
                var bn = new BatchNorm();
                if (validation)
                {
                    {|NG1001:bn.ForwardInference(x, y)|};
                }
                else
                {
                    {|NG1001:bn.ForwardInference(y, x)|};
                }

                switch (x.Length)
                {
                    case 4: {|NG1001:bn.ForwardInference(x, y)|}; break;
                    default: {|NG1001:bn.ForwardInference(y, x)|}; break;
                }
            }
        }
        """);

    [Fact]
    public Task CallInsideTryCatchFinally() => Check("""
        using System;

        class Evaluator
        {
            void Run(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                try
                {
                    {|NG1001:bn.ForwardInference(x, y)|};
                }
                catch (ArgumentException e)
                {
                    Console.WriteLine(e.Message);
                }
                finally
                {
                    Console.WriteLine("done");
                }
            }
        }
        """);

    [Fact]
    public Task CallInsideUsing() => Check("""
        using System.IO;

        class Evaluator
        {
            void Run(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                using (var log = new StringWriter())
                {
                    {|NG1001:bn.ForwardInference(x, y)|};
                    log.WriteLine(y[0]);
                }

                using var log2 = new StringWriter();
                {|NG1001:bn.ForwardInference(x, y)|};
            }
        }
        """);

    [Fact]
    public Task CallInsideLock() => Check("""
        class Evaluator
        {
            private readonly object _gate = new object();

            void Run(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                lock (_gate)
                {
                    {|NG1001:bn.ForwardInference(x, y)|};
                }
            }
        }
        """);

    [Fact]
    public Task SecondInstanceWhenOnlyTheFirstWasTrained() => Check("""
        class Trainer
        {
            void Run(float[] x, float[] y)
            {
                var trained = new BatchNorm();
                var fresh = new BatchNorm();
                trained.ForwardTraining(x, y);
                trained.ForwardInference(x, y);
                {|NG1001:fresh.ForwardInference(x, y)|};
            }
        }
        """);

    [Fact]
    public Task PrivateFieldInitializedWithNewThatNothingTrains() => Check("""
        class Classifier
        {
            private readonly BatchNorm _norm = new BatchNorm();
            private readonly float[] _buffer = new float[8];

            public float[] Predict(float[] x)
            {
                var y = new float[x.Length];
                {|NG1001:_norm.ForwardInference(x, y)|};
                _norm.Gamma.Fill(1f);
                return y;
            }

            public void PredictInto(float[] x, float[] y) => {|NG1001:this._norm.ForwardInference(x, y)|};
        }
        """);

    [Fact]
    public Task PrivateFieldAssignedWithNewInTheConstructor() => Check("""
        class Classifier
        {
            private BatchNorm _norm;

            public Classifier() { _norm = new BatchNorm(); }

            public void Predict(float[] x, float[] y) => {|NG1001:_norm.ForwardInference(x, y)|};
        }
        """);

    [Fact]
    public Task PrivateFieldAcrossPartialDeclarationsInTwoFiles() => Check("""
        partial class Model
        {
            private readonly BatchNorm _norm = new();
        }
        """,
        topLevelStatements: false,
        """
        partial class Model
        {
            public void Predict(float[] x, float[] y) => {|NG1001:_norm.ForwardInference(x, y)|};
        }
        """);

    [Fact]
    public Task PrivateStaticFieldAndPrivateAutoProperty() => Check("""
        static class Inference
        {
            private static readonly BatchNorm Shared = new BatchNorm();
            private static BatchNorm Norm { get; } = new BatchNorm();

            public static void Run(float[] x, float[] y)
            {
                {|NG1001:Shared.ForwardInference(x, y)|};
                {|NG1001:Norm.ForwardInference(x, y)|};
            }
        }
        """);

    [Fact]
    public Task PrivateFieldUsedThroughConditionalAccess() => Check("""
        class Classifier
        {
            private BatchNorm _norm = new BatchNorm();

            public void Predict(float[] x, float[] y) => {|NG1001:_norm?.ForwardInference(x, y)|};
        }
        """);

    [Fact]
    public Task TopLevelStatements() => Check("""
        var x = new float[8];
        var y = new float[8];
        var bn = new BatchNorm();
        {|NG1001:bn.ForwardInference(x, y)|};
        Report(y);

        static void Report(float[] values) => System.Console.WriteLine(values[0]);
        """,
        topLevelStatements: true);

    [Fact]
    public Task InferenceInEveryIterationOfALoopWithNoTraining() => Check("""
        using System.Collections.Generic;

        class Evaluator
        {
            void Run(List<float[]> batches, float[] y)
            {
                var bn = new BatchNorm();
                foreach (var batch in batches)
                {
                    {|NG1001:bn.ForwardInference(batch, y)|};
                }

                for (int i = 0; i < batches.Count; i++)
                {
                    {|NG1001:bn.ForwardInference(batches[i], y)|};
                }
            }
        }
        """);

    [Fact]
    public Task ParameterMembersDoNotComputeRunningStatistics() => Check("""
        class Evaluator
        {
            void Run(float[] x, float[] y, float[] dy, float[] dx)
            {
                var bn = new BatchNorm();
                bn.Gamma.Fill(2f);
                bn.Beta[0] = 1f;
                bn.ZeroGrad();
                System.Console.WriteLine(bn.BatchesTracked + " " + bn.GammaGrad.Length + BatchNorm.SampleSize);
                {|NG1001:bn.ForwardInference(x, y)|};
            }
        }
        """);

    [Fact]
    public Task EscapeAfterTheCallDoesNotMatter() => Check("""
        using System.Collections.Generic;

        class Evaluator
        {
            void Run(float[] x, float[] y, List<BatchNorm> layers)
            {
                var bn = new BatchNorm();
                {|NG1001:bn.ForwardInference(x, y)|};
                layers.Add(bn);
                Train();

                void Train() => bn.ForwardTraining(x, y);
            }
        }
        """);

    [Fact]
    public Task ReturnedOnlyOnAnotherPathOrAfterTheCall() => Check("""
        class Factory
        {
            BatchNorm Build(bool early, float[] x, float[] y)
            {
                BatchNorm bn = new();
                if (early) return bn;
                {|NG1001:bn.ForwardInference(x, y)|};
                return bn;
            }
        }
        """);

    [Fact]
    public Task LocalCreatedInsideALambdaOrLocalFunction() => Check("""
        using System;

        class Evaluator
        {
            Action<float[], float[]> Make() => (x, y) =>
            {
                var bn = new BatchNorm();
                {|NG1001:bn.ForwardInference(x, y)|};
            };

            void Run(float[] x, float[] y)
            {
                Evaluate();

                void Evaluate()
                {
                    var bn = new BatchNorm();
                    {|NG1001:bn.ForwardInference(x, y)|};
                }
            }
        }
        """);

    [Fact]
    public Task ArgumentsWithConditionalExpressions() => Check("""
        class Evaluator
        {
            void Run(bool flip, float[] x, float[] y)
            {
                var bn = new BatchNorm();
                {|NG1001:bn.ForwardInference(flip ? y : x, flip ? x : y)|};
            }
        }
        """);

    [Fact]
    public Task StructLayer() => Check("""
        class Evaluator
        {
            void Run(float[] x, float[] y)
            {
                var bn = new BatchNormValue();
                {|NG1001:bn.ForwardInference(x, y)|};
            }
        }
        """);

    [Fact]
    public Task TemporaryCreatedInTheCall() => Check("""
        class Evaluator
        {
            void Run(float[] x, float[] y) => {|NG1001:new BatchNorm().ForwardInference(x, y)|};
        }
        """);

    [Fact]
    public Task OnTheBranchWhereHasRunningStatisticsIsFalse() => Check("""
        class Evaluator
        {
            void Run(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                if (bn.HasRunningStatistics)
                {
                    bn.ForwardInference(x, y);
                }
                else
                {
                    {|NG1001:bn.ForwardInference(x, y)|};
                }
            }
        }
        """);

    [Fact]
    public Task AsyncMethodAndReassignmentWithNew() => Check("""
        using System.Threading.Tasks;

        class Evaluator
        {
            async Task Run(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                bn.ForwardTraining(x, y);
                await Task.Yield();
                bn = new BatchNorm();
                {|NG1001:bn.ForwardInference(x, y)|};
            }
        }
        """);

    [Fact]
    public Task LayerDerivedFromAPlainBaseClass() => Check("""
        using NormGen;

        public abstract class Module
        {
            public string Name { get; }
            protected Module() { Name = GetType().Name; }
        }

        [Normalize(Shape = "N,C=4", Axes = "N")]
        public partial class ModuleNorm : Module { }

        class Evaluator
        {
            void Run(float[] x, float[] y)
            {
                var norm = new ModuleNorm();
                {|NG1001:norm.ForwardInference(x, y)|};
            }
        }
        """);

    [Fact]
    public Task UserConstructorThatOnlyInitializesParameters() => Check("""
        using System;
        using NormGen;

        [Normalize(Shape = "N,C=4", Axes = "N")]
        public partial class ScaledNorm
        {
            public ScaledNorm(float scale) { Gamma.Fill(scale); ZeroGrad(); }
        }

        class Evaluator
        {
            void Run(float[] x, float[] y)
            {
                var norm = new ScaledNorm(0.5f);
                {|NG1001:norm.ForwardInference(x, y)|};
            }
        }
        """);

    [Fact]
    public Task InferenceBeforeTrainingInALambdaWithTryCatchInsideAUsingScope() => Check("""
        using System;
        using System.IO;

        class Evaluator
        {
            void Run(float[] x, float[] y)
            {
                using var scope = new MemoryStream();
                Action evaluate = () =>
                {
                    try
                    {
                        var bn = new BatchNorm();
                        {|NG1001:bn.ForwardInference(x, y)|};
                    }
                    catch (Exception)
                    {
                    }
                };
                evaluate();
            }
        }
        """);
}
