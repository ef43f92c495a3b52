using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace NormGen.Generator.Analyzers.Usage;

/// <summary>Which question a dataflow asks about an instance.</summary>
internal enum UsageRule
{
    /// <summary>NG1001: were its running statistics computed or loaded?</summary>
    RunningStatistics,

    /// <summary>NG1002: did a training forward run?</summary>
    TrainingForward,
}

/// <summary>What using a member of an instance does to the question a <see cref="UsageRule"/> asks.</summary>
internal enum MemberEffect
{
    /// <summary>Cannot change the answer (Gamma, ZeroGrad, ...).</summary>
    Neutral,

    /// <summary>Answers it, or might (ForwardTraining, LoadRunningStatistics, a member we cannot classify).</summary>
    Kill,

    /// <summary>The call the rule is about (ForwardInference, Backward).</summary>
    Check,
}

/// <summary>
/// The NormGen symbols of one compilation, resolved once in a compilation-start action, and what the usage
/// analyzers conclude about each <c>[Normalize]</c> type (cached; safe for concurrent use).
/// </summary>
internal sealed class NormGenTypes
{
    public const string AttributeMetadataName = "NormGen.NormalizeAttribute";

    // Members that read or write only Gamma/Beta, their gradients and the counters: they neither compute nor load
    // running statistics, nor run a forward.
    private static readonly HashSet<string> ParameterMembers = new()
    {
        "Gamma", "Beta", "GammaGrad", "BetaGrad", "ZeroGrad", "SampleSize", "ParameterSize", "StatisticsSize",
        "BatchesTracked", "HasRunningStatistics",
    };

    private readonly INamedTypeSymbol _attribute;
    private readonly INamedTypeSymbol? _generatedCodeAttribute;
    private readonly ConcurrentDictionary<INamedTypeSymbol, LayerFacts?> _facts = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<(IMethodSymbol Constructor, UsageRule Rule), bool> _plainConstructors = new();

    private NormGenTypes(INamedTypeSymbol attribute, INamedTypeSymbol? generatedCodeAttribute)
    {
        _attribute = attribute;
        _generatedCodeAttribute = generatedCodeAttribute;
    }

    /// <summary>Null when the compilation does not reference NormGen: the analyzers then register nothing.</summary>
    public static NormGenTypes? Create(Compilation compilation)
    {
        INamedTypeSymbol? attribute = compilation.GetTypeByMetadataName(AttributeMetadataName);
        return attribute is null
            ? null
            : new NormGenTypes(attribute, compilation.GetTypeByMetadataName("System.CodeDom.Compiler.GeneratedCodeAttribute"));
    }

    public INamedTypeSymbol Attribute => _attribute;

    /// <summary>The facts of a <c>[Normalize]</c> type, or null for any other type.</summary>
    public LayerFacts? GetFacts(ITypeSymbol? type)
    {
        if (type is not INamedTypeSymbol named || named.TypeKind is not (TypeKind.Class or TypeKind.Struct))
        {
            return null;
        }

        named = named.OriginalDefinition;
        return _facts.GetOrAdd(named, t =>
        {
            AttributeData? attribute = GetNormalizeAttribute(t);
            return attribute is null ? null : LayerFacts.From(attribute);
        });
    }

