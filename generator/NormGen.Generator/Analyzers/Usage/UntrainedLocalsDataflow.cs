using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace NormGen.Generator.Analyzers.Usage;

/// <summary>A call that a rule proves wrong: the invocation, and the local (null for <c>new T().Call()</c>).</summary>
internal readonly struct UntrainedCall
{
    public UntrainedCall(IInvocationOperation invocation, ILocalSymbol? local, UsageRule rule)
    {
        Invocation = invocation;
        Local = local;
        Rule = rule;
    }

    public IInvocationOperation Invocation { get; }

    public ILocalSymbol? Local { get; }

    public UsageRule Rule { get; }
}

/// <summary>
/// A forward must-dataflow over one control-flow graph. For each local of a NormGen type it computes, at every
/// point, whether the local <em>certainly</em> holds an instance that was created by <c>new</c> right here and that,
/// on every path since, nothing has answered the rule's question for (no ForwardTraining/LoadRunningStatistics/
/// RunningMean/RunningVar for NG1001; no training forward for NG1002) and that has not escaped (passed as an argument,
/// copied, captured, ...). Merging paths intersects, so a call is reported only when this holds on all paths to it:
/// training on one branch or in a loop before the call keeps it silent.
/// </summary>
internal sealed class UntrainedLocalsDataflow
{
    private readonly ControlFlowGraph _graph;
    private readonly NormGenTypes _types;
    private readonly UsageRule _rule;
    private readonly CaptureMap _captures;
    private readonly CancellationToken _cancellationToken;

    private readonly Dictionary<ILocalSymbol, int> _locals = new(SymbolEqualityComparer.Default);
    private readonly List<ILocalSymbol> _localList = new();
    private readonly List<LayerFacts> _localFacts = new();

    // Flow captures (the CFG's temporaries) that only ever hold one tracked local: uses of them are uses of the local.
    private readonly Dictionary<CaptureId, int> _aliases = new();

    private readonly Dictionary<ControlFlowRegion, BitSet> _finallyKills = new();

    // The state being transformed, the intersection of every state seen in the current block, and where reports go.
    private BitSet _state = null!;
    private BitSet _pointsAnd = null!;
    private List<UntrainedCall>? _reports;

