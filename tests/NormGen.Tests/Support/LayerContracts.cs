using System;

namespace NormGen.Tests;

// The generated API as interfaces, so one generic test routine can drive every declaration.
// A test declaration lists the interfaces that match its configuration; the generated public
// members implement them implicitly. Which members exist for a configuration is itself checked
// (by reflection) in SemanticsTests.

/// <summary>Batch statistics (N in Axes): two forwards and Backward.</summary>
public interface IBatchStatsLayer<T>
{
    void ForwardTraining(ReadOnlySpan<T> x, Span<T> y);

    void ForwardInference(ReadOnlySpan<T> x, Span<T> y);

    void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx);
}

/// <summary>Per-sample statistics (LayerNorm, GroupNorm, InstanceNorm, RMSNorm): one forward and Backward.</summary>
public interface IPerSampleLayer<T>
{
    void Forward(ReadOnlySpan<T> x, Span<T> y);

    void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx);
}

/// <summary>Affine layers: the scale and its gradient (RMSNorm has only these).</summary>
public interface IScaledLayer<T>
{
    Span<T> Gamma { get; }

    Span<T> GammaGrad { get; }

    void ZeroGrad();
}

/// <summary>Affine standard layers: the shift and its gradient, in addition to the scale.</summary>
public interface IAffineLayer<T> : IScaledLayer<T>
{
    Span<T> Beta { get; }

    Span<T> BetaGrad { get; }
}

/// <summary>Batch statistics with TrackRunningStats.</summary>
public interface IRunningStatsLayer<T>
{
    Span<T> RunningMean { get; }

    Span<T> RunningVar { get; }

    long BatchesTracked { get; }

    bool HasRunningStatistics { get; }

    void LoadRunningStatistics(ReadOnlySpan<T> mean, ReadOnlySpan<T> variance);
}

/// <summary>A forward pass (ForwardTraining or Forward) as a value.</summary>
public delegate void ForwardFn<T>(ReadOnlySpan<T> x, Span<T> y);

/// <summary>Backward as a value.</summary>
public delegate void BackwardFn<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx);
