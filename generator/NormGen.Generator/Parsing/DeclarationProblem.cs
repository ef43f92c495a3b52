using Microsoft.CodeAnalysis;

namespace NormGen.Generator.Parsing;

/// <summary>Why a declaration cannot be generated, and the attribute argument to point at (null: the type's name).</summary>
internal sealed record DeclarationProblem(DiagnosticDescriptor Descriptor, string? ArgumentName, object?[] MessageArgs);
