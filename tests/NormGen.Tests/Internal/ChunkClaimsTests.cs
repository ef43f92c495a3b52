using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// Every chunk of a call is handed out exactly once, whatever the threads do; a thread gets its own contiguous range first,
/// in order, and then the chunks the others have not claimed, so a missing helper never leaves chunks undone.
/// </summary>
public sealed class ChunkClaimsTests
{
    public static TheoryData<int, int, bool> ChunksAndSlots()
    {
        var data = new TheoryData<int, int, bool>();
        foreach (int chunks in new[] { 1, 2, 3, 7, 8, 13 })
        {
            for (int slots = 1; slots <= Math.Min(chunks, 9); slots++)
            {
                data.Add(chunks, slots, false);
                data.Add(chunks, slots, true);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ChunksAndSlots))]
    public void A_thread_claims_its_own_range_in_order_then_the_others_leftovers(int chunks, int slots, bool backwards)
    {
        var claims = new ChunkClaims();
        for (int slot = 0; slot < slots; slot++)
        {
            claims.Reset(chunks, slots, backwards);
            var order = new List<int>();
            for (int chunk; (chunk = claims.Claim(slot)) >= 0;)
            {
                order.Add(chunk);
            }

            // Alone, the thread runs everything: its own range, then the next slot's, and so on round the slots; each range
            // first to last, or last to first.
            var expected = Enumerable.Range(0, slots)
                .Select(step => (slot + step) % slots)
                .SelectMany(owner =>
                {
                    var range = Enumerable.Range(owner * chunks / slots, ((owner + 1) * chunks / slots) - (owner * chunks / slots));
                    return backwards ? range.Reverse() : range;
                });
            Assert.Equal(expected, order);
            Assert.Equal(-1, claims.Claim(slot));
        }
    }

    [Fact]
    public void The_ranges_are_contiguous_and_as_even_as_the_count_allows()
    {
        var claims = new ChunkClaims();
        claims.Reset(chunks: 8, slots: 3, backwards: false);
        // Each thread claims once: the first chunk of its own range.
        Assert.Equal(new[] { 0, 2, 5 }, new[] { claims.Claim(0), claims.Claim(1), claims.Claim(2) });
        // Slot 0 has chunk 1 left; then it takes slot 1's remaining chunks (3, 4) before slot 2's (6, 7).
        Assert.Equal(new[] { 1, 3, 4, 6, 7, -1 }, Enumerable.Range(0, 6).Select(_ => claims.Claim(0)));

        // Backwards: the same ranges, each from its end.
        claims.Reset(chunks: 8, slots: 3, backwards: true);
        Assert.Equal(new[] { 1, 4, 7 }, new[] { claims.Claim(0), claims.Claim(1), claims.Claim(2) });
        Assert.Equal(new[] { 0, 3, 2, 6, 5, -1 }, Enumerable.Range(0, 6).Select(_ => claims.Claim(0)));
    }

    [Fact]
    public void Threads_racing_claim_every_chunk_exactly_once_across_many_calls()
    {
        const int chunks = 8, threads = 4;
        var claims = new ChunkClaims();
        for (int call = 0; call < 2000; call++)
        {
            claims.Reset(chunks, threads, backwards: call % 2 == 1);
            var counts = new int[chunks];
            using var start = new Barrier(threads);
            var workers = Enumerable.Range(0, threads).Select(slot => new Thread(() =>
            {
                start.SignalAndWait();
                for (int chunk; (chunk = claims.Claim(slot)) >= 0;)
                {
                    Interlocked.Increment(ref counts[chunk]);
                }
            })).ToArray();
            foreach (var worker in workers)
            {
                worker.Start();
            }
            foreach (var worker in workers)
            {
                worker.Join();
            }
            Assert.All(counts, count => Assert.Equal(1, count));
        }
    }

    [Fact]
    public void More_threads_than_it_was_sized_for_are_taken_in()
    {
        var claims = new ChunkClaims();
        claims.Reset(chunks: 64, slots: 64, backwards: false);
        var claimed = Enumerable.Range(0, 64).Select(slot => claims.Claim(slot)).ToArray();
        Assert.Equal(Enumerable.Range(0, 64), claimed);
    }
}
