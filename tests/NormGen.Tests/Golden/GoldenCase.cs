using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace NormGen.Tests.Golden;

/// <summary>The <c>normgen</c> block of a golden file: the NormGen declaration the case corresponds to.</summary>
public sealed record GoldenNormgen(
    string Shape,
    string Axes,
    int? Groups,
    double Epsilon,
    double? Momentum,
    bool Affine,
    bool TrackRunningStats,
    string ElementType);

/// <summary>
/// One golden JSON file (<c>normgen-golden/1</c>, see Golden/Data and the README next to the data).
/// Tensors are returned as double[]: in float32 cases inputs and <c>outputs</c> are parsed as float32
/// (exact bits, widened exactly), <c>ref64</c> and float64 cases as double.
/// </summary>
public sealed class GoldenCase
{
    private static readonly ConcurrentDictionary<string, Lazy<GoldenCase>> Cache = new();

    private readonly JsonElement _root;

    private GoldenCase(JsonDocument document)
    {
        _root = document.RootElement;
        string format = _root.GetProperty("format").GetString()!;
        if (format != "normgen-golden/1")
        {
            throw new InvalidDataException($"unknown golden format '{format}'");
        }
        Name = _root.GetProperty("name").GetString()!;
        Kind = _root.GetProperty("kind").GetString()!;
        Mode = _root.GetProperty("mode").GetString()!;
        JsonElement n = _root.GetProperty("normgen");
        Normgen = new GoldenNormgen(
            n.GetProperty("Shape").GetString()!,
            n.GetProperty("Axes").GetString()!,
            n.GetProperty("Groups").ValueKind == JsonValueKind.Null ? null : n.GetProperty("Groups").GetInt32(),
            n.GetProperty("Epsilon").GetDouble(),
            n.GetProperty("Momentum").ValueKind == JsonValueKind.Null ? null : n.GetProperty("Momentum").GetDouble(),
            n.GetProperty("Affine").GetBoolean(),
            n.GetProperty("TrackRunningStats").GetBoolean(),
            n.GetProperty("ElementType").GetString()!);
        IsFloat64 = Normgen.ElementType switch
        {
            "float64" => true,
            "float32" => false,
            _ => throw new InvalidDataException($"{Name}: unknown ElementType {Normgen.ElementType}"),
        };
        var dims = new List<KeyValuePair<string, int>>();
        foreach (JsonProperty p in _root.GetProperty("dims").EnumerateObject())
        {
            dims.Add(new KeyValuePair<string, int>(p.Name, p.Value.GetInt32()));
        }
        Dims = dims;
    }

    public string Name { get; }

    /// <summary><c>batchnorm</c>, <c>layernorm</c>, <c>groupnorm</c>, <c>instancenorm</c> or <c>rmsnorm</c>.</summary>
    public string Kind { get; }

    /// <summary><c>batch_stats</c> or <c>per_sample</c>.</summary>
    public string Mode { get; }

    public GoldenNormgen Normgen { get; }

    public bool IsFloat64 { get; }

    /// <summary>Concrete size of every letter, in Shape order.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> Dims { get; }

    /// <summary>Product of all dims but the leading N.</summary>
    public int SampleSize
    {
        get
        {
            int size = 1;
            for (int i = 1; i < Dims.Count; i++)
            {
                size *= Dims[i].Value;
            }
            return size;
        }
    }

    public static GoldenCase Load(string name) =>
        Cache.GetOrAdd(name, n => new Lazy<GoldenCase>(() => Read(n))).Value;

    private static GoldenCase Read(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", "Data", name + ".json");
        // The document stays alive for the test run (cached); the files total a few MB.
        var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var c = new GoldenCase(document);
        if (c.Name != name)
        {
            throw new InvalidDataException($"{path}: name is '{c.Name}'");
        }
        return c;
    }

    /// <summary>An input tensor by path (<c>gamma</c>, <c>x_train[1]</c>, <c>x</c>, ...), or null when the file has null.</summary>
    public double[]? InputOrNull(string path) => TensorOrNull(_root.GetProperty("inputs"), path, asFloat32: !IsFloat64);

