using System;

namespace NormGen.Training;

/// <summary>
/// [input normalization] → Linear(8, 64) → [normalization] → ReLU → Linear(64, 64) → ReLU → Linear(64, 4), softmax
/// cross-entropy, trained with plain SGD. All hand-written: the only library code is the normalization layers.
/// </summary>
internal sealed class Mlp
{
    public const int Hidden = 64;

    private readonly Linear _first;
    private readonly Linear _second;
    private readonly Linear _output;
    private readonly INormStage? _inputNorm;
    private readonly INormStage _hiddenNorm;

    // Activations and their gradients for one batch (resized on demand: training and evaluation batches differ).
    private float[] _x0 = [], _h1 = [], _n1 = [], _a1 = [], _h2 = [], _a2 = [], _logits = [];
    private float[] _dLogits = [], _dA2 = [], _dA1 = [], _dH1 = [], _dX0 = [], _dX = [];

    /// <param name="inputNorm">A normalization of the raw inputs, or null for none.</param>
    /// <param name="hiddenNorm">The normalization between the first linear layer and its ReLU.</param>
    /// <param name="seed">Seeds the initial weights: the same seed gives every configuration the same linear layers.</param>
    public Mlp(INormStage? inputNorm, INormStage hiddenNorm, int seed)
    {
        var random = new Random(seed);
        _first = new Linear(Dataset.Features, Hidden, random);
        _second = new Linear(Hidden, Hidden, random);
        _output = new Linear(Hidden, Dataset.Classes, random);
        _inputNorm = inputNorm;
        _hiddenNorm = hiddenNorm;
    }

    /// <summary>One SGD step on a batch; returns its mean cross-entropy.</summary>
    public double TrainStep(ReadOnlySpan<float> x, ReadOnlySpan<int> labels, float learningRate)
    {
        int batch = labels.Length;
        Forward(x, batch, training: true);

        // Softmax cross-entropy; dL/dlogits = (softmax − one-hot) / batch.
        double loss = 0;
        for (int n = 0; n < batch; n++)
        {
            Span<float> logits = _logits.AsSpan(n * Dataset.Classes, Dataset.Classes);
            Span<float> dLogits = _dLogits.AsSpan(n * Dataset.Classes, Dataset.Classes);
            double max = double.NegativeInfinity;
            foreach (float v in logits)
            {
                max = Math.Max(max, v);
            }

            double sum = 0;
            foreach (float v in logits)
            {
                sum += Math.Exp(v - max);
            }

            loss += Math.Log(sum) + max - logits[labels[n]];
            for (int k = 0; k < Dataset.Classes; k++)
            {
                double p = Math.Exp(logits[k] - max) / sum;
                dLogits[k] = (float)((p - (k == labels[n] ? 1 : 0)) / batch);
            }
        }

        _output.Backward(_a2, _dLogits, _dA2);
        ReluBackward(_h2, _dA2);                     // now dL/dh2
        _second.Backward(_a1, _dA2, _dA1);
        ReluBackward(_n1, _dA1);                     // now dL/dn1
        _hiddenNorm.Backward(_h1, _dA1, _dH1);
        if (_inputNorm is null)
        {
            _first.Backward(x, _dH1, Span<float>.Empty);
        }
        else
        {
            _first.Backward(_x0, _dH1, _dX0);
            _inputNorm.Backward(x, _dX0, _dX);          // for γ and β; dL/dx itself is not needed
            _inputNorm.Step(learningRate);
        }

        _first.Step(learningRate);
        _hiddenNorm.Step(learningRate);
        _second.Step(learningRate);
        _output.Step(learningRate);
        return loss / batch;
    }

    /// <summary>The fraction of samples whose most likely class is their label, in evaluation mode.</summary>
    public double Accuracy(Dataset data)
    {
        Forward(data.X, data.Count, training: false);
        int correct = 0;
        for (int n = 0; n < data.Count; n++)
        {
            ReadOnlySpan<float> logits = _logits.AsSpan(n * Dataset.Classes, Dataset.Classes);
            int best = 0;
            for (int k = 1; k < Dataset.Classes; k++)
            {
                if (logits[k] > logits[best])
                {
                    best = k;
                }
            }

            correct += best == data.Labels[n] ? 1 : 0;
        }

        return (double)correct / data.Count;
    }

    private void Forward(ReadOnlySpan<float> x, int batch, bool training)
    {
        EnsureCapacity(batch);
        Span<float> h1 = _h1.AsSpan(0, batch * Hidden), n1 = _n1.AsSpan(0, batch * Hidden), a1 = _a1.AsSpan(0, batch * Hidden);
        Span<float> h2 = _h2.AsSpan(0, batch * Hidden), a2 = _a2.AsSpan(0, batch * Hidden);
        if (_inputNorm is not null)
        {
            Span<float> x0 = _x0.AsSpan(0, batch * Dataset.Features);
            Normalize(_inputNorm, x, x0, training);
            x = x0;
        }

        _first.Forward(x, h1);
        Normalize(_hiddenNorm, h1, n1, training);

        Relu(n1, a1);
        _second.Forward(a1, h2);
        Relu(h2, a2);
        _output.Forward(a2, _logits.AsSpan(0, batch * Dataset.Classes));
    }

    private static void Normalize(INormStage norm, ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        if (training)
        {
            norm.ForwardTraining(x, y);
        }
        else
        {
            norm.ForwardInference(x, y);
        }
    }

    private void EnsureCapacity(int batch)
    {
        if (_h1.Length == batch * Hidden)
        {
            return;
        }

        _h1 = new float[batch * Hidden];
        _n1 = new float[batch * Hidden];
        _a1 = new float[batch * Hidden];
        _h2 = new float[batch * Hidden];
        _a2 = new float[batch * Hidden];
        _dA1 = new float[batch * Hidden];
        _dA2 = new float[batch * Hidden];
        _dH1 = new float[batch * Hidden];
        _x0 = new float[batch * Dataset.Features];
        _dX0 = new float[batch * Dataset.Features];
        _dX = new float[batch * Dataset.Features];
        _logits = new float[batch * Dataset.Classes];
        _dLogits = new float[batch * Dataset.Classes];
    }

    private static void Relu(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = Math.Max(x[i], 0f);
        }
    }

    /// <summary>gradient *= (input &gt; 0): through a ReLU, given the ReLU's input.</summary>
    private static void ReluBackward(ReadOnlySpan<float> input, Span<float> gradient)
    {
        for (int i = 0; i < input.Length; i++)
        {
            if (input[i] <= 0)
            {
                gradient[i] = 0;
            }
        }
    }
}
