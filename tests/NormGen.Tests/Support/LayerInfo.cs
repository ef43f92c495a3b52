using System;
using System.Reflection;
using Xunit;

namespace NormGen.Tests;

/// <summary>Reads the generated constants of a declaration by reflection (for generic test routines).</summary>
internal static class LayerInfo
{
    public static int SampleSize(Type type) => Constant(type, "SampleSize");

    public static int ParameterSize(Type type) => Constant(type, "ParameterSize");

    public static bool HasMember(Type type, string name) =>
        type.GetMember(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).Length > 0;

    private static int Constant(Type type, string name)
    {
        FieldInfo? field = type.GetField(name, BindingFlags.Public | BindingFlags.Static);
        Assert.True(field is not null, $"{type.Name} has no public static field {name}");
        Assert.True(field!.IsLiteral, $"{type.Name}.{name} is not a const");
        return (int)field.GetRawConstantValue()!;
    }
}
