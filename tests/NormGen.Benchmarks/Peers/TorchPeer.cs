using System;
using System.Collections.Generic;
using System.Linq;
using NormGen.Benchmarks.Cases;
using TorchSharp;
using static TorchSharp.torch;

namespace NormGen.Benchmarks.Peers;

/// <summary>
/// libtorch (PyTorch 2.10's CPU kernels) through TorchSharp 0.107.
/// <list type="bullet">
/// <item>BatchNorm training forward: <c>nn.functional.batch_norm(training: true)</c> with running buffers (updated in place).</item>
/// <item>Inference forward and per-sample forwards run under <c>no_grad</c>: <c>batch_norm(training: false)</c>,
/// <c>layer_norm</c>, <c>group_norm</c>; RMSNorm is the composite <c>x·rsqrt(mean(x²)+ε)·γ</c> (TorchSharp 0.107
/// has no <c>rms_norm</c>).</item>
/// <item>Backward: libtorch's own backward kernels (native_batch_norm_backward, native_layer_norm_backward,
/// native_group_norm_backward; RMSNorm: the composite's backward nodes), reached through
/// <c>torch.autograd.grad</c> on a graph built once by a training forward and retained
/// (<c>retain_graph: true</c>), so each timed call runs the backward only (plus the autograd engine's own overhead);
/// it returns dx, dγ, dβ as new tensors.</item>
/// </list>
/// libtorch allocates its outputs (that is its API); the benchmark disposes them each call.
/// </summary>
public sealed class TorchPeer : INormPeer
{
    private readonly CaseSpec _spec;
    private readonly CaseData _data;
    private readonly long[] _shape;
    private readonly Tensor _x, _w, _b, _rm, _rv, _rmInfer, _rvInfer;
    private Tensor? _xg, _wg, _bg, _yg, _dy;
    private IList<Tensor>? _outputs, _inputs, _gradOutputs;
    private float[]? _gammaGrad, _betaGrad;

    public TorchPeer(CaseSpec spec, CaseData data)
    {
        _spec = spec;
        _data = data;
        _shape = spec.Dims.Select(d => (long)d).ToArray();
        _x = torch.tensor(data.X, _shape);
        _w = torch.tensor(data.Gamma);
        _b = torch.tensor(data.Beta);
        int p = spec.ParameterSize;
        _rm = torch.zeros(p);
        _rv = torch.ones(p);
        _rmInfer = torch.tensor(data.InferenceMean);
        _rvInfer = torch.tensor(data.InferenceVar);
    }

    public string Name => "libtorch";

    public bool SupportsTraining => true;

    /// <summary>Copy results into the caller's spans (the startup check); the benchmarks leave it off.</summary>
    public bool CopyOut { get; set; }

    public static void SetThreads(int threads) => torch.set_num_threads(threads);

    // ------------------------------------------------------------ the timed operations
    public void BenchForwardTraining()
    {
        using Tensor y = nn.functional.batch_norm(_x, _rm, _rv, _w, _b, training: true, momentum: CaseSpec.Momentum, eps: CaseSpec.Epsilon);
    }

    public void BenchForwardInference()
    {
        using var noGrad = torch.no_grad();
        using Tensor y = nn.functional.batch_norm(_x, _rmInfer, _rvInfer, _w, _b, training: false, momentum: CaseSpec.Momentum, eps: CaseSpec.Epsilon);
    }

    public void BenchForward()
    {
        using var noGrad = torch.no_grad();
        using Tensor y = PerSampleForward(_x, _w, _b);
    }

    public void BenchBackward()
    {
        IList<Tensor> grads = torch.autograd.grad(_outputs!, _inputs!, _gradOutputs!, retain_graph: true);
        for (int i = 0; i < grads.Count; i++) grads[i].Dispose();
    }

    private Tensor PerSampleForward(Tensor x, Tensor w, Tensor b)
    {
        switch (_spec.Kind)
        {
            case LayerKind.Layer:
                return nn.functional.layer_norm(x, new long[] { _spec.C }, w, b, CaseSpec.Epsilon);
            case LayerKind.Group:
                return nn.functional.group_norm(x, _spec.Groups, w, b, CaseSpec.Epsilon);
            case LayerKind.Rms:
                {
                    using var scope = torch.NewDisposeScope();
                    Tensor r = torch.rsqrt(x.square().mean(new long[] { -1 }, keepdim: true) + CaseSpec.Epsilon);
                    return (x * r * w).MoveToOuterDisposeScope();
                }
            default:
                throw new NotSupportedException(_spec.Kind.ToString());
        }
    }

