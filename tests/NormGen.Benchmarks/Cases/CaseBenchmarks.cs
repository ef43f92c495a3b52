using System;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using NormGen.Benchmarks.Cases;
using NormGen.Benchmarks.Infrastructure;
using NormGen.Benchmarks.Peers;

namespace NormGen.Benchmarks;

/// <summary>
/// What every case benchmark shares: the thread count parameter, the 64-byte aligned x / y / dy / dx
/// buffers, and the peers (each created only for the benchmarks that use it, outside the timed part).
/// Methods are named Peer_Operation; the operation is the BenchmarkDotNet category, so each operation
/// (at each thread count) is one logical group whose baseline is NormGen: Ratio = peer / NormGen.
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public abstract class CaseBenchmarkBase
{
    private AlignedBuffer? _x, _y, _dy, _dx;
    private FloorCopy? _floor;
    private Floors.ThreadPair? _floorPair;

    /// <summary>
    /// libtorch's intra-op threads, ONNX Runtime's intra-op threads and NormGen's MaxDegreeOfParallelism.
    /// The TensorPrimitives and scalar versions are single-threaded at both values (measured at each so
    /// that every group has them).
    /// </summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    protected abstract CaseSpec Spec { get; }

    protected CaseData Data { get; private set; } = null!;

    protected ScalarPeer? Scalar { get; private set; }
    protected TensorPrimitivesPeer? Tp { get; private set; }
    protected TorchPeer? Torch { get; private set; }
    protected OrtPeer? Ort { get; private set; }

    protected ReadOnlySpan<float> X => _x!.ReadOnly;
    protected Span<float> Y => _y!.Span;
    protected ReadOnlySpan<float> Dy => _dy!.ReadOnly;
    protected Span<float> Dx => _dx!.Span;

    protected void SetupBuffers()
    {
        Data = CaseData.For(Spec);
        _x = new AlignedBuffer(Data.X);
        _y = new AlignedBuffer(Spec.Length);
        _dy = new AlignedBuffer(Data.Dy);
        _dx = new AlignedBuffer(Spec.Length);
    }

    /// <summary>A fresh peer, run once so that backward has its forward and inference its statistics.</summary>
    private void Prime(INormPeer peer)
    {
        if (Spec.IsBatch)
        {
            peer.ForwardTraining(X, Y);
            peer.LoadInferenceStatistics();
        }
        else
        {
            peer.Forward(X, Y);
        }
    }

    protected void SetupScalar()
    {
        SetupBuffers();
        Scalar = new ScalarPeer(Spec, Data);
        Prime(Scalar);
    }

    protected void SetupTensorPrimitives()
    {
        SetupBuffers();
        Tp = new TensorPrimitivesPeer(Spec, Data);
        Prime(Tp);
    }

    protected void SetupTorch(bool backward)
    {
        SetupBuffers();
        if (!TorchProbe.Available) throw new InvalidOperationException("libtorch is not available: " + TorchProbe.Detail);
        TorchPeer.SetThreads(Threads);
        Torch = new TorchPeer(Spec, Data);
        if (backward) Torch.PrepareBackward();
    }

    protected void SetupOrt()
    {
        SetupBuffers();
        if (!OrtProbe.Available) throw new InvalidOperationException("ONNX Runtime is not available: " + OrtProbe.Detail);
        Ort = new OrtPeer(Spec, Data, Threads, _x!, _y!);
        Ort.Run();
    }

    /// <summary>
    /// The floor of <paramref name="op"/> at this thread count: a plain copy of the bytes the operation must move, half
    /// read and half written, at the same working set (<see cref="CaseSpec.MinimumBytes"/>), timed in this class's run
    /// beside the peers so that a minute of slow memory slows both alike.
    /// </summary>
    protected void SetupFloor(string op)
    {
        if (Threads >= 2)
        {
            _floorPair = new Floors.ThreadPair();
        }
        _floor = new FloorCopy(Spec.MinimumBytes(op) / 2, Threads, _floorPair);
        _floor.Run();
    }

    protected void RunFloor() => _floor!.Run();

    [GlobalSetup(Target = nameof(Floor_Backward))]
    public void SetupBackwardFloor() => SetupFloor(Ops.Backward);

    /// <summary>The backward's floor (every case has a backward); each class declares its forwards' floors.</summary>
    [Benchmark, BenchmarkCategory(Ops.Backward)]
    public void Floor_Backward() => RunFloor();

#if NORMGEN
    /// <summary>Creates the case's generated layer (the concrete type lives in the derived class).</summary>
    protected abstract INormGenLayer CreateNormGen();

    protected void SetupNormGen()
    {
        SetupBuffers();
        INormGenLayer layer = CreateNormGen();
        NormGenPeer.Initialize(layer, Data);
        layer.MaxDegreeOfParallelism = Threads;
        if (layer is INormGenBatchLayer batch)
        {
            batch.ForwardTraining(X, Y);
            batch.LoadRunningStatistics(Data.InferenceMean, Data.InferenceVar);
        }
        else
        {
            ((INormGenSampleLayer)layer).Forward(X, Y);
        }
    }
#endif

    [GlobalCleanup]
    public void Cleanup()
    {
        Scalar?.Dispose();
        Tp?.Dispose();
        Torch?.Dispose();
        Ort?.Dispose();
        Scalar = null;
        Tp = null;
        Torch = null;
        Ort = null;
        _x?.Dispose();
        _y?.Dispose();
        _dy?.Dispose();
        _dx?.Dispose();
        _x = _y = _dy = _dx = null;
        _floor?.Dispose();
        _floorPair?.Dispose();
        _floor = null;
        _floorPair = null;
    }
}

