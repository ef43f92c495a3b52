using BenchmarkDotNet.Attributes;
using NormGen.Benchmarks.Cases;

namespace NormGen.Benchmarks;

// One benchmark class per case; NormGen (the baseline of each operation) calls the concrete generated type.

/// <summary><see cref="CaseCatalog.Bn2d_32x64x32x32"/>.</summary>
public class Bn2d_32x64x32x32 : BatchCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Bn2d_32x64x32x32;
#if NORMGEN
    private NgBn2d_32x64x32x32 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgBn2d_32x64x32x32();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardTraining)]
    public void NormGen_ForwardTraining() => _ng.ForwardTraining(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardInference)]
    public void NormGen_ForwardInference() => _ng.ForwardInference(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Bn2d_8x256x14x14"/>.</summary>
public class Bn2d_8x256x14x14 : BatchCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Bn2d_8x256x14x14;
#if NORMGEN
    private NgBn2d_8x256x14x14 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgBn2d_8x256x14x14();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardTraining)]
    public void NormGen_ForwardTraining() => _ng.ForwardTraining(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardInference)]
    public void NormGen_ForwardInference() => _ng.ForwardInference(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Bn2d_128x32x8x8"/>.</summary>
public class Bn2d_128x32x8x8 : BatchCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Bn2d_128x32x8x8;
#if NORMGEN
    private NgBn2d_128x32x8x8 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgBn2d_128x32x8x8();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardTraining)]
    public void NormGen_ForwardTraining() => _ng.ForwardTraining(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardInference)]
    public void NormGen_ForwardInference() => _ng.ForwardInference(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Bn1d_256x512"/>.</summary>
public class Bn1d_256x512 : BatchCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Bn1d_256x512;
#if NORMGEN
    private NgBn1d_256x512 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgBn1d_256x512();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardTraining)]
    public void NormGen_ForwardTraining() => _ng.ForwardTraining(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.ForwardInference)]
    public void NormGen_ForwardInference() => _ng.ForwardInference(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Ln_8192x768"/>.</summary>
public class Ln_8192x768 : SampleCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Ln_8192x768;
#if NORMGEN
    private NgLn_8192x768 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgLn_8192x768();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Forward)]
    public void NormGen_Forward() => _ng.Forward(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Ln_32x64"/>.</summary>
public class Ln_32x64 : SampleCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Ln_32x64;
#if NORMGEN
    private NgLn_32x64 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgLn_32x64();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Forward)]
    public void NormGen_Forward() => _ng.Forward(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Gn8_32x64x32x32"/>.</summary>
public class Gn8_32x64x32x32 : SampleCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Gn8_32x64x32x32;
#if NORMGEN
    private NgGn8_32x64x32x32 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgGn8_32x64x32x32();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Forward)]
    public void NormGen_Forward() => _ng.Forward(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}

/// <summary><see cref="CaseCatalog.Rms_8192x768"/>.</summary>
public class Rms_8192x768 : SampleCaseBenchmark
{
    protected override CaseSpec Spec => CaseCatalog.Rms_8192x768;
#if NORMGEN
    private NgRms_8192x768 _ng = null!;

    protected override INormGenLayer CreateNormGen() => _ng = new NgRms_8192x768();

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Forward)]
    public void NormGen_Forward() => _ng.Forward(X, Y);

    [Benchmark(Baseline = true), BenchmarkCategory(Ops.Backward)]
    public void NormGen_Backward() => _ng.Backward(X, Dy, Dx);
#endif
}