    public AttributeData? GetNormalizeAttribute(INamedTypeSymbol type)
    {
        foreach (AttributeData attribute in type.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, _attribute))
            {
                return attribute;
            }
        }

        return null;
    }

    /// <summary>Whether the rule follows instances of this type at all.</summary>
    public bool Tracks(ITypeSymbol? type, UsageRule rule)
    {
        LayerFacts? facts = GetFacts(type);
        return facts is not null && (rule != UsageRule.RunningStatistics || facts.HasRunningStatistics);
    }

    /// <summary>What using <paramref name="member"/> on an instance of a NormGen type means for <paramref name="rule"/>.</summary>
    public MemberEffect Classify(ISymbol member, LayerFacts facts, UsageRule rule)
    {
        INamedTypeSymbol? owner = member.ContainingType;
        if (owner is null)
        {
            return MemberEffect.Kill;
        }

        if (owner.SpecialType is SpecialType.System_Object or SpecialType.System_ValueType)
        {
            return MemberEffect.Neutral;
        }

        if (GetFacts(owner) is null)
        {
            // A base type's or an interface's member: it could do anything to the instance.
            return MemberEffect.Kill;
        }

        string name = member.Name;
        switch (rule)
        {
            case UsageRule.RunningStatistics:
                if (name == "ForwardInference" && member.Kind == SymbolKind.Method)
                {
                    return MemberEffect.Check;
                }

                return ParameterMembers.Contains(name) || name == "Backward" ? MemberEffect.Neutral : MemberEffect.Kill;

            default:
                if (name == "Backward" && member.Kind == SymbolKind.Method)
                {
                    return MemberEffect.Check;
                }

                if (ParameterMembers.Contains(name) || name is "LoadRunningStatistics" or "RunningMean" or "RunningVar")
                {
                    return MemberEffect.Neutral;
                }

                // Without running statistics ForwardInference normalizes with the batch's statistics; whether it keeps
                // them for Backward is the generated code's business, so do not claim certainty there.
                return name == "ForwardInference" && facts.HasRunningStatistics ? MemberEffect.Neutral : MemberEffect.Kill;
        }
    }

    /// <summary>
    /// <c>new T(...)</c> (or target-typed <c>new(...)</c>, which IOperation wraps in an implicit conversion to the same
    /// type) with no object initializer, creating exactly <paramref name="type"/> through a plain constructor.
    /// </summary>
    public bool IsFreshCreation(IOperation? value, ITypeSymbol type, UsageRule rule, CancellationToken cancellationToken)
    {
        if (value is IConversionOperation { IsImplicit: true, Operand: IObjectCreationOperation operand } conversion
            && SymbolEqualityComparer.Default.Equals(conversion.Type, operand.Type))
        {
            value = operand;
        }

        return value is IObjectCreationOperation { Initializer: null } creation
            && SymbolEqualityComparer.Default.Equals(creation.Type?.OriginalDefinition, type.OriginalDefinition)
            && (creation.Constructor is null || IsPlainConstructor(creation.Constructor, rule, cancellationToken));
    }

    /// <summary>
    /// Whether <c>new T(...)</c> through this constructor yields an instance that the rule's question answers "no" for:
    /// the implicit or generated constructor, or a user constructor that visibly does nothing the rule cares about
    /// (no call to the type's own methods, no RunningMean/RunningVar, no <c>this</c> handed out).
    /// </summary>
    public bool IsPlainConstructor(IMethodSymbol constructor, UsageRule rule, CancellationToken cancellationToken) =>
        _plainConstructors.GetOrAdd((constructor.OriginalDefinition, rule), key => ComputePlain(key.Constructor, key.Rule, allowChaining: true, cancellationToken));

    private bool ComputePlain(IMethodSymbol constructor, UsageRule rule, bool allowChaining, CancellationToken cancellationToken)
    {
        INamedTypeSymbol type = constructor.ContainingType;
        if (!BaseConstructorsArePlain(type.BaseType, rule, depth: 0, cancellationToken))
        {
            // A base class's constructor could register the instance somewhere that trains it.
            return false;
        }

        if (constructor.IsImplicitlyDeclared || IsGenerated(constructor, cancellationToken))
        {
            return true;
        }

        foreach (SyntaxReference reference in constructor.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is not ConstructorDeclarationSyntax declaration)
            {
                return false;
            }

            if (declaration.Initializer is { } initializer)
            {
                if (!initializer.ThisOrBaseKeyword.IsKind(SyntaxKind.ThisKeyword) || !allowChaining || !ArgumentsArePlain(initializer.ArgumentList, rule))
                {
                    return false;
                }

                // `: this(...)`: we cannot bind it here without a semantic model, so require every other constructor to be plain.
                foreach (IMethodSymbol other in type.InstanceConstructors)
                {
                    if (!SymbolEqualityComparer.Default.Equals(other, constructor)
                        && !ComputePlain(other, rule, allowChaining: false, cancellationToken))
                    {
                        return false;
                    }
                }
            }

            if (!BodyIsPlain((SyntaxNode?)declaration.Body ?? declaration.ExpressionBody, rule))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Every constructor of the base class chain (declared in source) visibly leaves the instance alone.</summary>
    private static bool BaseConstructorsArePlain(INamedTypeSymbol? baseType, UsageRule rule, int depth, CancellationToken cancellationToken)
    {
        if (baseType is null or { SpecialType: SpecialType.System_Object or SpecialType.System_ValueType })
        {
            return true;
        }

        if (depth > 8 || baseType.DeclaringSyntaxReferences.IsEmpty)
        {
            return false;
        }

        foreach (IMethodSymbol constructor in baseType.InstanceConstructors)
        {
            if (constructor.IsImplicitlyDeclared)
            {
                continue;
            }

            foreach (SyntaxReference reference in constructor.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is not ConstructorDeclarationSyntax declaration
                    || declaration.Initializer is { } initializer && !ArgumentsArePlain(initializer.ArgumentList, rule)
                    || !BodyIsPlain((SyntaxNode?)declaration.Body ?? declaration.ExpressionBody, rule))
                {
                    return false;
                }
            }
        }

        return BaseConstructorsArePlain(baseType.BaseType, rule, depth + 1, cancellationToken);
    }

    private bool IsGenerated(IMethodSymbol constructor, CancellationToken cancellationToken)
    {
        if (_generatedCodeAttribute is not null
            && constructor.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, _generatedCodeAttribute)))
        {
            return true;
        }

        if (constructor.DeclaringSyntaxReferences.Length == 0)
        {
            return false;
        }

        foreach (SyntaxReference reference in constructor.DeclaringSyntaxReferences)
        {
            SyntaxNode root = reference.SyntaxTree.GetRoot(cancellationToken);
            string header = root.GetLeadingTrivia().ToFullString();
            if (header.IndexOf("<auto-generated", System.StringComparison.OrdinalIgnoreCase) < 0)
            {
                return false;
            }
        }

        return true;
    }

    private static bool ArgumentsArePlain(ArgumentListSyntax arguments, UsageRule rule) => BodyIsPlain(arguments, rule);

    private static bool BodyIsPlain(SyntaxNode? body, UsageRule rule)
    {
        if (body is null)
        {
            return true;
        }

        foreach (SyntaxNode node in body.DescendantNodes())
        {
            switch (node)
            {
                case ThisExpressionSyntax or BaseExpressionSyntax when !(node.Parent is MemberAccessExpressionSyntax receiverAccess && receiverAccess.Expression == node):
                    // `this` handed to something else: anything may happen to the instance.
                    return false;

                case SimpleNameSyntax name when IsOwnMemberReference(name):
                    string text = name.Identifier.ValueText;
                    bool invoked = (name.Parent is InvocationExpressionSyntax call && call.Expression == name)
                        || (name.Parent is MemberAccessExpressionSyntax access && access.Name == name && access.Parent is InvocationExpressionSyntax outer && outer.Expression == access);
                    if (text is "RunningMean" or "RunningVar" or "LoadRunningStatistics" or "ForwardTraining" or "Forward" or "ForwardInference")
                    {
                        if (rule == UsageRule.RunningStatistics || text is "ForwardTraining" or "Forward" or "ForwardInference")
                        {
                            return false;
                        }
                    }
                    else if (invoked && text is not ("nameof" or "GetType") && !ParameterMembers.Contains(text))
                    {
                        // A call to one of the type's own methods (or a static helper): it could train or load.
                        return false;
                    }

                    break;
            }
        }

        return true;
    }

    // `Name` or `this.Name`, not `other.Name`.
    private static bool IsOwnMemberReference(SimpleNameSyntax name) =>
        name.Parent is not MemberAccessExpressionSyntax access
        || access.Name != name
        || access.Expression is ThisExpressionSyntax or BaseExpressionSyntax;
}
