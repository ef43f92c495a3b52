using System;

namespace NormGen.Tests.BadInput;

/// <summary>Everything a call could corrupt: parameters, gradients, running statistics, and one output buffer.</summary>
internal sealed class LayerSnapshot
{
    private readonly object _layer;
    private readonly float[] _buffer;
    private readonly float[]? _gamma, _beta, _gammaGrad, _betaGrad, _runningMean, _runningVar, _bufferContent;
    private readonly long _batchesTracked;
    private readonly bool _hasRunningStatistics;

    public LayerSnapshot(object layer, float[] buffer)
    {
        _layer = layer;
        _buffer = buffer;
        _bufferContent = (float[])buffer.Clone();
        if (layer is IAffineLayer<float> a)
        {
            _gamma = a.Gamma.ToArray();
            _beta = a.Beta.ToArray();
            _gammaGrad = a.GammaGrad.ToArray();
            _betaGrad = a.BetaGrad.ToArray();
        }
        if (layer is IRunningStatsLayer<float> s)
        {
            _runningMean = s.RunningMean.ToArray();
            _runningVar = s.RunningVar.ToArray();
            _batchesTracked = s.BatchesTracked;
            _hasRunningStatistics = s.HasRunningStatistics;
        }
    }

    public void AssertUnchanged(string after)
    {
        Tolerance.AssertIdentical($"output buffer after {after}", _bufferContent, _buffer);
        if (_layer is IAffineLayer<float> a)
        {
            Tolerance.AssertIdentical($"Gamma after {after}", _gamma, a.Gamma);
            Tolerance.AssertIdentical($"Beta after {after}", _beta, a.Beta);
            Tolerance.AssertIdentical($"GammaGrad after {after}", _gammaGrad, a.GammaGrad);
            Tolerance.AssertIdentical($"BetaGrad after {after}", _betaGrad, a.BetaGrad);
        }
        if (_layer is IRunningStatsLayer<float> s)
        {
            Tolerance.AssertIdentical($"RunningMean after {after}", _runningMean, s.RunningMean);
            Tolerance.AssertIdentical($"RunningVar after {after}", _runningVar, s.RunningVar);
            Xunit.Assert.True(_batchesTracked == s.BatchesTracked, $"BatchesTracked {s.BatchesTracked} after {after}, was {_batchesTracked}");
            Xunit.Assert.True(_hasRunningStatistics == s.HasRunningStatistics, $"HasRunningStatistics {s.HasRunningStatistics} after {after}, was {_hasRunningStatistics}");
        }
    }

    /// <summary>A buffer pre-filled with a value no layer writes by accident.</summary>
    public static float[] Sentinel(int length)
    {
        var b = new float[length];
        Array.Fill(b, -12345.5f);
        return b;
    }
}
