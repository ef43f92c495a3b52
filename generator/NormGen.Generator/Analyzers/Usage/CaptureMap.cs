using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace NormGen.Generator.Analyzers.Usage;

/// <summary>
/// For each lambda and local function of an operation block, the locals it reads or writes, directly or through the
/// local functions it calls or converts to delegates. Creating the lambda, or calling or converting the local
/// function, is where those locals escape: from then on the function may train the instance at any time.
/// </summary>
internal sealed class CaptureMap
{
    private static readonly HashSet<ILocalSymbol> None = new(SymbolEqualityComparer.Default);

    private readonly Dictionary<SyntaxNode, HashSet<ILocalSymbol>> _lambdas = new();
    private readonly Dictionary<IMethodSymbol, HashSet<ILocalSymbol>> _localFunctions = new(SymbolEqualityComparer.Default);

    public CaptureMap(IEnumerable<IOperation> roots)
    {
        var direct = new List<(object Key, HashSet<ILocalSymbol> Locals, List<IMethodSymbol> Calls)>();
        foreach (IOperation root in roots)
        {
            foreach (IOperation operation in root.DescendantsAndSelf())
            {
                switch (operation)
                {
                    case IAnonymousFunctionOperation lambda:
                        direct.Add(Collect(lambda.Syntax, lambda));
                        break;
                    case ILocalFunctionOperation function:
                        direct.Add(Collect(function.Symbol.OriginalDefinition, function));
                        break;
                }
            }
        }

        foreach ((object key, HashSet<ILocalSymbol> locals, _) in direct)
        {
            if (key is SyntaxNode syntax)
            {
                _lambdas[syntax] = locals;
            }
            else
            {
                _localFunctions[(IMethodSymbol)key] = locals;
            }
        }

        // Close over calls between local functions (and from lambdas to local functions) until nothing changes.
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach ((_, HashSet<ILocalSymbol> locals, List<IMethodSymbol> calls) in direct)
            {
                foreach (IMethodSymbol callee in calls)
                {
                    if (_localFunctions.TryGetValue(callee, out HashSet<ILocalSymbol>? calleeLocals))
                    {
                        foreach (ILocalSymbol local in calleeLocals)
                        {
                            changed |= locals.Add(local);
                        }
                    }
                }
            }
        }
    }

    public IReadOnlyCollection<ILocalSymbol> ForLambda(SyntaxNode syntax) =>
        _lambdas.TryGetValue(syntax, out HashSet<ILocalSymbol>? locals) ? locals : None;

    public IReadOnlyCollection<ILocalSymbol> ForLocalFunction(IMethodSymbol function) =>
        _localFunctions.TryGetValue(function.OriginalDefinition, out HashSet<ILocalSymbol>? locals) ? locals : None;

    private static (object, HashSet<ILocalSymbol>, List<IMethodSymbol>) Collect(object key, IOperation body)
    {
        var locals = new HashSet<ILocalSymbol>(SymbolEqualityComparer.Default);
        var calls = new List<IMethodSymbol>();
        foreach (IOperation operation in body.Descendants())
        {
            switch (operation)
            {
                case ILocalReferenceOperation reference:
                    locals.Add(reference.Local);
                    break;
                case IInvocationOperation { TargetMethod.MethodKind: MethodKind.LocalFunction } call:
                    calls.Add(call.TargetMethod.OriginalDefinition);
                    break;
                case IMethodReferenceOperation { Method.MethodKind: MethodKind.LocalFunction } reference:
                    calls.Add(reference.Method.OriginalDefinition);
                    break;
            }
        }

        return (key, locals, calls);
    }
}
