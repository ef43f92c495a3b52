using System;
using System.Threading;
using NormGen.Internal;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// A helper thread that wakes late — a sleeping core's wake-up, another process's threads on its core — must not hold
/// up the call it was handed: the caller claims the chunks the helper has not, finishes, and returns without it.
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class LateHelperTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_call_returns_while_its_helper_is_held_back_and_the_team_comes_back_after()
    {
        if (Environment.ProcessorCount < 2)
        {
            return; // No helper threads on one core: nothing to hold back.
        }
        int length = 32 * ThreadedBatchNorm.SampleSize;
        float[] x = TestData.To<float>(TestData.Normal(new Random(41), length, 2.0, 1.5));
        float[] dy = TestData.To<float>(TestData.Normal(new Random(42), length, 0.0, 1.0));
        var reference = new ThreadedBatchNorm { MaxDegreeOfParallelism = 1 };
        float[] y1 = new float[length], dx1 = new float[length], lnY1 = new float[length];
        reference.ForwardTraining(x, y1);
        reference.Backward(x, dy, dx1);
        new ThreadedLayerNorm { MaxDegreeOfParallelism = 1 }.Forward(x, lnY1);

        var layer = new ThreadedBatchNorm { MaxDegreeOfParallelism = 2 };
        var other = new ThreadedLayerNorm { MaxDegreeOfParallelism = 2 };
        float[] y = new float[length], dx = new float[length], lnY = new float[length];
        using var helperWoken = new ManualResetEventSlim();
        using var letHelperGo = new ManualResetEventSlim();
        WorkerTeam.HelperWokenForTests = () =>
        {
            helperWoken.Set();
            letHelperGo.Wait();
        };
        try
        {
            // The first call hands the helper its work; the helper stops at the hook. The layer's next call and another
            // layer's call find a helper still out and run on the caller's thread.
            var calls = new Thread(() =>
            {
                layer.ForwardTraining(x, y);
                layer.Backward(x, dy, dx);
                other.Forward(x, lnY);
            });
            calls.Start();
            Assert.True(helperWoken.Wait(Patience), "no helper was handed the first call");
            Assert.True(calls.Join(Patience), "the calls waited for the helper that was held back");
        }
        finally
        {
            WorkerTeam.HelperWokenForTests = null;
            letHelperGo.Set();
        }
        SameBits.Assert<float>("y", y1, "with 1 thread", y, "its helper held back");
        SameBits.Assert<float>("dx", dx1, "with 1 thread", dx, "while a helper was out");
        SameBits.Assert<float>("LayerNorm y", lnY1, "with 1 thread", lnY, "while a helper was out");

        // Once the helper has come and gone, calls hand work to it again.
        using var helperBack = new ManualResetEventSlim();
        WorkerTeam.HelperWokenForTests = helperBack.Set;
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!helperBack.IsSet && clock.Elapsed < Patience)
            {
                layer.ForwardTraining(x, y);
            }
            Assert.True(helperBack.IsSet, "no call was handed to a helper after the held-back one left");
        }
        finally
        {
            WorkerTeam.HelperWokenForTests = null;
        }
        layer.Backward(x, dy, dx);
        SameBits.Assert<float>("dx", dx1, "with 1 thread", dx, "after the helper came back");
    }
}
