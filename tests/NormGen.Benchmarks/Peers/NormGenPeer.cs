#if NORMGEN
using System;
using NormGen.Benchmarks.Cases;

namespace NormGen.Benchmarks.Peers;

/// <summary>
/// The NormGen-generated layer of a case behind <see cref="INormPeer"/>, for the startup check only
/// (the timed benchmarks call the concrete generated type).
/// </summary>
public sealed class NormGenPeer : INormPeer
{
    private readonly CaseSpec _spec;
    private readonly CaseData _data;
    private readonly INormGenLayer _layer;

    public NormGenPeer(CaseSpec spec, CaseData data, INormGenLayer layer, int threads)
    {
        _spec = spec;
        _data = data;
        _layer = layer;
        Initialize(layer, data);
        layer.MaxDegreeOfParallelism = threads;
        ThreadControl = $"MaxDegreeOfParallelism = {threads}";
    }

    public string Name => "NormGen";

    public string ThreadControl { get; }

    public bool SupportsTraining => true;

    /// <summary>Gives a fresh generated layer the case's Gamma and Beta.</summary>
    public static void Initialize(INormGenLayer layer, CaseData data)
    {
        data.Gamma.CopyTo(layer.Gamma);
        if (layer is INormGenShift shift) data.Beta.CopyTo(shift.Beta);
    }

    public static INormGenLayer Create(CaseSpec spec) => spec.Name switch
    {
        nameof(CaseCatalog.Bn2d_32x64x32x32) => new NgBn2d_32x64x32x32(),
        nameof(CaseCatalog.Bn2d_8x256x14x14) => new NgBn2d_8x256x14x14(),
        nameof(CaseCatalog.Bn2d_128x32x8x8) => new NgBn2d_128x32x8x8(),
        nameof(CaseCatalog.Bn1d_256x512) => new NgBn1d_256x512(),
        nameof(CaseCatalog.Ln_8192x768) => new NgLn_8192x768(),
        nameof(CaseCatalog.Ln_32x64) => new NgLn_32x64(),
        nameof(CaseCatalog.Gn8_32x64x32x32) => new NgGn8_32x64x32x32(),
        nameof(CaseCatalog.Rms_8192x768) => new NgRms_8192x768(),
        nameof(CaseCatalog.Extra_Bn2d_16x3x224x224) => new NgExtra_Bn2d_16x3x224x224(),
        nameof(CaseCatalog.Extra_Bn2d_64x512x7x7) => new NgExtra_Bn2d_64x512x7x7(),
        nameof(CaseCatalog.Extra_Bn1d_64x100) => new NgExtra_Bn1d_64x100(),
        nameof(CaseCatalog.Extra_Ln_64x1000) => new NgExtra_Ln_64x1000(),
        nameof(CaseCatalog.Extra_Ln_1024x4096) => new NgExtra_Ln_1024x4096(),
        nameof(CaseCatalog.Extra_Gn32_8x256x28x28) => new NgExtra_Gn32_8x256x28x28(),
        nameof(CaseCatalog.Extra_In_16x64x32x32) => new NgExtra_In_16x64x32x32(),
        nameof(CaseCatalog.Extra_Rms_256x4096) => new NgExtra_Rms_256x4096(),
        nameof(CaseCatalog.Extra_Bn1d_1024x1001) => new NgExtra_Bn1d_1024x1001(),
        nameof(CaseCatalog.Extra_Bn2d_256x3x32x32) => new NgExtra_Bn2d_256x3x32x32(),
        nameof(CaseCatalog.Extra_Bn2d_32x512x4x4) => new NgExtra_Bn2d_32x512x4x4(),
        nameof(CaseCatalog.Extra_Ln_512x100) => new NgExtra_Ln_512x100(),
        nameof(CaseCatalog.Extra_Gn1_8x64x56x56) => new NgExtra_Gn1_8x64x56x56(),
        nameof(CaseCatalog.Extra_In_8x256x8x8) => new NgExtra_In_8x256x8x8(),
        nameof(CaseCatalog.Extra_Bn1d_32x2048) => new NgExtra_Bn1d_32x2048(),
        nameof(CaseCatalog.Extra_Bn1d_64x4096) => new NgExtra_Bn1d_64x4096(),
        _ => throw new ArgumentException("no NormGen declaration for " + spec.Name),
    };

    private INormGenBatchLayer Batch => (INormGenBatchLayer)_layer;

    public void ForwardTraining(ReadOnlySpan<float> x, Span<float> y) => Batch.ForwardTraining(x, y);
    public void ForwardInference(ReadOnlySpan<float> x, Span<float> y) => Batch.ForwardInference(x, y);
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => ((INormGenSampleLayer)_layer).Forward(x, y);
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => _layer.Backward(x, dy, dx);

    public void LoadInferenceStatistics() => Batch.LoadRunningStatistics(_data.InferenceMean, _data.InferenceVar);

    public float[]? RunningMean => _spec.IsBatch ? Batch.RunningMean.ToArray() : null;
    public float[]? RunningVar => _spec.IsBatch ? Batch.RunningVar.ToArray() : null;
    public float[]? GammaGrad => _layer.GammaGrad.ToArray();
    public float[]? BetaGrad => _layer is INormGenShift s ? s.BetaGrad.ToArray() : null;

    public void Dispose()
    {
        (_layer as IDisposable)?.Dispose();
    }
}
#endif
