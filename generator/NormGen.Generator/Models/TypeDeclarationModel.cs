namespace NormGen.Generator.Models;

/// <summary>A type in the chain that contains the annotated type, outermost first: how to reopen it as a partial.</summary>
/// <param name="Keyword">"class", "struct", "record", "record struct", "interface".</param>
/// <param name="Name">The name with its type-parameter list, e.g. <c>Outer&lt;T&gt;</c>.</param>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>Everything the emitter needs for one annotated type: where it lives and what it declares.</summary>
/// <param name="Namespace">The namespace, or null for the global namespace.</param>
/// <param name="Types">The annotated type last, its containing types before it, outermost first.</param>
/// <param name="FullName">The metadata-style name used for the hint name, e.g. <c>Demo.Outer.StemNorm</c>.</param>
/// <param name="AttributeText">The attribute as the user wrote it, for the generated documentation.</param>
internal sealed record NormalizeDeclaration(
    string? Namespace,
    EquatableArray<ContainingType> Types,
    string FullName,
    bool IsValueType,
    string AttributeText,
    LayerSpec Spec);
