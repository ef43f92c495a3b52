using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using NormGen.Generator.Emit;
using NormGen.Generator.Models;
using NormGen.Generator.Parsing;

namespace NormGen.Generator;

/// <summary>
/// The incremental generator: every type with <c>[Normalize]</c> becomes a value-equatable
/// <see cref="NormalizeDeclaration"/>, and each declaration one generated file. Declarations that cannot be
/// generated produce nothing here; <see cref="Analyzers.DeclarationAnalyzer"/> reports why.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NormalizeGenerator : IIncrementalGenerator
{
    /// <summary>The attribute's metadata name.</summary>
    public const string AttributeName = "NormGen.NormalizeAttribute";

    /// <summary>Tracking names of the pipeline steps, for caching tests.</summary>
    public static class TrackingNames
    {
        public const string Declarations = nameof(Declarations);
        public const string ValidDeclarations = nameof(ValidDeclarations);
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<NormalizeDeclaration> declarations = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                AttributeName,
                predicate: static (node, _) => node is ClassDeclarationSyntax or StructDeclarationSyntax or RecordDeclarationSyntax,
                transform: static (context, _) => DeclarationReader.Read(context))
            .WithTrackingName(TrackingNames.Declarations)
            .Where(static declaration => declaration is not null)
            .Select(static (declaration, _) => declaration!)
            .WithTrackingName(TrackingNames.ValidDeclarations);

        context.RegisterSourceOutput(declarations, static (output, declaration) =>
            output.AddSource(HintName(declaration), SourceText.From(NormalizeEmitter.Emit(declaration), Encoding.UTF8)));
    }

    /// <summary>E.g. <c>Demo.Outer.StemNorm.Normalize.g.cs</c>.</summary>
    private static string HintName(NormalizeDeclaration declaration)
    {
        var name = new StringBuilder();
        foreach (char ch in declaration.FullName)
        {
            name.Append(char.IsLetterOrDigit(ch) || ch is '.' or '_' ? ch : '_');
        }
        return name + ".Normalize.g.cs";
    }
}
