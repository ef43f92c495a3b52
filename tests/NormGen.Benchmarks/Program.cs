using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using NormGen.Benchmarks.Cases;
using NormGen.Benchmarks.Infrastructure;
using NormGen.Benchmarks.Peers;

namespace NormGen.Benchmarks;

/// <summary>
/// Entry point. Before BenchmarkDotNet runs: which peers load here, the numeric check of every peer on
/// every selected case, the bandwidth curve and the floors. After: one table of ratios peer / NormGen per
/// case, operation and thread count, with the floors. See docs/benchmarks.md.
/// </summary>
public static class Program
{
    private const string Usage = """
        NormGen.Benchmarks — NormGen-generated normalization vs libtorch, ONNX Runtime, TensorPrimitives, plain loops.

          dotnet run -c Release --project tests/NormGen.Benchmarks -- [options] [BenchmarkDotNet options]

          --quick | --job short   a few minutes for everything (1 launch, 2 warm-up + 3 iterations of ~100 ms)
          --filter <glob>...      BenchmarkDotNet's filter (default *), e.g. --filter *Bn2d_32x64* *Bandwidth*
          --no-check              skip the numeric check of the peers at startup
          --no-floors             skip the bandwidth curve and the floors
          --check-only            the startup part only (peers, check, bandwidth, floors): no benchmarks
          --threads 1|2           only that value of the Threads parameter
          --extra                 also the extra shapes (CaseCatalog.Extra: C=3 224×224 maps, 7×7 maps, odd widths,
                                  long rows, GroupNorm(32), InstanceNorm), e.g. --extra --quick --filter *Extra_*
          --arrays                x, y, dy, dx as plain pinned float[] (as a program passes its own arrays: a large
                                  array starts 24 bytes past a cache line) instead of 64-byte aligned native memory
          --out-of-process        BenchmarkDotNet's default toolchain (a separate build and process per benchmark)
                                  instead of in-process
          --help                  this text
        Any other option goes to BenchmarkDotNet unchanged (--list flat, --memory, --exporters json, ...).
        """;

    public static int Main(string[] args)
    {
        var rest = new List<string>();
        bool quick = false, check = true, floors = true, outOfProcess = false, checkOnly = false, extra = false;
        int onlyThreads = 0;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "--quick" or "-q") quick = true;
            else if (a == "--job" && i + 1 < args.Length && args[i + 1].Equals("short", StringComparison.OrdinalIgnoreCase)) { quick = true; i++; }
            else if (a == "--no-check") check = false;
            else if (a == "--no-floors") floors = false;
            else if (a == "--check-only") checkOnly = true;
            else if (a == "--extra") extra = true;
            else if (a == "--arrays") AlignedBuffer.LikeArrays = true;
            else if (a == "--threads" && i + 1 < args.Length && int.TryParse(args[i + 1], out int t)) { onlyThreads = t; i++; }
            else if (a is "--out-of-process" or "--outofprocess") outOfProcess = true;
            else if (a is "--help" or "-h" or "-?") { Console.WriteLine(Usage); return 0; }
            else rest.Add(a);
        }
        bool listOnly = rest.Contains("--list");
        if (!rest.Contains("--filter") && !rest.Contains("-f")) rest.AddRange(new[] { "--filter", "*" });
        List<Regex> globs = FilterGlobs(rest);

        Console.WriteLine("== NormGen.Benchmarks ==");
        Console.WriteLine($"machine: {CpuName()}, {Environment.ProcessorCount} logical cores; {RuntimeInformation.FrameworkDescription}; "
            + $"Vector512 {(Vector512.IsHardwareAccelerated ? "accelerated" : "not accelerated")}, Vector256 {(Vector256.IsHardwareAccelerated ? "accelerated" : "not accelerated")}");
        if (AlignedBuffer.LikeArrays && outOfProcess)
        {
            Console.Error.WriteLine("--arrays needs the in-process toolchain (the setting lives in this process); drop --out-of-process.");
            return 2;
        }
        Console.WriteLine($"mode: {(quick ? "quick" : "full")}, {(outOfProcess ? "out-of-process" : "in-process")}, {(AlignedBuffer.LikeArrays ? "plain float[] buffers" : "64-byte aligned buffers")}; load average {RatioReport.LoadAverage()}");
