namespace NormGen;

/// <summary>What a normalization layer divides by.</summary>
public enum NormKind
{
    /// <summary>Subtract the mean, divide by the standard deviation: batch, layer, group and instance normalization.</summary>
    Standard = 0,

    /// <summary>Divide by the root mean square, without subtracting a mean and without Beta: RMSNorm.</summary>
    Rms = 1,
}
