using System;
using System.IO;

namespace NormGen.Package.Tests;

/// <summary>
/// A console project as a user would write it after reading the README: one <c>PackageReference</c>, a BatchNorm1d
/// declaration, training and inference calls, and one deliberate bug (inference on a layer nothing trained) that
/// NG1001 must point at. Its nuget.config lists the local feed and nuget.org, maps NormGen to the local feed only and
/// restores into a packages folder of its own; empty Directory.Build.props/.targets stop MSBuild from importing
/// anything from the folders above.
/// </summary>
internal static class ConsumerProject
{
    public const string ProjectFile = "App/App.csproj";

    /// <summary>The statement NG1001 must flag: a layer created and used for inference with nothing trained or loaded.</summary>
    public const string UntrainedInferenceCall = "untrained.ForwardInference(x, y);";

    public const int Batch = 64;

    public const int Channels = 4;

    public const string Program = """
        using System;
        using System.Globalization;
        using Consumer;

        // 64 samples × 4 channels; channel c has its own scale ((c + 1)·10) and offset (100·c).
        const int Batch = 64;
        const int Channels = FeatureNorm.SampleSize;
        var random = new Random(1);
        var x = new float[Batch * Channels];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i % Channels;
            x[i] = (float)((random.NextDouble() * 2 - 1) * (c + 1) * 10 + 100 * c);
        }

        var norm = new FeatureNorm();
        var y = new float[x.Length];
        norm.ForwardTraining(x, y);
        for (int c = 0; c < Channels; c++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"channel {c}: x mean {Mean(x, c):R} y mean {Mean(y, c):R} y std {Std(y, c):R} running mean {norm.RunningMean[c]:R}"));
        }

        var untrained = new FeatureNorm();
        untrained.ForwardInference(x, y);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"untrained inference: y[1] {y[1]:R}"));

        static double Mean(float[] data, int c)
        {
            double sum = 0;
            for (int n = 0; n < Batch; n++)
            {
                sum += data[n * Channels + c];
            }
            return sum / Batch;
        }

        static double Std(float[] data, int c)
        {
            double mean = Mean(data, c), sum = 0;
            for (int n = 0; n < Batch; n++)
            {
                double d = data[n * Channels + c] - mean;
                sum += d * d;
            }
            return Math.Sqrt(sum / Batch);
        }
        """;

    public const string Layers = """
        using NormGen;

        namespace Consumer;

        /// <summary>BatchNorm1d(4) on (N, C).</summary>
        [Normalize(Shape = "N,C=4", Axes = "N")]
        public partial class FeatureNorm { }
        """;

    public static void Write(string directory, string feed, string packages, string version)
    {
        Directory.CreateDirectory(Path.Combine(directory, "App"));
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local">
                  <package pattern="NormGen" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
              <config>
                <add key="globalPackagesFolder" value="{packages}" />
              </config>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(directory, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(directory, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(directory, ProjectFile), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
                <CompilerGeneratedFilesOutputPath>$(BaseIntermediateOutputPath)generated</CompilerGeneratedFilesOutputPath>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="NormGen" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "App", "Program.cs"), Program);
        File.WriteAllText(Path.Combine(directory, "App", "Layers.cs"), Layers);
    }

    /// <summary>The 1-based line and column of <see cref="UntrainedInferenceCall"/> in <see cref="Program"/>.</summary>
    public static (int Line, int Column) UntrainedInferenceLocation()
    {
        string[] lines = Program.Split('\n');
        int index = Array.FindIndex(lines, line => line.Contains(UntrainedInferenceCall, StringComparison.Ordinal));
        return (index + 1, lines[index].IndexOf(UntrainedInferenceCall, StringComparison.Ordinal) + 1);
    }
}
