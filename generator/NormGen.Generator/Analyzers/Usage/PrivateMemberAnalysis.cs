using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using NormGen.Generator.Diagnostics;

namespace NormGen.Generator.Analyzers.Usage;

/// <summary>
/// NG1001 for private fields (and private auto-properties) of a type: one that only ever holds instances created with
/// <c>new</c>, that nothing anywhere in the type trains, loads or lets escape, while some member runs ForwardInference
/// on it. Flow-insensitive over every part of the type (partial declarations in several files included): a symbol-start
/// action collects every use, the symbol-end action decides.
/// </summary>
internal sealed class PrivateMemberAnalysis
{
    private readonly NormGenTypes _types;
    private readonly Dictionary<ISymbol, Candidate> _candidates;

    private PrivateMemberAnalysis(NormGenTypes types, Dictionary<ISymbol, Candidate> candidates)
    {
        _types = types;
        _candidates = candidates;
    }

    public static void OnTypeStart(SymbolStartAnalysisContext context, NormGenTypes types)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var candidates = new Dictionary<ISymbol, Candidate>(SymbolEqualityComparer.Default);
        foreach (ISymbol member in type.GetMembers())
        {
            // An attribute on the member ([ObservableProperty], serializer attributes, ...) means code we cannot see
            // (generated or reflective) may reach it.
            if (member.DeclaredAccessibility == Accessibility.Private
                && !member.IsImplicitlyDeclared
                && member.GetAttributes().IsEmpty
                && (member is IFieldSymbol { IsConst: false } field && types.Tracks(field.Type, UsageRule.RunningStatistics)
                    || member is IPropertySymbol { IsIndexer: false } property && types.Tracks(property.Type, UsageRule.RunningStatistics) && IsAutoProperty(property, context.CancellationToken)))
            {
                candidates[member] = new Candidate();
            }
        }

        if (candidates.Count == 0)
        {
            return;
        }

        // Nested types may use the private members too; their code is not part of this symbol's analysis, so any mention
        // of the name there keeps the member silent.
        foreach (INamedTypeSymbol nested in type.GetTypeMembers())
        {
            foreach (SyntaxReference reference in nested.DeclaringSyntaxReferences)
            {
                foreach (SyntaxToken token in reference.GetSyntax(context.CancellationToken).DescendantTokens())
                {
                    if (token.IsKind(SyntaxKind.IdentifierToken))
                    {
                        foreach (KeyValuePair<ISymbol, Candidate> pair in candidates)
                        {
                            if (pair.Key.Name == token.ValueText)
                            {
                                pair.Value.Disqualify();
                            }
                        }
                    }
                }
            }
        }