    private UntrainedLocalsDataflow(ControlFlowGraph graph, NormGenTypes types, UsageRule rule, CaptureMap captures, CancellationToken cancellationToken)
    {
        _graph = graph;
        _types = types;
        _rule = rule;
        _captures = captures;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Analyzes <paramref name="graph"/> and every lambda and local function graph nested in it.</summary>
    public static void Analyze(ControlFlowGraph graph, NormGenTypes types, CaptureMap captures, List<UntrainedCall> reports, CancellationToken cancellationToken)
    {
        new UntrainedLocalsDataflow(graph, types, UsageRule.RunningStatistics, captures, cancellationToken).Run(reports);
        new UntrainedLocalsDataflow(graph, types, UsageRule.TrainingForward, captures, cancellationToken).Run(reports);

        foreach (IMethodSymbol function in graph.LocalFunctions)
        {
            Analyze(graph.GetLocalFunctionControlFlowGraph(function, cancellationToken), types, captures, reports, cancellationToken);
        }

        foreach (BasicBlock block in graph.Blocks)
        {
            foreach (IOperation root in Roots(block))
            {
                foreach (IOperation operation in root.DescendantsAndSelf())
                {
                    if (operation is IFlowAnonymousFunctionOperation lambda)
                    {
                        Analyze(graph.GetAnonymousFunctionControlFlowGraph(lambda, cancellationToken), types, captures, reports, cancellationToken);
                    }
                }
            }
        }
    }

    private static IEnumerable<IOperation> Roots(BasicBlock block)
    {
        foreach (IOperation operation in block.Operations)
        {
            yield return operation;
        }

        if (block.BranchValue is not null)
        {
            yield return block.BranchValue;
        }
    }

    private void Run(List<UntrainedCall> reports)
    {
        if (!CollectLocalsAndCaptures())
        {
            return;
        }

        ImmutableBlocks blocks = new(_graph.Blocks);
        int count = blocks.Count;
        var inStates = new BitSet?[count];
        var pointsAnd = new BitSet?[count];
        List<int>[] handlerEntries = ComputeHandlerEntries(blocks);

        var worklist = new Queue<int>();
        var queued = new bool[count];
        inStates[0] = new BitSet(_localList.Count);
        worklist.Enqueue(0);
        queued[0] = true;

        while (worklist.Count > 0)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            int ordinal = worklist.Dequeue();
            queued[ordinal] = false;
            BasicBlock block = blocks[ordinal];
            BitSet outState = Transfer(block, inStates[ordinal]!);
            pointsAnd[ordinal] = _pointsAnd;

            void Flow(int destination, BitSet contribution)
            {
                BitSet? current = inStates[destination];
                bool changed;
                if (current is null)
                {
                    inStates[destination] = contribution.Clone();
                    changed = true;
                }
                else
                {
                    changed = current.IntersectWith(contribution);
                }

                if (changed && !queued[destination])
                {
                    queued[destination] = true;
                    worklist.Enqueue(destination);
                }
            }

            foreach ((ControlFlowBranch branch, bool conditional) in Successors(block))
            {
                if (branch.Destination is null)
                {
                    continue;
                }

                BitSet contribution = outState.Clone();
                RefineOnBranch(block, conditional, contribution);
                foreach (ControlFlowRegion region in branch.FinallyRegions)
                {
                    contribution.IntersectWith(FinallyKills(region, blocks));
                }

                Flow(branch.Destination.Ordinal, contribution);
            }

            // An exception may leave a try block at any point: each catch, filter and finally entered from it starts from
            // the intersection of every state seen inside the try.
            foreach (int handler in handlerEntries[ordinal])
            {
                Flow(handler, pointsAnd[ordinal]!);
            }
        }

        // The fixpoint is reached: walk each reached block once more, now recording the calls to report.
        _reports = new List<UntrainedCall>();
        for (int ordinal = 0; ordinal < count; ordinal++)
        {
            if (inStates[ordinal] is { } state)
            {
                Transfer(blocks[ordinal], state);
            }
        }

        reports.AddRange(_reports);
    }

    private static IEnumerable<(ControlFlowBranch Branch, bool Conditional)> Successors(BasicBlock block)
    {
        if (block.ConditionalSuccessor is { } conditional)
        {
            yield return (conditional, true);
        }

        if (block.FallThroughSuccessor is { } fallThrough)
        {
            yield return (fallThrough, false);
        }
    }

    private bool CollectLocalsAndCaptures()
    {
        bool anyCheck = false;
        var captureSources = new Dictionary<CaptureId, int>();
        foreach (BasicBlock block in _graph.Blocks)
        {
            foreach (IOperation root in Roots(block))
            {
                foreach (IOperation operation in root.DescendantsAndSelf())
                {
                    switch (operation)
                    {
                        case ILocalReferenceOperation reference:
                            Track(reference.Local);
                            break;
                        case IInvocationOperation invocation when invocation.TargetMethod.ContainingType is { } owner
                            && _types.GetFacts(owner) is { } facts
                            && _types.Tracks(owner, _rule)
                            && _types.Classify(invocation.TargetMethod, facts, _rule) == MemberEffect.Check:
                            anyCheck = true;
                            break;
                    }
                }
            }
        }

        if (!anyCheck)
        {
            return false;
        }

        foreach (BasicBlock block in _graph.Blocks)
        {
            foreach (IOperation root in Roots(block))
            {
                foreach (IOperation operation in root.DescendantsAndSelf())
                {
                    if (operation is not IFlowCaptureOperation capture)
                    {
                        continue;
                    }

                    int source = capture.Value is ILocalReferenceOperation { IsDeclaration: false } reference && _locals.TryGetValue(reference.Local, out int index)
                        ? index
                        : -1;
                    if (captureSources.TryGetValue(capture.Id, out int previous) && previous != source)
                    {
                        source = -1;
                    }

                    captureSources[capture.Id] = source;
                }
            }
        }

        foreach (KeyValuePair<CaptureId, int> pair in captureSources)
        {
            if (pair.Value >= 0)
            {
                _aliases[pair.Key] = pair.Value;
            }
        }

        return true;
    }

