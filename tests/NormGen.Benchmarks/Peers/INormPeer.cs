using System;
using NormGen.Benchmarks.Cases;

namespace NormGen.Benchmarks.Peers;

/// <summary>
/// One implementation of a case's operations, used by the startup check (each peer runs the same sequence
/// on the same data and the outputs are compared). The timed benchmarks call the peers' methods directly.
/// Batch layers: ForwardTraining, Backward, ForwardInference (with the case's inference statistics loaded).
/// Per-sample layers: Forward, Backward.
/// </summary>
public interface INormPeer : IDisposable
{
    string Name { get; }

    /// <summary>True where the peer implements training and backward (ONNX Runtime: inference only).</summary>
    bool SupportsTraining { get; }

    void ForwardTraining(ReadOnlySpan<float> x, Span<float> y);

    void ForwardInference(ReadOnlySpan<float> x, Span<float> y);

    void Forward(ReadOnlySpan<float> x, Span<float> y);

    void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx);

    /// <summary>Loads the case's inference statistics into the running statistics (batch layers).</summary>
    void LoadInferenceStatistics();

    float[]? RunningMean { get; }
    float[]? RunningVar { get; }
    float[]? GammaGrad { get; }
    float[]? BetaGrad { get; }
}

/// <summary>Parameters and state every managed peer keeps, initialized like NormGen and PyTorch.</summary>
public abstract class ManagedPeerBase : INormPeer
{
    protected ManagedPeerBase(CaseSpec spec, CaseData data)
    {
        Spec = spec;
        Data = data;
        int p = spec.ParameterSize;
        Gamma = (float[])data.Gamma.Clone();
        Beta = (float[])data.Beta.Clone();
        GammaGradient = new float[p];
        BetaGradient = new float[p];
        RunMean = new float[p];
        RunVar = new float[p];
        Array.Fill(RunVar, 1f);
    }

    public abstract string Name { get; }
    public bool SupportsTraining => true;
    protected CaseSpec Spec { get; }
    protected CaseData Data { get; }
    protected float[] Gamma { get; }
    protected float[] Beta { get; }
    protected float[] GammaGradient { get; }
    protected float[] BetaGradient { get; }
    protected float[] RunMean { get; }
    protected float[] RunVar { get; }
    protected long BatchesTracked { get; set; }

    public float[]? RunningMean => Spec.IsBatch ? RunMean : null;
    public float[]? RunningVar => Spec.IsBatch ? RunVar : null;
    public float[]? GammaGrad => GammaGradient;
    public float[]? BetaGrad => Spec.HasBeta ? BetaGradient : null;

    public virtual void ForwardTraining(ReadOnlySpan<float> x, Span<float> y) => throw new NotSupportedException();
    public virtual void ForwardInference(ReadOnlySpan<float> x, Span<float> y) => throw new NotSupportedException();
    public virtual void Forward(ReadOnlySpan<float> x, Span<float> y) => throw new NotSupportedException();
    public abstract void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx);

    public void LoadInferenceStatistics()
    {
        Data.InferenceMean.CopyTo(RunMean, 0);
        Data.InferenceVar.CopyTo(RunVar, 0);
    }

    /// <summary>PyTorch's running update: momentum, unbiased variance.</summary>
    protected void UpdateRunning(int c, double mean, double biasedVar, long count)
    {
        const double m = CaseSpec.Momentum;
        RunMean[c] = (float)((1 - m) * RunMean[c] + m * mean);
        RunVar[c] = (float)((1 - m) * RunVar[c] + m * biasedVar * count / (count - 1));
    }

    public virtual void Dispose()
    {
        GC.SuppressFinalize(this);
    }
}
