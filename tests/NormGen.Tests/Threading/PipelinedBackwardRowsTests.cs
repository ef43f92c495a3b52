using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// Where a thread's share of the call is past its core's cache (here: 2.1 MiB tensors at one thread), the backward over
/// rows of 16 KiB and more is a pipeline: each row's gradient-sums pass also writes the previous row's dx. Every row must get
/// the bits the row-by-row passes give it (a call of one row always takes them: its only row is the chunk's first and
/// last), wherever dx starts within a cache line (the previous row's partial lines and its last whole ones are written
/// apart from the loop), in place (dx over dy) and at any thread count; dγ, dβ and dx must match the double reference.
/// </summary>
public sealed class PipelinedBackwardRowsTests
{
    /// <summary>136 rows of 16 KiB: 2.1 MiB, so one thread's share is past its cache; 8 chunks of 17 rows.</summary>
    private const int Rows = 136;

    [Fact]
    public void LayerNorm_rows_of_4096_floats() =>
        AssertPipelinedRows<float>(threads => new PipelinedBackwardLayerNorm { MaxDegreeOfParallelism = threads }, PipelinedBackwardLayerNorm.SampleSize, rms: false, Tolerance.FloatFloor);

    [Fact]
    public void LayerNorm_rows_of_2048_doubles() =>
        AssertPipelinedRows<double>(threads => new PipelinedBackwardDoubleLayerNorm { MaxDegreeOfParallelism = threads }, PipelinedBackwardDoubleLayerNorm.SampleSize, rms: false, 1e-12);

    [Fact]
    public void RmsNorm_rows_of_4096_floats() =>
        AssertPipelinedRows<float>(threads => new PipelinedBackwardRmsNorm { MaxDegreeOfParallelism = threads }, PipelinedBackwardRmsNorm.SampleSize, rms: true, Tolerance.FloatFloor);

    private static void AssertPipelinedRows<T>(Func<int, IPerSampleLayer<T>> create, int d, bool rms, double rel)
        where T : unmanaged, INumberBase<T>
    {
        var rng = new Random(5101 + d);
        bool isFloat = typeof(T) == typeof(float);
        double[] Round(double[] a) => isFloat ? TestData.RoundToFloat(a) : a;
        var layout = NormLayout.LayerNorm(Rows, d);
        double[] gamma = Round(TestData.Uniform(rng, d, 0.5, 1.5));
        double[]? beta = rms ? null : Round(TestData.Uniform(rng, d, -0.5, 0.5));
        double[] x = Round(TestData.Normal(rng, Rows * d, 2, 3));
        double[] dy = Round(TestData.Normal(rng, Rows * d, 0, 1));
        T[] xs = TestData.To<T>(x);
        T[] dys = TestData.To<T>(dy);

        IPerSampleLayer<T> Layer(int threads)
        {
            var layer = create(threads);
            TestData.To<T>(gamma).CopyTo(((IScaledLayer<T>)layer).Gamma);
            if (beta is not null)
            {
                TestData.To<T>(beta).CopyTo(((IAffineLayer<T>)layer).Beta);
            }
            layer.Forward(xs, new T[xs.Length]);
            return layer;
        }

        var one = Layer(threads: 1);
        var dx = new T[xs.Length];
        one.Backward(xs, dys, dx);
        string name = one.GetType().Name;
        var reference = ReferenceNorm.Compute(layout, x, dy, gamma, beta, 1e-5, rms);
        Tolerance.AssertClose($"{name} dx", (ReadOnlySpan<T>)dx, reference.Dx, rel);
        Tolerance.AssertClose($"{name} GammaGrad", (ReadOnlySpan<T>)((IScaledLayer<T>)one).GammaGrad, reference.DGamma, rel);
        T[] gammaGrad = ((IScaledLayer<T>)one).GammaGrad.ToArray();
        T[] betaGrad = beta is null ? [] : ((IAffineLayer<T>)one).BetaGrad.ToArray();
        if (beta is not null)
        {
            Tolerance.AssertClose($"{name} BetaGrad", (ReadOnlySpan<T>)betaGrad, reference.DBeta, rel);
        }

        // Each row alone: the row-by-row passes.
        var alone = Layer(threads: 1);
        var dxAlone = new T[xs.Length];
        for (int row = 0; row < Rows; row++)
        {
            alone.Forward(xs.AsSpan(row * d, d), new T[d]);
            alone.Backward(xs.AsSpan(row * d, d), dys.AsSpan(row * d, d), dxAlone.AsSpan(row * d, d));
        }
        SameBits.Assert<T>("dx", dxAlone, "one row a call", dx, $"{Rows} rows in one call");

        // dx at other places within a cache line (one of 3 and 8 values past where the array starts is not on a line).
        foreach (int offset in new[] { 3, 8 })
        {
            var shifted = new T[xs.Length + offset];
            one.Backward(xs, dys, shifted.AsSpan(offset, xs.Length));
            SameBits.Assert<T>("dx", dxAlone, "one row a call", shifted.AsSpan(offset, xs.Length), $"{Rows} rows, dx {offset} values further");
        }

        T[] inPlace = (T[])dys.Clone();
        one.Backward(xs, inPlace, inPlace);
        SameBits.Assert<T>("dx", dxAlone, "one row a call", inPlace, $"{Rows} rows in place (dx over dy)");

        var two = Layer(threads: 2);
        var dxTwo = new T[xs.Length];
        two.Backward(xs, dys, dxTwo);
        SameBits.Assert<T>("dx", dx, "1 thread", dxTwo, "2 threads");
        SameBits.Assert<T>("GammaGrad", gammaGrad, "1 thread", ((IScaledLayer<T>)two).GammaGrad, "2 threads");
        if (beta is not null)
        {
            SameBits.Assert<T>("BetaGrad", betaGrad, "1 thread", ((IAffineLayer<T>)two).BetaGrad, "2 threads");
        }
    }
}
