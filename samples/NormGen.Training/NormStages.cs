using System;

namespace NormGen.Training;

/// <summary>A normalization stage of the network: nothing, a BatchNorm or a LayerNorm.</summary>
internal interface INormStage
{
    /// <summary>Training mode: BatchNorm normalizes with the batch's statistics and updates its running statistics.</summary>
    void ForwardTraining(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>Evaluation mode: BatchNorm normalizes with its running statistics.</summary>
    void ForwardInference(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>dx from dy, for the most recent <see cref="ForwardTraining"/>; accumulates the γ/β gradients.</summary>
    void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx);

    /// <summary>SGD on γ and β, then zero their gradients.</summary>
    void Step(float learningRate);
}

internal sealed class NoNorm : INormStage
{
    public void ForwardTraining(ReadOnlySpan<float> x, Span<float> y) => x.CopyTo(y);

    public void ForwardInference(ReadOnlySpan<float> x, Span<float> y) => x.CopyTo(y);

    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => dy.CopyTo(dx);

    public void Step(float learningRate)
    {
    }
}

/// <summary>BatchNorm1d(64) on the first linear layer's output.</summary>
internal sealed class HiddenBatchNormStage : INormStage
{
    private readonly HiddenBatchNorm _norm = new();

    public void ForwardTraining(ReadOnlySpan<float> x, Span<float> y) => _norm.ForwardTraining(x, y);

    public void ForwardInference(ReadOnlySpan<float> x, Span<float> y) => _norm.ForwardInference(x, y);

    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => _norm.Backward(x, dy, dx);

    public void Step(float learningRate)
    {
        Sgd.Update(_norm.Gamma, _norm.GammaGrad, learningRate);
        Sgd.Update(_norm.Beta, _norm.BetaGrad, learningRate);
        _norm.ZeroGrad();
    }
}

/// <summary>LayerNorm(64) on the first linear layer's output: per-sample statistics, the same in training and evaluation.</summary>
internal sealed class HiddenLayerNormStage : INormStage
{
    private readonly HiddenLayerNorm _norm = new();

    public void ForwardTraining(ReadOnlySpan<float> x, Span<float> y) => _norm.Forward(x, y);

    public void ForwardInference(ReadOnlySpan<float> x, Span<float> y) => _norm.Forward(x, y);

    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => _norm.Backward(x, dy, dx);

    public void Step(float learningRate)
    {
        Sgd.Update(_norm.Gamma, _norm.GammaGrad, learningRate);
        Sgd.Update(_norm.Beta, _norm.BetaGrad, learningRate);
        _norm.ZeroGrad();
    }
}

/// <summary>BatchNorm1d(8) on the raw inputs, before the first linear layer.</summary>
internal sealed class InputBatchNormStage : INormStage
{
    private readonly InputBatchNorm _norm = new();

    public void ForwardTraining(ReadOnlySpan<float> x, Span<float> y) => _norm.ForwardTraining(x, y);

    public void ForwardInference(ReadOnlySpan<float> x, Span<float> y) => _norm.ForwardInference(x, y);

    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => _norm.Backward(x, dy, dx);

    public void Step(float learningRate)
    {
        Sgd.Update(_norm.Gamma, _norm.GammaGrad, learningRate);
        Sgd.Update(_norm.Beta, _norm.BetaGrad, learningRate);
        _norm.ZeroGrad();
    }
}
