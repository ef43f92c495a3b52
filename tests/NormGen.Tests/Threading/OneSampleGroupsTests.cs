using System;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// GroupNorm and InstanceNorm on a batch of one or three samples: their chunks split the (sample, group) pairs, not the
/// samples, so a single sample is still shared out over the threads (before, one sample was one chunk: one thread), and
/// the results stay the same bits for any thread count.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class OneSampleGroupsTests
{
    private delegate void Run(int degree, float[] x, float[] dy, float[] y, float[] dx, float[] gammaGrad, float[] betaGrad);

    public static TheoryData<string, int> Layers => new()
    {
        { nameof(OneSampleGroupNorm), 1 }, { nameof(OneSampleGroupNorm), 3 },
        { nameof(OneSampleInstanceNorm), 1 }, { nameof(OneSampleInstanceNorm), 3 },
        { nameof(OneSampleShortInstanceNorm), 1 }, { nameof(OneSampleShortInstanceNorm), 3 },
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void A_batch_of_few_samples_is_shared_out_with_the_one_thread_bits(string layer, int samples)
    {
        (int sampleSize, int parameters, Run run) = layer switch
        {
            nameof(OneSampleGroupNorm) => (OneSampleGroupNorm.SampleSize, OneSampleGroupNorm.ParameterSize, Make(() => new OneSampleGroupNorm())),
            nameof(OneSampleInstanceNorm) => (OneSampleInstanceNorm.SampleSize, OneSampleInstanceNorm.ParameterSize, Make(() => new OneSampleInstanceNorm())),
            _ => (OneSampleShortInstanceNorm.SampleSize, OneSampleShortInstanceNorm.ParameterSize, Make(() => new OneSampleShortInstanceNorm())),
        };
        int length = samples * sampleSize;
        float[] x = TestData.To<float>(TestData.Normal(new Random(51), length, 2.0, 1.5));
        float[] dy = TestData.To<float>(TestData.Normal(new Random(52), length, 0.0, 1.0));
        float[][] one = Outputs(length, parameters), two = Outputs(length, parameters);
        run(1, x, dy, one[0], one[1], one[2], one[3]);

        // At two threads a helper must be handed part of the call (the hook sees it wake), unless this machine has one core.
        Assert.True(HelperWake.For(() => run(2, x, dy, two[0], two[1], two[2], two[3])), $"{samples} sample(s) of {layer} ran on one thread at MaxDegreeOfParallelism 2");
        string[] names = ["y", "dx", "GammaGrad", "BetaGrad"];
        for (int k = 0; k < names.Length; k++)
        {
            SameBits.Assert<float>(names[k], one[k], "with 1 thread", two[k], "with 2 threads");
        }
    }

    private static Run Make(Func<IGroupLayer> create) => (degree, x, dy, y, dx, gammaGrad, betaGrad) =>
    {
        var layer = create();
        layer.MaxDegreeOfParallelism = degree;
        layer.Forward(x, y);
        layer.Backward(x, dy, dx);
        layer.GammaGrad.CopyTo(gammaGrad);
        layer.BetaGrad.CopyTo(betaGrad);
    };

    private static float[][] Outputs(int length, int parameters) => [new float[length], new float[length], new float[parameters], new float[parameters]];
}

/// <summary>The generated GroupNorm and InstanceNorm layers' API these tests call (their generated members implement it).</summary>
internal interface IGroupLayer : IPerSampleLayer<float>, IAffineLayer<float>
{
    int MaxDegreeOfParallelism { get; set; }
}
