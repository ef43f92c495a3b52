using System;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// Where the processor has AVX-512 and y stays in the cache, the LayerNorm forward over short rows is a pipeline: each
/// row's statistics pass also writes the previous row's y. Every row must get the bits it gets from the row-by-row
/// passes, which a call of one row always takes (its only row is the chunk's first and last) — a row whose first
/// values lie far from the rest (its statistics summed twice) included. Machines without AVX-512 compare the row-by-row
/// passes with themselves.
/// </summary>
public sealed class PipelinedRowsTests
{
    private const int Rows = 40;
    private const int FarRow = 17;

    [Fact]
    public void Float_rows_get_the_bits_of_one_row_calls()
    {
        int d = PipelinedLayerNorm.SampleSize;
        var layer = new PipelinedLayerNorm { MaxDegreeOfParallelism = 1 };
        Parameters(layer.Gamma, layer.Beta, v => (float)v);
        float[] x = Values(Rows * d, d, v => (float)v);

        var together = new float[x.Length];
        layer.Forward(x, together);
        var apart = new float[x.Length];
        for (int row = 0; row < Rows; row++)
        {
            layer.Forward(x.AsSpan(row * d, d), apart.AsSpan(row * d, d));
        }

        SameBits.Assert<float>("y", apart, "one row a call", together, $"{Rows} rows in one call");
    }

    [Fact]
    public void Double_rows_get_the_bits_of_one_row_calls()
    {
        int d = PipelinedDoubleLayerNorm.SampleSize;
        var layer = new PipelinedDoubleLayerNorm { MaxDegreeOfParallelism = 1 };
        Parameters(layer.Gamma, layer.Beta, v => v);
        double[] x = Values(Rows * d, d, v => v);

        var together = new double[x.Length];
        layer.Forward(x, together);
        var apart = new double[x.Length];
        for (int row = 0; row < Rows; row++)
        {
            layer.Forward(x.AsSpan(row * d, d), apart.AsSpan(row * d, d));
        }

        SameBits.Assert<double>("y", apart, "one row a call", together, $"{Rows} rows in one call");
    }

    private static void Parameters<T>(Span<T> gamma, Span<T> beta, Func<double, T> convert)
    {
        var rng = new Random(31);
        for (int i = 0; i < gamma.Length; i++)
        {
            gamma[i] = convert(0.5 + rng.NextDouble());
            beta[i] = convert(rng.NextDouble() - 0.5);
        }
    }

    /// <summary>Rows of values about 3 with std about 1; row <see cref="FarRow"/> starts with 8 values 1000 above the rest.</summary>
    private static T[] Values<T>(int length, int rowLength, Func<double, T> convert)
    {
        var rng = new Random(32);
        var values = new T[length];
        for (int i = 0; i < length; i++)
        {
            bool far = i / rowLength == FarRow && i % rowLength < 8;
            values[i] = convert(3 + 2 * rng.NextDouble() + (far ? 1000 : 0));
        }
        return values;
    }
}
