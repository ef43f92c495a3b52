using System;

namespace NormGen.Generator.Analyzers.Usage;

/// <summary>A small fixed-size set of indices: one bit per tracked local in the dataflow.</summary>
internal sealed class BitSet
{
    private readonly ulong[] _words;

    public BitSet(int count)
    {
        Count = count;
        _words = new ulong[(count + 63) / 64];
    }

    private BitSet(int count, ulong[] words)
    {
        Count = count;
        _words = words;
    }

    public int Count { get; }

    public bool this[int index] => (_words[index >> 6] & (1UL << (index & 63))) != 0;

    public void Set(int index) => _words[index >> 6] |= 1UL << (index & 63);

    public void Clear(int index) => _words[index >> 6] &= ~(1UL << (index & 63));

    public BitSet Clone() => new(Count, (ulong[])_words.Clone());

    /// <summary>Intersects with <paramref name="other"/>; true when this set changed.</summary>
    public bool IntersectWith(BitSet other)
    {
        bool changed = false;
        for (int i = 0; i < _words.Length; i++)
        {
            ulong next = _words[i] & other._words[i];
            changed |= next != _words[i];
            _words[i] = next;
        }

        return changed;
    }

    public bool IsEmpty => Array.TrueForAll(_words, w => w == 0);
}