    private void Track(ILocalSymbol local)
    {
        if (_locals.ContainsKey(local) || !_types.Tracks(local.Type, _rule) || _types.GetFacts(local.Type) is not { } facts)
        {
            return;
        }

        _locals[local] = _localList.Count;
        _localList.Add(local);
        _localFacts.Add(facts);
    }

    private BitSet Transfer(BasicBlock block, BitSet inState)
    {
        _state = inState.Clone();
        _pointsAnd = inState.Clone();
        foreach (IOperation operation in Roots(block))
        {
            Walk(operation);
        }

        return _state;
    }

    private void Kill(int index)
    {
        _state.Clear(index);
        _pointsAnd.Clear(index);
    }

    private void KillAll(IReadOnlyCollection<ILocalSymbol> locals)
    {
        foreach (ILocalSymbol local in locals)
        {
            if (_locals.TryGetValue(local, out int index))
            {
                Kill(index);
            }
        }
    }

    /// <summary>The tracked local that <paramref name="operation"/> denotes when used as a receiver, or -1.</summary>
    private int Receiver(IOperation? operation) => operation switch
    {
        ILocalReferenceOperation { IsDeclaration: false } reference when _locals.TryGetValue(reference.Local, out int index) => index,
        IFlowCaptureReferenceOperation capture when _aliases.TryGetValue(capture.Id, out int index) => index,
        _ => -1,
    };

    private bool IsFreshCreation(IOperation? value, ITypeSymbol type) =>
        _types.IsFreshCreation(value, type, _rule, _cancellationToken);

    private void Walk(IOperation operation)
    {
        switch (operation)
        {
            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when _locals.TryGetValue(target.Local, out int index):
                if (!assignment.IsRef && IsFreshCreation(assignment.Value, target.Local.Type))
                {
                    WalkChildren(assignment.Value);
                    _state.Set(index);
                }
                else
                {
                    Walk(assignment.Value);
                    Kill(index);
                }

                return;

            case IInvocationOperation invocation:
                WalkInvocation(invocation);
                return;

            case IPropertyReferenceOperation or IFieldReferenceOperation when Receiver(((IMemberReferenceOperation)operation).Instance) is var index && index >= 0:
                if (operation is IPropertyReferenceOperation property)
                {
                    foreach (IArgumentOperation argument in property.Arguments)
                    {
                        Walk(argument);
                    }
                }

                if (_types.Classify(((IMemberReferenceOperation)operation).Member, _localFacts[index], _rule) == MemberEffect.Kill)
                {
                    Kill(index);
                }

                return;

            case IMethodReferenceOperation { Method.MethodKind: MethodKind.LocalFunction } reference:
                KillAll(_captures.ForLocalFunction(reference.Method));
                WalkChildren(reference);
                return;

            case IMemberReferenceOperation member when Receiver(member.Instance) is var index && index >= 0:
                // An event or a method group (a delegate bound to the instance): it escapes.
                Kill(index);
                return;

            case IFlowAnonymousFunctionOperation lambda:
                KillAll(_captures.ForLambda(lambda.Syntax));
                return;

            case IFlowCaptureOperation capture:
                if (_aliases.ContainsKey(capture.Id))
                {
                    // Only names the local for a later receiver; the use of the capture decides.
                    return;
                }

                Walk(capture.Value);
                return;

            case IIsNullOperation isNull when Receiver(isNull.Operand) >= 0:
                // `x?.M()` tests the local for null: no effect.
                return;

            case IFlowCaptureReferenceOperation captureReference:
                if (_aliases.TryGetValue(captureReference.Id, out int aliased))
                {
                    Kill(aliased);
                }

                return;

            case ILocalReferenceOperation reference:
                if (_locals.TryGetValue(reference.Local, out int referenced))
                {
                    // Read into something else, passed by value or by reference, returned, compared, written: it escapes.
                    Kill(referenced);
                }

                return;

            default:
                WalkChildren(operation);
                if (operation is IPatternOperation pattern && DeclaredLocal(pattern) is { } declared && _locals.TryGetValue(declared, out int patternLocal))
                {
                    Kill(patternLocal);
                }

                return;
        }
    }

