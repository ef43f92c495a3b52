using System;
using System.Numerics;
using Xunit;

namespace NormGen.Tests.Threading;

/// <summary>
/// BatchNorm1d rows whose columns are no whole number of vectors: the columns after the last whole vector are the last
/// lanes of the vector ending at the last column (its other lanes dropped from the sums and left unwritten). Training,
/// backward and inference match the double reference, and the gradient sums of the overlapped columns are not counted
/// twice (a dγ or dβ of those columns would be off by its own size).
/// </summary>
[Collection(nameof(ThreadingTests))]
public sealed class ColumnTailTests
{
    [Fact]
    public void Float_rows_of_37_match_the_reference()
    {
        var layer = new ColumnTailBatchNorm1d();
        BatchReferenceCheck.AssertMatches(layer, layer, layer, NormLayout.BatchNorm(45, 37, 1), new Random(5001), offset: 1.0, Tolerance.FloatFloor);
    }

    [Fact]
    public void Float_rows_of_2100_match_the_reference()
    {
        var layer = new WideColumnTailBatchNorm1d();
        BatchReferenceCheck.AssertMatches(layer, layer, layer, NormLayout.BatchNorm(70, 2100, 1), new Random(5002), offset: 1.0, Tolerance.FloatFloor);
    }

    [Fact]
    public void Double_rows_of_37_match_the_reference()
    {
        var layer = new DoubleColumnTailBatchNorm1d();
        BatchReferenceCheck.AssertMatches(layer, layer, layer, NormLayout.BatchNorm(45, 37, 1), new Random(5003), offset: 1.0, Tolerance.DoubleRel);
    }
}
