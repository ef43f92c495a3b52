using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ScottPlot;

namespace NormGen.Training;

/// <summary>The loss curves of every run in one PNG (ScottPlot renders with SkiaSharp, no display needed).</summary>
internal static class LossPlot
{
    /// <summary>The top of the loss axis: a little above chance (ln 4); larger losses are named in the legend.</summary>
    private const double LossLimit = 2;

    public static void Write(string path, IReadOnlyList<Run> runs)
    {
        var plot = new Plot();
        foreach (Run run in runs)
        {
            double[] epochs = Enumerable.Range(1, run.Losses.Length).Select(epoch => (double)epoch).ToArray();
            var line = plot.Add.ScatterLine(epochs, run.Losses);
            line.LineWidth = 2;
            double highest = run.Losses.Max();
            line.LegendText = string.Create(CultureInfo.InvariantCulture,
                $"{run.Name} (η = {run.LearningRate:G1}): test accuracy {run.TestAccuracy:P0}")
                + (highest > LossLimit ? string.Create(CultureInfo.InvariantCulture, $"; loss up to {highest:G2}, off the chart") : "");
        }

        var chance = plot.Add.HorizontalLine(Math.Log(4));
        chance.LinePattern = LinePattern.Dashed;
        chance.Color = Colors.Gray;
        chance.LegendText = "chance (ln 4)";

        plot.Title("MLP on features of scales 10^-3 … 10^4, plain SGD");
        plot.XLabel("epoch");
        plot.YLabel("mean training cross-entropy");
        plot.Axes.SetLimits(0, runs.Max(run => run.Losses.Length) + 1, 0, LossLimit);
        plot.ShowLegend(Edge.Bottom);
        plot.SavePng(path, 960, 680);
    }
}
