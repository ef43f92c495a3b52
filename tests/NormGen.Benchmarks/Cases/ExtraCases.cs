using BenchmarkDotNet.Attributes;
using NormGen.Benchmarks.Cases;

namespace NormGen.Benchmarks;

// The extra cases (CaseCatalog.Extra): run only with --extra, like the eight of issue 4, one class per case.

/// <summary><see cref="CaseCatalog.Extra_Bn2d_16x3x224x224"/> (extra case).</summary>
public class Extra_Bn2d_16x3x224x224 : BatchCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Bn2d_16x3x224x224;
#if NORMGEN
    private NgExtra_Bn2d_16x3x224x224 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Bn2d_16x3x224x224();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardTraining)]
    public void NormGen_ForwardTraining() => _ng.ForwardTraining(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardInference)]
    public void NormGen_ForwardInference() => _ng.ForwardInference(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Bn2d_64x512x7x7"/> (extra case).</summary>
public class Extra_Bn2d_64x512x7x7 : BatchCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Bn2d_64x512x7x7;
#if NORMGEN
    private NgExtra_Bn2d_64x512x7x7 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Bn2d_64x512x7x7();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardTraining)]
    public void NormGen_ForwardTraining() => _ng.ForwardTraining(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardInference)]
    public void NormGen_ForwardInference() => _ng.ForwardInference(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Bn1d_64x100"/> (extra case).</summary>
public class Extra_Bn1d_64x100 : BatchCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Bn1d_64x100;
#if NORMGEN
    private NgExtra_Bn1d_64x100 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Bn1d_64x100();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardTraining)]
    public void NormGen_ForwardTraining() => _ng.ForwardTraining(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardInference)]
    public void NormGen_ForwardInference() => _ng.ForwardInference(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Ln_64x1000"/> (extra case).</summary>
public class Extra_Ln_64x1000 : SampleCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Ln_64x1000;
#if NORMGEN
    private NgExtra_Ln_64x1000 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Ln_64x1000();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Forward)]
    public void NormGen_Forward() => _ng.Forward(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Ln_1024x4096"/> (extra case).</summary>
public class Extra_Ln_1024x4096 : SampleCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Ln_1024x4096;
#if NORMGEN
    private NgExtra_Ln_1024x4096 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Ln_1024x4096();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Forward)]
    public void NormGen_Forward() => _ng.Forward(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Gn32_8x256x28x28"/> (extra case).</summary>
public class Extra_Gn32_8x256x28x28 : SampleCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Gn32_8x256x28x28;
#if NORMGEN
    private NgExtra_Gn32_8x256x28x28 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Gn32_8x256x28x28();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Forward)]
    public void NormGen_Forward() => _ng.Forward(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_In_16x64x32x32"/> (extra case).</summary>
public class Extra_In_16x64x32x32 : SampleCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_In_16x64x32x32;
#if NORMGEN
    private NgExtra_In_16x64x32x32 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_In_16x64x32x32();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Forward)]
    public void NormGen_Forward() => _ng.Forward(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Rms_256x4096"/> (extra case).</summary>
public class Extra_Rms_256x4096 : SampleCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Rms_256x4096;
#if NORMGEN
    private NgExtra_Rms_256x4096 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Rms_256x4096();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Forward)]
    public void NormGen_Forward() => _ng.Forward(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Bn1d_1024x1001"/> (extra case).</summary>
public class Extra_Bn1d_1024x1001 : BatchCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Bn1d_1024x1001;
#if NORMGEN
    private NgExtra_Bn1d_1024x1001 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Bn1d_1024x1001();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardTraining)]
    public void NormGen_ForwardTraining() => _ng.ForwardTraining(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardInference)]
    public void NormGen_ForwardInference() => _ng.ForwardInference(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Bn2d_256x3x32x32"/> (extra case).</summary>
public class Extra_Bn2d_256x3x32x32 : BatchCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Bn2d_256x3x32x32;
#if NORMGEN
    private NgExtra_Bn2d_256x3x32x32 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Bn2d_256x3x32x32();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardTraining)]
    public void NormGen_ForwardTraining() => _ng.ForwardTraining(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardInference)]
    public void NormGen_ForwardInference() => _ng.ForwardInference(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Bn2d_32x512x4x4"/> (extra case).</summary>
public class Extra_Bn2d_32x512x4x4 : BatchCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Bn2d_32x512x4x4;
#if NORMGEN
    private NgExtra_Bn2d_32x512x4x4 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Bn2d_32x512x4x4();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardTraining)]
    public void NormGen_ForwardTraining() => _ng.ForwardTraining(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardInference)]
    public void NormGen_ForwardInference() => _ng.ForwardInference(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Ln_512x100"/> (extra case).</summary>
public class Extra_Ln_512x100 : SampleCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Ln_512x100;
#if NORMGEN
    private NgExtra_Ln_512x100 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Ln_512x100();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Forward)]
    public void NormGen_Forward() => _ng.Forward(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Gn1_8x64x56x56"/> (extra case).</summary>
public class Extra_Gn1_8x64x56x56 : SampleCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Gn1_8x64x56x56;
#if NORMGEN
    private NgExtra_Gn1_8x64x56x56 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Gn1_8x64x56x56();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Forward)]
    public void NormGen_Forward() => _ng.Forward(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_In_8x256x8x8"/> (extra case).</summary>
public class Extra_In_8x256x8x8 : SampleCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_In_8x256x8x8;
#if NORMGEN
    private NgExtra_In_8x256x8x8 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_In_8x256x8x8();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Forward)]
    public void NormGen_Forward() => _ng.Forward(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Bn1d_32x2048"/> (extra case).</summary>
public class Extra_Bn1d_32x2048 : BatchCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Bn1d_32x2048;
#if NORMGEN
    private NgExtra_Bn1d_32x2048 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Bn1d_32x2048();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardTraining)]
    public void NormGen_ForwardTraining() => _ng.ForwardTraining(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardInference)]
    public void NormGen_ForwardInference() => _ng.ForwardInference(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Extra_Bn1d_64x4096"/> (extra case).</summary>
public class Extra_Bn1d_64x4096 : BatchCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Extra_Bn1d_64x4096;
#if NORMGEN
    private NgExtra_Bn1d_64x4096 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgExtra_Bn1d_64x4096();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardTraining)]
    public void NormGen_ForwardTraining() => _ng.ForwardTraining(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardInference)]
    public void NormGen_ForwardInference() => _ng.ForwardInference(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}
