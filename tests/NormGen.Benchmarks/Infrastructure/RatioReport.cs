using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using BenchmarkDotNet.Reports;
using NormGen.Benchmarks.Cases;

namespace NormGen.Benchmarks.Infrastructure;

/// <summary>
/// The run's results as one table of ratios peer / NormGen (> 1: NormGen is faster) per case, operation
/// and thread count, with NormGen's own time, its distance to the floor and its allocation per call.
/// </summary>
public static class RatioReport
{
    private static readonly (string Prefix, string Title)[] Peers =
    {
        ("LibTorch", "libtorch"), ("Ort", "ONNX Runtime"), ("TensorPrimitives", "TensorPrimitives"), ("Scalar", "scalar loops"),
    };

    public static string LoadAverage()
    {
        try
        {
            return System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (System.IO.IOException)
        {
            return "?";
        }
    }

    private sealed record Row(string Type, string Peer, string Op, int Threads, double MeanNs, long? Allocated);

    /// <summary>
    /// The floor of a case's operation at a thread count: its class's own copy benchmark (Floor_Operation) where it ran —
    /// measured in the same minutes as the peers — else the startup measurement; at 2 threads the faster of the 1- and
    /// 2-thread copies, as a 2-thread call may take either.
    /// </summary>
    private static double? FloorNs(List<Row> rows, string caseName, string op, int threads)
    {
        Row? Copy(int t) => rows.FirstOrDefault(r => r.Type == caseName && r.Op == op && r.Threads == t && r.Peer == "Floor");
        if (Copy(threads) is Row own)
        {
            return threads >= 2 && Copy(1) is Row one ? Math.Min(one.MeanNs, own.MeanNs) : own.MeanNs;
        }
        return Floors.Get(caseName, op)?.BestNs(threads);
    }

    public static string Build(IReadOnlyList<Summary> summaries, IReadOnlyList<StartupCheck.Failure> failures, bool quick)
    {
        var rows = new List<Row>();
        foreach (Summary s in summaries)
            foreach (BenchmarkReport r in s.Reports)
            {
                if (r.ResultStatistics is null) continue;
                string method = r.BenchmarkCase.Descriptor.WorkloadMethod.Name;
                int sep = method.IndexOf('_');
                string peer = sep < 0 ? method : method[..sep];
                string op = sep < 0 ? "" : method[(sep + 1)..];
                object? threads = r.BenchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Threads")?.Value;
                int t = threads is int i ? i : 0;
                long? alloc = r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase);
                rows.Add(new Row(r.BenchmarkCase.Descriptor.Type.Name, peer, op, t, r.ResultStatistics.Median, alloc));
            }

        var sb = new StringBuilder();
        sb.AppendLine($"== NormGen ratios ({(quick ? "quick mode: short runs, expect noise" : "full run")}) ==");
        sb.AppendLine("Each peer's median time / NormGen's median time for the same case, operation and thread count (> 1: NormGen faster;");
        sb.AppendLine("medians, unlike BenchmarkDotNet's Ratio column, which divides means);");
        sb.AppendLine("'floor' = the time a plain copy takes to move the bytes the operation must move, at its working set, measured");
        sb.AppendLine("in the case's class run beside the peers (its Floor_ benchmark's median; the startup measurement where that did");
        sb.AppendLine("not run); at 2 threads the faster of a 1- and a 2-thread copy. 'NormGen alloc' = managed bytes per call (startup count");
        sb.AppendLine("over 20 calls when the check ran, else BenchmarkDotNet's process-wide figure).");
        sb.AppendLine($"Load average at the end: {LoadAverage()} on {Environment.ProcessorCount} cores (above ~{Environment.ProcessorCount}: other work shared the machine; 2-thread results suffer most).");
        sb.AppendLine();
        sb.Append("| case | op | threads | NormGen |");
        foreach (var p in Peers) sb.Append($" {p.Title} |");
        sb.AppendLine(" floor | NormGen / floor | NormGen alloc |");
        sb.Append("|---|---|---:|---:|");
        foreach (var _ in Peers) sb.Append("---:|");
        sb.AppendLine("---:|---:|---:|");
        foreach (CaseSpec spec in CaseCatalog.Everything)
            foreach (string op in spec.Operations)
                foreach (int threads in rows.Where(r => r.Type == spec.Name && r.Op == op).Select(r => r.Threads).Distinct().OrderBy(t => t))
                {
                    Row? ng = rows.FirstOrDefault(r => r.Type == spec.Name && r.Op == op && r.Threads == threads && r.Peer == "NormGen");
                    bool ngFailed = failures.Any(f => f.Case == spec.Name && f.Peer == "NormGen");
                    sb.Append($"| {spec.Title} | {op} | {threads} | {(ng is null ? "—" : Program.Time(ng.MeanNs) + (ngFailed ? " (WRONG)" : ""))} |");
                    foreach (var (prefix, _) in Peers)
                    {
                        Row? peer = rows.FirstOrDefault(r => r.Type == spec.Name && r.Op == op && r.Threads == threads && r.Peer == prefix);
                        string cell = peer is null ? "—"
                            : ng is null ? Program.Time(peer.MeanNs)
                            : (peer.MeanNs / ng.MeanNs).ToString("0.00", CultureInfo.InvariantCulture) + "×";
                        sb.Append($" {cell} |");
                    }
                    double? floorNs = FloorNs(rows, spec.Name, op, threads);
                    string floorCell = floorNs is double f ? Program.Time(f) : "—";
                    string toFloor = floorNs is double fl && ng is not null ? (ng.MeanNs / fl).ToString("0.00", CultureInfo.InvariantCulture) + "×" : "—";
                    string alloc = ng?.Allocated is long b ? $"{b} B" : "—";
#if NORMGEN
                    if (StartupCheck.NormGenAllocated.TryGetValue((spec.Name, op, threads), out double exact))
                        alloc = $"{exact:0.#} B";
#endif
                    sb.AppendLine($" {floorCell} | {toFloor} | {alloc} |");
                }

        List<Row> bandwidth = rows.Where(r => r.Type == nameof(Bandwidth)).ToList();
        if (bandwidth.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("| bandwidth benchmark | GB/s |");
            sb.AppendLine("|---|---:|");
            foreach (Summary s in summaries)
                foreach (BenchmarkReport r in s.Reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(Bandwidth) && r.ResultStatistics is not null))
                {
                    int kib = (int)r.BenchmarkCase.Parameters["WorkingSetKiB"];
                    string m = r.BenchmarkCase.Descriptor.WorkloadMethod.Name;
                    sb.AppendLine($"| {m} {Program.Size(kib * 1024L)} | {kib * 1024.0 / r.ResultStatistics!.Median:0.0} |");
                }
        }

        List<Row> gen = rows.Where(r => r.Type == nameof(GeneratorCost)).ToList();
        if (gen.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine($"| generator over {GeneratorCost.Declarations} declarations | time | allocated |");
            sb.AppendLine("|---|---:|---:|");
            foreach (Row r in gen)
                sb.AppendLine($"| {r.Peer} | {Program.Time(r.MeanNs)} | {(r.Allocated is long b ? Program.Size(b) : "—")} |");
        }
        return sb.ToString();
    }
}
