using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using NormGen.Generator.Diagnostics;

namespace NormGen.Generator.Analyzers.Usage;

/// <summary>
/// NG1001 (ForwardInference on running statistics never computed or loaded) and NG1002 (Backward with no training
/// forward), both proved on Roslyn's control-flow graph: a must-dataflow over each method's basic blocks follows every
/// local created with <c>new</c> and reports the call only when, on every path from the creation to it, nothing trained,
/// loaded or let the instance escape. NG1001 also covers private fields and auto-properties that the whole type only
/// ever assigns with <c>new</c> and never trains, loads or lets escape.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UntrainedInstanceAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        UsageDiagnosticDescriptors.InferenceWithoutRunningStatistics,
        UsageDiagnosticDescriptors.BackwardWithoutTrainingForward);

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

            start.RegisterOperationBlockStartAction(block => OnOperationBlockStart(block, types));
            start.RegisterSymbolStartAction(symbol => PrivateMemberAnalysis.OnTypeStart(symbol, types), SymbolKind.NamedType);
        });
    }

    private static void OnOperationBlockStart(OperationBlockStartAnalysisContext context, NormGenTypes types)
    {
        // Build control-flow graphs only for blocks that call ForwardInference or Backward on a NormGen type.
        var trigger = new Trigger();
        context.RegisterOperationAction(
            operation =>
            {
                var invocation = (IInvocationOperation)operation.Operation;
                if (invocation.TargetMethod.Name is "ForwardInference" or "Backward" && types.GetFacts(invocation.TargetMethod.ContainingType) is not null)
                {
                    trigger.Fire();
                }
            },
            OperationKind.Invocation);

        context.RegisterOperationBlockEndAction(end =>
        {
            if (!trigger.Fired)
            {
                return;
            }

            // The blocks of a member: its body (and, for a constructor, the initializer), field and property initializers.
            // A constructor's initializer and body share one graph: analyze each graph once.
            var blocks = new List<IOperation>();
            var roots = new List<IOperation>();
            foreach (IOperation block in end.OperationBlocks)
            {
                if (block.Kind is OperationKind.None or OperationKind.Attribute or OperationKind.ParameterInitializer)
                {
                    continue;
                }

                IOperation root = block;
                while (root.Parent is not null)
                {
                    root = root.Parent;
                }

                if (!roots.Contains(root))
                {
                    roots.Add(root);
                    blocks.Add(block);
                }
            }

            var captures = new CaptureMap(roots);
            var reports = new List<UntrainedCall>();
            var graphs = new HashSet<ControlFlowGraph>();
            foreach (IOperation block in blocks)
            {
                ControlFlowGraph graph;
                try
                {
                    graph = end.GetControlFlowGraph(block);
                }
                catch (System.ArgumentException)
                {
                    // A kind of block Roslyn builds no graph for: nothing to prove there.
                    continue;
                }

                if (graphs.Add(graph))
                {
                    UntrainedLocalsDataflow.Analyze(graph, types, captures, reports, end.CancellationToken);
                }
            }

            foreach (UntrainedCall call in reports)
            {
                Report(end, call, types, end.CancellationToken);
            }
        });
    }

    private static void Report(OperationBlockAnalysisContext context, UntrainedCall call, NormGenTypes types, CancellationToken cancellationToken)
    {
        IInvocationOperation invocation = call.Invocation;
        string name = call.Local?.Name ?? invocation.TargetMethod.ContainingType.Name;
        Location location = CallLocation(invocation.Syntax);
        Diagnostic diagnostic = call.Rule == UsageRule.RunningStatistics
            ? Diagnostic.Create(UsageDiagnosticDescriptors.InferenceWithoutRunningStatistics, location, name)
            : Diagnostic.Create(UsageDiagnosticDescriptors.BackwardWithoutTrainingForward, location, name,
                types.GetFacts(invocation.TargetMethod.ContainingType)?.TrainingForwardName ?? "ForwardTraining");
        context.ReportDiagnostic(diagnostic);
    }

    /// <summary>The whole call: the invocation expression, or for <c>x?.M()</c> the whole conditional access.</summary>
    internal static Location CallLocation(SyntaxNode invocation) =>
        (invocation.Parent is ConditionalAccessExpressionSyntax conditional && conditional.WhenNotNull == invocation ? conditional : invocation).GetLocation();

    private sealed class Trigger
    {
        private int _fired;

        public bool Fired => Volatile.Read(ref _fired) != 0;

        public void Fire() => Volatile.Write(ref _fired, 1);
    }
}
