using System;

namespace NormGen.Training;

/// <summary>A fully connected layer y = x·Wᵀ + b on row-major batches, with its gradients and a plain SGD step.</summary>
internal sealed class Linear
{
    private readonly float[] _weight;     // Outputs × Inputs
    private readonly float[] _bias;
    private readonly float[] _weightGrad;
    private readonly float[] _biasGrad;

    /// <summary>He-uniform weights (for the ReLU that follows), zero bias.</summary>
    public Linear(int inputs, int outputs, Random random)
    {
        Inputs = inputs;
        Outputs = outputs;
        _weight = new float[outputs * inputs];
        _bias = new float[outputs];
        _weightGrad = new float[_weight.Length];
        _biasGrad = new float[outputs];
        double limit = Math.Sqrt(6.0 / inputs);
        for (int i = 0; i < _weight.Length; i++)
        {
            _weight[i] = (float)((random.NextDouble() * 2 - 1) * limit);
        }
    }

    public int Inputs { get; }

    public int Outputs { get; }

    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        int batch = x.Length / Inputs;
        for (int n = 0; n < batch; n++)
        {
            ReadOnlySpan<float> row = x.Slice(n * Inputs, Inputs);
            for (int o = 0; o < Outputs; o++)
            {
                ReadOnlySpan<float> w = _weight.AsSpan(o * Inputs, Inputs);
                float sum = _bias[o];
                for (int i = 0; i < Inputs; i++)
                {
                    sum += w[i] * row[i];
                }

                y[n * Outputs + o] = sum;
            }
        }
    }

    /// <summary>Accumulates dW += dyᵀ·x and db += Σ dy; writes dx = dy·W unless <paramref name="dx"/> is empty.</summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int batch = x.Length / Inputs;
        dx.Clear();
        for (int n = 0; n < batch; n++)
        {
            ReadOnlySpan<float> row = x.Slice(n * Inputs, Inputs);
            for (int o = 0; o < Outputs; o++)
            {
                float g = dy[n * Outputs + o];
                _biasGrad[o] += g;
                Span<float> wGrad = _weightGrad.AsSpan(o * Inputs, Inputs);
                for (int i = 0; i < Inputs; i++)
                {
                    wGrad[i] += g * row[i];
                }

                if (!dx.IsEmpty)
                {
                    ReadOnlySpan<float> w = _weight.AsSpan(o * Inputs, Inputs);
                    Span<float> dxRow = dx.Slice(n * Inputs, Inputs);
                    for (int i = 0; i < Inputs; i++)
                    {
                        dxRow[i] += g * w[i];
                    }
                }
            }
        }
    }

    /// <summary>θ −= η·∂L/∂θ, then zeroes the gradients.</summary>
    public void Step(float learningRate)
    {
        Sgd.Update(_weight, _weightGrad, learningRate);
        Sgd.Update(_bias, _biasGrad, learningRate);
        Array.Clear(_weightGrad);
        Array.Clear(_biasGrad);
    }
}

/// <summary>The plain SGD update shared by the linear layers and the normalization layers' γ and β.</summary>
internal static class Sgd
{
    /// <summary>parameter −= η·gradient.</summary>
    public static void Update(Span<float> parameter, ReadOnlySpan<float> gradient, float learningRate)
    {
        for (int i = 0; i < parameter.Length; i++)
        {
            parameter[i] -= learningRate * gradient[i];
        }
    }
}