    private static ILocalSymbol? DeclaredLocal(IPatternOperation pattern) => pattern switch
    {
        IDeclarationPatternOperation declaration => declaration.DeclaredSymbol as ILocalSymbol,
        IRecursivePatternOperation recursive => recursive.DeclaredSymbol as ILocalSymbol,
        IListPatternOperation list => list.DeclaredSymbol as ILocalSymbol,
        _ => null,
    };

    private void WalkChildren(IOperation operation)
    {
        foreach (IOperation child in operation.ChildOperations)
        {
            Walk(child);
        }
    }

    private void WalkInvocation(IInvocationOperation invocation)
    {
        int receiver = Receiver(invocation.Instance);
        bool freshTemporary = receiver < 0
            && invocation.Instance is IObjectCreationOperation creation
            && _types.Tracks(creation.Type, _rule)
            && IsFreshCreation(creation, creation.Type!);

        if (receiver < 0 && invocation.Instance is not null)
        {
            if (freshTemporary)
            {
                WalkChildren(invocation.Instance);
            }
            else
            {
                Walk(invocation.Instance);
            }
        }

        foreach (IArgumentOperation argument in invocation.Arguments)
        {
            Walk(argument);
        }

        if (invocation.TargetMethod.MethodKind == MethodKind.LocalFunction)
        {
            KillAll(_captures.ForLocalFunction(invocation.TargetMethod));
        }

        if (receiver >= 0)
        {
            switch (_types.Classify(invocation.TargetMethod, _localFacts[receiver], _rule))
            {
                case MemberEffect.Check when _state[receiver]:
                    _reports?.Add(new UntrainedCall(invocation, _localList[receiver], _rule));
                    break;
                case MemberEffect.Kill:
                    Kill(receiver);
                    break;
            }
        }
        else if (freshTemporary
            && _types.GetFacts(invocation.Instance!.Type) is { } facts
            && _types.Classify(invocation.TargetMethod, facts, _rule) == MemberEffect.Check)
        {
            _reports?.Add(new UntrainedCall(invocation, null, _rule));
        }
    }

    /// <summary>
    /// <c>if (x.HasRunningStatistics)</c>: on the edge where it is true the instance certainly has running statistics
    /// (a fresh one never does, so that path is impossible for it); <c>BatchesTracked</c> in a condition: stay silent on both edges.
    /// </summary>
    private void RefineOnBranch(BasicBlock block, bool conditionalEdge, BitSet contribution)
    {
        if (block.BranchValue is not { } value || block.ConditionKind == ControlFlowConditionKind.None)
        {
            return;
        }

        // The branch value's truth on this edge.
        bool truth = conditionalEdge == (block.ConditionKind == ControlFlowConditionKind.WhenTrue);

        IOperation current = value;
        while (true)
        {
            switch (current)
            {
                case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not:
                    truth = !truth;
                    current = not.Operand;
                    continue;
                case IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } binary
                    when (binary.RightOperand.ConstantValue is { HasValue: true, Value: bool } || binary.LeftOperand.ConstantValue is { HasValue: true, Value: bool }):
                    bool constant = binary.RightOperand.ConstantValue is { HasValue: true, Value: bool right } ? right : (bool)binary.LeftOperand.ConstantValue.Value!;
                    IOperation other = binary.RightOperand.ConstantValue.HasValue ? binary.LeftOperand : binary.RightOperand;
                    // (other == constant) is `truth`  =>  other is (truth == constant) for ==, (truth != constant) for !=.
                    truth = binary.OperatorKind == BinaryOperatorKind.Equals ? truth == constant : truth != constant;
                    current = other;
                    continue;
                case IIsPatternOperation { Pattern: IConstantPatternOperation { Value.ConstantValue: { HasValue: true, Value: bool patternConstant } } } isPattern:
                    truth = truth == patternConstant;
                    current = isPattern.Value;
                    continue;
                case IPropertyReferenceOperation { Property.Name: "HasRunningStatistics" } property when Receiver(property.Instance) is var index && index >= 0:
                    if (truth && _rule == UsageRule.RunningStatistics)
                    {
                        contribution.Clear(index);
                    }

                    return;
            }

            break;
        }