    public double[] Input(string path) => InputOrNull(path) ?? throw new InvalidDataException($"{Name}: inputs.{path} is null");

    /// <summary>libtorch's result in the case's element type (<c>train[0].y</c>, <c>eval.y</c>, <c>backward.dx</c>, <c>y</c>, ...).</summary>
    public double[]? OutputOrNull(string key) => TensorOrNull(_root.GetProperty("outputs"), key, asFloat32: !IsFloat64);

    public double[] Output(string key) => OutputOrNull(key) ?? throw new InvalidDataException($"{Name}: outputs.{key} is null");

    /// <summary>An integer output such as <c>train[0].num_batches_tracked</c>.</summary>
    public long? OutputInteger(string key)
    {
        JsonElement e = Navigate(_root.GetProperty("outputs"), key);
        return e.ValueKind == JsonValueKind.Null ? null : e.GetInt64();
    }

    public long? InputInteger(string key)
    {
        JsonElement e = Navigate(_root.GetProperty("inputs"), key);
        return e.ValueKind == JsonValueKind.Null ? null : e.GetInt64();
    }

    /// <summary>libtorch's float64 run of a float32 case.</summary>
    public double[] Ref64(string key)
    {
        if (IsFloat64)
        {
            throw new InvalidOperationException($"{Name}: float64 cases have no ref64");
        }
        return TensorOrNull(_root.GetProperty("ref64"), key, asFloat32: false)
            ?? throw new InvalidDataException($"{Name}: ref64.{key} is null");
    }

    /// <summary><c>checks.f32_vs_ref64[key].rel</c>: libtorch's own float32 error for that output.</summary>
    public double F32Rel(string key)
    {
        JsonElement checks = _root.GetProperty("checks").GetProperty("f32_vs_ref64");
        if (!checks.TryGetProperty(key, out JsonElement entry))
        {
            throw new InvalidDataException($"{Name}: checks.f32_vs_ref64 has no entry '{key}'");
        }
        return entry.GetProperty("rel").GetDouble();
    }

    private double[]? TensorOrNull(JsonElement container, string path, bool asFloat32)
    {
        JsonElement t = Navigate(container, path);
        if (t.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        long count = 1;
        foreach (JsonElement d in t.GetProperty("shape").EnumerateArray())
        {
            count *= d.GetInt64();
        }
        JsonElement data = t.GetProperty("data");
        var values = new double[data.GetArrayLength()];
        if (values.Length != count)
        {
            throw new InvalidDataException($"{Name}: {path} has {values.Length} values for {count} elements");
        }
        int i = 0;
        foreach (JsonElement v in data.EnumerateArray())
        {
            double d = v.GetDouble();
            if (asFloat32)
            {
                float f = v.GetSingle();    // float.Parse semantics: the exact float32 bits
                if (BitConverter.SingleToInt32Bits(f) != BitConverter.SingleToInt32Bits((float)d))
                {
                    throw new InvalidDataException($"{Name}: {path}[{i}] parses to different float bits as float and as double");
                }
                d = f;
            }
            values[i++] = d;
        }
        return values;
    }

    /// <summary>Follows <c>a.b[2].c</c> from <paramref name="start"/>.</summary>
    private JsonElement Navigate(JsonElement start, string path)
    {
        JsonElement e = start;
        foreach (string segment in path.Split('.'))
        {
            string name = segment;
            int index = -1;
            int bracket = segment.IndexOf('[');
            if (bracket >= 0)
            {
                name = segment.Substring(0, bracket);
                index = int.Parse(segment.Substring(bracket + 1, segment.Length - bracket - 2), System.Globalization.CultureInfo.InvariantCulture);
            }
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out JsonElement next))
            {
                throw new InvalidDataException($"{Name}: no field '{name}' on the way to '{path}'");
            }
            e = next;
            if (index >= 0)
            {
                e = e[index];
            }
        }
        return e;
    }
}