/// <summary>BatchNorm cases: ForwardTraining (with the running-statistics update), ForwardInference, Backward.</summary>
public abstract class BatchCaseBenchmark : CaseBenchmarkBase
{
    [GlobalSetup(Targets = new[] { nameof(Scalar_ForwardTraining), nameof(Scalar_ForwardInference), nameof(Scalar_Backward) })]
    public void SetupScalarPeer() => SetupScalar();

    [GlobalSetup(Targets = new[] { nameof(TensorPrimitives_ForwardTraining), nameof(TensorPrimitives_ForwardInference), nameof(TensorPrimitives_Backward) })]
    public void SetupTensorPrimitivesPeer() => SetupTensorPrimitives();

    [GlobalSetup(Targets = new[] { nameof(LibTorch_ForwardTraining), nameof(LibTorch_ForwardInference) })]
    public void SetupTorchForward() => SetupTorch(backward: false);

    [GlobalSetup(Target = nameof(LibTorch_Backward))]
    public void SetupTorchBackward() => SetupTorch(backward: true);

    [GlobalSetup(Target = nameof(Ort_ForwardInference))]
    public void SetupOrtPeer() => SetupOrt();

#if NORMGEN
    [GlobalSetup(Targets = new[] { "NormGen_ForwardTraining", "NormGen_ForwardInference", "NormGen_Backward" })]
    public void SetupNormGenLayer() => SetupNormGen();
#endif

    [GlobalSetup(Target = nameof(Floor_ForwardTraining))]
    public void SetupTrainingFloor() => SetupFloor(Ops.ForwardTraining);

    [GlobalSetup(Target = nameof(Floor_ForwardInference))]
    public void SetupInferenceFloor() => SetupFloor(Ops.ForwardInference);

    [Benchmark, BenchmarkCategory(Ops.ForwardTraining)]
    public void Floor_ForwardTraining() => RunFloor();

    [Benchmark, BenchmarkCategory(Ops.ForwardInference)]
    public void Floor_ForwardInference() => RunFloor();

    [Benchmark, BenchmarkCategory(Ops.ForwardTraining)]
    public void LibTorch_ForwardTraining() => Torch!.BenchForwardTraining();

