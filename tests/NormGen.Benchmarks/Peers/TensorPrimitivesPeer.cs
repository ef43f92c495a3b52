using System;
using System.Numerics.Tensors;
using NormGen.Benchmarks.Cases;

namespace NormGen.Benchmarks.Peers;

/// <summary>
/// The hand-written SIMD version a C# developer would write with System.Numerics.Tensors: a few
/// <see cref="TensorPrimitives"/> calls per contiguous channel block or row (Sum, Subtract + SumOfSquares,
/// Dot, Multiply/Add/MultiplyAdd), single-threaded. Numerically two-pass: the variance is the sum of
/// squared deviations from the mean (never E[x²]−E[x]²); block sums are accumulated in double.
/// BatchNorm1d (S = 1) works row-wise on C-long vectors of per-channel accumulators instead.
/// </summary>
public sealed class TensorPrimitivesPeer : ManagedPeerBase
{
    private readonly float[] _mean;     // per statistics group of the last training forward
    private readonly float[] _invStd;
    private readonly float[] _tmp;      // one channel block / row / group block
    private readonly float[] _tmp2;
    private readonly float[] _va, _vb, _vc, _vd; // per-channel vectors for the row-wise BatchNorm1d path

    public TensorPrimitivesPeer(CaseSpec spec, CaseData data) : base(spec, data)
    {
        int groups = spec.Kind switch
        {
            LayerKind.Batch => spec.C,
            LayerKind.Group => spec.N * spec.Groups,
            _ => spec.N,
        };
        _mean = new float[groups];
        _invStd = new float[groups];
        int scratch = spec.Kind switch
        {
            LayerKind.Batch => Math.Max(spec.S, spec.C),
            LayerKind.Group => spec.C / spec.Groups * spec.S,
            _ => spec.C,
        };
        _tmp = new float[scratch];
        _tmp2 = new float[scratch];
        int p = spec.ParameterSize;
        _va = new float[p];
        _vb = new float[p];
        _vc = new float[p];
        _vd = new float[p];
    }

    public override string Name => "TensorPrimitives";

    // ---------------------------------------------------------------- batch layers [N, C, S]
    public override void ForwardTraining(ReadOnlySpan<float> x, Span<float> y)
    {
        int cc = Spec.C, s = Spec.S, n = x.Length / (cc * s);
        long count = (long)n * s;
        BatchesTracked++;
        if (s == 1) { RowwiseForwardTraining(x, y, n); return; }
        Span<float> tmp = _tmp.AsSpan(0, s);
        for (int c = 0; c < cc; c++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += TensorPrimitives.Sum(x.Slice((i * cc + c) * s, s));
            float mean = (float)(sum / count);
            double ss = 0;
            for (int i = 0; i < n; i++)
            {
                TensorPrimitives.Subtract(x.Slice((i * cc + c) * s, s), mean, tmp);
                ss += TensorPrimitives.SumOfSquares<float>(tmp);
            }
            double var = ss / count;
            float invStd = (float)(1.0 / Math.Sqrt(var + CaseSpec.Epsilon));
            _mean[c] = mean;
            _invStd[c] = invStd;
            float a = Gamma[c] * invStd, b = Beta[c] - mean * a;
            for (int i = 0; i < n; i++)
            {
                Span<float> yb = y.Slice((i * cc + c) * s, s);
                TensorPrimitives.Multiply(x.Slice((i * cc + c) * s, s), a, yb);
                TensorPrimitives.Add(yb, b, yb);
            }
            UpdateRunning(c, mean, var, count);
        }
    }

    private void RowwiseForwardTraining(ReadOnlySpan<float> x, Span<float> y, int n)
    {
        int cc = Spec.C;
        Span<float> sum = _va, sq = _vb, tmp = _tmp.AsSpan(0, cc), a = _vc, b = _vd;
        sum.Clear();
        for (int i = 0; i < n; i++) TensorPrimitives.Add(x.Slice(i * cc, cc), sum, sum);
        TensorPrimitives.Multiply(sum, 1f / n, _mean);
        sq.Clear();
        for (int i = 0; i < n; i++)
        {
            TensorPrimitives.Subtract(x.Slice(i * cc, cc), _mean, tmp);
            TensorPrimitives.MultiplyAdd(tmp, tmp, sq, sq);
        }
        for (int c = 0; c < cc; c++)
        {
            double var = sq[c] / (double)n;
            float invStd = (float)(1.0 / Math.Sqrt(var + CaseSpec.Epsilon));
            _invStd[c] = invStd;
            a[c] = Gamma[c] * invStd;
            b[c] = Beta[c] - _mean[c] * a[c];
            UpdateRunning(c, _mean[c], var, n);
        }
        for (int i = 0; i < n; i++) TensorPrimitives.MultiplyAdd(x.Slice(i * cc, cc), a, b, y.Slice(i * cc, cc));
    }

