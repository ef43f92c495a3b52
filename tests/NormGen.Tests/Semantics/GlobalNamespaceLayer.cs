// A declaration in the global namespace (this file has no namespace).

[NormGen.Normalize(Shape = "N,D=6", Axes = "D", Kind = NormGen.NormKind.Rms, ElementType = typeof(double))]
public partial class GlobalNamespaceRmsNorm { }
