using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using NormGen.Generator.Diagnostics;

namespace NormGen.Generator.Analyzers.Usage;

/// <summary>
/// NG1004: a constant <c>Momentum</c> above 0.5 in <c>[Normalize]</c>. NormGen follows PyTorch
/// (<c>new = (1 - m)·old + m·batch</c>, default 0.1); Keras and Flax weigh the other way (defaults 0.99 and 0.9), so such a
/// value almost always was copied from them. Reported on the <c>Momentum = ...</c> argument; the diagnostic carries
/// 1 - m as a literal for the code fix.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MomentumConventionAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(UsageDiagnosticDescriptors.MomentumInOtherConvention);

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

            start.RegisterSymbolAction(symbol => AnalyzeType(symbol, types), SymbolKind.NamedType);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, NormGenTypes types)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (types.GetNormalizeAttribute(type) is not { } attribute
            || attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) is not AttributeSyntax { ArgumentList: { } arguments })
        {
            return;
        }

        foreach (AttributeArgumentSyntax argument in arguments.Arguments)
        {
            if (argument.NameEquals?.Name.Identifier.ValueText != "Momentum")
            {
                continue;
            }

            double? momentum = null;
            foreach (var named in attribute.NamedArguments)
            {
                if (named.Key == "Momentum" && named.Value.Value is double value)
                {
                    momentum = value;
                }
            }

            if (momentum is not double m || !(m > 0.5 && m <= 1.0))
            {
                return;
            }

            string original = Format(momentum.Value, argument.Expression);
            string replacement = OneMinus(m, argument.Expression);
            ImmutableDictionary<string, string?> properties = ImmutableDictionary<string, string?>.Empty
                .Add(UsageDiagnosticDescriptors.ReplacementMomentumProperty, replacement);
            context.ReportDiagnostic(Diagnostic.Create(
                UsageDiagnosticDescriptors.MomentumInOtherConvention, argument.GetLocation(), properties, original, replacement));
            return;
        }
    }

    private static string Format(double value, ExpressionSyntax expression) =>
        expression is LiteralExpressionSyntax literal && TryParseLiteral(literal, out decimal parsed)
            ? parsed.ToString(CultureInfo.InvariantCulture)
            : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// 1 - m written as the shortest decimal literal: from the literal's own digits when it is one (0.99 → 0.01 exactly,
    /// not 0.010000000000000009), else from the double rounded to 15 significant digits.
    /// </summary>
    internal static string OneMinus(double value, ExpressionSyntax? expression)
    {
        decimal m;
        if (expression is LiteralExpressionSyntax literal && TryParseLiteral(literal, out decimal parsed))
        {
            m = parsed;
        }
        else
        {
            m = decimal.Parse(value.ToString("G15", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        decimal result = 1m - m;
        string text = result.ToString("0.############################", CultureInfo.InvariantCulture);
        return text.IndexOf('.') < 0 ? text + ".0" : text;
    }

    private static bool TryParseLiteral(LiteralExpressionSyntax literal, out decimal value)
    {
        value = 0;
        if (!literal.IsKind(SyntaxKind.NumericLiteralExpression))
        {
            return false;
        }

        string text = literal.Token.Text.Replace("_", "");
        if (text.StartsWith("0x", System.StringComparison.OrdinalIgnoreCase) || text.StartsWith("0b", System.StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        text = text.TrimEnd('d', 'D', 'f', 'F', 'm', 'M');
        return decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
