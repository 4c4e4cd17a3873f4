namespace Deconv.Bench;

internal static partial class OnnxModel
{
    /// <summary>
    /// A one-node ONNX <c>Conv</c> model of a geometry's forward convolution (the transposed convolution's
    /// input gradient): input X <see cref="ConvGeometry.OutputShape"/> (NCHW), weight W <c>[C, M/G, k...]</c>
    /// as initializer, no bias, output Y <see cref="ConvGeometry.InputShape"/>; pads (crop begin, crop end).
    /// Null when an end crop is negative (ONNX pads cannot be).
    /// </summary>
    public static byte[]? Conv(ConvGeometry g, float[] weight)
    {
        var axes = g.Axes;
        if (g.Layout != DataLayout.ChannelsFirst || axes.Any(a => a.CropEnd < 0))
        {
            return null;
        }

        var node = new Proto()
            .String(1, "X").String(1, "W") // NodeProto.input
            .String(2, "Y") // output
            .String(3, "conv") // name
            .String(4, "Conv") // op_type
            .Message(5, Ints("kernel_shape", axes.Select(a => a.Kernel)))
            .Message(5, Ints("strides", axes.Select(a => a.Stride)))
            .Message(5, Ints("pads", [.. axes.Select(a => a.CropBegin), .. axes.Select(a => (int)a.CropEnd)]))
            .Message(5, Ints("dilations", axes.Select(a => a.Dilation)))
            .Message(5, new Proto().String(1, "group").Varint(20, 2).Varint(3, g.Groups)); // AttributeProto: type INT = 2, i = 3
        var graph = new Proto()
            .Message(1, node)
            .String(2, "conv")
            .Message(5, Tensor("W", g.WeightShape, weight))
            .Message(11, ValueInfo("X", g.OutputShape))
            .Message(12, ValueInfo("Y", null));
        var model = new Proto()
            .Varint(1, 8) // ir_version
            .String(2, "Deconv.Bench") // producer_name
            .Message(7, graph)
            .Message(8, new Proto().String(1, "").Varint(2, 17)); // opset_import: default domain, opset 17
        return model.ToArray();
    }
}
