using System;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace NormGen.Package.Tests;

/// <summary>The package as a user gets it: its contents, a fresh project built and run against it, the old-compiler error.</summary>
public sealed class PackageTests : IClassFixture<PackageFixture>
{
    private readonly PackageFixture _fixture;

    public PackageTests(PackageFixture fixture) => _fixture = fixture;

    [Fact]
    public void Package_holds_the_library_the_analyzers_the_targets_the_readme_and_the_licence_and_depends_on_nothing()
    {
        using ZipArchive package = ZipFile.OpenRead(_fixture.PackagePath);
        string[] files = package.Entries
            .Select(entry => entry.FullName)
            .Where(name => !name.StartsWith("_rels/", StringComparison.Ordinal)
                && !name.StartsWith("package/", StringComparison.Ordinal)
                && name != "[Content_Types].xml")
            .Order(StringComparer.Ordinal)
            .ToArray();

        string[] expected =
        [
            "LICENSE",
            "NormGen.nuspec",
            "README.md",
            "analyzers/dotnet/cs/NormGen.Generator.dll",
            "buildTransitive/NormGen.targets",
            "lib/net10.0/NormGen.dll",
            "lib/net10.0/NormGen.xml",
            "lib/net8.0/NormGen.dll",
            "lib/net8.0/NormGen.xml",
        ];
        // The code fixes are an assembly of their own; the package carries it whenever the repository has the project.
        if (File.Exists(Path.Combine(_fixture.RepositoryRoot, "generator", "NormGen.CodeFixes", "NormGen.CodeFixes.csproj")))
        {
            expected = [.. expected, "analyzers/dotnet/cs/NormGen.CodeFixes.dll"];
        }

        Assert.Equal(expected.Order(StringComparer.Ordinal), files);

        XDocument nuspec = XDocument.Load(package.GetEntry("NormGen.nuspec")!.Open());
        XNamespace ns = nuspec.Root!.Name.Namespace;
        XElement metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal("NormGen", metadata.Element(ns + "id")!.Value);
        Assert.Equal(_fixture.Version, metadata.Element(ns + "version")!.Value);
        Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
        Assert.Equal("MIT", metadata.Element(ns + "license")!.Value);

        // No dependency at all, so nothing of the generator's (Microsoft.CodeAnalysis.*) reaches a user's references.
        string[] groups = metadata.Element(ns + "dependencies")!.Elements(ns + "group")
            .Select(group => group.Attribute("targetFramework")!.Value).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["net10.0", "net8.0"], groups);
        Assert.Empty(metadata.Descendants(ns + "dependency"));
    }

    [Fact]
    public void Fresh_console_project_builds_against_the_package_runs_and_gets_NG1001_at_the_untrained_inference_call()
    {
        CommandResult build = Dotnet.Run(_fixture.ConsumerDirectory, "build", ConsumerProject.ProjectFile, "--no-restore", "-nodeReuse:false");
        Assert.True(build.ExitCode == 0, build.ToString());

        // Exactly one warning, NG1001, on the untrained layer's ForwardInference call.
        (int line, int column) = ConsumerProject.UntrainedInferenceLocation();
        string[] warnings = Regex.Matches(build.Output, @"^(?<file>\S.*?)\((?<line>\d+),(?<column>\d+)\): warning (?<id>\w+):", RegexOptions.Multiline)
            .Select(match => $"{Path.GetFileName(match.Groups["file"].Value)}({match.Groups["line"].Value},{match.Groups["column"].Value}) {match.Groups["id"].Value}")
            .Distinct()
            .ToArray();
        Assert.True(warnings.SequenceEqual([$"Program.cs({line},{column}) NG1001"]), $"warnings: [{string.Join(", ", warnings)}]\n{build}");

        // The generated code is on disk where the README says, under a name the user recognizes.
        string generated = Path.Combine(_fixture.ConsumerDirectory, "App", "obj", "generated",
            "NormGen.Generator", "NormGen.Generator.NormalizeGenerator", "Consumer.FeatureNorm.Normalize.g.cs");
        Assert.True(File.Exists(generated), $"{generated} is missing\n{build}");

        // The restore brought in NormGen and nothing else: none of the generator's dependencies.
        using JsonDocument assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(_fixture.ConsumerDirectory, "App", "obj", "project.assets.json")));
        string[] libraries = assets.RootElement.GetProperty("libraries").EnumerateObject().Select(library => library.Name).ToArray();
        Assert.Equal([$"NormGen/{_fixture.Version}"], libraries);
        string restored = Path.Combine(_fixture.WorkDirectory, "packages", "normgen", _fixture.Version, $"normgen.{_fixture.Version}.nupkg");
        Assert.Equal(File.ReadAllBytes(_fixture.PackagePath), File.ReadAllBytes(restored));

        CommandResult run = Dotnet.Run(_fixture.ConsumerDirectory, Path.Combine("App", "bin", "Debug", "net10.0", "App.dll"));
        Assert.True(run.ExitCode == 0, run.ToString());

        // ForwardTraining: every channel of y has mean 0 and (biased) standard deviation 1, and the running mean moved
        // from 0 by Momentum (0.1) times the batch mean.
        var channels = Regex.Matches(run.Output, @"^channel (?<c>\d+): x mean (?<x>\S+) y mean (?<mean>\S+) y std (?<std>\S+) running mean (?<running>\S+)$", RegexOptions.Multiline);
        Assert.True(channels.Count == ConsumerProject.Channels, run.ToString());
        foreach (Match channel in channels)
        {
            double xMean = Number(channel, "x"), yMean = Number(channel, "mean"), yStd = Number(channel, "std"), running = Number(channel, "running");
            Assert.True(Math.Abs(yMean) < 1e-5, $"channel {channel.Groups["c"].Value}: y mean {yMean}\n{run}");
            Assert.True(Math.Abs(yStd - 1) < 1e-4, $"channel {channel.Groups["c"].Value}: y std {yStd}\n{run}");
            Assert.True(Math.Abs(running - 0.1 * xMean) <= 1e-5 * Math.Max(1, Math.Abs(xMean)), $"channel {channel.Groups["c"].Value}: running mean {running}, batch mean {xMean}\n{run}");
        }

        // The bug NG1001 points at is real: with running statistics of mean 0 and variance 1, y is x itself (γ = 1, β = 0).
        Match untrained = Regex.Match(run.Output, @"^untrained inference: y\[1\] (?<y>\S+)$", RegexOptions.Multiline);
        Assert.True(untrained.Success, run.ToString());
        Assert.InRange(Number(untrained, "y"), 50, 150);
    }

    [Fact]
    public void Build_with_a_compiler_older_than_Roslyn_4_14_fails_with_NG9001_before_compiling()
    {
        // CompilerApiVersion ("roslyn5.9" with this SDK) is what NormGen.targets reads; pretend the compiler is Roslyn 4.13.
        CommandResult build = Dotnet.Run(_fixture.ConsumerDirectory,
            "build", ConsumerProject.ProjectFile, "--no-restore", "-nodeReuse:false", "-p:CompilerApiVersion=roslyn4.13");
        Assert.True(build.ExitCode != 0, build.ToString());
        Assert.Contains("error NG9001: NormGen needs Roslyn 4.14 or newer (the .NET 9.0.300 SDK / Visual Studio 2022 17.14 or newer); this build uses Roslyn 4.13", build.Output);
        Assert.DoesNotContain("error CS", build.Output); // CoreCompile never ran: no "no definition for ForwardTraining"
    }

    [Theory]
    [InlineData("roslyn4.9", "4.9", true)]
    [InlineData("roslyn4.13", "4.13", true)]
    [InlineData("roslyn4.14", "4.14", false)]
    [InlineData("roslyn4.20", "4.20", false)]
    [InlineData("roslyn5.0", "5.0", false)]
    public void Compiler_version_check_compares_versions_not_strings(string compilerApiVersion, string read, bool fails)
    {
        CommandResult check = CheckCompilerVersion("-p:CompilerApiVersion=" + compilerApiVersion);
        Assert.Contains("\"NormGenMinimumCompilerVersion\": \"4.14\"", check.Output);
        Assert.Contains($"\"_NormGenCompilerVersion\": \"{read}\"", check.Output);
        Assert.Equal(fails, check.Output.Contains("error NG9001", StringComparison.Ordinal));
        Assert.True((check.ExitCode != 0) == fails, check.ToString());
    }

    [Fact]
    public void Without_CompilerApiVersion_the_check_reads_the_compilers_task_assembly()
    {
        // Older SDKs may not set CompilerApiVersion; the check then reads the version of the compiler's
        // Microsoft.Build.Tasks.CodeAnalysis.dll, which for this SDK is at least 4.14.
        CommandResult check = CheckCompilerVersion("-p:CompilerApiVersion=");
        Match read = Regex.Match(check.Output, "\"_NormGenCompilerVersion\": \"(?<version>[0-9.]+)\"");
        Assert.True(read.Success, check.ToString());
        Assert.True(System.Version.Parse(read.Groups["version"].Value) >= new Version(4, 14), check.ToString());
        Assert.True(check.ExitCode == 0, check.ToString());
    }

    /// <summary>Runs only the check (on the restored consumer project) and prints, as JSON, the versions it compared.</summary>
    private CommandResult CheckCompilerVersion(string property) =>
        Dotnet.Run(_fixture.ConsumerDirectory, "msbuild", ConsumerProject.ProjectFile, "-nologo", "-nodeReuse:false",
            "-t:NormGenCheckCompilerVersion", "-getProperty:NormGenMinimumCompilerVersion", "-getProperty:_NormGenCompilerVersion", property);

    private static double Number(Match match, string group) => double.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);
}
