using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using NormGen.Generator;
using NormGen.Generator.Analyzers;

namespace NormGen.Generator.Tests.Support;

/// <summary>Compiles C# source against the running framework and NormGen, and runs the generator and analyzer over it.</summary>
internal static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return platform
            .Where(path => Path.GetFileName(path) is var name && (name.StartsWith("System.", StringComparison.Ordinal) || name is "mscorlib.dll" or "netstandard.dll"))
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .Append(MetadataReference.CreateFromFile(typeof(NormalizeAttribute).Assembly.Location))
            .ToImmutableArray();
    });

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    public static CSharpCompilation Compile(params string[] sources) =>
        CSharpCompilation.Create(
            "UserProject",
            sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"User{i}.cs")),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [new NormalizeGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator; returns the generated files and the compilation with them added.</summary>
    public static (GeneratorRunResult Result, Compilation Output) Generate(params string[] sources)
    {
        CSharpCompilation compilation = Compile(sources);
        GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        return (driver.GetRunResult().Results.Single(), output);
    }

    /// <summary>The NG0xxx diagnostics the declaration analyzer reports.</summary>
    public static ImmutableArray<Diagnostic> Analyze(params string[] sources)
    {
        CSharpCompilation compilation = Compile(sources);
        var analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new DeclarationAnalyzer());
        return compilation.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync(CancellationToken.None).Result;
    }

    /// <summary>Compiler errors and warnings (not hidden/info) of a compilation.</summary>
    public static IEnumerable<Diagnostic> Problems(Compilation compilation) =>
        compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning);

    /// <summary>The text of one generated kernel method, from its signature to the next method's; fails the test where there is none.</summary>
    public static string Kernel(string generated, string name)
    {
        var match = System.Text.RegularExpressions.Regex.Match(generated, $@"private static void {name}\((?:(?!private static void)[\s\S])*");
        Xunit.Assert.True(match.Success, $"no kernel {name} in the generated code");
        return match.Value;
    }
}
