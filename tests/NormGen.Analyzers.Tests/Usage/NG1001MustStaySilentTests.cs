using System.Threading.Tasks;
using NormGen.Analyzers.Tests.Infrastructure;
using NormGen.Generator.Analyzers.Usage;
using Xunit;

namespace NormGen.Analyzers.Tests.Usage;

/// <summary>NG1001 must stay silent in ordinary code: each case the issue lists, and the ways real training loops are written.</summary>
public class NG1001MustStaySilentTests
{
    private static Task Check(string source, bool topLevelStatements = false, params string[] moreSources) =>
        Verify.Analyzer<UntrainedInstanceAnalyzer>(source, topLevelStatements, moreSources);

    [Fact]
    public Task TrainingInForWhileDoAndForeachLoopsBeforeTheCall() => Check("""
        using System.Collections.Generic;

        class Trainer
        {
            void For(float[] x, float[] y, int epochs)
            {
                var bn = new BatchNorm();
                for (int epoch = 0; epoch < epochs; epoch++)
                {
                    bn.ForwardTraining(x, y);
                }

                bn.ForwardInference(x, y);
            }

            void While(float[] x, float[] y, int steps)
            {
                var bn = new BatchNorm();
                int step = 0;
                while (step++ < steps)
                {
                    bn.ForwardTraining(x, y);
                }

                bn.ForwardInference(x, y);
            }

            void Do(float[] x, float[] y, int steps)
            {
                var bn = new BatchNorm();
                do { bn.ForwardTraining(x, y); } while (--steps > 0);
                bn.ForwardInference(x, y);
            }

            void Foreach(IEnumerable<float[]> batches, float[] x, float[] y)
            {
                var bn = new BatchNorm();
                foreach (var batch in batches)
                {
                    bn.ForwardTraining(batch, y);
                }

                bn.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task EvaluationInsideTheEpochLoopAfterTheFirstEpoch() => Check("""
        class Trainer
        {
            void Run(float[] train, float[] validation, float[] y, int epochs)
            {
                var bn = new BatchNorm();
                for (int epoch = 0; epoch < epochs; epoch++)
                {
                    if (epoch > 0)
                    {
                        bn.ForwardInference(validation, y);
                    }

                    bn.ForwardTraining(train, y);
                }
            }
        }
        """);

    [Fact]
    public Task TrainingOrLoadingOnOneBranchOfAnIf() => Check("""
        class Trainer
        {
            void Run(bool train, bool load, float[] x, float[] y, float[] mean, float[] variance)
            {
                var bn = new BatchNorm();
                if (train)
                {
                    bn.ForwardTraining(x, y);
                }

                bn.ForwardInference(x, y);

                var other = new BatchNorm();
                if (load) other.LoadRunningStatistics(mean, variance);
                other.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task LoadingOrWritingTheRunningStatistics() => Check("""
        using System;

        class Loader
        {
            void Run(float[] x, float[] y, float[] mean, float[] variance)
            {
                var loaded = new BatchNorm();
                loaded.LoadRunningStatistics(mean, variance);
                loaded.ForwardInference(x, y);

                var copied = new BatchNorm();
                mean.CopyTo(copied.RunningMean);
                variance.CopyTo(copied.RunningVar);
                copied.ForwardInference(x, y);

                var written = new BatchNorm();
                written.RunningVar[0] = 2f;
                written.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task InstancePassedAsAnArgumentBeforeTheCall() => Check("""
        static class Training
        {
            public static void Fit(BatchNorm layer, float[] x, float[] y) => layer.ForwardTraining(x, y);
            public static void FitRef(ref BatchNorm layer) { }
            public static void FitIn(in BatchNorm layer) { }
            public static void Create(out BatchNorm layer) => layer = new BatchNorm();
            public static void FitExtension(this BatchNorm layer) { }
        }

        class Trainer
        {
            void Run(float[] x, float[] y)
            {
                var a = new BatchNorm();
                Training.Fit(a, x, y);
                a.ForwardInference(x, y);

                var b = new BatchNorm();
                Training.FitRef(ref b);
                b.ForwardInference(x, y);

                var c = new BatchNorm();
                Training.FitIn(in c);
                c.ForwardInference(x, y);

                var d = new BatchNorm();
                Training.Create(out d);
                d.ForwardInference(x, y);

                var e = new BatchNorm();
                e.FitExtension();
                e.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task InstanceCapturedByALambdaOrLocalFunction() => Check("""
        using System;

        class Trainer
        {
            void Lambda(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                Action step = () => bn.ForwardTraining(x, y);
                step();
                bn.ForwardInference(x, y);
            }

            void LocalFunction(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                TrainEpoch();
                bn.ForwardInference(x, y);

                void TrainEpoch() => bn.ForwardTraining(x, y);
            }

            void ThroughAnotherLocalFunction(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                Outer();
                bn.ForwardInference(x, y);

                void Outer() => Inner();
                void Inner() => bn.ForwardTraining(x, y);
            }

            void LocalFunctionAsDelegate(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                Action step = Train;
                step();
                bn.ForwardInference(x, y);

                void Train() => bn.ForwardTraining(x, y);
            }

            void CapturedInsideTheLambdaItself(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                Action evaluate = () => bn.ForwardInference(x, y);
                evaluate();
            }
        }
        """);

    [Fact]
    public Task InstanceAssignedToSomethingElseOrReturned() => Check("""
        using System;
        using System.Collections.Generic;

        class Model
        {
            public BatchNorm Norm;
            private BatchNorm _norm;
            public List<BatchNorm> Layers = new();

            BatchNorm Run(float[] x, float[] y)
            {
                var a = new BatchNorm();
                var alias = a;
                alias.ForwardTraining(x, y);
                a.ForwardInference(x, y);

                var b = new BatchNorm();
                Norm = b;
                b.ForwardInference(x, y);

                var c = new BatchNorm();
                _norm = c;
                c.ForwardInference(x, y);

                var d = new BatchNorm();
                Layers.Add(d);
                d.ForwardInference(x, y);

                var e = new BatchNorm();
                var all = new[] { e };
                e.ForwardInference(x, y);

                var f = new BatchNorm();
                var pair = (f, 1);
                f.ForwardInference(x, y);

                var g = new BatchNorm();
                Console.WriteLine(g);
                g.ForwardInference(x, y);
                return _norm;
            }

            System.Collections.Generic.IEnumerable<BatchNorm> Iterator(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                yield return bn;
                bn.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task Parameters() => Check("""
        class Evaluator
        {
            void Run(BatchNorm bn, float[] x, float[] y) => bn.ForwardInference(x, y);

            void RunRef(ref BatchNormValue bn, float[] x, float[] y) => bn.ForwardInference(x, y);
        }
        """);

    [Fact]
    public Task InstancesAssignedFromElsewhere() => Check("""
        using System.Collections.Generic;

        class Evaluator
        {
            private readonly BatchNorm _trained = new BatchNorm();
            public BatchNorm Shared = new BatchNorm();

            static BatchNorm Load(string path) => new BatchNorm();

            void Run(float[] x, float[] y, List<BatchNorm> layers, object boxed)
            {
                var a = Load("weights.bin");
                a.ForwardInference(x, y);

                var b = _trained;
                b.ForwardInference(x, y);

                var c = layers[0];
                c.ForwardInference(x, y);

                foreach (var layer in layers)
                {
                    layer.ForwardInference(x, y);
                }

                if (boxed is BatchNorm d)
                {
                    d.ForwardInference(x, y);
                }

                var e = new BatchNorm();
                e = Load("other.bin");
                e.ForwardInference(x, y);

                _trained.ForwardTraining(x, y);
            }
        }
        """);

    [Fact]
    public Task FieldsAndPropertiesThatAreNotPrivate() => Check("""
        public class Model
        {
            public readonly BatchNorm PublicNorm = new BatchNorm();
            internal readonly BatchNorm InternalNorm = new BatchNorm();
            protected readonly BatchNorm ProtectedNorm = new BatchNorm();
            public BatchNorm Property { get; } = new BatchNorm();

            public void Predict(float[] x, float[] y)
            {
                PublicNorm.ForwardInference(x, y);
                InternalNorm.ForwardInference(x, y);
                ProtectedNorm.ForwardInference(x, y);
                Property.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task PrivateFieldsThatSomethingTrainsLoadsOrLetsEscape() => Check("""
        using System;

        class Model
        {
            private readonly BatchNorm _trained = new BatchNorm();
            private readonly BatchNorm _loaded = new BatchNorm();
            private readonly BatchNorm _exposed = new BatchNorm();
            private readonly BatchNorm _passed = new BatchNorm();
            private readonly BatchNorm _written = new BatchNorm();
            private readonly BatchNorm _lambda = new BatchNorm();
            private readonly BatchNorm _injected;
            private BatchNorm _reassigned = new BatchNorm();

            public Model(BatchNorm injected, float[] mean, float[] variance)
            {
                _injected = injected;
                _loaded.LoadRunningStatistics(mean, variance);
            }

            public BatchNorm Exposed => _exposed;

            public void Train(float[] x, float[] y)
            {
                _trained.ForwardTraining(x, y);
                Helpers.Fit(_passed);
                _written.RunningMean.Clear();
                Action step = () => _lambda.ForwardTraining(x, y);
                step();
            }

            public void Swap(BatchNorm other) => _reassigned = other;

            public void Predict(float[] x, float[] y)
            {
                _trained.ForwardInference(x, y);
                _loaded.ForwardInference(x, y);
                _exposed.ForwardInference(x, y);
                _passed.ForwardInference(x, y);
                _written.ForwardInference(x, y);
                _lambda.ForwardInference(x, y);
                _injected.ForwardInference(x, y);
                _reassigned.ForwardInference(x, y);
            }
        }

        static class Helpers
        {
            public static void Fit(BatchNorm layer) { }
        }
        """);

    [Fact]
    public Task PrivateFieldTrainedInAnotherPartialFile() => Check("""
        partial class Model
        {
            private readonly BatchNorm _norm = new();

            public void Predict(float[] x, float[] y) => _norm.ForwardInference(x, y);
        }
        """,
        topLevelStatements: false,
        """
        partial class Model
        {
            public void Train(float[] x, float[] y) => _norm.ForwardTraining(x, y);
        }
        """);

    [Fact]
    public Task PrivateFieldUsedByANestedType() => Check("""
        class Model
        {
            private readonly BatchNorm _norm = new();

            public void Predict(float[] x, float[] y) => _norm.ForwardInference(x, y);

            private sealed class Trainer
            {
                public void Train(Model model, float[] x, float[] y) => model._norm.ForwardTraining(x, y);
            }
        }
        """);

    [Fact]
    public Task TypesWithoutRunningStatistics() => Check("""
        class Evaluator
        {
            private readonly NoRunningStats _field = new NoRunningStats();

            void Run(float[] x, float[] y)
            {
                var bn = new NoRunningStats();
                bn.ForwardInference(x, y);
                _field.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task PerSampleLayersHaveNoRunningStatistics() => Check("""
        class Evaluator
        {
            private readonly TokenNorm _tokens = new TokenNorm();

            void Run(float[] x, float[] y)
            {
                new TokenNorm().Forward(x, y);
                new GroupNorm4().Forward(x, y);
                new InstanceNorm().Forward(x, y);
                new Rms().Forward(x, y);
                _tokens.Forward(x, y);
            }
        }
        """);

    [Fact]
    public Task MembersTheUserAddedThatCouldLoad() => Check("""
        using System;
        using System.IO;
        using NormGen;

        [Normalize(Shape = "N,C=4", Axes = "N")]
        public partial class PretrainedNorm
        {
            public PretrainedNorm(string path) { LoadFrom(path); }

            public PretrainedNorm() { }

            public void LoadFrom(string path) => LoadRunningStatistics(new float[4], new float[4]);
        }

        class Evaluator
        {
            void Run(float[] x, float[] y)
            {
                var fromFile = new PretrainedNorm("weights.bin");
                fromFile.ForwardInference(x, y);

                var loadedLater = new PretrainedNorm();
                loadedLater.LoadFrom("weights.bin");
                loadedLater.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task BaseClassConstructorThatHandsOutTheInstance() => Check("""
        using System.Collections.Generic;
        using NormGen;

        public abstract class RegisteredModule
        {
            public static readonly List<RegisteredModule> All = new();
            protected RegisteredModule() { All.Add(this); }
        }

        [Normalize(Shape = "N,C=4", Axes = "N")]
        public partial class RegisteredNorm : RegisteredModule { }

        class Evaluator
        {
            void Run(float[] x, float[] y)
            {
                var norm = new RegisteredNorm();
                norm.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task GuardedByHasRunningStatistics() => Check("""
        using System;

        class Evaluator
        {
            void Run(float[] x, float[] y)
            {
                var a = new BatchNorm();
                if (a.HasRunningStatistics)
                {
                    a.ForwardInference(x, y);
                }

                var b = new BatchNorm();
                if (!b.HasRunningStatistics) throw new InvalidOperationException("train first");
                b.ForwardInference(x, y);

                var c = new BatchNorm();
                if (c.BatchesTracked > 0) c.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task PrivateFieldGuardedByHasRunningStatisticsOrWithAnAttribute() => Check("""
        using System;

        [AttributeUsage(AttributeTargets.Field)]
        sealed class SerializedAttribute : Attribute { }

        class Model
        {
            private readonly BatchNorm _guarded = new BatchNorm();
            [Serialized] private readonly BatchNorm _serialized = new BatchNorm();

            public void Predict(float[] x, float[] y)
            {
                if (!_guarded.HasRunningStatistics) throw new InvalidOperationException("train or load first");
                _guarded.ForwardInference(x, y);
                _serialized.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task TrainingInsideTryOrFinallyBeforeTheCall() => Check("""
        using System;

        class Trainer
        {
            void CatchAndContinue(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                try
                {
                    bn.ForwardTraining(x, y);
                }
                catch (ArgumentException e)
                {
                    Console.WriteLine(e.Message);
                    bn.ForwardInference(x, y);
                }

                bn.ForwardInference(x, y);
            }

            void Finally(float[] x, float[] y)
            {
                var bn = new BatchNorm();
                try
                {
                    Console.WriteLine("training");
                }
                finally
                {
                    bn.ForwardTraining(x, y);
                }

                bn.ForwardInference(x, y);
            }
        }
        """);

    [Fact]
    public Task TopLevelTrainingLoop() => Check("""
        using System;

        var x = new float[8];
        var y = new float[8];
        var bn = new BatchNorm();
        for (int epoch = 0; epoch < 10; epoch++)
        {
            bn.ForwardTraining(x, y);
        }

        bn.ForwardInference(x, y);

        var other = new BatchNorm();
        Warmup();
        other.ForwardInference(x, y);

        void Warmup() => other.ForwardTraining(x, y);
        """,
        topLevelStatements: true);

    [Fact]
    public Task TrainedInLambdasWithTryCatchInsideAUsingScope() => Check("""
        using System;
        using System.Threading;

        class Concurrent
        {
            void Run(float[] x, float[] dy, int length)
            {
                var reference = new BatchNorm { MaxDegreeOfParallelism = 1 };
                float[] y1 = new float[length], dx1 = new float[length], yInference1 = new float[length];
                reference.ForwardTraining(x, y1);
                reference.Backward(x, dy, dx1);
                reference.ForwardInference(x, yInference1);
                float[] gammaGrad1 = reference.GammaGrad.ToArray();

                var callers = new Thread[4];
                var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
                using var start = new Barrier(callers.Length);
                for (int c = 0; c < callers.Length; c++)
                {
                    callers[c] = new Thread(() =>
                    {
                        try
                        {
                            float[] y = new float[length], dx = new float[length], yInference = new float[length];
                            start.SignalAndWait();
                            for (int round = 0; round < 8; round++)
                            {
                                var layer = new BatchNorm { MaxDegreeOfParallelism = 2 };
                                layer.ForwardTraining(x, y);
                                layer.Backward(x, dy, dx);
                                layer.ForwardInference(x, yInference);
                            }
                        }
                        catch (Exception e)
                        {
                            failures.Enqueue(e);
                        }
                    });
                    callers[c].Start();
                }
                foreach (var caller in callers)
                {
                    caller.Join();
                }
            }
        }
        """);
}
