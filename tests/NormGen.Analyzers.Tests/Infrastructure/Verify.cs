using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace NormGen.Analyzers.Tests.Infrastructure;

/// <summary>
/// An analyzer test over a user's source plus <see cref="Layers"/>: the NormGen runtime referenced, the generator run
/// (its output is not compared here: the generator's own tests snapshot it), and the framework from the running .NET.
/// </summary>
public sealed class NormGenAnalyzerTest<TAnalyzer> : CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public NormGenAnalyzerTest()
    {
        NormGenTestSetup.Configure(this);
    }

    protected override IEnumerable<Type> GetSourceGenerators() => NormGenTestSetup.Generators;
}

/// <summary>A code-fix test configured like <see cref="NormGenAnalyzerTest{TAnalyzer}"/>.</summary>
public sealed class NormGenCodeFixTest<TAnalyzer, TCodeFix> : CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
    where TAnalyzer : DiagnosticAnalyzer, new()
    where TCodeFix : CodeFixProvider, new()
{
    public NormGenCodeFixTest()
    {
        NormGenTestSetup.Configure(this);
    }

    protected override IEnumerable<Type> GetSourceGenerators() => NormGenTestSetup.Generators;
}

internal static class NormGenTestSetup
{
    public static IEnumerable<Type> Generators { get; } = new[] { typeof(NormGen.Generator.NormalizeGenerator) };

    public static void Configure(AnalyzerTest<DefaultVerifier> test)
    {
        test.ReferenceAssemblies = TestReferences.None;
        test.TestState.AdditionalReferences.AddRange(TestReferences.Framework);
        test.TestState.AdditionalReferences.Add(TestReferences.NormGenRuntime);
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
    }
}

/// <summary>Entry points: <c>await Verify.Analyzer&lt;X&gt;(source)</c> checks exactly the diagnostics marked in <paramref name="source"/>.</summary>
public static class Verify
{
    public static Task Analyzer<TAnalyzer>(string source, bool topLevelStatements = false, params string[] moreSources)
        where TAnalyzer : DiagnosticAnalyzer, new() =>
        Run<TAnalyzer>(source, topLevelStatements, moreSources, System.Array.Empty<DiagnosticResult>());

    /// <summary>Also checks the diagnostics given explicitly (message arguments; locations marked <c>{|#0:...|}</c>).</summary>
    public static Task AnalyzerExpecting<TAnalyzer>(string source, params DiagnosticResult[] expected)
        where TAnalyzer : DiagnosticAnalyzer, new() =>
        Run<TAnalyzer>(source, topLevelStatements: false, System.Array.Empty<string>(), expected);

    private static Task Run<TAnalyzer>(string source, bool topLevelStatements, string[] moreSources, DiagnosticResult[] expected)
        where TAnalyzer : DiagnosticAnalyzer, new()
    {
        var test = new NormGenAnalyzerTest<TAnalyzer> { TestCode = source };
        test.ExpectedDiagnostics.AddRange(expected);
        if (Layers.SourceFor(source + string.Concat(moreSources)) is { } layers)
        {
            test.TestState.Sources.Add((Layers.FileName, layers));
        }

        for (int i = 0; i < moreSources.Length; i++)
        {
            test.TestState.Sources.Add(($"/0/More{i}.cs", moreSources[i]));
        }

        if (topLevelStatements)
        {
            test.TestState.OutputKind = OutputKind.ConsoleApplication;
        }

        return test.RunAsync();
    }

    public static Task CodeFix<TAnalyzer, TCodeFix>(string source, string fixedSource, bool withLayers = false)
        where TAnalyzer : DiagnosticAnalyzer, new()
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new NormGenCodeFixTest<TAnalyzer, TCodeFix> { TestCode = source, FixedCode = fixedSource };
        if (withLayers && Layers.SourceFor(source) is { } layers)
        {
            test.TestState.Sources.Add((Layers.FileName, layers));
            test.FixedState.Sources.Add((Layers.FileName, layers));
        }

        return test.RunAsync();
    }
}
