using System;
using System.Runtime.InteropServices;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// The kernels' per-column constants come from <see cref="Buffers.AtLeast{T}(ref T[], int)"/>, which allocates them with
/// <see cref="Buffers.LineAligned{T}(int)"/>: zeroed arrays of the asked length that do not move, starting on a 64-byte
/// line where the pinned-object heap allows (alignment is speed only: a kernel gives the same values either way).
/// </summary>
[Collection(nameof(LineAlignedBuffersTests))]
public sealed class LineAlignedBuffersTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(576)]
    [InlineData(1065)]
    public void LineAligned_arrays_are_zeroed_and_of_the_asked_length(int length)
    {
        float[] floats = Buffers.LineAligned<float>(length);
        double[] doubles = Buffers.LineAligned<double>(length);
        Assert.Equal(length, floats.Length);
        Assert.Equal(length, doubles.Length);
        Assert.All(floats, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
        Assert.All(doubles, v => Assert.Equal(0, BitConverter.DoubleToInt64Bits(v)));
    }

    [Fact]
    public void LineAligned_gives_empty_and_reference_type_arrays_as_plain_arrays()
    {
        Assert.Empty(Buffers.LineAligned<float>(0));
        string[] strings = Buffers.LineAligned<string>(3);
        Assert.Equal(3, strings.Length);
        Assert.All(strings, Assert.Null);
    }

    [Fact]
    public void AtLeast_keeps_a_large_enough_buffer_and_replaces_a_short_one()
    {
        float[] buffer = Array.Empty<float>();
        float[] first = Buffers.AtLeast(ref buffer, 100);
        Assert.Same(buffer, first);
        Assert.Equal(100, first.Length);
        first[0] = 5f;
        Assert.Same(first, Buffers.AtLeast(ref buffer, 64));
        float[] grown = Buffers.AtLeast(ref buffer, 101);
        Assert.NotSame(first, grown);
        Assert.Same(buffer, grown);
        Assert.Equal(0f, grown[0]);
    }

    /// <summary>
    /// Arrays the size of the kernels' constants (up to some thousands of values) start on a line nearly always: measured
    /// 400 of 400 on .NET 10, only arrays of hundreds of KiB sometimes not; plain pinned arrays, 14 of these 80. Alone in
    /// its collection (no other test allocating on the pinned heap meanwhile) the test still follows the whole test run,
    /// whose dead pinned arrays leave gaps a new allocation can land in, past the filler meant to move it: 70 of 80 in one
    /// of about a dozen full runs. It asks for three quarters, far above the 14 without the retries.
    /// </summary>
    [Fact]
    public void LineAligned_arrays_of_constants_start_on_a_cache_line()
    {
        int onLine = 0, total = 0;
        var missed = new System.Collections.Generic.List<string>();
        foreach (int length in new[] { 1, 100, 576, 1065, 2112, 4160, 8256, 20000 })
        {
            for (int i = 0; i < 5; i++)
            {
                float[] floats = Buffers.LineAligned<float>(length);
                double[] doubles = Buffers.LineAligned<double>(length);
                if (OnLine(floats) == 0) missed.Add($"float[{length}]");
                if (OnLine(doubles) == 0) missed.Add($"double[{length}]");
                onLine += OnLine(floats) + OnLine(doubles);
                total += 2;
            }
        }
        Assert.True(onLine >= total * 3 / 4,
            $"expected at least 3/4 of the arrays on a 64-byte line; {onLine} of {total} were (off a line: {string.Join(", ", missed)})");
    }

    private static int OnLine<T>(T[] array) where T : unmanaged
    {
        var handle = GCHandle.Alloc(array, GCHandleType.Pinned);
        long address = handle.AddrOfPinnedObject();
        handle.Free(); // the array does not move: it lives on the pinned-object heap
        return (address & 63) == 0 ? 1 : 0;
    }
}

/// <summary>Runs alone: other tests allocating on the pinned-object heap at the same time would break up the placement.</summary>
[CollectionDefinition(nameof(LineAlignedBuffersTests), DisableParallelization = true)]
public sealed class LineAlignedBuffersTestsCollection
{
}
