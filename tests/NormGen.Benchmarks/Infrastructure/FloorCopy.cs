using System;

namespace NormGen.Benchmarks.Infrastructure;

/// <summary>
/// The floor's plain copy: <c>bytesEach</c> bytes from one 64-byte aligned buffer to another (<c>Span.CopyTo</c>), on one
/// thread or split in halves over two (the caller's and <see cref="Floors.ThreadPair"/>'s). Used by the startup floors
/// and, so that a case's floor is measured in the same minutes as the peers it is compared with, as a benchmark of its
/// own in every case class (<c>Floor_Operation</c>).
/// </summary>
public sealed unsafe class FloorCopy : IDisposable
{
    private readonly AlignedBuffer _src;
    private readonly AlignedBuffer _dst;
    private readonly Floors.ThreadPair? _pair;
    private readonly int _half;

    public FloorCopy(long bytesEach, int threads, Floors.ThreadPair? pair)
    {
        int n = (int)Math.Max(16, bytesEach / sizeof(float));
        _src = new AlignedBuffer(n);
        _dst = new AlignedBuffer(n);
        _src.Span.Fill(1.25f);
        if (threads >= 2)
        {
            _pair = pair ?? throw new ArgumentNullException(nameof(pair), "a two-thread copy needs the second thread");
            _half = n / 2 / 16 * 16;
            float* s = _src.Pointer, d = _dst.Pointer;
            int half = _half, rest = n - _half;
            _pair.Work = () => new ReadOnlySpan<float>(s + half, rest).CopyTo(new Span<float>(d + half, rest));
        }
    }

    /// <summary>One copy of every byte.</summary>
    public void Run()
    {
        if (_pair is null)
        {
            _src.ReadOnly.CopyTo(_dst.Span);
            return;
        }
        _pair.Start();
        _src.ReadOnly[.._half].CopyTo(_dst.Span);
        _pair.Wait();
    }

    public void Dispose()
    {
        _src.Dispose();
        _dst.Dispose();
    }
}
