using System;

namespace NormGen.Training;

/// <summary>
/// A synthetic 4-class problem whose 8 features live on very different scales. Each sample has 8 latent values
/// z ~ N(0, 1); its class is the largest of 4 fixed random linear functions of z, so every latent matters. The
/// network sees feature j = 10^(j−3)·(z_j + 2): from thousandths (j = 0) to tens of
/// thousands (j = 7), each with an offset of twice its spread.
/// </summary>
internal sealed class Dataset
{
    public const int Features = 8;
    public const int Classes = 4;

    private Dataset(float[] x, int[] labels)
    {
        X = x;
        Labels = labels;
    }

    /// <summary>Row-major samples × <see cref="Features"/>.</summary>
    public float[] X { get; }

    public int[] Labels { get; }

    public int Count => Labels.Length;

    /// <summary>The scale of feature j: 10^(j−3).</summary>
    public static double Scale(int feature) => Math.Pow(10, feature - 3);

    /// <summary>A training and a test set drawn from the same distribution, with the same teacher.</summary>
    public static (Dataset Train, Dataset Test) Create(int trainCount, int testCount, int seed)
    {
        var random = new Random(seed);
        var teacher = new double[Classes * Features];
        for (int i = 0; i < teacher.Length; i++)
        {
            teacher[i] = Gaussian(random);
        }

        return (Draw(trainCount, teacher, random), Draw(testCount, teacher, random));
    }

    private static Dataset Draw(int count, double[] teacher, Random random)
    {
        var x = new float[count * Features];
        var labels = new int[count];
        var z = new double[Features];
        for (int n = 0; n < count; n++)
        {
            for (int j = 0; j < Features; j++)
            {
                z[j] = Gaussian(random);
                x[n * Features + j] = (float)(Scale(j) * (z[j] + 2));
            }

            double best = double.NegativeInfinity;
            for (int k = 0; k < Classes; k++)
            {
                double score = 0;
                for (int j = 0; j < Features; j++)
                {
                    score += teacher[k * Features + j] * z[j];
                }

                if (score > best)
                {
                    best = score;
                    labels[n] = k;
                }
            }
        }

        return new Dataset(x, labels);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
