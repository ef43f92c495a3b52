using System;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// Where the processor has AVX-512 and y stays in the cache, the LayerNorm forward over short rows is a pipeline (and
/// over rows of 8 KiB and more, where y streams past the cache): each row's statistics pass also writes the previous row's y. Every row must get the bits it gets from the row-by-row
/// passes, which a call of one row always takes (its only row is the chunk's first and last) — a row whose first
/// values lie far from the rest (its statistics summed twice) included — and a call in place (y = x) the same bits.
/// Machines without AVX-512 compare the row-by-row passes with themselves.
/// </summary>
public sealed class PipelinedRowsTests
{
    private const int Rows = 40;
    private const int FarRow = 17;

    private delegate void Forward<T>(ReadOnlySpan<T> x, Span<T> y);

    [Fact]
    public void Float_rows_of_whole_unrolled_iterations() =>
        AssertSameBits(PipelinedLayerNorm.SampleSize, Layer<float, PipelinedLayerNorm>(new PipelinedLayerNorm { MaxDegreeOfParallelism = 1 }), v => (float)v);

    [Fact]
    public void Float_rows_with_a_whole_vector_left_over() =>
        AssertSameBits(PipelinedVectorTailLayerNorm.SampleSize, Layer<float, PipelinedVectorTailLayerNorm>(new PipelinedVectorTailLayerNorm { MaxDegreeOfParallelism = 1 }), v => (float)v);

    [Fact]
    public void Float_rows_with_whole_and_partial_vectors_left_over() =>
        AssertSameBits(PipelinedPartialTailLayerNorm.SampleSize, Layer<float, PipelinedPartialTailLayerNorm>(new PipelinedPartialTailLayerNorm { MaxDegreeOfParallelism = 1 }), v => (float)v);

    [Fact]
    public void Double_rows_of_whole_unrolled_iterations() =>
        AssertSameBits(PipelinedDoubleLayerNorm.SampleSize, Layer<double, PipelinedDoubleLayerNorm>(new PipelinedDoubleLayerNorm { MaxDegreeOfParallelism = 1 }), v => v);

    [Fact]
    public void Double_rows_with_whole_and_partial_vectors_left_over() =>
        AssertSameBits(PipelinedDoublePartialTailLayerNorm.SampleSize, Layer<double, PipelinedDoublePartialTailLayerNorm>(new PipelinedDoublePartialTailLayerNorm { MaxDegreeOfParallelism = 1 }), v => v);

    /// <summary>
    /// Rows of 16 KiB: pipelined where y streams (660 rows, 10.3 MiB: x and y past what the L3 holds, on processors with
    /// AVX-512); y also at other places within a cache line, whose partial lines the pipeline writes apart; the far row
    /// in mid-chunk.
    /// </summary>
    [Fact]
    public void Long_float_rows_where_y_streams()
    {
        AssertStreams(LongRows * PipelinedBackwardLayerNorm.SampleSize * (long)sizeof(float));
        AssertSameBits(PipelinedBackwardLayerNorm.SampleSize, Layer<float, PipelinedBackwardLayerNorm>(new PipelinedBackwardLayerNorm { MaxDegreeOfParallelism = 1 }), v => (float)v, rows: LongRows, farRow: 20, offsets: [3, 8]);
    }

    [Fact]
    public void Long_double_rows_where_y_streams()
    {
        AssertStreams(LongRows * PipelinedBackwardDoubleLayerNorm.SampleSize * (long)sizeof(double));
        AssertSameBits(PipelinedBackwardDoubleLayerNorm.SampleSize, Layer<double, PipelinedBackwardDoubleLayerNorm>(new PipelinedBackwardDoubleLayerNorm { MaxDegreeOfParallelism = 1 }), v => v, rows: LongRows, farRow: 20, offsets: [3]);
    }

    /// <summary>Rows of 16 KiB in a call whose x and y are past what the L3 holds (<see cref="NormGen.Internal.Threading.CacheResidentCallBytes"/>).</summary>
    private const int LongRows = 660;

    /// <summary>The premise of the long rows: a forward of <paramref name="bytes"/> of x and of y streams at one thread (x86 with AVX).</summary>
    private static void AssertStreams(long bytes) =>
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx.IsSupported, NormGen.Internal.Threading.StreamsOutput(bytes, bytes, 2 * bytes));

    /// <summary>The layer's Forward, after giving it γ and β that are not 1 and 0.</summary>
    private static Forward<T> Layer<T, TLayer>(TLayer layer)
        where T : unmanaged, System.Numerics.INumberBase<T>
        where TLayer : IPerSampleLayer<T>, IAffineLayer<T>
    {
        var rng = new Random(31);
        for (int i = 0; i < layer.Gamma.Length; i++)
        {
            layer.Gamma[i] = T.CreateChecked(0.5 + rng.NextDouble());
            layer.Beta[i] = T.CreateChecked(rng.NextDouble() - 0.5);
        }
        return layer.Forward;
    }

    private static void AssertSameBits<T>(int d, Forward<T> forward, Func<double, T> convert, int rows = Rows, int farRow = FarRow, int[]? offsets = null) where T : unmanaged
    {
        T[] x = Values(rows * d, d, farRow, convert);

        var together = new T[x.Length];
        forward(x, together);
        var apart = new T[x.Length];
        for (int row = 0; row < rows; row++)
        {
            forward(x.AsSpan(row * d, d), apart.AsSpan(row * d, d));
        }
        var inPlace = (T[])x.Clone();
        forward(inPlace, inPlace);

        SameBits.Assert<T>("y", apart, "one row a call", together, $"{rows} rows in one call");
        SameBits.Assert<T>("y", apart, "one row a call", inPlace, $"{rows} rows in one call, in place");
        foreach (int offset in offsets ?? [])
        {
            var shifted = new T[x.Length + offset];
            forward(x, shifted.AsSpan(offset, x.Length));
            SameBits.Assert<T>("y", apart, "one row a call", shifted.AsSpan(offset, x.Length), $"{rows} rows in one call, y {offset} values further");
        }
    }

    /// <summary>Rows of values about 3 with std about 1; row <paramref name="farRow"/> starts with 8 values 1000 above the rest.</summary>
    private static T[] Values<T>(int length, int rowLength, int farRow, Func<double, T> convert)
    {
        var rng = new Random(32);
        var values = new T[length];
        for (int i = 0; i < length; i++)
        {
            bool far = i / rowLength == farRow && i % rowLength < 8;
            values[i] = convert(3 + 2 * rng.NextDouble() + (far ? 1000 : 0));
        }
        return values;
    }
}
