namespace NormGen.Training;

/// <summary>One trained configuration: its learning rate, mean training loss per epoch and final accuracies.</summary>
internal sealed record Run(string Name, float LearningRate, double[] Losses, double TrainAccuracy, double TestAccuracy);
