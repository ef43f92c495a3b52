using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using NormGen.Generator.Diagnostics;
using NormGen.Generator.Parsing;

namespace NormGen.Generator.Analyzers;

/// <summary>
/// Reports NG0xxx: why a <c>[Normalize]</c> declaration cannot be generated, on the attribute argument at fault
/// (or the type's name when the type itself is at fault). Uses the generator's own parser, so the two agree.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DeclarationAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.TypeNotPartial,
        DiagnosticDescriptors.MalformedShape,
        DiagnosticDescriptors.RepeatedLetter,
        DiagnosticDescriptors.InvalidAxes,
        DiagnosticDescriptors.InvalidUnsizedDims,
        DiagnosticDescriptors.InvalidGroups,
        DiagnosticDescriptors.InvalidEpsilon,
        DiagnosticDescriptors.InvalidMomentum,
        DiagnosticDescriptors.UnsupportedElementType,
        DiagnosticDescriptors.InvalidAffineAxes,
        DiagnosticDescriptors.InvalidKindForBatchStatistics,
        DiagnosticDescriptors.StaticType);

    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            INamedTypeSymbol? attributeType = start.Compilation.GetTypeByMetadataName(NormalizeGenerator.AttributeName);
            if (attributeType is null)
            {
                return;
            }
            start.RegisterSymbolAction(symbolContext => Analyze(symbolContext, attributeType), SymbolKind.NamedType);
        });
    }

    private static void Analyze(SymbolAnalysisContext context, INamedTypeSymbol attributeType)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        AttributeData? attribute = type.GetAttributes()
            .FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeType));
        if (attribute?.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) is not AttributeSyntax attributeSyntax)
        {
            return;
        }
        if (attributeSyntax.Parent?.Parent is not TypeDeclarationSyntax declaration)
        {
            return;
        }

        DeclarationProblem? problem = DeclarationReader.CheckType(type, declaration, out TypeDeclarationSyntax culprit);
        if (problem is null)
        {
            SpecParser.Parse(AttributeArguments.From(attribute), out problem);
        }
        if (problem is null)
        {
            return;
        }

        Location location = problem.ArgumentName is null
            ? culprit.Identifier.GetLocation()
            : ArgumentLocation(attributeSyntax, problem.ArgumentName);
        context.ReportDiagnostic(Diagnostic.Create(problem.Descriptor, location, problem.MessageArgs));
    }

    /// <summary>The named argument's value (e.g. the string after <c>Shape =</c>), or the attribute when the argument is absent.</summary>
    private static Location ArgumentLocation(AttributeSyntax attribute, string name)
    {
        AttributeArgumentSyntax? argument = attribute.ArgumentList?.Arguments
            .FirstOrDefault(a => a.NameEquals?.Name.Identifier.Text == name);
        return (argument?.Expression ?? (SyntaxNode)attribute).GetLocation();
    }
}
