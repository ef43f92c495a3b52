using System;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>RepeatPeriod: the first period's bits over the whole length, written only where they differ.</summary>
public sealed class BuffersTests
{
    [Fact]
    public void RepeatPeriod_copies_the_first_period_over_the_length_bit_for_bit()
    {
        // The third copy already holds the period but with +0 where it has −0: equal as numbers, not as bits.
        float[] values = [1.5f, -0f, 3f, 9f, 9f, 9f, 1.5f, 0f, 3f, 7f];
        Buffers.RepeatPeriod(values, period: 3, length: 9);
        float[] expected = [1.5f, -0f, 3f, 1.5f, -0f, 3f, 1.5f, -0f, 3f, 7f];
        Assert.Equal(Array.ConvertAll(expected, BitConverter.SingleToInt32Bits), Array.ConvertAll(values, BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData(0, 6, 6)]
    [InlineData(4, 6, 6)]
    [InlineData(3, 9, 6)]
    public void RepeatPeriod_refuses_a_period_that_does_not_divide_a_length_the_array_holds(int period, int length, int size)
    {
        var error = Assert.Throws<ArgumentException>(() => Buffers.RepeatPeriod(new double[size], period, length));
        Assert.Contains($"dividing the length {length}", error.Message);
    }
}
