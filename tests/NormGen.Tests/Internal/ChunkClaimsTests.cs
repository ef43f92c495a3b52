using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Internal;

/// <summary>
/// Every chunk of a call is handed out exactly once, whatever the threads do; a thread gets its own contiguous range first,
/// in order, and then the chunks the others have not claimed, so a missing helper never leaves chunks undone; but the
/// last chunk of a thread that has begun its range is left to it until another thread asks for it by name.
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
            for (int chunk; (chunk = claims.Claim(slot, out int lastOf)) >= 0;)
            {
                Assert.Equal(-1, lastOf);
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
            Assert.Equal(-1, claims.Claim(slot, out int none));
            Assert.Equal(-1, none);
        }
    }

    [Fact]
    public void The_ranges_are_contiguous_and_as_even_as_the_count_allows()
    {
        var claims = new ChunkClaims();
        claims.Reset(chunks: 8, slots: 3, backwards: false);
        // Each thread claims once: the first chunk of its own range.
        Assert.Equal(new[] { 0, 2, 5 }, new[] { Claim(claims, 0), Claim(claims, 1), Claim(claims, 2) });
        // Slot 0 has chunk 1 left; then it takes slot 1's remaining chunks but its last (3), then slot 2's but its last (6).
        Assert.Equal(new[] { 1, 3, 6 }, Enumerable.Range(0, 3).Select(_ => Claim(claims, 0)));
        Assert.Equal(-1, claims.Claim(0, out int lastOf));
        Assert.Equal(1, lastOf);
        // Asked for by name, the last chunks are handed out once.
        Assert.Equal(4, claims.ClaimLast(1));
        Assert.Equal(-1, claims.ClaimLast(1));
        Assert.Equal(-1, claims.Claim(0, out lastOf));
        Assert.Equal(2, lastOf);
        Assert.Equal(7, claims.Claim(2, out _));
        Assert.Equal(-1, claims.ClaimLast(2));
        Assert.Equal(-1, claims.Claim(0, out lastOf));
        Assert.Equal(-1, lastOf);

        // Backwards: the same ranges, each from its end.
        claims.Reset(chunks: 8, slots: 3, backwards: true);
        Assert.Equal(new[] { 1, 4, 7 }, new[] { Claim(claims, 0), Claim(claims, 1), Claim(claims, 2) });
        Assert.Equal(new[] { 0, 3, 6 }, Enumerable.Range(0, 3).Select(_ => Claim(claims, 0)));
        Assert.Equal(2, claims.ClaimLast(1));
        Assert.Equal(5, claims.ClaimLast(2));
        Assert.Equal(-1, claims.Claim(0, out lastOf));
        Assert.Equal(-1, lastOf);
    }

    [Fact]
    public void A_thread_that_has_not_begun_loses_its_whole_range_and_one_that_has_keeps_its_last_chunk()
    {
        var claims = new ChunkClaims();
        claims.Reset(chunks: 8, slots: 2, backwards: false);
        // Slot 1 never arrives (a helper woken late): slot 0 runs all eight chunks without being told to wait for anyone.
        Assert.Equal(Enumerable.Range(0, 8), Enumerable.Range(0, 8).Select(_ => Claim(claims, 0, expectLastOf: -1)));

        claims.Reset(chunks: 8, slots: 2, backwards: false);
        // Slot 1 has begun (chunk 4): slot 0, done with its own range, takes 5 and 6 but leaves 7 to slot 1.
        Assert.Equal(new[] { 0, 1, 2, 3 }, Enumerable.Range(0, 4).Select(_ => Claim(claims, 0, expectLastOf: -1)));
        Assert.Equal(4, Claim(claims, 1, expectLastOf: -1));
        Assert.Equal(new[] { 5, 6 }, Enumerable.Range(0, 2).Select(_ => Claim(claims, 0, expectLastOf: -1)));
        Assert.Equal(-1, claims.Claim(0, out int lastOf));
        Assert.Equal(1, lastOf);
        // Slot 1 claims it itself: nothing is left for either, and nobody is named.
        Assert.Equal(7, Claim(claims, 1, expectLastOf: -1));
        Assert.Equal(-1, claims.ClaimLast(1));
        Assert.Equal(-1, claims.Claim(0, out lastOf));
        Assert.Equal(-1, lastOf);
    }

    private static int Claim(ChunkClaims claims, int slot, int expectLastOf = -1)
    {
        int chunk = claims.Claim(slot, out int lastOf);
        Assert.Equal(expectLastOf, lastOf);
        return chunk;
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
                // As the runner does, a thread told to leave a last chunk to its owner asks for it by name, at once or not at all.
                var random = new Random(call * threads + slot);
                while (true)
                {
                    int chunk = claims.Claim(slot, out int lastOf);
                    if (chunk < 0 && lastOf >= 0)
                    {
                        chunk = random.Next(2) == 0 ? claims.ClaimLast(lastOf) : -1;
                        if (chunk < 0)
                        {
                            Thread.Yield();
                            continue;
                        }
                    }
                    if (chunk < 0)
                    {
                        break;
                    }
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
        var claimed = Enumerable.Range(0, 64).Select(slot => claims.Claim(slot, out _)).ToArray();
        Assert.Equal(Enumerable.Range(0, 64), claimed);
    }
}