    [Benchmark, BenchmarkCategory(Ops.ForwardTraining)]
    public void TensorPrimitives_ForwardTraining() => Tp!.ForwardTraining(X, Y);

    [Benchmark, BenchmarkCategory(Ops.ForwardTraining)]
    public void Scalar_ForwardTraining() => Scalar!.ForwardTraining(X, Y);

    [Benchmark, BenchmarkCategory(Ops.ForwardInference)]
    public void LibTorch_ForwardInference() => Torch!.BenchForwardInference();

    [Benchmark, BenchmarkCategory(Ops.ForwardInference)]
    public void Ort_ForwardInference() => Ort!.Run();

    [Benchmark, BenchmarkCategory(Ops.ForwardInference)]
    public void TensorPrimitives_ForwardInference() => Tp!.ForwardInference(X, Y);

    [Benchmark, BenchmarkCategory(Ops.ForwardInference)]
    public void Scalar_ForwardInference() => Scalar!.ForwardInference(X, Y);

    [Benchmark, BenchmarkCategory(Ops.Backward)]
    public void LibTorch_Backward() => Torch!.BenchBackward();

    [Benchmark, BenchmarkCategory(Ops.Backward)]
    public void TensorPrimitives_Backward() => Tp!.Backward(X, Dy, Dx);

    [Benchmark, BenchmarkCategory(Ops.Backward)]
    public void Scalar_Backward() => Scalar!.Backward(X, Dy, Dx);
}

/// <summary>Per-sample cases (LayerNorm, GroupNorm, RMSNorm): Forward, Backward.</summary>
public abstract class SampleCaseBenchmark : CaseBenchmarkBase
{
    [GlobalSetup(Targets = new[] { nameof(Scalar_Forward), nameof(Scalar_Backward) })]
    public void SetupScalarPeer() => SetupScalar();

    [GlobalSetup(Targets = new[] { nameof(TensorPrimitives_Forward), nameof(TensorPrimitives_Backward) })]
    public void SetupTensorPrimitivesPeer() => SetupTensorPrimitives();

    [GlobalSetup(Target = nameof(LibTorch_Forward))]
    public void SetupTorchForward() => SetupTorch(backward: false);

    [GlobalSetup(Target = nameof(LibTorch_Backward))]
    public void SetupTorchBackward() => SetupTorch(backward: true);

    [GlobalSetup(Target = nameof(Ort_Forward))]
    public void SetupOrtPeer() => SetupOrt();

#if NORMGEN
    [GlobalSetup(Targets = new[] { "NormGen_Forward", "NormGen_Backward" })]
    public void SetupNormGenLayer() => SetupNormGen();
#endif

    [GlobalSetup(Target = nameof(Floor_Forward))]
    public void SetupForwardFloor() => SetupFloor(Ops.Forward);

    [Benchmark, BenchmarkCategory(Ops.Forward)]
    public void Floor_Forward() => RunFloor();

    [Benchmark, BenchmarkCategory(Ops.Forward)]
    public void LibTorch_Forward() => Torch!.BenchForward();

    [Benchmark, BenchmarkCategory(Ops.Forward)]
    public void Ort_Forward() => Ort!.Run();

    [Benchmark, BenchmarkCategory(Ops.Forward)]
    public void TensorPrimitives_Forward() => Tp!.Forward(X, Y);

    [Benchmark, BenchmarkCategory(Ops.Forward)]
    public void Scalar_Forward() => Scalar!.Forward(X, Y);

    [Benchmark, BenchmarkCategory(Ops.Backward)]
    public void LibTorch_Backward() => Torch!.BenchBackward();

    [Benchmark, BenchmarkCategory(Ops.Backward)]
    public void TensorPrimitives_Backward() => Tp!.Backward(X, Dy, Dx);

    [Benchmark, BenchmarkCategory(Ops.Backward)]
    public void Scalar_Backward() => Scalar!.Backward(X, Dy, Dx);
}
