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
/// NG1003: ForwardTraining on an input whose length is a compile-time constant (an array or <c>stackalloc</c> of
/// constant length, a slice of constant length, or any input when every dim of <c>Shape</c> is sized) such that each
/// statistics group holds a single value: PyTorch's "Expected more than 1 value per channel when training".
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SingleValueBatchAnalyzer : DiagnosticAnalyzer
{
    private const int MaxDepth = 8;

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(UsageDiagnosticDescriptors.SingleValuePerStatisticsGroup);

    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (NormGenTypes.Create(start.Compilation) is not { } types)
            {
                return;
            }

            start.RegisterOperationAction(operation => AnalyzeInvocation(operation, types), OperationKind.Invocation);
        });
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, NormGenTypes types)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (invocation.TargetMethod.Name != "ForwardTraining"
            || invocation.Arguments.Length == 0
            || types.GetFacts(invocation.TargetMethod.ContainingType) is not { BatchStatistics: true, Dims: { } dims } facts)
        {
            return;
        }

        IArgumentOperation input = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == 0) ?? invocation.Arguments[0];

        long sampleSize = 1, reducedSized = 1;
        bool anyUnsized = false, unsizedReduced = false;
        long? channels = null;
        foreach (ShapeDim dim in dims)
        {
            bool reduced = facts.Axes.IndexOf(dim.Letter) >= 0;
            if (dim.Size is long size)
            {
                sampleSize *= size;
                if (reduced)
                {
                    reducedSized *= size;
                }

                if (dim.Letter == 'C')
                {
                    channels = size;
                }
            }
            else
            {
                anyUnsized = true;
                unsizedReduced |= reduced;
            }
        }

        // GroupNorm-style grouping: each group of C spans C / Groups channels.
        if (facts.Groups > 1 && channels is long c && facts.Axes.IndexOf('C') < 0 && c % facts.Groups == 0)
        {
            reducedSized *= c / facts.Groups;
        }

        long valuesPerGroup;
        long? length = null;
        if (!anyUnsized || !unsizedReduced)
        {
            // The input's length does not change how many values a group holds.
            valuesPerGroup = reducedSized;
        }
        else
        {
            length = ConstantLength(input.Value, 0, context.CancellationToken);
            if (length is not long l || l <= 0 || l % sampleSize != 0)
            {
                return;
            }

            valuesPerGroup = reducedSized * (l / sampleSize);
        }

        if (valuesPerGroup == 1)
        {
            string elements = length?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? sampleSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.ReportDiagnostic(Diagnostic.Create(
                UsageDiagnosticDescriptors.SingleValuePerStatisticsGroup,
                input.Value.Syntax.GetLocation(),
                invocation.TargetMethod.ContainingType.Name,
                elements));
        }
    }

    /// <summary>The length of a span or array argument when it is a compile-time constant, else null.</summary>
    private static long? ConstantLength(IOperation? operation, int depth, System.Threading.CancellationToken cancellationToken)
    {
        if (operation is null || depth > MaxDepth)
        {
            return null;
        }

        switch (operation)
        {
            case IConversionOperation conversion:
                return ConstantLength(conversion.Operand, depth + 1, cancellationToken);

            case IArrayCreationOperation array when array.DimensionSizes.Length == 1:
                return AsLong(array.DimensionSizes[0].ConstantValue)
                    ?? (array.Initializer is { } initializer ? initializer.ElementValues.Length : null);

            case ICollectionExpressionOperation collection when collection.Elements.All(e => e is not ISpreadOperation):
                return collection.Elements.Length;

            case ILocalReferenceOperation reference:
                return LocalLength(reference, depth, cancellationToken);

            case IFieldReferenceOperation field:
                return ReadonlyFieldLength(field, depth, cancellationToken);

            case IObjectCreationOperation creation when IsSpan(creation.Type) && creation.Arguments.Length is 1 or 3:
                return creation.Arguments.Length == 1
                    ? ConstantLength(creation.Arguments[0].Value, depth + 1, cancellationToken)
                    : AsLong(creation.Arguments[2].Value.ConstantValue);

            case IInvocationOperation invocation:
                return SliceLength(invocation, depth, cancellationToken);
        }

        // stackalloc has no dedicated IOperation: read its syntax.
        return StackAllocLength(operation, cancellationToken);
    }

    private static long? SliceLength(IInvocationOperation invocation, int depth, System.Threading.CancellationToken cancellationToken)
    {
        string name = invocation.TargetMethod.Name;
        if (name is not ("AsSpan" or "Slice" or "AsMemory"))
        {
            return null;
        }

        // `array.AsSpan(...)` is an extension (the source is the first argument); `span.Slice(...)` an instance method.
        IOperation? source;
        IEnumerable<IArgumentOperation> rest;
        if (invocation.TargetMethod.IsExtensionMethod || invocation.Instance is null)
        {
            if (invocation.Arguments.Length == 0)
            {
                return null;
            }

            IArgumentOperation first = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == 0) ?? invocation.Arguments[0];
            source = first.Value;
            rest = invocation.Arguments.Where(a => a != first);
        }
        else
        {
            source = invocation.Instance;
            rest = invocation.Arguments;
        }

        IArgumentOperation[] arguments = rest.ToArray();
        if (arguments.Length == 0)
        {
            return ConstantLength(source, depth + 1, cancellationToken);
        }

        if (arguments.Any(a => a.Value.Type?.SpecialType != SpecialType.System_Int32))
        {
            // Index/Range overloads: not worth following.
            return null;
        }

        IArgumentOperation? lengthArgument = arguments.FirstOrDefault(a => a.Parameter?.Name == "length");
        if (lengthArgument is not null)
        {
            return AsLong(lengthArgument.Value.ConstantValue);
        }

        IArgumentOperation? startArgument = arguments.FirstOrDefault(a => a.Parameter?.Name == "start");
        if (startArgument is not null && AsLong(startArgument.Value.ConstantValue) is long start
            && ConstantLength(source, depth + 1, cancellationToken) is long total && total >= start)
        {
            return total - start;
        }

        return null;
    }

    private static long? LocalLength(ILocalReferenceOperation reference, int depth, System.Threading.CancellationToken cancellationToken)
    {
        ILocalSymbol local = reference.Local;
        SemanticModel? model = reference.SemanticModel;
        if (model is null || local.IsRef || local.DeclaringSyntaxReferences.Length != 1
            || local.DeclaringSyntaxReferences[0].GetSyntax(cancellationToken) is not VariableDeclaratorSyntax { Initializer.Value: { } initializer } declarator)
        {
            return null;
        }

        // The length holds only if the local is never written again: no assignment, no ref/out, no `ref` to it.
        // Top-level statements are one method spread over many global statements: search the whole file then.
        SyntaxNode? scope = declarator.FirstAncestorOrSelf<SyntaxNode>(n => n is MemberDeclarationSyntax and not GlobalStatementSyntax);
        scope ??= declarator.SyntaxTree.GetRoot(cancellationToken);
        foreach (IdentifierNameSyntax name in scope.DescendantNodes().OfType<IdentifierNameSyntax>())
        {
            if (name.Identifier.ValueText == local.Name && IsWrite(name)
                && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(name, cancellationToken).Symbol, local))
            {
                return null;
            }
        }

        return ConstantLength(model.GetOperation(initializer, cancellationToken), depth + 1, cancellationToken);
    }

    /// <summary><c>static readonly float[] Batch = new float[16];</c>, assigned nowhere else (constructors included).</summary>
    private static long? ReadonlyFieldLength(IFieldReferenceOperation reference, int depth, System.Threading.CancellationToken cancellationToken)
    {
        IFieldSymbol field = reference.Field;
        SemanticModel? model = reference.SemanticModel;
        if (!field.IsReadOnly || model is null || field.DeclaringSyntaxReferences.Length != 1
            || field.DeclaringSyntaxReferences[0].GetSyntax(cancellationToken) is not VariableDeclaratorSyntax { Initializer.Value: { } initializer }
            || initializer.SyntaxTree != model.SyntaxTree)
        {
            return null;
        }

        foreach (SyntaxReference part in field.ContainingType.DeclaringSyntaxReferences)
        {
            foreach (SimpleNameSyntax name in part.GetSyntax(cancellationToken).DescendantNodes().OfType<SimpleNameSyntax>())
            {
                ExpressionSyntax written = name.Parent is MemberAccessExpressionSyntax access && access.Name == name ? access : name;
                if (name.Identifier.ValueText == field.Name && IsWrite(written))
                {
                    return null;
                }
            }
        }

        return ConstantLength(model.GetOperation(initializer, cancellationToken), depth + 1, cancellationToken);
    }

    private static bool IsWrite(ExpressionSyntax name)
    {
        SyntaxNode? parent = name.Parent;
        return parent switch
        {
            AssignmentExpressionSyntax assignment => assignment.Left == name,
            ArgumentSyntax { Parent: TupleExpressionSyntax } => true,
            ArgumentSyntax argument => !argument.RefKindKeyword.IsKind(SyntaxKind.None) && !argument.RefKindKeyword.IsKind(SyntaxKind.InKeyword),
            RefExpressionSyntax => true,
            PrefixUnaryExpressionSyntax or PostfixUnaryExpressionSyntax => true,
            _ => false,
        };
    }

    private static long? StackAllocLength(IOperation operation, System.Threading.CancellationToken cancellationToken)
    {
        SemanticModel? model = operation.SemanticModel;
        switch (operation.Syntax)
        {
            case StackAllocArrayCreationExpressionSyntax { Type: ArrayTypeSyntax type } stackAlloc when model is not null:
                if (type.RankSpecifiers.Count == 1 && type.RankSpecifiers[0].Sizes.Count == 1
                    && type.RankSpecifiers[0].Sizes[0] is not OmittedArraySizeExpressionSyntax)
                {
                    return AsLong(model.GetConstantValue(type.RankSpecifiers[0].Sizes[0], cancellationToken));
                }

                return stackAlloc.Initializer?.Expressions.Count;

            case ImplicitStackAllocArrayCreationExpressionSyntax implicitStackAlloc:
                return implicitStackAlloc.Initializer.Expressions.Count;

            default:
                return null;
        }
    }

    private static bool IsSpan(ITypeSymbol? type) =>
        type is INamedTypeSymbol { Name: "Span" or "ReadOnlySpan", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } };

    private static long? AsLong(Optional<object?> constant) =>
        constant.HasValue && constant.Value is int or long or short or byte or uint or ushort or sbyte
            ? System.Convert.ToInt64(constant.Value, System.Globalization.CultureInfo.InvariantCulture)
            : null;
}