    /// <summary>Builds the training graph once (the timed backward reuses it): leaves x, γ, β with requires_grad.</summary>
    public void PrepareBackward()
    {
        if (_yg is not null) return;
        _xg = torch.tensor(_data.X, _shape).requires_grad_(true);
        _wg = torch.tensor(_data.Gamma).requires_grad_(true);
        _bg = torch.tensor(_data.Beta).requires_grad_(true);
        _dy = torch.tensor(_data.Dy, _shape);
        if (_spec.IsBatch)
        {
            using Tensor rm = torch.zeros(_spec.ParameterSize), rv = torch.ones(_spec.ParameterSize);
            _yg = nn.functional.batch_norm(_xg, rm, rv, _wg, _bg, training: true, momentum: CaseSpec.Momentum, eps: CaseSpec.Epsilon);
        }
        else
        {
            _yg = PerSampleForward(_xg, _wg, _bg);
        }
        _outputs = new List<Tensor> { _yg };
        _inputs = _spec.HasBeta ? new List<Tensor> { _xg, _wg, _bg } : new List<Tensor> { _xg, _wg };
        _gradOutputs = new List<Tensor> { _dy };
    }

    // ------------------------------------------------------------ INormPeer (the startup check)
    public void ForwardTraining(ReadOnlySpan<float> x, Span<float> y)
    {
        using Tensor t = nn.functional.batch_norm(_x, _rm, _rv, _w, _b, training: true, momentum: CaseSpec.Momentum, eps: CaseSpec.Epsilon);
        if (CopyOut) Copy(t, y);
    }

    public void ForwardInference(ReadOnlySpan<float> x, Span<float> y)
    {
        using var noGrad = torch.no_grad();
        using Tensor t = nn.functional.batch_norm(_x, _rmInfer, _rvInfer, _w, _b, training: false, momentum: CaseSpec.Momentum, eps: CaseSpec.Epsilon);
        if (CopyOut) Copy(t, y);
    }

    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        using var noGrad = torch.no_grad();
        using Tensor t = PerSampleForward(_x, _w, _b);
        if (CopyOut) Copy(t, y);
    }

    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        PrepareBackward();
        IList<Tensor> grads = torch.autograd.grad(_outputs!, _inputs!, _gradOutputs!, retain_graph: true);
        if (CopyOut) Copy(grads[0], dx);
        _gammaGrad = grads[1].data<float>().ToArray();
        _betaGrad = grads.Count > 2 ? grads[2].data<float>().ToArray() : null;
        foreach (Tensor g in grads) g.Dispose();
    }

    public void LoadInferenceStatistics()
    {
        // ForwardInference always uses the case's inference statistics (separate buffers).
    }

    public float[]? RunningMean => _spec.IsBatch ? _rm.data<float>().ToArray() : null;
    public float[]? RunningVar => _spec.IsBatch ? _rv.data<float>().ToArray() : null;
    public float[]? GammaGrad => _gammaGrad;
    public float[]? BetaGrad => _betaGrad;

    private static void Copy(Tensor t, Span<float> destination) => t.contiguous().data<float>().ToArray().CopyTo(destination);

    public void Dispose()
    {
        foreach (Tensor? t in new[] { _x, _w, _b, _rm, _rv, _rmInfer, _rvInfer, _xg, _wg, _bg, _yg, _dy })
            t?.Dispose();
    }
}

/// <summary>Loads libtorch once per process and remembers why it could not.</summary>
public static class TorchProbe
{
    private static readonly Lazy<(bool Ok, string Detail)> State = new(Probe);

    public static bool Available => State.Value.Ok;

    public static string Detail => State.Value.Detail;

    private static (bool, string) Probe()
    {
        try
        {
            return ProbeCore();
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or InvalidOperationException or NotSupportedException)
        {
            Exception root = e;
            while (root.InnerException is not null) root = root.InnerException;
            string first = root.Message.Split('\n')[0].Trim();
            return (false, $"{e.GetType().Name}: {(first.Length > 300 ? first[..300] + "…" : first)}");
        }
    }

    private static (bool, string) ProbeCore()
    {
        torch.set_num_interop_threads(1);
        torch.set_num_threads(1);
        using Tensor t = torch.ones(4);
        float s = t.sum().item<float>();
        if (s != 4f) return (false, "libtorch loaded but computed a wrong sum");
        return (true, $"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch {torch.__version__}, CPU");
    }
}
