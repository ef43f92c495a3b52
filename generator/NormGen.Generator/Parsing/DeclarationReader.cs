using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NormGen.Generator.Diagnostics;
using NormGen.Generator.Models;

namespace NormGen.Generator.Parsing;

/// <summary>Turns an annotated type into the generator's model, or null when it cannot be generated.</summary>
internal static class DeclarationReader
{
    public static NormalizeDeclaration? Read(GeneratorAttributeSyntaxContext context)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.Length == 0)
        {
            return null;
        }
        AttributeData attribute = context.Attributes[0];
        if (CheckType(type, (TypeDeclarationSyntax)context.TargetNode) is not null)
        {
            return null;
        }
        LayerSpec? spec = SpecParser.Parse(AttributeArguments.From(attribute), out _);
        if (spec is null)
        {
            return null;
        }

        var chain = new List<ContainingType>();
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            chain.Insert(0, new ContainingType(Keyword(current), NameWithTypeParameters(current)));
        }
        string? ns = type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString();
        string attributeText = attribute.ApplicationSyntaxReference?.GetSyntax().ToString() ?? "Normalize";
        return new NormalizeDeclaration(
            ns,
            new EquatableArray<ContainingType>(chain),
            (ns is null ? "" : ns + ".") + string.Join(".", chain.Select(c => c.Name)),
            type.IsValueType,
            "[" + string.Join(" ", attributeText.Split(default(char[]), System.StringSplitOptions.RemoveEmptyEntries)) + "]",
            spec);
    }

    /// <summary>The type-level problem that prevents generation: not partial (itself or a containing type), or static.</summary>
    public static DeclarationProblem? CheckType(INamedTypeSymbol type, TypeDeclarationSyntax syntax) =>
        CheckType(type, syntax, out _);

    /// <param name="culprit">The declaration whose name the diagnostic points at: the type, or the containing type that is not partial.</param>
    public static DeclarationProblem? CheckType(INamedTypeSymbol type, TypeDeclarationSyntax syntax, out TypeDeclarationSyntax culprit)
    {
        culprit = syntax;
        if (type.IsStatic)
        {
            return new DeclarationProblem(DiagnosticDescriptors.StaticType, null, [type.Name]);
        }
        for (SyntaxNode? node = syntax; node is not null; node = node.Parent)
        {
            if (node is TypeDeclarationSyntax declaration && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                culprit = declaration;
                return new DeclarationProblem(DiagnosticDescriptors.TypeNotPartial, null, [declaration.Identifier.Text]);
            }
        }
        return null;
    }

    private static string Keyword(INamedTypeSymbol type) => (type.IsRecord, type.IsValueType) switch
    {
        (true, true) => "record struct",
        (true, false) => "record",
        (false, true) => "struct",
        _ => type.TypeKind == TypeKind.Interface ? "interface" : "class",
    };

    private static string NameWithTypeParameters(INamedTypeSymbol type) =>
        type.TypeParameters.Length == 0 ? type.Name : $"{type.Name}<{string.Join(", ", type.TypeParameters.Select(p => p.Name))}>";
}
