using System;
using System.Linq;
using Xunit;

namespace NormGen.Tests.Golden;

/// <summary>
/// Validates the test suite's own double-precision reference (Support/ReferenceNorm.cs, used by the
/// large-offset, gradient-check and semantics tests) against libtorch's float64 results for every golden
/// case: all outputs within 1e-11 relative. No NormGen code is involved.
/// </summary>
public class ReferenceNormGoldenTests
{
    public static TheoryData<string> Cases => new(
        "bn2d_c16_h8_w8", "bn2d_momentum_none", "bn2d_affine_false", "bn2d_no_running_stats", "bn1d_features_c64",
        "bn1d_sequence_c16_l20", "bn3d_c8", "bn2d_f64", "ln_last_dim_d256", "ln_over_chw", "ln_last_dim_f64",
        "ln_affine_false", "gn_g4_c16", "gn_g8_c32_l16_affine_false", "in2d_affine", "rms_last_dim_d256", "rms_eps_none");

    private const double Rel = 1e-11;

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReferenceMatchesLibtorchFloat64(string name)
    {
        GoldenCase c = GoldenCase.Load(name);
        double eps = c.Normgen.Epsilon;
        bool rms = c.Kind == "rmsnorm";
        double[]? gamma = c.InputOrNull("gamma"), beta = c.InputOrNull("beta");
        NormLayout Layout(int length) => LayoutOf(c, length / c.SampleSize);
        double[] Expected(string key) => c.IsFloat64 ? c.Output(key) : c.Ref64(key);

        if (c.Mode == "per_sample")
        {
            double[] x = c.Input("x");
            ReferenceResult r = ReferenceNorm.Compute(Layout(x.Length), x, c.Input("dy"), gamma, beta, eps, rms);
            Tolerance.AssertClose($"{name} y", (ReadOnlySpan<double>)r.Y, Expected("y"), Rel);
            Tolerance.AssertClose($"{name} dx", (ReadOnlySpan<double>)r.Dx, Expected("backward.dx"), Rel);
            if (gamma is not null)
            {
                Tolerance.AssertClose($"{name} dgamma", (ReadOnlySpan<double>)r.DGamma, Expected("backward.dgamma"), Rel);
            }
            if (beta is not null)
            {
                Tolerance.AssertClose($"{name} dbeta", (ReadOnlySpan<double>)r.DBeta, Expected("backward.dbeta"), Rel);
            }
            return;
        }

        bool tracked = c.Normgen.TrackRunningStats;
        double[] rm = tracked ? c.Input("running_mean_init") : [];
        double[] rv = tracked ? c.Input("running_var_init") : [];
        for (int k = 0; k < 3; k++)
        {
            double[] x = c.Input($"x_train[{k}]");
            double[]? dy = k == 2 ? c.Input("dy") : null;
            ReferenceResult r = ReferenceNorm.Compute(Layout(x.Length), x, dy, gamma, beta, eps);
            Tolerance.AssertClose($"{name} train[{k}].y", (ReadOnlySpan<double>)r.Y, Expected($"train[{k}].y"), Rel);
            if (tracked)
            {
                (rm, rv) = ReferenceNorm.UpdateRunning(rm, rv, r, c.Normgen.Momentum ?? 1.0 / (k + 1));
                Tolerance.AssertClose($"{name} train[{k}].running_mean", (ReadOnlySpan<double>)rm, Expected($"train[{k}].running_mean"), Rel);
                Tolerance.AssertClose($"{name} train[{k}].running_var", (ReadOnlySpan<double>)rv, Expected($"train[{k}].running_var"), Rel);
            }
            if (dy is not null)
            {
                Tolerance.AssertClose($"{name} dx", (ReadOnlySpan<double>)r.Dx, Expected("backward.dx"), Rel);
                if (gamma is not null)
                {
                    Tolerance.AssertClose($"{name} dgamma", (ReadOnlySpan<double>)r.DGamma, Expected("backward.dgamma"), Rel);
                    Tolerance.AssertClose($"{name} dbeta", (ReadOnlySpan<double>)r.DBeta, Expected("backward.dbeta"), Rel);
                }
            }
        }
        double[] xe = c.Input("x_eval");
        double[] ye = tracked
            ? ReferenceNorm.Normalize(Layout(xe.Length), xe, rm, rv, gamma, beta, eps)
            : ReferenceNorm.Compute(Layout(xe.Length), xe, null, gamma, beta, eps).Y;
        Tolerance.AssertClose($"{name} eval.y", (ReadOnlySpan<double>)ye, Expected("eval.y"), Rel);
    }

    /// <summary>The golden cases are all channels-first (C right after N) or have no C.</summary>
    private static NormLayout LayoutOf(GoldenCase c, int n)
    {
        int channels = c.Dims.FirstOrDefault(d => d.Key == "C").Value;
        int inner = channels == 0 ? 0 : c.SampleSize / channels;
        return c.Kind switch
        {
            "batchnorm" => NormLayout.BatchNorm(n, channels, inner),
            "groupnorm" => NormLayout.GroupNorm(n, channels, c.Normgen.Groups!.Value, inner),
            "instancenorm" => NormLayout.InstanceNorm(n, channels, inner),
            _ => NormLayout.LayerNorm(n, c.SampleSize),
        };
    }
}
