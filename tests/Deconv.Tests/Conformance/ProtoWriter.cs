using System.Buffers.Binary;
using System.Text;

namespace Deconv.Tests.Conformance;

/// <summary>A minimal protobuf writer for building TensorProto/ModelProto bytes in tests (independent of the reader under test).</summary>
internal sealed class ProtoWriter
{
    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => [.. _bytes];

    public ProtoWriter Varint(ulong value)
    {
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            _bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return this;
    }

    public ProtoWriter Key(int field, int wire) => Varint((ulong)((field << 3) | wire));

    public ProtoWriter Int(int field, long value) => Key(field, 0).Varint(unchecked((ulong)value));

    public ProtoWriter Bytes(int field, byte[] value)
    {
        Key(field, 2).Varint((ulong)value.Length);
        _bytes.AddRange(value);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Fixed32(int field, float value)
    {
        Key(field, 5);
        var buffer = new byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(buffer, value);
        _bytes.AddRange(buffer);
        return this;
    }

    public ProtoWriter Fixed64(int field, double value)
    {
        Key(field, 1);
        var buffer = new byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(buffer, value);
        _bytes.AddRange(buffer);
        return this;
    }

    public ProtoWriter PackedVarints(int field, IEnumerable<long> values)
    {
        var inner = new ProtoWriter();
        foreach (var v in values)
        {
            inner.Varint(unchecked((ulong)v));
        }

        return Bytes(field, inner.ToArray());
    }

    public ProtoWriter PackedFloats(int field, IEnumerable<float> values) =>
        Bytes(field, [.. values.SelectMany(v => { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, v); return b; })]);

    public ProtoWriter PackedDoubles(int field, IEnumerable<double> values) =>
        Bytes(field, [.. values.SelectMany(v => { var b = new byte[8]; BinaryPrimitives.WriteDoubleLittleEndian(b, v); return b; })]);

    public ProtoWriter Raw(byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    /// <summary>A FLOAT TensorProto with packed dims and packed float_data.</summary>
    public static byte[] FloatTensor(string name, long[] dims, float[] data) =>
        new ProtoWriter().PackedVarints(1, dims).Int(2, 1).String(8, name).PackedFloats(4, data).ToArray();
}
