using System.Threading.Tasks;
using NormGen.Analyzers.Tests.Infrastructure;
using NormGen.Generator.Analyzers.Usage;
using Xunit;

namespace NormGen.Analyzers.Tests.Usage;

/// <summary>NG1002: Backward with no training forward before it on every path, for locals.</summary>
public class NG1002Tests
{
    private static Task Check(string source, bool topLevelStatements = false) =>
        Verify.Analyzer<UntrainedInstanceAnalyzer>(source, topLevelStatements);

    [Fact]
    public Task WarnsOnBackwardRightAfterCreation() => Check("""
        class Trainer
        {
            void Run(float[] x, float[] dy, float[] dx)
            {
                var bn = new BatchNorm();
                {|NG1002:bn.Backward(x, dy, dx)|};

                var ln = new TokenNorm();
                {|NG1002:ln.Backward(x, dy, dx)|};

                var rms = new Rms();
                rms.ZeroGrad();
                {|NG1002:rms.Backward(x, dy, dx)|};
            }
        }
        """);

    [Fact]
    public Task WarnsWhenOnlyInferenceOrLoadingRanBefore() => Check("""
        class Trainer
        {
            void Run(float[] x, float[] y, float[] dy, float[] dx, float[] mean, float[] variance)
            {
                var bn = new BatchNorm();
                bn.LoadRunningStatistics(mean, variance);
                bn.ForwardInference(x, y);
                {|NG1002:bn.Backward(x, dy, dx)|};
            }
        }
        """);

    [Fact]
    public Task WarnsWhenBackwardPrecedesTheForwardOnEveryPath() => Check("""
        class Trainer
        {
            void Run(bool first, float[] x, float[] y, float[] dy, float[] dx)
            {
                var layer = new GroupNorm4();
                if (first)
                {
                    {|NG1002:layer.Backward(x, dy, dx)|};
                }

                layer.Forward(x, y);
                layer.Backward(x, dy, dx);
            }
        }
        """);

    [Fact]
    public Task WarnsInTopLevelStatements() => Check("""
        var x = new float[8];
        var dy = new float[8];
        var dx = new float[8];
        var norm = new InstanceNorm();
        {|NG1002:norm.Backward(x, dy, dx)|};
        """,
        topLevelStatements: true);

    [Fact]
    public Task SilentAfterATrainingForward() => Check("""
        using System.Collections.Generic;

        class Trainer
        {
            void Run(IEnumerable<float[]> batches, float[] x, float[] y, float[] dy, float[] dx, bool train)
            {
                var bn = new BatchNorm();
                bn.ForwardTraining(x, y);
                bn.Backward(x, dy, dx);

                var ln = new TokenNorm();
                foreach (var batch in batches)
                {
                    ln.Forward(batch, y);
                }

                ln.Backward(x, dy, dx);

                var other = new BatchNorm();
                if (train) other.ForwardTraining(x, y);
                other.Backward(x, dy, dx);

                var noStats = new NoRunningStats();
                noStats.ForwardInference(x, y);
                noStats.Backward(x, dy, dx);
            }
        }
        """);

    [Fact]
    public Task SilentForParametersFieldsAndEscapedInstances() => Check("""
        using System;

        class Trainer
        {
            private readonly BatchNorm _field = new BatchNorm();

            void Run(BatchNorm parameter, float[] x, float[] y, float[] dy, float[] dx)
            {
                parameter.Backward(x, dy, dx);
                _field.Backward(x, dy, dx);

                var passed = new TokenNorm();
                Step(passed, x, y);
                passed.Backward(x, dy, dx);

                var captured = new Rms();
                Action forward = () => captured.Forward(x, y);
                forward();
                captured.Backward(x, dy, dx);
            }

            static void Step(TokenNorm layer, float[] x, float[] y) => layer.Forward(x, y);
        }
        """);
}
