using System.Text;

namespace Deconv.Bench;

/// <summary>
/// Writes a one-node ONNX <c>ConvTranspose</c> model as protobuf bytes, by hand (field numbers from
/// onnx.proto): input X, weight W and bias B as initializers, output Y.
/// </summary>
internal static partial class OnnxModel
{
    public static byte[] ConvTranspose(BenchCase c, float[] weight, float[] bias)
    {
        var node = new Proto()
            .String(1, "X").String(1, "W").String(1, "B") // NodeProto.input
            .String(2, "Y") // output
            .String(3, "deconv") // name
            .String(4, "ConvTranspose") // op_type
            .Message(5, Ints("kernel_shape", c.Kernel))
            .Message(5, Ints("strides", c.Stride))
            .Message(5, Ints("pads", c.Pads))
            .Message(5, Ints("dilations", c.Dilation))
            .Message(5, Ints("output_padding", c.OutputPadding))
            .Message(5, new Proto().String(1, "group").Varint(20, 2).Varint(3, c.Groups)); // AttributeProto: type INT = 2, i = 3
        long[] weightShape = [c.CIn, c.COut / c.Groups, .. c.Kernel.Select(k => (long)k)];
        var graph = new Proto()
            .Message(1, node)
            .String(2, "convtranspose")
            .Message(5, Tensor("W", weightShape, weight))
            .Message(5, Tensor("B", [c.COut], bias))
            .Message(11, ValueInfo("X", [c.N, c.CIn, .. c.Input.Select(i => (long)i)]))
            .Message(12, ValueInfo("Y", null));
        var model = new Proto()
            .Varint(1, 8) // ir_version
            .String(2, "Deconv.Bench") // producer_name
            .Message(7, graph)
            .Message(8, new Proto().String(1, "").Varint(2, 17)); // opset_import: default domain, opset 17
        return model.ToArray();
    }

    private static Proto Ints(string name, IEnumerable<int> values)
    {
        var attribute = new Proto().String(1, name).Varint(20, 7); // type INTS = 7
        foreach (var v in values)
        {
            attribute.Varint(8, v); // ints
        }

        return attribute;
    }

    private static Proto Tensor(string name, long[] dims, float[] values)
    {
        var tensor = new Proto();
        foreach (var d in dims)
        {
            tensor.Varint(1, d); // dims
        }

        var raw = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length); // little-endian on x64, as raw_data requires
        return tensor.Varint(2, 1).String(8, name).Bytes(9, raw); // data_type FLOAT = 1, name, raw_data
    }

    private static Proto ValueInfo(string name, long[]? shape)
    {
        var tensorType = new Proto().Varint(1, 1); // elem_type FLOAT
        if (shape is not null)
        {
            var shapeProto = new Proto();
            foreach (var d in shape)
            {
                shapeProto.Message(1, new Proto().Varint(1, d)); // dim { dim_value }
            }

            tensorType.Message(2, shapeProto);
        }

        return new Proto().String(1, name).Message(2, new Proto().Message(1, tensorType)); // type { tensor_type }
    }

    /// <summary>A protobuf message under construction.</summary>
    private sealed class Proto
    {
        private readonly List<byte> _bytes = [];

        public Proto Varint(int field, long value)
        {
            Tag(field, 0);
            WriteVarint((ulong)value);
            return this;
        }

        public Proto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Proto Message(int field, Proto message) => Bytes(field, message.ToArray());

        public Proto Bytes(int field, byte[] value)
        {
            Tag(field, 2);
            WriteVarint((ulong)value.Length);
            _bytes.AddRange(value);
            return this;
        }

        public byte[] ToArray() => [.. _bytes];

        private void Tag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

        private void WriteVarint(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.Add((byte)(value | 0x80));
                value >>= 7;
            }

            _bytes.Add((byte)value);
        }
    }
}
