using System;
using NormGen.Benchmarks.Cases;

namespace NormGen.Benchmarks.Peers;

/// <summary>
/// The plain-loop version: one element at a time, float storage, double accumulators, two passes
/// (mean, then the sum of squared deviations). What a C# developer writes first; the reference of the check.
/// </summary>
public sealed class ScalarPeer : ManagedPeerBase
{
    private readonly double[] _mean;    // per statistics group of the last training forward
    private readonly double[] _invStd;

    public ScalarPeer(CaseSpec spec, CaseData data) : base(spec, data)
    {
        int groups = spec.Kind switch
        {
            LayerKind.Batch => spec.C,
            LayerKind.Group => spec.N * spec.Groups,
            _ => spec.N,
        };
        _mean = new double[groups];
        _invStd = new double[groups];
    }

    public override string Name => "Scalar";

    // ---------------------------------------------------------------- batch layers [N, C, S]
    public override void ForwardTraining(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length / (Spec.C * Spec.S), cc = Spec.C, s = Spec.S;
        long count = (long)n * s;
        BatchesTracked++;
        for (int c = 0; c < cc; c++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                int b = (i * cc + c) * s;
                for (int j = 0; j < s; j++) sum += x[b + j];
            }
            double mean = sum / count;
            double ss = 0;
            for (int i = 0; i < n; i++)
            {
                int b = (i * cc + c) * s;
                for (int j = 0; j < s; j++) { double d = x[b + j] - mean; ss += d * d; }
            }
            double var = ss / count;
            double invStd = 1.0 / Math.Sqrt(var + CaseSpec.Epsilon);
            _mean[c] = mean;
            _invStd[c] = invStd;
            float a = (float)(Gamma[c] * invStd), sh = (float)(Beta[c] - mean * Gamma[c] * invStd);
            for (int i = 0; i < n; i++)
            {
                int b = (i * cc + c) * s;
                for (int j = 0; j < s; j++) y[b + j] = x[b + j] * a + sh;
            }
            UpdateRunning(c, mean, var, count);
        }
    }

    public override void ForwardInference(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length / (Spec.C * Spec.S), cc = Spec.C, s = Spec.S;
        for (int c = 0; c < cc; c++)
        {
            double invStd = 1.0 / Math.Sqrt(RunVar[c] + (double)CaseSpec.Epsilon);
            float a = (float)(Gamma[c] * invStd), sh = (float)(Beta[c] - RunMean[c] * Gamma[c] * invStd);
            for (int i = 0; i < n; i++)
            {
                int b = (i * cc + c) * s;
                for (int j = 0; j < s; j++) y[b + j] = x[b + j] * a + sh;
            }
        }
    }

    private void BatchBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int n = x.Length / (Spec.C * Spec.S), cc = Spec.C, s = Spec.S;
        long count = (long)n * s;
        for (int c = 0; c < cc; c++)
        {
            double mean = _mean[c], invStd = _invStd[c];
            double sdy = 0, sdyx = 0;
            for (int i = 0; i < n; i++)
            {
                int b = (i * cc + c) * s;
                for (int j = 0; j < s; j++) { sdy += dy[b + j]; sdyx += dy[b + j] * (x[b + j] - mean); }
            }
            BetaGradient[c] += (float)sdy;
            GammaGradient[c] += (float)(sdyx * invStd);
            double k = Gamma[c] * invStd;
            double mdy = sdy / count, coef = invStd * invStd * sdyx / count;
            for (int i = 0; i < n; i++)
            {
                int b = (i * cc + c) * s;
                for (int j = 0; j < s; j++)
                    dx[b + j] = (float)(k * (dy[b + j] - mdy - (x[b + j] - mean) * coef));
            }
        }
    }

    // ---------------------------------------------------------------- per-sample layers
    public override void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        if (Spec.Kind == LayerKind.Group) { GroupForward(x, y); return; }
        int d = Spec.C, rows = x.Length / d;
        bool rms = Spec.Kind == LayerKind.Rms;
        for (int r = 0; r < rows; r++)
        {
            int b = r * d;
            double mean = 0;
            if (!rms)
            {
                for (int j = 0; j < d; j++) mean += x[b + j];
                mean /= d;
            }
            double ss = 0;
            for (int j = 0; j < d; j++) { double v = x[b + j] - mean; ss += v * v; }
            double invStd = 1.0 / Math.Sqrt(ss / d + CaseSpec.Epsilon);
            _mean[r] = mean;
            _invStd[r] = invStd;
            float m = (float)mean, inv = (float)invStd;
            if (rms)
                for (int j = 0; j < d; j++) y[b + j] = x[b + j] * inv * Gamma[j];
            else
                for (int j = 0; j < d; j++) y[b + j] = (x[b + j] - m) * inv * Gamma[j] + Beta[j];
        }
    }

    private void GroupForward(ReadOnlySpan<float> x, Span<float> y)
    {
        int g = Spec.Groups, cg = Spec.C / g, s = Spec.S, block = cg * s;
        int blocks = x.Length / block;
        for (int bi = 0; bi < blocks; bi++)
        {
            int b = bi * block;
            double sum = 0;
            for (int j = 0; j < block; j++) sum += x[b + j];
            double mean = sum / block, ss = 0;
            for (int j = 0; j < block; j++) { double v = x[b + j] - mean; ss += v * v; }
            double invStd = 1.0 / Math.Sqrt(ss / block + CaseSpec.Epsilon);
            _mean[bi] = mean;
            _invStd[bi] = invStd;
            int c0 = (bi % g) * cg;
            for (int ci = 0; ci < cg; ci++)
            {
                int c = c0 + ci, cb = b + ci * s;
                float a = (float)(Gamma[c] * invStd), sh = (float)(Beta[c] - mean * Gamma[c] * invStd);
                for (int j = 0; j < s; j++) y[cb + j] = x[cb + j] * a + sh;
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
        for (int r = 0; r < rows; r++)
        {
            int b = r * d;
            double mean = _mean[r], invStd = _invStd[r];
            double sg = 0, sgx = 0;
            for (int j = 0; j < d; j++)
            {
                double xh = (x[b + j] - mean) * invStd, gj = Gamma[j] * (double)dy[b + j];
                sg += gj;
                sgx += gj * xh;
                GammaGradient[j] += (float)(dy[b + j] * xh);
                if (!rms) BetaGradient[j] += dy[b + j];
            }
            double mg = rms ? 0 : sg / d, mgx = sgx / d;
            for (int j = 0; j < d; j++)
            {
                double xh = (x[b + j] - mean) * invStd;
                dx[b + j] = (float)(invStd * (Gamma[j] * (double)dy[b + j] - mg - xh * mgx));
            }
        }
    }

    private void GroupBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int g = Spec.Groups, cg = Spec.C / g, s = Spec.S, block = cg * s;
        int blocks = x.Length / block;
        for (int bi = 0; bi < blocks; bi++)
        {
            int b = bi * block, c0 = (bi % g) * cg;
            double mean = _mean[bi], invStd = _invStd[bi];
            double sg = 0, sgx = 0;
            for (int ci = 0; ci < cg; ci++)
            {
                int c = c0 + ci, cb = b + ci * s;
                double sdy = 0, sdyx = 0;
                for (int j = 0; j < s; j++)
                {
                    double xh = (x[cb + j] - mean) * invStd;
                    sdy += dy[cb + j];
                    sdyx += dy[cb + j] * xh;
                }
                BetaGradient[c] += (float)sdy;
                GammaGradient[c] += (float)sdyx;
                sg += Gamma[c] * sdy;
                sgx += Gamma[c] * sdyx;
            }
            double mg = sg / block, mgx = sgx / block;
            for (int ci = 0; ci < cg; ci++)
            {
                int c = c0 + ci, cb = b + ci * s;
                for (int j = 0; j < s; j++)
                {
                    double xh = (x[cb + j] - mean) * invStd;
                    dx[cb + j] = (float)(invStd * (Gamma[c] * (double)dy[cb + j] - mg - xh * mgx));
                }
            }
        }
    }
}