#if NORMGEN
        Console.WriteLine("NormGen:      generated code built in (baseline of every ratio)");
#else
        Console.WriteLine("NormGen:      NOT built in (built with -p:NormGen=false): peers only, no ratios");
#endif
        Console.WriteLine($"libtorch:     {(TorchProbe.Available ? "loaded — " : "NOT AVAILABLE, its benchmarks are skipped — ")}{TorchProbe.Detail}");
        if (!TorchProbe.Available)
            Console.WriteLine("              (on Debian 12 TorchSharp's native bridge needs ../shared/tools/libtorch-compat/apply.sh after restore)");
        Console.WriteLine($"ONNX Runtime: {(OrtProbe.Available ? "loaded — " : "NOT AVAILABLE, its benchmarks are skipped — ")}{OrtProbe.Detail}");
        bool generatorSelected = Selected(typeof(GeneratorCost), globs);
        if (generatorSelected) Console.WriteLine($"generator:    {GeneratorCost.Describe()}");

        List<CaseSpec> cases = (extra ? CaseCatalog.Everything : CaseCatalog.All).Where(c => Selected(CaseType(c), globs)).ToList();
        var failures = new List<StartupCheck.Failure>();
        if (check && cases.Count > 0 && !listOnly)
        {
            Console.WriteLine();
            Console.WriteLine($"== startup check: max|peer − scalar| / max|scalar| per output, pass < {StartupCheck.Tolerance:0e+0} ==");
            failures = StartupCheck.Run(cases, Console.WriteLine);
            foreach (var f in failures.Where(f => f.Peer != "NormGen"))
                Console.WriteLine($"!! {f.Peer} disagrees on {f.Case}: its benchmarks there are skipped");
            foreach (var f in failures.Where(f => f.Peer == "NormGen"))
                Console.WriteLine($"!! NormGen DISAGREES with the reference on {f.Case}: its times there measure wrong code");
        }

        if (floors && !listOnly)
        {
            double budget = quick ? 15 : 60;
            Console.WriteLine();
            Console.WriteLine("== memory bandwidth (copies: best of 3 measurements of 7 batches each; GB/s = bytes read+written / time) ==");
            Console.WriteLine("| working set | read (sum) | copy 1 thread | copy 2 threads |");
            Console.WriteLine("|---:|---:|---:|---:|");
            foreach (Floors.Point p in Floors.MeasureCurve(budget))
                Console.WriteLine($"| {Size(p.WorkingSetBytes)} | {p.ReadGBs:0.0} GB/s | {p.CopyGBs:0.0} GB/s | {p.Copy2TGBs:0.0} GB/s |");
            Console.WriteLine();
            Console.WriteLine("== arithmetic at 2 threads (8 chains of 256-bit FMAs, no memory; each thread's speed with both busy ÷ one alone) ==");
            (double lowest, double highest) = CoreSharing.TwoThreadShare();
            Console.WriteLine($"{lowest:0.00}–{highest:0.00} over 5 rounds (about 1.0: a core each; 0.5–0.65: two hyperthreads of one core, which share its arithmetic)");
            if (cases.Count > 0)
            {
                Console.WriteLine();
                Console.WriteLine("== floors: bytes the operation must move ÷ copy bandwidth at that working set ==");
                Console.WriteLine("| case | op | bytes moved | floor 1 thread | floor 2 threads |");
                Console.WriteLine("|---|---|---:|---:|---:|");
                foreach (Floors.Floor f in Floors.MeasureCases(cases, budget))
                    Console.WriteLine($"| {f.Case.Title} | {f.Op} | {Size(f.Bytes)} | {Time(f.OneThreadNs)} ({f.Bytes / f.OneThreadNs:0.0} GB/s) | {Time(f.BestNs(2))} |");
            }
        }
        Console.WriteLine();
        if (checkOnly) return failures.Count == 0 ? 0 : 1;

        IConfig config = BuildConfig(quick, outOfProcess, failures, onlyThreads, extra);
        IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest.ToArray(), config);
        List<Summary> list = summaries.ToList();
        if (list.Count > 0 && !listOnly)
        {
            string report = RatioReport.Build(list, failures, quick);
            Console.WriteLine();
            Console.WriteLine(report);
            string dir = list[0].ResultsDirectoryPath;
            Directory.CreateDirectory(dir);
            string path = Path.Combine(dir, "NormGen-ratios.md");
            File.WriteAllText(path, report);
            Console.WriteLine($"(written to {path})");
        }
        return 0;
    }

    private static IConfig BuildConfig(bool quick, bool outOfProcess, List<StartupCheck.Failure> failures, int onlyThreads, bool extra)
    {
        Job job = quick
            ? Job.Default.WithId("Quick").WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(3)
                .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100))
            : Job.Default.WithId("Full").WithLaunchCount(1).WithMinWarmupCount(3).WithMaxWarmupCount(8)
                .WithMinIterationCount(10).WithMaxIterationCount(30).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250));
        if (!outOfProcess) job = job.WithToolchain(InProcessEmitToolchain.Instance);

        var skip = new HashSet<(string, string)>(failures.Where(f => f.Peer != "NormGen").Select(f => (f.Case, PeerPrefix(f.Peer))));
        return ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(CategoriesColumn.Default)
            .WithOrderer(new DefaultOrderer(SummaryOrderPolicy.Declared, MethodOrderPolicy.Declared))
            .AddFilter(new SimpleFilter(b =>
            {
                string method = b.Descriptor.WorkloadMethod.Name;
                string type = b.Descriptor.Type.Name;
                if (method.StartsWith("LibTorch_", StringComparison.Ordinal) && !TorchProbe.Available) return false;
                if (method.StartsWith("Ort_", StringComparison.Ordinal) && !OrtProbe.Available) return false;
                if (b.Descriptor.Type == typeof(GeneratorCost) && !GeneratorCost.Available) return false;
                if (!extra && type.StartsWith("Extra_", StringComparison.Ordinal)) return false;
                if (onlyThreads > 0 && b.Parameters.Items.FirstOrDefault(p => p.Name == "Threads")?.Value is int t && t != onlyThreads) return false;
                string prefix = method.Split('_')[0];
                return !skip.Contains((type, prefix));
            }))
            .WithOption(ConfigOptions.DisableLogFile, false);
    }

    private static string PeerPrefix(string peer) => peer switch
    {
        "libtorch" => "LibTorch",
        "ONNX Runtime" => "Ort",
        _ => peer,
    };

    private static Type CaseType(CaseSpec spec) => typeof(Program).Assembly.GetType("NormGen.Benchmarks." + spec.Name)!;

    /// <summary>BenchmarkDotNet's --filter globs (matched against Namespace.Type.Method).</summary>
    private static List<Regex> FilterGlobs(List<string> args)
    {
        var globs = new List<Regex>();
        int i = args.FindIndex(a => a is "--filter" or "-f");
        if (i < 0) return globs;
        for (int j = i + 1; j < args.Count && !args[j].StartsWith('-'); j++)
            globs.Add(new Regex("^" + Regex.Escape(args[j]).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.IgnoreCase));
        return globs;
    }

    private static bool Selected(Type type, List<Regex> globs) =>
        type.GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null)
            .Any(m => globs.Any(g => g.IsMatch($"{type.FullName}.{m.Name}")));

    private static string CpuName()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    public static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes / 1048576.0:0.#} MiB" : $"{bytes / 1024.0:0.#} KiB";

    public static string Time(double ns) => ns >= 1e6 ? $"{ns / 1e6:0.00} ms" : ns >= 1e3 ? $"{ns / 1e3:0.0} µs" : $"{ns:0} ns";
}
