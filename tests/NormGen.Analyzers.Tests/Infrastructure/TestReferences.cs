using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace NormGen.Analyzers.Tests.Infrastructure;

/// <summary>
/// References for the compilations under test, built without the network: the running .NET's own framework assemblies
/// (from TRUSTED_PLATFORM_ASSEMBLIES) and the NormGen runtime library.
/// </summary>
internal static class TestReferences
{
    /// <summary>No reference package to download: <see cref="Framework"/> supplies the framework.</summary>
    public static ReferenceAssemblies None { get; } = new("net10.0");

    public static ImmutableArray<MetadataReference> Framework { get; } = LoadFramework();

    public static MetadataReference NormGenRuntime { get; } =
        MetadataReference.CreateFromFile(typeof(NormGen.NormalizeAttribute).Assembly.Location);

    private static ImmutableArray<MetadataReference> LoadFramework()
    {
        string frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string trusted = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "";
        return trusted
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(path => string.Equals(Path.GetDirectoryName(path), frameworkDirectory, StringComparison.Ordinal))
            .Where(path => Path.GetFileName(path).StartsWith("System", StringComparison.Ordinal)
                || Path.GetFileName(path) is "mscorlib.dll" or "netstandard.dll")
            .OrderBy(path => path, StringComparer.Ordinal)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }
}
