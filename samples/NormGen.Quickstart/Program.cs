using System;
using NormGen.Quickstart;

var bn = new FeatureBatchNorm();
var ln = new SampleLayerNorm();
var x = new float[2 * FeatureBatchNorm.SampleSize];
var rng = new Random(1);
for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 10 + i % 7);
var y = new float[x.Length];
bn.ForwardTraining(x, y);
Console.WriteLine(string.Join(", ", y[..5]));
ln.Forward(x, y);
Console.WriteLine(string.Join(", ", y[..5]));
