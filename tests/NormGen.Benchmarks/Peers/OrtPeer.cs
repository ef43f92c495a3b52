using System;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NormGen.Benchmarks.Cases;
using NormGen.Benchmarks.Infrastructure;

namespace NormGen.Benchmarks.Peers;

/// <summary>
/// ONNX Runtime's CPU execution provider on the case's one-node model (inference only). X and Y are
/// OrtValues over pre-allocated, 64-byte aligned native buffers bound once with an <see cref="OrtIoBinding"/>,
/// so a timed run is <c>RunWithBinding</c> and nothing else: no managed allocation, no copies.
/// Intra-op threads = the benchmark's thread count, inter-op 1, sequential execution, all graph optimizations.
/// </summary>
public sealed class OrtPeer : INormPeer
{
    private readonly CaseSpec _spec;
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions;
    private readonly OrtValue _xValue, _yValue;
    private readonly AlignedBuffer _x, _y;

    public OrtPeer(CaseSpec spec, CaseData data, int threads, AlignedBuffer x, AlignedBuffer y)
    {
        _spec = spec;
        _x = x;
        _y = y;
        (byte[] model, string op, int opset) = OnnxModel.Build(spec, data);
        Operator = $"{op} (opset {opset})";
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        _session = new InferenceSession(model, options);
        long[] shape = spec.Dims.Select(d => (long)d).ToArray();
        unsafe
        {
            _xValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, shape, (IntPtr)x.Pointer, x.Bytes);
            _yValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, shape, (IntPtr)y.Pointer, y.Bytes);
        }
        _binding = _session.CreateIoBinding();
        _binding.BindInput("X", _xValue);
        _binding.BindOutput("Y", _yValue);
        _runOptions = new RunOptions();
    }

    public string Name => "ONNX Runtime";

    /// <summary>The ONNX operator and opset the model uses.</summary>
    public string Operator { get; }

    public bool SupportsTraining => false;

    /// <summary>The timed call: one run on the bound buffers.</summary>
    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    public void ForwardTraining(ReadOnlySpan<float> x, Span<float> y) => throw new NotSupportedException();

    public void ForwardInference(ReadOnlySpan<float> x, Span<float> y) => RunCopy(x, y);

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => RunCopy(x, y);

    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => throw new NotSupportedException();

    public void LoadInferenceStatistics()
    {
        // The inference statistics are initializers of the model.
    }

    private void RunCopy(ReadOnlySpan<float> x, Span<float> y)
    {
        x.CopyTo(_x.Span);
        Run();
        _y.ReadOnly.CopyTo(y);
    }

    public float[]? RunningMean => null;
    public float[]? RunningVar => null;
    public float[]? GammaGrad => null;
    public float[]? BetaGrad => null;

    public void Dispose()
    {
        _binding.Dispose();
        _runOptions.Dispose();
        _xValue.Dispose();
        _yValue.Dispose();
        _session.Dispose();
    }
}

/// <summary>Loads ONNX Runtime once per process and remembers why it could not.</summary>
public static class OrtProbe
{
    private static readonly Lazy<(bool Ok, string Detail)> State = new(Probe);

    public static bool Available => State.Value.Ok;

    public static string Detail => State.Value.Detail;

    private static (bool, string) Probe()
    {
        try
        {
            string version = OrtEnv.Instance().GetVersionString();
            return (true, $"ONNX Runtime {version}, CPU execution provider");
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or EntryPointNotFoundException or OnnxRuntimeException or BadImageFormatException)
        {
            Exception root = e;
            while (root.InnerException is not null) root = root.InnerException;
            return (false, $"{e.GetType().Name}: {root.Message}");
        }
    }
}