        foreach (IOperation operation in value.DescendantsAndSelf())
        {
            if (operation is IPropertyReferenceOperation { Property.Name: "BatchesTracked" } tracked && Receiver(tracked.Instance) is var index && index >= 0)
            {
                contribution.Clear(index);
            }
        }
    }

    /// <summary>The locals a finally region might change: every tracked local it mentions or lets a function capture.</summary>
    private BitSet FinallyKills(ControlFlowRegion region, ImmutableBlocks blocks)
    {
        if (_finallyKills.TryGetValue(region, out BitSet? kills))
        {
            return kills;
        }

        // Reuse the transfer machinery: start with everything live and see what any operation in the region clears.
        BitSet savedState = _state, savedPoints = _pointsAnd;
        List<UntrainedCall>? savedReports = _reports;
        _reports = null;
        _state = new BitSet(_localList.Count);
        for (int i = 0; i < _localList.Count; i++)
        {
            _state.Set(i);
        }

        _pointsAnd = _state.Clone();
        for (int ordinal = region.FirstBlockOrdinal; ordinal <= region.LastBlockOrdinal; ordinal++)
        {
            foreach (IOperation operation in Roots(blocks[ordinal]))
            {
                Walk(operation);
                foreach (IOperation descendant in operation.DescendantsAndSelf())
                {
                    if (descendant is ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } && _locals.TryGetValue(target.Local, out int assigned))
                    {
                        // Assigned in the finally (even with `new`): not the instance the path had.
                        _pointsAnd.Clear(assigned);
                    }
                }
            }
        }

        kills = _pointsAnd;
        _state = savedState;
        _pointsAnd = savedPoints;
        _reports = savedReports;
        _finallyKills[region] = kills;
        return kills;
    }

    /// <summary>For each block, the entry blocks of the catch, filter and finally handlers that an exception in it can reach.</summary>
    private static List<int>[] ComputeHandlerEntries(ImmutableBlocks blocks)
    {
        var result = new List<int>[blocks.Count];
        for (int ordinal = 0; ordinal < blocks.Count; ordinal++)
        {
            var entries = new List<int>();
            // Up to this graph's root only: the root region of a lambda's or local function's graph has the enclosing
            // method's regions above it, whose handlers are blocks of the other graph (a lambda inside a `using` scope
            // would otherwise flow into the ordinal of the method's finally block).
            for (ControlFlowRegion? region = blocks[ordinal].EnclosingRegion;
                region is not null && region.Kind != ControlFlowRegionKind.Root;
                region = region.EnclosingRegion)
            {
                if (region.Kind != ControlFlowRegionKind.Try || region.EnclosingRegion is not { } tryRegion)
                {
                    continue;
                }

                for (int i = 1; i < tryRegion.NestedRegions.Length; i++)
                {
                    ControlFlowRegion handler = tryRegion.NestedRegions[i];
                    entries.Add(handler.FirstBlockOrdinal);
                    if (handler.Kind == ControlFlowRegionKind.FilterAndHandler)
                    {
                        foreach (ControlFlowRegion part in handler.NestedRegions)
                        {
                            entries.Add(part.FirstBlockOrdinal);
                        }
                    }
                }
            }

            result[ordinal] = entries;
        }

        return result;
    }

    private readonly struct ImmutableBlocks
    {
        private readonly System.Collections.Immutable.ImmutableArray<BasicBlock> _blocks;

        public ImmutableBlocks(System.Collections.Immutable.ImmutableArray<BasicBlock> blocks) => _blocks = blocks;

        public int Count => _blocks.Length;

        public BasicBlock this[int ordinal] => _blocks[ordinal];
    }
}
