using System;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>RepeatPeriod: the first period's bits over the whole length (the last copy cut short), written only where they differ.</summary>
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

    [Fact]
    public void RepeatPeriod_cuts_the_last_copy_short_where_the_length_is_no_multiple_of_the_period()
    {
        // The wrapped y pass's constants: the first values again past the last column (period 3, two more values).
        float[] values = [1.5f, -0f, 3f, 9f, 9f, 7f];
        Buffers.RepeatPeriod(values, period: 3, length: 5);
        float[] expected = [1.5f, -0f, 3f, 1.5f, -0f, 7f];
        Assert.Equal(Array.ConvertAll(expected, BitConverter.SingleToInt32Bits), Array.ConvertAll(values, BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData(0, 6, 6)]
    [InlineData(7, 6, 6)]
    [InlineData(3, 9, 6)]
    public void RepeatPeriod_refuses_a_period_longer_than_the_length_or_a_length_the_array_does_not_hold(int period, int length, int size)
    {
        var error = Assert.Throws<ArgumentException>(() => Buffers.RepeatPeriod(new double[size], period, length));
        Assert.Contains($"at most the length {length}, and at least {length} values; got a period of {period} in {size} values", error.Message);
    }
}
