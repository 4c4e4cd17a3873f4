using Deconv.Cli.Formats;

namespace Deconv.Tests.Conformance;

public class TensorProtoTests
{
    private static string Onnx(params string[] parts) => SharedData.Path(["conformance", "onnx", .. parts]);

    [Fact]
    public void Reads_a_real_node_test_input_with_unpacked_dims_and_raw_data()
    {
        // onnx/README.md: test_convtranspose X is [1,1,3,3] holding 0..8, named X.
        var x = TensorProto.Read(Onnx("test_convtranspose", "test_data_set_0", "input_0.pb"));
        Assert.Equal("X", x.Name);
        Assert.Equal([1L, 1, 3, 3], x.Shape);
        Assert.Equal(TensorProto.Float, x.DataType);
        Assert.Equal([0f, 1, 2, 3, 4, 5, 6, 7, 8], x.Floats!);
    }

    [Fact]
    public void Reads_the_1d_output_rows()
    {
        // onnx/README.md: test_convtranspose_1d Y [1,2,5], each row 0,1,3,3,2.
        var y = TensorProto.Read(Onnx("test_convtranspose_1d", "test_data_set_0", "output_0.pb"));
        Assert.Equal([1L, 2, 5], y.Shape);
        Assert.Equal([0f, 1, 3, 3, 2, 0, 1, 3, 3, 2], y.Floats!);
    }

    [Fact]
    public void Reads_packed_dims_and_packed_float_data()
    {
        var bytes = ProtoWriter.FloatTensor("t", [2, 3], [1, 2, 3, 4, 5, 6.5f]);
        var t = TensorProto.Parse(bytes, "packed.pb");
        Assert.Equal([2L, 3], t.Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6.5f], t.Floats!);
    }

    [Fact]
    public void Reads_unpacked_float_data()
    {
        var bytes = new ProtoWriter().Int(1, 2).Int(2, 1).Fixed32(4, -1.5f).Fixed32(4, 3f).ToArray();
        Assert.Equal([-1.5f, 3f], TensorProto.Parse(bytes, "x.pb").Floats!);
    }

    [Fact]
    public void Reads_double_data_packed_unpacked_and_raw()
    {
        var packed = new ProtoWriter().Int(1, 2).Int(2, 11).PackedDoubles(10, [0.1, -2e300]).ToArray();
        var unpacked = new ProtoWriter().Int(1, 2).Int(2, 11).Fixed64(10, 0.1).Fixed64(10, -2e300).ToArray();
        var raw = new ProtoWriter().Int(1, 2).Int(2, 11).Bytes(9, [.. BitConverter.GetBytes(0.1), .. BitConverter.GetBytes(-2e300)]).ToArray();
        foreach (var bytes in new[] { packed, unpacked, raw })
        {
            var t = TensorProto.Parse(bytes, "d.pb");
            Assert.Equal(TensorProto.Double, t.DataType);
            Assert.Null(t.Floats);
            Assert.Equal([0.1, -2e300], t.Doubles!);
        }
    }

    [Fact]
    public void An_empty_tensor_needs_no_data()
    {
        var t = TensorProto.Parse(new ProtoWriter().Int(1, 0).Int(1, 3).Int(2, 1).ToArray(), "e.pb");
        Assert.Equal([0L, 3], t.Shape);
        Assert.Empty(t.Floats!);
    }

    [Fact]
    public void Unknown_fields_are_skipped()
    {
        var bytes = new ProtoWriter().Int(1, 1).Int(2, 1).String(12, "doc").Fixed64(99, 1).Fixed32(100, 2).Int(101, 7).PackedFloats(4, [42f]).ToArray();
        Assert.Equal([42f], TensorProto.Parse(bytes, "u.pb").Floats!);
    }

    [Fact]
    public void Every_truncation_of_a_real_file_is_rejected_with_the_file_name()
    {
        // raw_data is the last field, so every strict prefix is incomplete.
        var path = Onnx("test_convtranspose_pads", "test_data_set_0", "output_0.pb");
        var bytes = File.ReadAllBytes(path);
        for (var length = 0; length < bytes.Length; length++)
        {
            var e = Assert.Throws<InvalidDataException>(() => TensorProto.Parse(bytes.AsSpan(0, length), path));
            Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x08, 0x80 }, "truncated varint")]
    [InlineData(new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, "varint")]
    [InlineData(new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02 }, "overflows 64 bits")]
    [InlineData(new byte[] { 0x08, 0x02, 0x10, 0x01, 0x4A, 0x20, 0x00 }, "declares 32 bytes but only 1 remain")]
    [InlineData(new byte[] { 0x08, 0x01, 0x10, 0x01, 0x4A, 0x03, 0x00, 0x00, 0x00 }, "raw_data has 3 bytes")]
    [InlineData(new byte[] { 0x08, 0x02, 0x10, 0x01, 0x4A, 0x04, 0x00, 0x00, 0x00, 0x00 }, "need 2 x 4 = 8")]
    [InlineData(new byte[] { 0x08, 0x01, 0x10, 0x07, 0x4A, 0x08, 0, 0, 0, 0, 0, 0, 0, 0 }, "data_type 7 (INT64)")]
    [InlineData(new byte[] { 0x08, 0x01, 0x4A, 0x04, 0, 0, 0, 0 }, "data_type 0 (UNDEFINED)")]
    [InlineData(new byte[] { 0x08, 0x7F, 0x10, 0x01 }, "has no data")]
    [InlineData(new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x10, 0x01 }, "negative dimension")]
    [InlineData(new byte[] { 0x7B, 0x10, 0x01 }, "group wire type")]
    [InlineData(new byte[] { 0x0E }, "invalid wire type 6")]
    [InlineData(new byte[] { 0x00 }, "invalid field number 0")]
    [InlineData(new byte[] { 0x15, 0x01, 0x00, 0x00, 0x00 }, "field data_type has wire type 5")]
    [InlineData(new byte[] { 0x08, 0x01, 0x10, 0x01, 0x22, 0x03, 0, 0, 0 }, "not a multiple of 4")]
    [InlineData(new byte[] { 0x10, 0x01, 0x42, 0x02, 0xC3, 0x28 }, "not valid UTF-8")]
    [InlineData(new byte[] { 0x08, 0x01, 0x10, 0x01, 0x70, 0x01 }, "EXTERNAL")]
    public void Malformed_bytes_give_InvalidDataException_naming_the_problem(byte[] bytes, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => TensorProto.Parse(bytes, "bad.pb"));
        Assert.StartsWith("bad.pb", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Raw_data_and_float_data_together_are_rejected()
    {
        var bytes = new ProtoWriter().Int(1, 1).Int(2, 1).Bytes(9, [0, 0, 0, 0]).PackedFloats(4, [1f]).ToArray();
        Assert.Contains("both raw_data and float_data", Assert.Throws<InvalidDataException>(() => TensorProto.Parse(bytes, "b.pb")).Message, StringComparison.Ordinal);
    }
}