        var analysis = new PrivateMemberAnalysis(types, candidates);
        context.RegisterOperationAction(analysis.OnMemberReference, OperationKind.FieldReference, OperationKind.PropertyReference);
        context.RegisterOperationAction(analysis.OnInitializer, OperationKind.FieldInitializer, OperationKind.PropertyInitializer);
        context.RegisterSymbolEndAction(analysis.OnTypeEnd);
    }

    private static bool IsAutoProperty(IPropertySymbol property, System.Threading.CancellationToken cancellationToken)
    {
        if (property.DeclaringSyntaxReferences.Length != 1
            || property.DeclaringSyntaxReferences[0].GetSyntax(cancellationToken) is not PropertyDeclarationSyntax declaration
            || declaration.ExpressionBody is not null
            || declaration.AccessorList is null)
        {
            return false;
        }

        return declaration.AccessorList.Accessors.All(a => a.Body is null && a.ExpressionBody is null);
    }

    private Candidate? Find(ISymbol? member) =>
        member is not null && _candidates.TryGetValue(member.OriginalDefinition, out Candidate? candidate) ? candidate : null;

    private void OnInitializer(OperationAnalysisContext context)
    {
        (ImmutableArray<ISymbol> members, IOperation value) = context.Operation switch
        {
            IFieldInitializerOperation field => (field.InitializedFields.CastArray<ISymbol>(), field.Value),
            IPropertyInitializerOperation property => (property.InitializedProperties.CastArray<ISymbol>(), property.Value),
            _ => (ImmutableArray<ISymbol>.Empty, context.Operation),
        };

        foreach (ISymbol member in members)
        {
            if (Find(member) is { } candidate)
            {
                if (IsFreshCreation(value, member, context))
                {
                    candidate.AddFreshWrite();
                }
                else
                {
                    candidate.Disqualify();
                }
            }
        }
    }

    private void OnMemberReference(OperationAnalysisContext context)
    {
        var reference = (IMemberReferenceOperation)context.Operation;
        if (Find(reference.Member) is not { } candidate)
        {
            return;
        }

        switch (reference.Parent)
        {
            case ISimpleAssignmentOperation assignment when assignment.Target == reference:
                if (!assignment.IsRef && IsFreshCreation(assignment.Value, reference.Member, context))
                {
                    candidate.AddFreshWrite();
                }
                else
                {
                    candidate.Disqualify();
                }

                return;

            case IConditionalAccessOperation conditional when conditional.Operation == reference:
                Classify(candidate, reference.Member, FindConditionalUse(conditional.WhenNotNull), conditional.Syntax);
                return;

            case INameOfOperation:
                return;

            case { } parent:
                Classify(candidate, reference.Member, parent, reportSyntax: null);
                return;

            default:
                candidate.Disqualify();
                return;
        }

        void Classify(Candidate candidate, ISymbol member, IOperation? use, SyntaxNode? reportSyntax)
        {
            LayerFacts facts = _types.GetFacts(member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type)!;
            switch (use)
            {
                case IInvocationOperation invocation when invocation.Instance is { } instance && (instance == reference || instance is IConditionalAccessInstanceOperation):
                    switch (_types.Classify(invocation.TargetMethod, facts, UsageRule.RunningStatistics))
                    {
                        case MemberEffect.Check:
                            candidate.AddCheck((reportSyntax ?? invocation.Syntax).GetLocation());
                            return;
                        case MemberEffect.Neutral:
                            return;
                        default:
                            candidate.Disqualify();
                            return;
                    }

                case IPropertyReferenceOperation or IFieldReferenceOperation when ((IMemberReferenceOperation)use).Instance is { } instance && (instance == reference || instance is IConditionalAccessInstanceOperation):
                    // Reading HasRunningStatistics is how code guards ForwardInference: treat the member as handled.
                    ISymbol accessed = ((IMemberReferenceOperation)use).Member;
                    if (accessed.Name == "HasRunningStatistics"
                        || _types.Classify(accessed, facts, UsageRule.RunningStatistics) != MemberEffect.Neutral)
                    {
                        candidate.Disqualify();
                    }

                    return;

                default:
                    // Passed as an argument, copied, returned, compared, captured by reference, ...: it escapes.
                    candidate.Disqualify();
                    return;
            }
        }
    }

    /// <summary>In <c>a?.B.C()</c>, the operation that uses the conditional access's receiver directly (here <c>.B</c>).</summary>
    private static IOperation? FindConditionalUse(IOperation whenNotNull)
    {
        IOperation? current = whenNotNull;
        while (current is not null)
        {
            IOperation? instance = current switch
            {
                IInvocationOperation invocation => invocation.Instance,
                IMemberReferenceOperation member => member.Instance,
                IConditionalAccessOperation nested => nested.Operation,
                IConversionOperation conversion => conversion.Operand,
                _ => null,
            };

            if (instance is IConditionalAccessInstanceOperation)
            {
                return current;
            }

            current = instance;
        }

        return null;
    }

    private bool IsFreshCreation(IOperation value, ISymbol member, OperationAnalysisContext context)
    {
        ITypeSymbol type = member is IFieldSymbol field ? field.Type : ((IPropertySymbol)member).Type;
        return _types.IsFreshCreation(value, type, UsageRule.RunningStatistics, context.CancellationToken);
    }

    private void OnTypeEnd(SymbolAnalysisContext context)
    {
        foreach (KeyValuePair<ISymbol, Candidate> pair in _candidates)
        {
            foreach (Location location in pair.Value.LocationsToReport())
            {
                context.ReportDiagnostic(Diagnostic.Create(UsageDiagnosticDescriptors.InferenceWithoutRunningStatistics, location, pair.Key.Name));
            }
        }
    }

    /// <summary>What the type does with one private member; updated from concurrent operation actions.</summary>
    private sealed class Candidate
    {
        private readonly object _gate = new();
        private readonly List<Location> _checks = new();
        private bool _disqualified;
        private int _freshWrites;

        public void Disqualify()
        {
            lock (_gate)
            {
                _disqualified = true;
            }
        }

        public void AddFreshWrite()
        {
            lock (_gate)
            {
                _freshWrites++;
            }
        }

        public void AddCheck(Location location)
        {
            lock (_gate)
            {
                _checks.Add(location);
            }
        }

        public IReadOnlyList<Location> LocationsToReport()
        {
            lock (_gate)
            {
                return _disqualified || _freshWrites == 0
                    ? System.Array.Empty<Location>()
                    : _checks.OrderBy(l => l.SourceTree?.FilePath, System.StringComparer.Ordinal).ThenBy(l => l.SourceSpan.Start).ToArray();
            }
        }
    }
}
