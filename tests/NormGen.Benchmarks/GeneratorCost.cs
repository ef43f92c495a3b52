using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace NormGen.Benchmarks;

/// <summary>
/// The generator's own cost (issue 4, point 4): NormGen's incremental generator over a compilation with
/// 100 <c>[Normalize]</c> declarations (in 20 files, plus one unrelated file), through
/// <see cref="CSharpGeneratorDriver"/> — what the IDE does on every keystroke.
/// <list type="bullet">
/// <item><c>Cold</c>: a new driver on a compilation that has bound nothing yet (a clone): the first run after opening the project.</item>
/// <item><c>AfterUnrelatedEdit</c>: the warm driver on a compilation in which only the unrelated file changed
/// (two versions alternate, so each call sees an edit): every step should be cached.</item>
/// </list>
/// The generator DLL is loaded from <c>normgen-generator/</c> next to this assembly (the project ships a copy),
/// and its <see cref="IIncrementalGenerator"/> found by reflection, so an internal generator type is fine.
/// </summary>
[MemoryDiagnoser]
public class GeneratorCost
{
    public const int Declarations = 100;

    private static readonly Lazy<(IIncrementalGenerator? Generator, string Detail)> Loaded = new(Load);

    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _edited = null!;
    private GeneratorDriver _warm = null!;
    private int _turn;

    public static bool Available => Loaded.Value.Generator is not null;

    public static string Detail => Loaded.Value.Detail;

    [GlobalSetup]
    public void Setup()
    {
        IIncrementalGenerator generator = Loaded.Value.Generator ?? throw new InvalidOperationException(Detail);
        (_compilation, _edited) = BuildCompilations();
        _warm = NewDriver(generator).RunGenerators(_compilation);
        _warm = _warm.RunGenerators(_edited);
    }

    [Benchmark]
    public GeneratorDriver Cold() => NewDriver(Loaded.Value.Generator!).RunGenerators(_compilation.Clone());

    [Benchmark]
    public GeneratorDriver AfterUnrelatedEdit()
    {
        _warm = _warm.RunGenerators((_turn++ & 1) == 0 ? _compilation : _edited);
        return _warm;
    }

    /// <summary>Runs the generator once and tells what it produced (the startup report).</summary>
    public static string Describe()
    {
        if (Loaded.Value.Generator is null) return Detail;
        (CSharpCompilation compilation, _) = BuildCompilations();
        GeneratorDriverRunResult result = NewDriver(Loaded.Value.Generator).RunGenerators(compilation).GetRunResult();
        int sources = result.Results.Sum(r => r.GeneratedSources.Length);
        int errors = result.Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);
        Exception? ex = result.Results.Select(r => r.Exception).FirstOrDefault(e => e is not null);
        return $"{Detail}; over {Declarations} declarations it generated {sources} source files, {errors} error diagnostics"
            + (ex is null ? "" : $", EXCEPTION {ex.GetType().Name}: {ex.Message}");
    }

    private static GeneratorDriver NewDriver(IIncrementalGenerator generator) =>
        CSharpGeneratorDriver.Create(
            new[] { generator.AsSourceGenerator() },
            parseOptions: Parse,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: false));

    private static readonly CSharpParseOptions Parse = new(LanguageVersion.Latest);

    private static readonly (string Shape, string Axes, string Extra)[] Variants =
    {
        ("N,C=64,H=32,W=32", "NHW", ""),
        ("N,C=256,H=14,W=14", "NHW", ""),
        ("N,C=32,H=8,W=8", "NHW", ", Momentum = 0.01"),
        ("N,C=512", "N", ""),
        ("N,D=768", "D", ""),
        ("N,T,D=64", "D", ""),
        ("N,C=64,H=32,W=32", "CHW", ", Groups = 8"),
        ("N,D=768", "D", ", Kind = NormKind.Rms"),
        ("N,C=16,H=8,W=8", "HW", ""),
        ("N,C=16,L=50", "NL", ", ElementType = typeof(double)"),
    };

    private static (CSharpCompilation Compilation, CSharpCompilation Edited) BuildCompilations()
    {
        var trees = new List<SyntaxTree>();
        for (int file = 0; file < 20; file++)
        {
            var sb = new StringBuilder("using NormGen;\n\nnamespace Bench.Layers;\n\n");
            for (int k = 0; k < Declarations / 20; k++)
            {
                int i = file * (Declarations / 20) + k;
                var (shape, axes, extra) = Variants[i % Variants.Length];
                sb.Append($"[Normalize(Shape = \"{shape}\", Axes = \"{axes}\"{extra})]\npublic partial class Layer{i:D3} {{ }}\n\n");
            }
            trees.Add(CSharpSyntaxTree.ParseText(sb.ToString(), Parse, path: $"Layers{file:D2}.cs"));
        }
        SyntaxTree unrelated = CSharpSyntaxTree.ParseText(Unrelated(0), Parse, path: "Unrelated.cs");
        trees.Add(unrelated);
        var compilation = CSharpCompilation.Create(
            "GeneratorCostInput",
            trees,
            References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(unrelated, CSharpSyntaxTree.ParseText(Unrelated(1), Parse, path: "Unrelated.cs"));
        return (compilation, edited);
    }

    private static string Unrelated(int version) => $$"""
        namespace Bench;

        public static class Trainer
        {
            public static float Step(float loss, float lr)
            {
                float scaled = loss * lr;
                return scaled + {{version}}f;
            }
        }
        """;

    private static IEnumerable<MetadataReference> References()
    {
        string tpa = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "";
        foreach (string path in tpa.Split(Path.PathSeparator))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (name is "System.Runtime" or "System.Private.CoreLib" or "netstandard" or "System.Memory" or "System.Runtime.Intrinsics"
                or "System.Numerics.Vectors" or "System.Runtime.InteropServices" or "System.Threading" or "System.Threading.Tasks.Parallel"
                or "System.Collections" or "System.Linq" or "System.Runtime.CompilerServices.Unsafe" or "System.ComponentModel.Primitives" or "System.ComponentModel")
                yield return MetadataReference.CreateFromFile(path);
        }
        yield return MetadataReference.CreateFromFile(typeof(NormGen.NormalizeAttribute).Assembly.Location);
    }

    private static (IIncrementalGenerator?, string) Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "normgen-generator", "NormGen.Generator.dll");
        if (!File.Exists(path)) return (null, $"generator DLL not found at {path} (build the generator project first)");
        try
        {
            Assembly asm = Assembly.LoadFrom(path);
            Type[] types;
            try { types = asm.GetTypes(); }
            catch (ReflectionTypeLoadException e) { types = e.Types.Where(t => t is not null).ToArray()!; }
            Type? type = types.FirstOrDefault(t => t.FullName == "NormGen.Generator.NormalizeGenerator" && typeof(IIncrementalGenerator).IsAssignableFrom(t))
                ?? types.FirstOrDefault(t => !t.IsAbstract && typeof(IIncrementalGenerator).IsAssignableFrom(t));
            if (type is null) return (null, $"no IIncrementalGenerator in {path}");
            var generator = (IIncrementalGenerator)Activator.CreateInstance(type, nonPublic: true)!;
            return (generator, $"{type.FullName} ({(type.IsPublic ? "public" : "internal")}) from {Path.GetFileName(path)}");
        }
        catch (Exception e) when (e is FileLoadException or BadImageFormatException or TypeLoadException or MissingMethodException or TargetInvocationException or FileNotFoundException)
        {
            return (null, $"could not load the generator: {e.GetType().Name}: {e.Message}");
        }
    }
}
