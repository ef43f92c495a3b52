using System;
using System.Collections.Concurrent;

namespace NormGen.Benchmarks.Cases;

/// <summary>
/// Deterministic inputs for a case, the same for every peer: x with a per-channel (or per-row) offset and
/// scale (so a wrong E[x²]−E[x]² shows), dy, Gamma, Beta, and the running statistics inference loads.
/// </summary>
public sealed class CaseData
{
    private static readonly ConcurrentDictionary<string, CaseData> Cache = new();

    private CaseData(CaseSpec spec)
    {
        Spec = spec;
        var rng = new Random(20240611 + spec.Name.Length * 7919 + spec.Length % 10007);
        int p = spec.ParameterSize;
        X = new float[spec.Length];
        Dy = new float[spec.Length];
        Gamma = new float[p];
        Beta = new float[p];
        InferenceMean = new float[p];
        InferenceVar = new float[p];

        // Offsets and scales per "statistics owner": channel for batch/group layers, row for layer/rms.
        int inner = spec.IsBatch || spec.Kind == LayerKind.Group ? spec.S : spec.C;
        int channels = spec.IsBatch || spec.Kind == LayerKind.Group ? spec.C : 1;
        for (int i = 0; i < X.Length; i++)
        {
            int owner = spec.IsBatch || spec.Kind == LayerKind.Group ? (i / inner) % channels : i / inner;
            float offset = 1.5f + 0.25f * (owner % 11);
            float scale = 0.5f + 0.125f * (owner % 5);
            X[i] = offset + scale * Normal(rng);
            Dy[i] = Normal(rng);
        }

        for (int c = 0; c < p; c++)
        {
            Gamma[c] = 1f + 0.1f * Normal(rng);
            Beta[c] = 0.1f * Normal(rng);
            InferenceMean[c] = 1.5f + 0.25f * (c % 11) + 0.05f * Normal(rng);
            InferenceVar[c] = 0.25f + 0.5f * (float)rng.NextDouble();
        }
    }

    public CaseSpec Spec { get; }
    public float[] X { get; }
    public float[] Dy { get; }
    public float[] Gamma { get; }
    public float[] Beta { get; }
    public float[] InferenceMean { get; }
    public float[] InferenceVar { get; }

    public static CaseData For(CaseSpec spec) => Cache.GetOrAdd(spec.Name, _ => new CaseData(spec));

    private static float Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }
}
