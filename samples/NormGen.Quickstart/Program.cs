using System;
using NormGen.Quickstart;

// A small batch: 4 samples × 4 channels × 3×3 pixels, where every channel has its own scale and offset
// and every sample its own brightness, so both kinds of normalization have something to undo.
const int Batch = 4;
var x = new float[Batch * FeatureBatchNorm.SampleSize];
var random = new Random(7);
for (int n = 0; n < Batch; n++)
{
    for (int c = 0; c < 4; c++)
    {
        for (int p = 0; p < 9; p++)
        {
            double noise = random.NextDouble() * 2 - 1;
            x[((n * 4) + c) * 9 + p] = (float)((c + 1) * 3 * noise + 10 * c + 5 * n);
        }
    }
}

var batchNorm = new FeatureBatchNorm();
var layerNorm = new SampleLayerNorm();
var yBatch = new float[x.Length];
var yLayer = new float[x.Length];
batchNorm.ForwardTraining(x, yBatch);
layerNorm.Forward(x, yLayer);

Console.WriteLine("NormGen quickstart: BatchNorm2d(4) and LayerNorm([4,3,3]) over the same 4×4×3×3 batch\n");
Console.WriteLine("Per channel (over the batch and the pixels): BatchNorm makes each channel mean 0, std 1.");
Print("channel", 4, (data, c) => Stats(data, (n, p) => data[((n * 4) + c) * 9 + p]), x, yBatch, yLayer);
Console.WriteLine("\nPer sample (over its channels and pixels): LayerNorm makes each sample mean 0, std 1.");
Print("sample ", Batch, (data, n) => Stats(data, (c, p) => data[((n * 4) + c) * 9 + p]), x, yBatch, yLayer);

// A few training steps (the running statistics follow the batches), then inference with them.
Console.WriteLine("\nTraining steps update the running statistics (momentum 0.1):");
var dy = new float[x.Length];
var dx = new float[x.Length];
for (int step = 1; step <= 3; step++)
{
    for (int i = 0; i < x.Length; i++)
    {
        x[i] += 0.5f;
    }
    batchNorm.ForwardTraining(x, yBatch);
    Array.Copy(yBatch, dy, dy.Length);          // the gradient of L = ½·Σy²
    batchNorm.ZeroGrad();
    batchNorm.Backward(x, dy, dx);
    Console.WriteLine($"  step {step}: RunningMean = [{Join(batchNorm.RunningMean)}], RunningVar = [{Join(batchNorm.RunningVar)}], GammaGrad = [{Join(batchNorm.GammaGrad)}]");
}
batchNorm.ForwardInference(x, yBatch);
Console.WriteLine($"Inference with the running statistics: channel 0 of sample 0 → [{Join(yBatch.AsSpan(0, 9))}]");
// Uncomment to see analyzer NG1001 in the IDE: inference on a layer whose running statistics were never computed.
// new FeatureBatchNorm().ForwardInference(x, yBatch);

Console.WriteLine("\nThe generated code is in obj/generated/NormGen.Generator/NormGen.Generator.NormalizeGenerator/ "
    + "(in the IDE: Dependencies → Analyzers → NormGen.Generator).");

static (double Mean, double Std) Stats(float[] data, Func<int, int, float> at)
{
    double sum = 0, sumSq = 0;
    int count = 0;
    for (int a = 0; a < 4; a++)
    {
        for (int p = 0; p < 9; p++)
        {
            sum += at(a, p);
            count++;
        }
    }
    double mean = sum / count;
    for (int a = 0; a < 4; a++)
    {
        for (int p = 0; p < 9; p++)
        {
            sumSq += (at(a, p) - mean) * (at(a, p) - mean);
        }
    }
    return (mean, Math.Sqrt(sumSq / count));
}

static void Print(string label, int count, Func<float[], int, (double Mean, double Std)> stats, float[] x, float[] yBatch, float[] yLayer)
{
    Console.WriteLine($"  {label}   input mean/std     after BatchNorm     after LayerNorm");
    for (int i = 0; i < count; i++)
    {
        var (m0, s0) = stats(x, i);
        var (m1, s1) = stats(yBatch, i);
        var (m2, s2) = stats(yLayer, i);
        Console.WriteLine($"  {label} {i}  {m0,7:F2} / {s0,5:F2}    {m1,6:F2} / {s1,5:F2}      {m2,6:F2} / {s2,5:F2}");
    }
}

static string Join(ReadOnlySpan<float> values)
{
    var parts = new string[values.Length];
    for (int i = 0; i < values.Length; i++)
    {
        parts[i] = values[i].ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
    }
    return string.Join(", ", parts);
}
