using System.Collections.Generic;
using System.Globalization;
using Microsoft.CodeAnalysis;

namespace NormGen.Generator.Parsing;

/// <summary>The raw named arguments of one <c>[Normalize]</c>, before validation; null where the user left the default.</summary>
internal sealed record AttributeArguments(
    string? Shape,
    string? Axes,
    int? Groups,
    int? Kind,
    double? Epsilon,
    double? Momentum,
    bool? CumulativeAverage,
    bool? Affine,
    string? AffineAxes,
    bool? TrackRunningStats,
    string? ElementTypeName)
{
    public static AttributeArguments From(AttributeData attribute)
    {
        var named = new Dictionary<string, TypedConstant>();
        foreach (KeyValuePair<string, TypedConstant> pair in attribute.NamedArguments)
        {
            named[pair.Key] = pair.Value;
        }

        return new AttributeArguments(
            Get<string>(named, "Shape"),
            Get<string>(named, "Axes"),
            GetStruct<int>(named, "Groups"),
            GetStruct<int>(named, "Kind"),
            GetDouble(named, "Epsilon"),
            GetDouble(named, "Momentum"),
            GetStruct<bool>(named, "CumulativeAverage"),
            GetStruct<bool>(named, "Affine"),
            Get<string>(named, "AffineAxes"),
            GetStruct<bool>(named, "TrackRunningStats"),
            named.TryGetValue("ElementType", out TypedConstant type) && type.Value is ITypeSymbol symbol
                ? symbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)
                : named.ContainsKey("ElementType") ? "null" : null);
    }

    private static T? Get<T>(Dictionary<string, TypedConstant> named, string name)
        where T : class =>
        named.TryGetValue(name, out TypedConstant value) ? value.Value as T : null;

    private static T? GetStruct<T>(Dictionary<string, TypedConstant> named, string name)
        where T : struct =>
        named.TryGetValue(name, out TypedConstant value) && value.Value is T typed ? typed : null;

    private static double? GetDouble(Dictionary<string, TypedConstant> named, string name)
    {
        if (!named.TryGetValue(name, out TypedConstant value) || value.Value is null)
        {
            return null;
        }
        return System.Convert.ToDouble(value.Value, CultureInfo.InvariantCulture);
    }
}