    public override void ForwardInference(ReadOnlySpan<float> x, Span<float> y)
    {
        int cc = Spec.C, s = Spec.S, n = x.Length / (cc * s);
        Span<float> a = _vc, b = _vd;
        for (int c = 0; c < cc; c++)
        {
            float invStd = 1f / MathF.Sqrt(RunVar[c] + CaseSpec.Epsilon);
            a[c] = Gamma[c] * invStd;
            b[c] = Beta[c] - RunMean[c] * a[c];
        }
        if (s == 1)
        {
            for (int i = 0; i < n; i++) TensorPrimitives.MultiplyAdd(x.Slice(i * cc, cc), a, b, y.Slice(i * cc, cc));
            return;
        }
        for (int i = 0; i < n; i++)
            for (int c = 0; c < cc; c++)
            {
                Span<float> yb = y.Slice((i * cc + c) * s, s);
                TensorPrimitives.Multiply(x.Slice((i * cc + c) * s, s), a[c], yb);
                TensorPrimitives.Add(yb, b[c], yb);
            }
    }

    private void BatchBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int cc = Spec.C, s = Spec.S, n = x.Length / (cc * s);
        long count = (long)n * s;
        if (s == 1) { RowwiseBackward(x, dy, dx, n); return; }
        Span<float> tmp = _tmp.AsSpan(0, s);
        for (int c = 0; c < cc; c++)
        {
            float mean = _mean[c], invStd = _invStd[c];
            double sdy = 0, sdyx = 0;
            for (int i = 0; i < n; i++)
            {
                int o = (i * cc + c) * s;
                sdy += TensorPrimitives.Sum(dy.Slice(o, s));
                TensorPrimitives.Subtract(x.Slice(o, s), mean, tmp);
                sdyx += TensorPrimitives.Dot(dy.Slice(o, s), tmp);
            }
            BetaGradient[c] += (float)sdy;
            GammaGradient[c] += (float)(sdyx * invStd);
            // dx = k·dy + B·(x − μ) + C0 with k = γ·invstd, B = −k·invstd²·Σdy(x−μ)/n, C0 = −k·Σdy/n
            float k = Gamma[c] * invStd;
            float bcoef = (float)(-k * invStd * invStd * sdyx / count), c0 = (float)(-k * sdy / count);
            for (int i = 0; i < n; i++)
            {
                int o = (i * cc + c) * s;
                Span<float> dxb = dx.Slice(o, s);
                TensorPrimitives.Subtract(x.Slice(o, s), mean, tmp);
                TensorPrimitives.Multiply(tmp, bcoef, tmp);
                TensorPrimitives.MultiplyAdd(dy.Slice(o, s), k, tmp, dxb);
                TensorPrimitives.Add(dxb, c0, dxb);
            }
        }
    }

    private void RowwiseBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int n)
    {
        int cc = Spec.C;
        Span<float> sdy = _va, sdyx = _vb, tmp = _tmp.AsSpan(0, cc), k = _vc, bc = _vd, c0 = _tmp2.AsSpan(0, cc);
        sdy.Clear();
        sdyx.Clear();
        for (int i = 0; i < n; i++)
        {
            TensorPrimitives.Add(dy.Slice(i * cc, cc), sdy, sdy);
            TensorPrimitives.Subtract(x.Slice(i * cc, cc), _mean, tmp);
            TensorPrimitives.MultiplyAdd(tmp, dy.Slice(i * cc, cc), sdyx, sdyx);
        }
        for (int c = 0; c < cc; c++)
        {
            float invStd = _invStd[c];
            BetaGradient[c] += sdy[c];
            GammaGradient[c] += sdyx[c] * invStd;
            k[c] = Gamma[c] * invStd;
            bc[c] = -k[c] * invStd * invStd * sdyx[c] / n;
            c0[c] = -k[c] * sdy[c] / n;
        }
        for (int i = 0; i < n; i++)
        {
            Span<float> dxr = dx.Slice(i * cc, cc);
            TensorPrimitives.Subtract(x.Slice(i * cc, cc), _mean, tmp);
            TensorPrimitives.MultiplyAdd(tmp, bc, c0, tmp);
            TensorPrimitives.MultiplyAdd(dy.Slice(i * cc, cc), k, tmp, dxr);
        }
    }

    // ---------------------------------------------------------------- per-sample layers
    public override void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        switch (Spec.Kind)
        {
            case LayerKind.Group: GroupForward(x, y); break;
            case LayerKind.Rms: RmsForward(x, y); break;
            default: LayerForward(x, y); break;
        }
    }

    private void LayerForward(ReadOnlySpan<float> x, Span<float> y)
    {
        int d = Spec.C, rows = x.Length / d;
        Span<float> tmp = _tmp.AsSpan(0, d);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * d, d);
            float mean = TensorPrimitives.Sum(row) / d;
            TensorPrimitives.Subtract(row, mean, tmp);
            float invStd = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares<float>(tmp) / d + CaseSpec.Epsilon);
            _mean[r] = mean;
            _invStd[r] = invStd;
            TensorPrimitives.Multiply(tmp, invStd, tmp);
            TensorPrimitives.MultiplyAdd(tmp, Gamma, Beta, y.Slice(r * d, d));
        }
    }

    private void RmsForward(ReadOnlySpan<float> x, Span<float> y)
    {
        int d = Spec.C, rows = x.Length / d;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * d, d);
            float rr = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / d + CaseSpec.Epsilon);
            _invStd[r] = rr;
            Span<float> yr = y.Slice(r * d, d);
            TensorPrimitives.Multiply(row, rr, yr);
            TensorPrimitives.Multiply(yr, Gamma, yr);
        }
    }

    private void GroupForward(ReadOnlySpan<float> x, Span<float> y)
    {
        int g = Spec.Groups, cg = Spec.C / g, s = Spec.S, block = cg * s;
        int blocks = x.Length / block;
        Span<float> tmp = _tmp.AsSpan(0, block);
        for (int bi = 0; bi < blocks; bi++)
        {
            ReadOnlySpan<float> xb = x.Slice(bi * block, block);
            float mean = TensorPrimitives.Sum(xb) / block;
            TensorPrimitives.Subtract(xb, mean, tmp);
            float invStd = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares<float>(tmp) / block + CaseSpec.Epsilon);
            _mean[bi] = mean;
            _invStd[bi] = invStd;
            int c0 = (bi % g) * cg;
            for (int ci = 0; ci < cg; ci++)
            {
                int c = c0 + ci;
                Span<float> yc = y.Slice(bi * block + ci * s, s);
                TensorPrimitives.Multiply(tmp.Slice(ci * s, s), Gamma[c] * invStd, yc);
                TensorPrimitives.Add(yc, Beta[c], yc);
            }
        }
    }

    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        switch (Spec.Kind)
        {
            case LayerKind.Batch: BatchBackward(x, dy, dx); break;
            case LayerKind.Group: GroupBackward(x, dy, dx); break;
            default: RowBackward(x, dy, dx); break;
        }
    }

    private void RowBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int d = Spec.C, rows = x.Length / d;
        bool rms = Spec.Kind == LayerKind.Rms;
        Span<float> xhat = _tmp.AsSpan(0, d), g = _tmp2.AsSpan(0, d);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * d, d), dyr = dy.Slice(r * d, d);
            float invStd = _invStd[r];
            if (rms) TensorPrimitives.Multiply(xr, invStd, xhat);
            else
            {
                TensorPrimitives.Subtract(xr, _mean[r], xhat);
                TensorPrimitives.Multiply(xhat, invStd, xhat);
            }
            TensorPrimitives.Multiply(dyr, Gamma, g);
            float mg = rms ? 0f : TensorPrimitives.Sum(g) / d;
            float mgx = TensorPrimitives.Dot(g, xhat) / d;
            // gradients of the parameters: dGamma += dy·x̂, dBeta += dy
            TensorPrimitives.MultiplyAdd(dyr, xhat, GammaGradient, GammaGradient);
            if (!rms) TensorPrimitives.Add(dyr, BetaGradient, BetaGradient);
            // dx = invstd·(g − mean(g) − x̂·mean(g·x̂))
            TensorPrimitives.MultiplyAdd(xhat, -mgx, g, g);
            Span<float> dxr = dx.Slice(r * d, d);
            if (rms) TensorPrimitives.Multiply(g, invStd, dxr);
            else
            {
                TensorPrimitives.Add(g, -mg, g);
                TensorPrimitives.Multiply(g, invStd, dxr);
            }
        }
    }

    private void GroupBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int g = Spec.Groups, cg = Spec.C / g, s = Spec.S, block = cg * s;
        int blocks = x.Length / block;
        Span<float> tmp = _tmp.AsSpan(0, block);
        for (int bi = 0; bi < blocks; bi++)
        {
            int b = bi * block, c0 = (bi % g) * cg;
            float mean = _mean[bi], invStd = _invStd[bi];
            TensorPrimitives.Subtract(x.Slice(b, block), mean, tmp);
            double sg = 0, sgx = 0;
            for (int ci = 0; ci < cg; ci++)
            {
                int c = c0 + ci;
                ReadOnlySpan<float> dyc = dy.Slice(b + ci * s, s);
                float sdy = TensorPrimitives.Sum(dyc);
                float sdyx = TensorPrimitives.Dot(dyc, tmp.Slice(ci * s, s)) * invStd;
                BetaGradient[c] += sdy;
                GammaGradient[c] += sdyx;
                sg += Gamma[c] * (double)sdy;
                sgx += Gamma[c] * (double)sdyx;
            }
            float mg = (float)(sg / block), mgx = (float)(sgx / block);
            // dx = invstd·(γc·dy − mean(g) − x̂·mean(g·x̂)) = (invstd·γc)·dy + (−invstd²·mgx)·(x−μ) − invstd·mg
            float bcoef = -invStd * invStd * mgx, cst = -invStd * mg;
            for (int ci = 0; ci < cg; ci++)
            {
                int c = c0 + ci;
                Span<float> t = tmp.Slice(ci * s, s), dxc = dx.Slice(b + ci * s, s);
                TensorPrimitives.Multiply(t, bcoef, t);
                TensorPrimitives.MultiplyAdd(dy.Slice(b + ci * s, s), Gamma[c] * invStd, t, dxc);
                TensorPrimitives.Add(dxc, cst, dxc);
            }
        }
    }
}
