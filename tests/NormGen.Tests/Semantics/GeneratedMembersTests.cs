using System;
using NormGen.Tests.Golden;
using NormGen.Tests.GradientCheck;
using Xunit;

namespace NormGen.Tests.Semantics;

/// <summary>SampleSize/ParameterSize are constants with the right values; members that do not apply are not generated.</summary>
public class GeneratedMembersTests
{
    // Used in constant expressions: these only compile if the members are consts.
    private const int Bn2dSample = Bn2dC16.SampleSize;
    private const int Bn2dParameters = Bn2dC16.ParameterSize;

    [Fact]
    public void Constants_HaveTheSizesOfTheShape()
    {
        Assert.Equal(16 * 8 * 8, Bn2dSample);
        Assert.Equal(16, Bn2dParameters);
        Assert.Equal(8 * 6 * 6, Bn2dMomentumNone.SampleSize);
        Assert.Equal(12, Bn2dAffineFalse.ParameterSize);          // the running statistics' length
        Assert.Equal(64, Bn1dFeaturesC64.SampleSize);
        Assert.Equal(64, Bn1dFeaturesC64.ParameterSize);
        Assert.Equal(16 * 20, Bn1dSequenceC16L20.SampleSize);
        Assert.Equal(8 * 4 * 6 * 6, Bn3dC8.SampleSize);
        Assert.Equal(8, Bn3dC8.ParameterSize);
        Assert.Equal(30, FdBatchNormChannelsLast.SampleSize);      // N,H=3,W=2,C=5
        Assert.Equal(5, FdBatchNormChannelsLast.ParameterSize);
        Assert.Equal(512, LnOverChw.SampleSize);
        Assert.Equal(512, LnOverChw.ParameterSize);                // LayerNorm([8,8,8])
        Assert.Equal(256, LnLastDimD256.ParameterSize);
        Assert.Equal(1024, GnG4C16.SampleSize);
        Assert.Equal(16, GnG4C16.ParameterSize);                   // GroupNorm: per channel
        Assert.Equal(1024, In2dAffine.SampleSize);
        Assert.Equal(16, In2dAffine.ParameterSize);                // InstanceNorm: per channel
        Assert.Equal(128, RmsEpsNone.ParameterSize);
        Assert.Equal(6, FdGroupNorm.ParameterSize);
        Assert.Equal(5, SemTokenNorm.SampleSize);        // N,T unsized
        Assert.Equal(5, SemTokenNorm.ParameterSize);
        Assert.Equal(3, SemStructBatchNorm.SampleSize);
        Assert.Equal(5, SemOuter.InnerLayerNorm.SampleSize);
        Assert.Equal(6, global::GlobalNamespaceRmsNorm.ParameterSize);
    }

    [Theory]
    [InlineData(typeof(Bn2dC16), "ForwardTraining ForwardInference Backward Gamma Beta GammaGrad BetaGrad ZeroGrad RunningMean RunningVar BatchesTracked HasRunningStatistics LoadRunningStatistics", "Forward")]
    [InlineData(typeof(Bn2dAffineFalse), "ForwardTraining ForwardInference Backward RunningMean RunningVar BatchesTracked HasRunningStatistics LoadRunningStatistics", "Gamma Beta GammaGrad BetaGrad Forward")]
    [InlineData(typeof(Bn2dNoRunningStats), "ForwardTraining ForwardInference Backward Gamma Beta GammaGrad BetaGrad ZeroGrad", "RunningMean RunningVar BatchesTracked HasRunningStatistics LoadRunningStatistics Forward")]
    [InlineData(typeof(LnLastDimD256), "Forward Backward Gamma Beta GammaGrad BetaGrad ZeroGrad", "ForwardTraining ForwardInference RunningMean RunningVar BatchesTracked HasRunningStatistics LoadRunningStatistics")]
    [InlineData(typeof(LnAffineFalse), "Forward Backward", "Gamma Beta GammaGrad BetaGrad ForwardTraining ForwardInference RunningMean")]
    [InlineData(typeof(GnG8C32L16AffineFalse), "Forward Backward", "Gamma Beta GammaGrad BetaGrad ForwardTraining RunningMean")]
    [InlineData(typeof(RmsEpsNone), "Forward Backward Gamma GammaGrad ZeroGrad", "Beta BetaGrad ForwardTraining RunningMean")]
    [InlineData(typeof(SemStructBatchNorm), "ForwardTraining ForwardInference Backward Gamma Beta RunningMean LoadRunningStatistics", "Forward")]
    public void MembersExistOnlyWhereTheyApply(Type type, string present, string absent)
    {
        foreach (string name in present.Split(' '))
        {
            Assert.True(LayerInfo.HasMember(type, name), $"{type.Name} should have {name}");
        }
        foreach (string name in absent.Split(' '))
        {
            Assert.False(LayerInfo.HasMember(type, name), $"{type.Name} should not have {name}");
        }
    }
}
