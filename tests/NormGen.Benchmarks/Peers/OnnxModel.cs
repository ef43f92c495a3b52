using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using NormGen.Benchmarks.Cases;

namespace NormGen.Benchmarks.Peers;

/// <summary>
/// Builds the one-node ONNX model of a case as protobuf bytes by hand (no Google.Protobuf / onnx.proto
/// needed: a few fields of ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto).
/// Gamma, Beta and (BatchNormalization) the inference statistics are initializers; X is the only input,
/// Y the only output, both with the case's fixed shape.
/// <list type="bullet">
/// <item>BatchNormalization, opset 15 (inference: training_mode = 0).</item>
/// <item>LayerNormalization, opset 17, axis = −1.</item>
/// <item>GroupNormalization, opset 21 (per-channel scale and bias, as PyTorch).</item>
/// <item>RMSNormalization, opset 23, axis = −1.</item>
/// </list>
/// </summary>
public static class OnnxModel
{
    public static (byte[] Model, string Op, int Opset) Build(CaseSpec spec, CaseData data)
    {
        long[] shape = spec.Dims.Select(d => (long)d).ToArray();
        string op;
        int opset;
        var initializers = new List<(string Name, float[] Values)>();
        var attributes = new List<Proto>();
        switch (spec.Kind)
        {
            case LayerKind.Batch:
                op = "BatchNormalization";
                opset = 15;
                initializers.Add(("scale", data.Gamma));
                initializers.Add(("B", data.Beta));
                initializers.Add(("mean", data.InferenceMean));
                initializers.Add(("var", data.InferenceVar));
                attributes.Add(FloatAttribute("epsilon", CaseSpec.Epsilon));
                break;
            case LayerKind.Layer:
                op = "LayerNormalization";
                opset = 17;
                initializers.Add(("scale", data.Gamma));
                initializers.Add(("B", data.Beta));
                attributes.Add(IntAttribute("axis", -1));
                attributes.Add(FloatAttribute("epsilon", CaseSpec.Epsilon));
                break;
            case LayerKind.Group:
                op = "GroupNormalization";
                opset = 21;
                initializers.Add(("scale", data.Gamma));
                initializers.Add(("B", data.Beta));
                attributes.Add(IntAttribute("num_groups", spec.Groups));
                attributes.Add(FloatAttribute("epsilon", CaseSpec.Epsilon));
                break;
            case LayerKind.Rms:
                op = "RMSNormalization";
                opset = 23;
                initializers.Add(("scale", data.Gamma));
                attributes.Add(IntAttribute("axis", -1));
                attributes.Add(FloatAttribute("epsilon", CaseSpec.Epsilon));
                break;
            default:
                throw new NotSupportedException(spec.Kind.ToString());
        }

        var node = new Proto();
        node.String(1, "X");
        foreach (var (name, _) in initializers) node.String(1, name);
        node.String(2, "Y");
        node.String(3, op.ToLowerInvariant());
        node.String(4, op);
        foreach (Proto a in attributes) node.Message(5, a);

        var graph = new Proto();
        graph.Message(1, node);
        graph.String(2, spec.Name);
        foreach (var (name, values) in initializers) graph.Message(5, FloatTensor(name, values));
        graph.Message(11, ValueInfo("X", shape));
        graph.Message(12, ValueInfo("Y", shape));

        var opsetImport = new Proto();
        opsetImport.String(1, "");
        opsetImport.Varint(2, opset);

        var model = new Proto();
        model.Varint(1, opset >= 23 ? 11 : 10); // IR version: ONNX 1.16 (opset 21) is IR 10, ONNX 1.18 (opset 23) is IR 11
        model.String(2, "NormGen.Benchmarks");
        model.Message(7, graph);
        model.Message(8, opsetImport);
        return (model.ToArray(), op, opset);
    }

    private static Proto FloatAttribute(string name, float value)
    {
        var a = new Proto();
        a.String(1, name);
        a.Float(2, value);
        a.Varint(20, 1); // AttributeType.FLOAT
        return a;
    }

    private static Proto IntAttribute(string name, long value)
    {
        var a = new Proto();
        a.String(1, name);
        a.Varint(3, value);
        a.Varint(20, 2); // AttributeType.INT
        return a;
    }

    private static Proto FloatTensor(string name, float[] values)
    {
        var t = new Proto();
        t.Varint(1, values.Length); // dims
        t.Varint(2, 1);             // data_type FLOAT
        t.String(8, name);
        t.Bytes(9, MemoryMarshal.AsBytes(values.AsSpan())); // raw_data, little-endian
        return t;
    }

    private static Proto ValueInfo(string name, long[] shape)
    {
        var dims = new Proto();
        foreach (long d in shape)
        {
            var dim = new Proto();
            dim.Varint(1, d);
            dims.Message(1, dim);
        }
        var tensorType = new Proto();
        tensorType.Varint(1, 1); // elem_type FLOAT
        tensorType.Message(2, dims);
        var type = new Proto();
        type.Message(1, tensorType);
        var vi = new Proto();
        vi.String(1, name);
        vi.Message(2, type);
        return vi;
    }

    /// <summary>A minimal protobuf writer: varint, length-delimited and fixed32 fields.</summary>
    private sealed class Proto
    {
        private readonly MemoryStream _stream = new();

        public void Varint(int field, long value)
        {
            Tag(field, 0);
            Raw((ulong)value);
        }

        public void Float(int field, float value)
        {
            Tag(field, 5);
            Span<byte> b = stackalloc byte[4];
            BitConverter.TryWriteBytes(b, value);
            _stream.Write(b);
        }

        public void Bytes(int field, ReadOnlySpan<byte> value)
        {
            Tag(field, 2);
            Raw((ulong)value.Length);
            _stream.Write(value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, Proto message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _stream.ToArray();

        private void Tag(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _stream.WriteByte((byte)value);
        }
    }
}
