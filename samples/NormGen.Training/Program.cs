using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using NormGen.Training;

// An MLP trained with plain SGD on features whose scales run from 10^-3 to 10^4 (see Dataset), four ways: without
// normalization, with a BatchNorm or a LayerNorm after the first linear layer, and with a BatchNorm on the inputs.
// Every run uses the same data, initial weights (the same seed) and batch order; each configuration is trained at the
// learning rates 0.1, 0.01 and 0.001 and keeps the one with the lowest final training loss. Writes the loss curves to
// the path given (docs/loss-curves.png for the README), else to loss-curves.png next to the program.
const int TrainCount = 4096, TestCount = 1024, BatchSize = 64, Epochs = 30;
const int DataSeed = 1, InitSeed = 2, ShuffleSeed = 3;
float[] learningRates = [0.1f, 0.01f, 0.001f];

string plotPath = Path.GetFullPath(args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "loss-curves.png"));
(Dataset train, Dataset test) = Dataset.Create(TrainCount, TestCount, DataSeed);
Console.WriteLine($"{TrainCount} training and {TestCount} test samples, {Dataset.Features} features, {Dataset.Classes} classes; " +
    $"feature j is on the scale 10^(j-3). MLP {Dataset.Features}-{Mlp.Hidden}-{Mlp.Hidden}-{Dataset.Classes}, " +
    $"plain SGD, batch {BatchSize}, {Epochs} epochs.\n");

var configurations = new (string Name, Func<INormStage?> InputNorm, Func<INormStage> HiddenNorm)[]
{
    ("none", () => null, () => new NoNorm()),
    ("BatchNorm", () => null, () => new HiddenBatchNormStage()),
    ("LayerNorm", () => null, () => new HiddenLayerNormStage()),
    ("BatchNorm on the inputs", () => new InputBatchNormStage(), () => new NoNorm()),
};

var runs = new List<Run>();
foreach (var configuration in configurations)
{
    Run? best = null;
    foreach (float rate in learningRates)
    {
        var model = new Mlp(configuration.InputNorm(), configuration.HiddenNorm(), InitSeed);
        double[] losses = Train(model, rate);
        int diverged = Array.FindIndex(losses, loss => !double.IsFinite(loss));
        if (diverged >= 0)
        {
            Console.WriteLine(Invariant($"{configuration.Name}, learning rate {rate:G1}: diverges (the loss overflows in epoch {diverged + 1})"));
        }
        else if (best is null || losses[^1] < best.Losses[^1])
        {
            best = new Run(configuration.Name, rate, losses, model.Accuracy(train), model.Accuracy(test));
        }
    }

    runs.Add(best ?? throw new InvalidOperationException($"{configuration.Name} diverges at every learning rate."));
}

Console.WriteLine("\nMean training cross-entropy per epoch (chance: ln 4 = 1.386)");
Console.WriteLine("epoch " + string.Concat(runs.Select(run => $"{run.Name,26}")));
for (int epoch = 0; epoch < Epochs; epoch++)
{
    Console.WriteLine(Invariant($"{epoch + 1,5} ") + string.Concat(runs.Select(run => Invariant($"{run.Losses[epoch],26:F4}"))));
}

Console.WriteLine("\n" + $"{"normalization",-24}{"learning rate",14}{"final loss",12}{"train acc.",12}{"test acc.",12}");
foreach (Run run in runs)
{
    Console.WriteLine(Invariant($"{run.Name,-24}{run.LearningRate,14:G1}{run.Losses[^1],12:F4}{run.TrainAccuracy,12:P1}{run.TestAccuracy,12:P1}"));
}

LossPlot.Write(plotPath, runs);
Console.WriteLine($"\nLoss curves: {plotPath}");

// Epochs of SGD over shuffled batches (the same order for every model); the mean batch loss of each epoch, stopping
// at the first one that is not finite.
double[] Train(Mlp model, float learningRate)
{
    var shuffle = new Random(ShuffleSeed);
    int[] order = Enumerable.Range(0, TrainCount).ToArray();
    var x = new float[BatchSize * Dataset.Features];
    var labels = new int[BatchSize];
    var losses = new double[Epochs];
    for (int epoch = 0; epoch < Epochs; epoch++)
    {
        shuffle.Shuffle(order);
        double sum = 0;
        for (int start = 0; start < TrainCount; start += BatchSize)
        {
            for (int b = 0; b < BatchSize; b++)
            {
                int n = order[start + b];
                train.X.AsSpan(n * Dataset.Features, Dataset.Features).CopyTo(x.AsSpan(b * Dataset.Features));
                labels[b] = train.Labels[n];
            }

            sum += model.TrainStep(x, labels, learningRate);
        }

        losses[epoch] = sum / (TrainCount / BatchSize);
        if (!double.IsFinite(losses[epoch]))
        {
            break;
        }
    }

    return losses;
}

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
