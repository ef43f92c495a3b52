using System;
using System.Collections.Generic;
using System.Linq;
using NormGen.Benchmarks.Cases;
using NormGen.Benchmarks.Peers;

namespace NormGen.Benchmarks.Infrastructure;

/// <summary>
/// Before anything is timed: every peer runs the same sequence on the case's data and its outputs are
/// compared with the plain-loop version (double accumulators). Batch layers: ForwardTraining (y, running
/// mean, running var), Backward (dx, dγ, dβ), ForwardInference with the inference statistics (y).
/// Per-sample layers: Forward (y), Backward (dx, dγ, dβ). The measure is max|peer − ref| / max|ref| per
/// output; a peer passes below 1e-4. A peer that fails is not benchmarked on that case (NormGen is, and
/// the report says it failed). NormGen is also run at 1 and 2 threads and its outputs compared bit for bit.
/// </summary>
public static class StartupCheck
{
    public const double Tolerance = 1e-4;

    public sealed record Failure(string Case, string Peer);

    public static List<Failure> Run(IEnumerable<CaseSpec> cases, Action<string> log)
    {
        var failures = new List<Failure>();
        foreach (CaseSpec spec in cases)
        {
            CaseData data = CaseData.For(spec);
            var reference = Outputs(spec, data, new ScalarPeer(spec, data), out _);
            var peers = new List<(string Name, Func<(INormPeer, Action?)> Make)>
            {
                ("TensorPrimitives", () => (new TensorPrimitivesPeer(spec, data), null)),
            };
            if (TorchProbe.Available)
                peers.Add(("libtorch", () => { TorchPeer.SetThreads(1); var t = new TorchPeer(spec, data) { CopyOut = true }; return (t, null); }));
            if (OrtProbe.Available)
                peers.Add(("ONNX Runtime", () => MakeOrt(spec, data)));
#if NORMGEN
            peers.Add(("NormGen", () => (new NormGenPeer(spec, data, NormGenPeer.Create(spec), 1), null)));
#endif
            var lines = new List<string>();
            foreach (var (name, make) in peers)
            {
                Dictionary<string, float[]> outputs;
                string extra = "";
                try
                {
                    outputs = Outputs(spec, data, null, out extra, make);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    lines.Add($"  {name,-17} FAILED to run: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
                    failures.Add(new Failure(spec.Name, name));
                    continue;
                }
                var diffs = outputs.Select(kv => (kv.Key, Diff: RelDiff(kv.Value, reference[kv.Key]))).ToList();
                bool ok = diffs.All(d => d.Diff < Tolerance);
                if (!ok) failures.Add(new Failure(spec.Name, name));
                lines.Add($"  {name,-17} {(ok ? "ok  " : "FAIL")} " + string.Join("  ", diffs.Select(d => $"{d.Key} {d.Diff:0.0e+0}")) + extra);
            }
#if NORMGEN
            lines.Add("  " + NormGenThreadsIdentical(spec, data));
            lines.Add("  " + NormGenAllocations(spec, data));
#endif
            log($"{spec.Title} {spec.DimsText}:");
            foreach (string l in lines) log(l);
        }
        return failures;
    }

    private static (INormPeer, Action?) MakeOrt(CaseSpec spec, CaseData data)
    {
        var x = new AlignedBuffer(spec.Length);
        var y = new AlignedBuffer(spec.Length);
        var ort = new OrtPeer(spec, data, 1, x, y);
        return (ort, () => { x.Dispose(); y.Dispose(); });
    }

    /// <summary>Runs the check sequence on a peer and returns its outputs by name.</summary>
    private static Dictionary<string, float[]> Outputs(CaseSpec spec, CaseData data, INormPeer? given, out string extra, Func<(INormPeer, Action?)>? make = null)
    {
        extra = "";
        (INormPeer peer, Action? after) = given is not null ? (given, null) : make!();
        try
        {
            var o = new Dictionary<string, float[]>();
            var y = new float[spec.Length];
            var dx = new float[spec.Length];
            if (peer is OrtPeer ortPeer) extra = $"   [{ortPeer.Operator}]";
#if NORMGEN
            if (peer is NormGenPeer ng) extra = $"   [threads: {ng.ThreadControl}]";
#endif
            if (spec.IsBatch)
            {
                if (peer.SupportsTraining)
                {
                    peer.ForwardTraining(data.X, y);
                    o["y(train)"] = (float[])y.Clone();
                    o["runMean"] = (float[])peer.RunningMean!.Clone();
                    o["runVar"] = (float[])peer.RunningVar!.Clone();
                    peer.Backward(data.X, data.Dy, dx);
                    o["dx"] = (float[])dx.Clone();
                    o["dGamma"] = (float[])peer.GammaGrad!.Clone();
                    o["dBeta"] = (float[])peer.BetaGrad!.Clone();
                }
                peer.LoadInferenceStatistics();
                peer.ForwardInference(data.X, y);
                o["y(infer)"] = (float[])y.Clone();
            }
            else
            {
                peer.Forward(data.X, y);
                o["y"] = (float[])y.Clone();
                if (peer.SupportsTraining)
                {
                    peer.Backward(data.X, data.Dy, dx);
                    o["dx"] = (float[])dx.Clone();
                    o["dGamma"] = (float[])peer.GammaGrad!.Clone();
                    if (spec.HasBeta) o["dBeta"] = (float[])peer.BetaGrad!.Clone();
                }
            }
            return o;
        }
        finally
        {
            peer.Dispose();
            after?.Invoke();
        }
    }

#if NORMGEN
    private static string NormGenThreadsIdentical(CaseSpec spec, CaseData data)
    {
        try
        {
            var one = Outputs(spec, data, new NormGenPeer(spec, data, NormGenPeer.Create(spec), 1), out _);
            var two = Outputs(spec, data, new NormGenPeer(spec, data, NormGenPeer.Create(spec), 2), out _);
            var differing = one.Keys.Where(k => !one[k].AsSpan().SequenceEqual(two[k])).ToList();
            return differing.Count == 0
                ? "NormGen 1 vs 2 threads: bit-identical"
                : "NormGen 1 vs 2 threads: NOT bit-identical in " + string.Join(", ", differing);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return "NormGen 1 vs 2 threads: " + e.GetType().Name + ": " + e.Message;
        }
    }
#endif

#if NORMGEN
    /// <summary>Managed bytes allocated per NormGen call after the first ones (exact: process-wide count over 20 calls, nothing else running).</summary>
    public static Dictionary<(string Case, string Op, int Threads), double> NormGenAllocated { get; } = new();

    private static string NormGenAllocations(CaseSpec spec, CaseData data)
    {
        var parts = new List<string>();
        foreach (int threads in new[] { 1, 2 })
        {
            var x = data.X;
            var y = new float[spec.Length];
            var dx = new float[spec.Length];
            using var peer = new NormGenPeer(spec, data, NormGenPeer.Create(spec), threads);
            var ops = new List<(string Op, Action Run)>();
            if (spec.IsBatch)
            {
                ops.Add((Ops.ForwardTraining, () => peer.ForwardTraining(x, y)));
                ops.Add((Ops.Backward, () => peer.Backward(x, data.Dy, dx)));
                ops.Add((Ops.ForwardInference, () => peer.ForwardInference(x, y)));
                peer.ForwardTraining(x, y);
                peer.LoadInferenceStatistics();
            }
            else
            {
                ops.Add((Ops.Forward, () => peer.Forward(x, y)));
                ops.Add((Ops.Backward, () => peer.Backward(x, data.Dy, dx)));
            }
            foreach (var (op, run) in ops)
            {
                for (int i = 0; i < 10; i++) run(); // past one-time start-up (helper threads)
                long before = GC.GetTotalAllocatedBytes(precise: true);
                for (int i = 0; i < 20; i++) run();
                double perCall = (GC.GetTotalAllocatedBytes(precise: true) - before) / 20.0;
                NormGenAllocated[(spec.Name, op, threads)] = perCall;
                parts.Add($"{op}@{threads}T {perCall:0.#} B");
            }
        }
        return "NormGen allocated per call: " + string.Join(", ", parts);
    }
#endif

    /// <summary>max|a − b| / max|b| (NaN anywhere → infinity).</summary>
    public static double RelDiff(float[] a, float[] b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            if (double.IsNaN(d)) return double.PositiveInfinity;
            maxDiff = Math.Max(maxDiff, d);
            maxRef = Math.Max(maxRef, Math.Abs((double)b[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }
}
