using Deconv.Cli.Formats;

namespace Deconv.Tests.Conformance;

public class OnnxModelTests
{
    [Fact]
    public void Reads_the_node_and_its_attributes()
    {
        // onnx/README.md: kernel_shape=[3,3], output_padding=[1,1], output_shape=[10,8], strides=[3,2]; inputs X, W; output Y.
        var model = OnnxModel.Read(SharedData.Path("conformance", "onnx", "test_convtranspose_kernel_shape", "model.onnx"));
        var node = Assert.Single(model.Nodes);
        Assert.Equal("ConvTranspose", node.OpType);
        Assert.Equal(["X", "W"], node.Inputs);
        Assert.Equal(["Y"], node.Outputs);
        Assert.Equal(["X", "W"], model.Inputs);
        Assert.Equal(["Y"], model.Outputs);
        Assert.Equal(["kernel_shape", "output_padding", "output_shape", "strides"], node.Attributes.Keys.Order(StringComparer.Ordinal));
        Assert.All(node.Attributes.Values, a => Assert.Equal(OnnxAttributeType.Ints, a.Type));
        Assert.Equal([3L, 3], node.Attributes["kernel_shape"].Ints);
        Assert.Equal([1L, 1], node.Attributes["output_padding"].Ints);
        Assert.Equal([10L, 8], node.Attributes["output_shape"].Ints);
        Assert.Equal([3L, 2], node.Attributes["strides"].Ints);
    }

    [Fact]
    public void Reads_string_and_int_attributes()
    {
        var conv = Assert.Single(OnnxModel.Read(SharedData.Path("conformance", "onnx", "test_conv_with_autopad_same", "model.onnx")).Nodes);
        Assert.Equal(OnnxAttributeType.String, conv.Attributes["auto_pad"].Type);
        Assert.Equal("SAME_LOWER", conv.Attributes["auto_pad"].String);
        var grouped = Assert.Single(OnnxModel.Read(SharedData.Path("conformance", "onnx", "test_convtranspose_group_2", "model.onnx")).Nodes);
        Assert.Equal(OnnxAttributeType.Int, grouped.Attributes["group"].Type);
        Assert.Equal(2, grouped.Attributes["group"].Int);
    }

    [Fact]
    public void Reads_initializers_of_a_pytorch_export_and_which_inputs_are_fed()
    {
        // onnx-pytorch/README.md: W [3,4,3,3] and B [4] are initializers, also written out as initializer_<name>.pb.
        var folder = SharedData.Path("conformance", "onnx-pytorch", "test_ConvTranspose2d");
        var model = OnnxModel.Read(Path.Combine(folder, "model.onnx"));
        var node = Assert.Single(model.Nodes);
        Assert.Equal(3, node.Inputs.Length);
        Assert.Equal(2, model.Initializers.Count);
        var w = model.Initializers.Single(t => t.Name == node.Inputs[1]);
        Assert.Equal([3L, 4, 3, 3], w.Shape);
        Assert.Equal(TensorProto.Read(Path.Combine(folder, "initializers", "initializer_1.pb")).Floats, w.Floats);
        Assert.Equal([4L], model.Initializers.Single(t => t.Name == node.Inputs[2]).Shape);
        Assert.Equal([node.Inputs[0]], model.FedInputs);
        Assert.Equal([1L, 1, 1, 1], node.Attributes["pads"].Ints);
        Assert.Equal([1L, 1], node.Attributes["output_padding"].Ints);
    }

    [Fact]
    public void Every_truncation_parses_or_gives_InvalidDataException()
    {
        foreach (var path in new[]
                 {
                     SharedData.Path("conformance", "onnx", "test_convtranspose_kernel_shape", "model.onnx"),
                     SharedData.Path("conformance", "onnx-pytorch", "test_ConvTranspose2d_no_bias", "model.onnx"),
                 })
        {
            var bytes = File.ReadAllBytes(path);
            var rejected = 0;
            for (var length = 0; length < bytes.Length; length++)
            {
                try
                {
                    OnnxModel.Parse(bytes.AsSpan(0, length), path);
                }
                catch (InvalidDataException e)
                {
                    Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
                    rejected++;
                }
            }

            // Only cuts at a top-level field boundary after the graph can be complete models.
            Assert.True(rejected > bytes.Length * 9 / 10, $"{path}: {rejected} of {bytes.Length} truncations rejected");
        }
    }

    [Fact]
    public void A_model_without_graph_or_with_a_nameless_attribute_is_rejected()
    {
        var noGraph = new ProtoWriter().Int(1, 8).ToArray();
        Assert.Contains("no graph", Assert.Throws<InvalidDataException>(() => OnnxModel.Parse(noGraph, "m.onnx")).Message, StringComparison.Ordinal);
        var attribute = new ProtoWriter().Int(20, 2).Int(3, 1).ToArray();
        var node = new ProtoWriter().String(4, "Conv").Bytes(5, attribute).ToArray();
        var model = new ProtoWriter().Bytes(7, new ProtoWriter().Bytes(1, node).ToArray()).ToArray();
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Parse(model, "m.onnx"));
        Assert.Contains("attribute has no name", e.Message, StringComparison.Ordinal);
        Assert.StartsWith("m.onnx: ModelProto > graph > node[0] > attribute[0]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Packed_ints_and_untyped_attributes_are_read()
    {
        var ints = new ProtoWriter().String(1, "strides").PackedVarints(8, [2, 3]).ToArray();
        var group = new ProtoWriter().String(1, "group").Int(3, 4).ToArray();
        var node = new ProtoWriter().String(1, "X").String(2, "Y").String(4, "Conv").Bytes(5, ints).Bytes(5, group).ToArray();
        var model = OnnxModel.Parse(new ProtoWriter().Bytes(7, new ProtoWriter().Bytes(1, node).ToArray()).ToArray(), "m.onnx");
        var attributes = Assert.Single(model.Nodes).Attributes;
        Assert.Equal(OnnxAttributeType.Ints, attributes["strides"].Type);
        Assert.Equal([2L, 3], attributes["strides"].Ints);
        Assert.Equal((OnnxAttributeType.Int, 4L), (attributes["group"].Type, attributes["group"].Int));
    }
}
