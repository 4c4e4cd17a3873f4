using System.Numerics.Tensors;

namespace Deconv.Tests.Frontends;

/// <summary>
/// Every kind of rule violation in every front end is a <see cref="ConvolutionArgumentException"/> whose ParamName is the
/// framework's parameter name and whose message contains the offending value.
/// </summary>
public class ValidationTests
{
    private static Tensor<double> Zeros(params long[] shape) => Tensor.CreateFromShape<double>([.. shape.Select(l => (nint)l)]);

    private static readonly Tensor<double> X = Zeros(1, 4, 4, 2);      // TF NHWC input, 2 channels
    private static readonly Tensor<double> F = Zeros(3, 3, 1, 2);      // TF transposed filter [kh, kw, out 1, in 2]
    private static readonly Tensor<double> Nchw = Zeros(1, 2, 4, 4);   // PyTorch / ONNX input, 2 channels
    private static readonly Tensor<double> Wt = Zeros(2, 3, 3, 3);     // ConvTranspose weight [C 2, M/G 3, 3, 3]
    private static readonly Tensor<double> Wc = Zeros(3, 2, 3, 3);     // Conv weight [M 3, C/G 2, 3, 3]

    private static OnnxConvAttributes A => new();

    /// <summary>(what is done, framework parameter name, text the message must contain).</summary>
    private static readonly Dictionary<string, (Action Call, string Param, string Value)> Cases = new()
    {
        // ---- TensorFlow transposed (conv2d_transpose: VALID 4 -> 6..6 with 3x3 stride 1; stride 2: 9..10)
        ["tf input rank"] = (() => TensorFlow.Conv2DTranspose(Zeros(4, 4, 2), F, [1, 6, 6, 1], null, "VALID"), "input", "[4, 4, 2]"),
        ["tf filter rank"] = (() => TensorFlow.Conv2DTranspose(X, Zeros(3, 3, 2), [1, 6, 6, 1], null, "VALID"), "filters", "[3, 3, 2]"),
        ["tf output_shape length"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6], null, "VALID"), "output_shape", "[1, 6, 6]"),
        ["tf output_shape negative"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, -6, 6, 1], null, "VALID"), "output_shape", "-6"),
        ["tf batch mismatch"] = (() => TensorFlow.Conv2DTranspose(X, F, [3, 6, 6, 1], null, "VALID"), "output_shape", "3"),
        ["tf in depth"] = (() => TensorFlow.Conv2DTranspose(Zeros(1, 4, 4, 5), F, [1, 6, 6, 1], null, "VALID"), "filters", "5"),
        ["tf out depth"] = (() => TensorFlow.Conv2DTranspose(X, Zeros(3, 3, 2, 2), [1, 6, 6, 3], null, "VALID"), "output_shape", "3"),
        ["tf out depth zero"] = (() => TensorFlow.Conv2DTranspose(X, Zeros(3, 3, 0, 2), [1, 6, 6, 1], null, "VALID"), "filters", "0"),
        ["tf groups do not divide input depth"] = (() => TensorFlow.Conv2DTranspose(Zeros(1, 4, 4, 3), Zeros(3, 3, 1, 3), [1, 6, 6, 2], null, "VALID"), "filters", "3"),
        ["tf VALID output size too small"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 5, 6, 1], null, "VALID"), "output_shape", "5"),
        ["tf VALID output size too large"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 9, 11, 1], [2], "VALID"), "output_shape", "11"),
        ["tf SAME output size"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 9, 8, 1], [2], "SAME"), "output_shape", "9"),
        ["tf explicit output size"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 7, 6, 1], null, TfPadding.Explicit([1, 1], [0, 0])), "output_shape", "7"),
        ["tf output_shape overflow"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 1L << 40, 6, 1], null, "VALID"), "output_shape", "1099511627776"),
        ["tf output elements overflow"] = (() => TensorFlow.Conv2DTranspose(Zeros(1, 1, 1, 1), Zeros(1, 1, 1, 1), [1, 1 << 30, 1 << 30, 1], [1 << 30], "SAME"), "output_shape", "1073741824"),
        ["tf stride zero"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], [1, 0, 1, 1], "VALID"), "strides", "0"),
        ["tf stride negative"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], [-2], "VALID"), "strides", "-2"),
        ["tf stride huge"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], [1L << 33], "VALID"), "strides", "8589934592"),
        ["tf strides length"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], [1, 1, 1], "VALID"), "strides", "3"),
        ["tf strides on batch"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], [2, 1, 1, 1], "VALID"), "strides", "[2, 1, 1, 1]"),
        ["tf dilation zero"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], null, "VALID", "NHWC", [1, 0]), "dilations", "0"),
        ["tf dilation on channel"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], null, "VALID", "NHWC", [1, 1, 1, 2]), "dilations", "[1, 1, 1, 2]"),
        ["tf negative explicit padding"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], null, TfPadding.Explicit([0, -1], [0, 0])), "padding", "-1"),
        ["tf explicit padding count"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], null, TfPadding.Explicit([0, 0])), "padding", "1 pairs"),
        ["tf explicit padding on batch"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], null, TfPadding.Explicit([1, 0], [0, 0], [0, 0], [0, 0])), "padding", "[1, 0]"),
        ["tf explicit padding not a pair"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], null, TfPadding.Explicit([0, 0, 0], [0, 0])), "padding", "[0, 0, 0]"),
        ["tf padding string"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], null, "FULL"), "padding", "FULL"),
        ["tf data_format"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], null, "VALID", "NWHC"), "data_format", "NWHC"),
        ["tf data_format of another rank"] = (() => TensorFlow.Conv1DTranspose(Zeros(1, 4, 2), Zeros(3, 1, 2), [1, 6, 1], null, "VALID", "NHWC"), "data_format", "NHWC"),
        ["tf backprop input sizes"] = (() => TensorFlow.Conv2DBackpropInput([1, 7, 6, 1], F, X, null, "VALID"), "input_sizes", "7"),
        ["tf backprop input sizes batch"] = (() => TensorFlow.Conv2DBackpropInput([2, 6, 6, 1], F, X, null, "VALID"), "input_sizes", "2"),
        ["tf backprop input filter rank"] = (() => TensorFlow.Conv2DBackpropInput([1, 6, 6, 1], Zeros(3, 3, 1), X, null, "VALID"), "filter", "[3, 3, 1]"),
        ["tf backprop input out_backprop rank"] = (() => TensorFlow.Conv3DBackpropInputV2([1, 6, 6, 6, 1], Zeros(3, 3, 3, 1, 2), X, null, "VALID"), "out_backprop", "[1, 4, 4, 2]"),
        ["tf backprop input filter depth"] = (() => TensorFlow.Conv2DBackpropInput([1, 6, 6, 1], Zeros(3, 3, 1, 3), X, null, "VALID"), "filter", "3"),
        ["tf 3d rank"] = (() => TensorFlow.Conv3DTranspose(X, Zeros(3, 3, 3, 1, 2), [1, 6, 6, 6, 1], null, "VALID"), "input", "[1, 4, 4, 2]"),

        // ---- TensorFlow forward
        ["tf conv rank"] = (() => TensorFlow.Conv2D(Zeros(4, 4, 2), Zeros(3, 3, 2, 1), null, "VALID"), "input", "[4, 4, 2]"),
        ["tf conv depth"] = (() => TensorFlow.Conv2D(Zeros(1, 4, 4, 3), Zeros(3, 3, 2, 1), null, "VALID"), "filters", "3"),
        ["tf conv groups do not divide out"] = (() => TensorFlow.Conv2D(Zeros(1, 4, 4, 4), Zeros(3, 3, 2, 3), null, "VALID"), "filters", "3"),
        ["tf conv empty filter"] = (() => TensorFlow.Conv2D(X, Zeros(3, 0, 2, 1), null, "VALID"), "filters", "[3, 0, 2, 1]"),
        ["tf conv filter larger than input"] = (() => TensorFlow.Conv2D(Zeros(1, 2, 2, 2), Zeros(5, 5, 2, 1), null, "VALID"), "input", "-"),
        ["tf conv stride zero"] = (() => TensorFlow.Conv2D(X, Zeros(3, 3, 2, 1), [0], "VALID"), "strides", "0"),
        ["tf conv output elements overflow"] = (() => TensorFlow.Conv2D(X, Zeros(1, 1, 2, 1), null, TfPadding.Explicit([1 << 30, 0], [1 << 30, 0])), "padding", "1073741828"),
        ["tf conv output size overflow"] = (() => TensorFlow.Conv2D(X, Zeros(1, 1, 2, 1), null, TfPadding.Explicit([1 << 30, 1 << 30], [0, 0])), "padding", "2147483652"),
        ["tf backprop filter sizes overflow"] = (() => TensorFlow.Conv2DBackpropFilter(X, [1 << 20, 1 << 20, 2, 1], Zeros(1, 2, 2, 1), null, "VALID"), "filter_sizes", "1048576"),
        ["tf conv negative explicit padding"] = (() => TensorFlow.Conv2D(X, Zeros(3, 3, 2, 1), null, TfPadding.Explicit([0, 0], [-4, 0])), "padding", "-4"),
        ["tf conv dilation huge"] = (() => TensorFlow.Conv2D(X, Zeros(3, 3, 2, 1), null, "SAME", "NHWC", [1L << 31, 1]), "dilations", "2147483648"),
        ["tf conv dilated kernel too long"] = (() => TensorFlow.Conv2D(X, Zeros(3, 3, 2, 1), null, "SAME", "NHWC", [int.MaxValue, 1]), "dilations", "4294967295"),
        ["tf dilated kernel too long"] = (() => TensorFlow.Conv2DTranspose(X, F, [1, 6, 6, 1], null, "VALID", "NHWC", [1, int.MaxValue]), "dilations", "4294967295"),
        ["torch dilated kernel too long"] = (() => Torch.ConvTranspose2d(Nchw, Wt, dilation: [int.MaxValue]), "dilation", "4294967295"),
        ["torch conv dilated kernel too long"] = (() => Torch.Conv2d(Nchw, Wc, padding: "same", dilation: [int.MaxValue]), "dilation", "4294967295"),
        ["onnx dilated kernel too long"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Dilations = [int.MaxValue, 1] }), "dilations", "4294967295"),
        ["onnx conv dilated kernel too long"] = (() => Onnx.Conv(Nchw, Wc, null, A with { AutoPad = "SAME_LOWER", Dilations = [int.MaxValue, 1] }), "dilations", "4294967295"),
        ["tf conv data_format"] = (() => TensorFlow.Conv3D(Zeros(1, 2, 2, 2, 1), Zeros(1, 1, 1, 1, 1), null, "VALID", "NHWC"), "data_format", "NHWC"),
        ["tf depthwise channels"] = (() => TensorFlow.DepthwiseConv2D(X, Zeros(3, 3, 3, 1), null, "VALID"), "filter", "3"),
        ["tf depthwise strides"] = (() => TensorFlow.DepthwiseConv2D(X, Zeros(3, 3, 2, 1), [1, 2], "VALID"), "strides", "[1, 2]"),
        ["tf backprop filter out_backprop"] = (() => TensorFlow.Conv2DBackpropFilter(X, [3, 3, 2, 1], Zeros(1, 3, 2, 1), null, "VALID"), "out_backprop", "[1, 3, 2, 1]"),
        ["tf backprop filter sizes rank"] = (() => TensorFlow.Conv2DBackpropFilter(X, [3, 3, 2], Zeros(1, 2, 2, 1), null, "VALID"), "filter_sizes", "[3, 3, 2]"),
        ["tf backprop filter sizes depth"] = (() => TensorFlow.Conv2DBackpropFilter(X, [3, 3, 3, 1], Zeros(1, 2, 2, 1), null, "VALID"), "filter_sizes", "3"),
        ["tf depthwise filter rank"] = (() => TensorFlow.DepthwiseConv2D(X, Zeros(3, 3, 2), null, "VALID"), "filter", "[3, 3, 2]"),

        // ---- PyTorch transposed
        ["torch input rank"] = (() => Torch.ConvTranspose2d(Zeros(1, 1, 2, 4, 4), Wt), "input", "[1, 1, 2, 4, 4]"),
        ["torch weight rank"] = (() => Torch.ConvTranspose2d(Nchw, Zeros(2, 3, 3)), "weight", "[2, 3, 3]"),
        ["torch channels"] = (() => Torch.ConvTranspose2d(Zeros(1, 5, 4, 4), Wt), "weight", "5"),
        ["torch groups zero"] = (() => Torch.ConvTranspose2d(Nchw, Wt, groups: 0), "groups", "0"),
        ["torch groups negative"] = (() => Torch.ConvTranspose2d(Nchw, Wt, groups: -2), "groups", "-2"),
        ["torch groups do not divide"] = (() => Torch.ConvTranspose2d(Nchw, Wt, groups: 3), "groups", "3"),
        ["torch stride zero"] = (() => Torch.ConvTranspose2d(Nchw, Wt, stride: [1, 0]), "stride", "0"),
        ["torch stride length"] = (() => Torch.ConvTranspose2d(Nchw, Wt, stride: [1, 1, 1]), "stride", "3"),
        ["torch dilation zero"] = (() => Torch.ConvTranspose2d(Nchw, Wt, dilation: [0]), "dilation", "0"),
        ["torch padding negative"] = (() => Torch.ConvTranspose2d(Nchw, Wt, padding: [-1]), "padding", "-1"),
        ["torch output_padding negative"] = (() => Torch.ConvTranspose2d(Nchw, Wt, outputPadding: [-1]), "output_padding", "-1"),
        ["torch output_padding too large"] = (() => Torch.ConvTranspose2d(Nchw, Wt, stride: [2], outputPadding: [2], dilation: [2]), "output_padding", "2"),
        ["torch output_padding equal to stride"] = (() => Torch.ConvTranspose2d(Nchw, Wt, stride: [3], outputPadding: [0, 3]), "output_padding", "3"),
        ["torch output too small"] = (() => Torch.ConvTranspose2d(Nchw, Wt, padding: [4]), "padding", "-2"),
        ["torch output_size too large"] = (() => Torch.ConvTranspose2d(Nchw, Wt, stride: [2], outputSize: [9, 11]), "output_size", "11"),
        ["torch output_size too small"] = (() => Torch.ConvTranspose2d(Nchw, Wt, stride: [2], outputSize: [8, 9]), "output_size", "8"),
        ["torch output_size range uses stride only"] = (() => Torch.ConvTranspose2d(Nchw, Wt, dilation: [3], outputSize: [11, 10]), "output_size", "11"),
        ["torch output_size length"] = (() => Torch.ConvTranspose2d(Nchw, Wt, outputSize: [1, 6, 6]), "output_size", "3"),
        ["torch output_size overflow"] = (() => Torch.ConvTranspose2d(Nchw, Wt, outputSize: [1L << 40, 6]), "output_size", "1099511627776"),
        ["torch bias length"] = (() => Torch.ConvTranspose2d(Nchw, Wt, Zeros(4)), "bias", "4"),
        ["torch bias rank"] = (() => Torch.ConvTranspose2d(Nchw, Wt, Zeros(3, 1)), "bias", "[3, 1]"),
        ["torch empty weight"] = (() => Torch.ConvTranspose2d(Nchw, Zeros(2, 3, 0, 3)), "weight", "[2, 3, 0, 3]"),
        ["torch padding huge"] = (() => Torch.ConvTranspose2d(Nchw, Wt, padding: [1L << 35]), "padding", "34359738368"),
        ["torch output size overflow"] = (() => Torch.ConvTranspose2d(Zeros(1, 1, 2, 2), Zeros(1, 1, 1, 1), stride: [int.MaxValue]), "output_size", "2147483648"),
        ["torch output elements overflow"] = (() => Torch.ConvTranspose2d(Zeros(1, 1, 2, 2), Zeros(1, 1, 1, 1), stride: [1 << 30]), "output_size", "1073741825"),

        // ---- PyTorch forward
        ["torch conv channels"] = (() => Torch.Conv2d(Nchw, Zeros(3, 3, 3, 3)), "weight", "3"),
        ["torch conv groups do not divide out"] = (() => Torch.Conv2d(Nchw, Zeros(3, 1, 3, 3), groups: 2), "groups", "3"),
        ["torch conv same with stride"] = (() => Torch.Conv2d(Nchw, Wc, stride: [2], padding: "same"), "padding", "[2, 2]"),
        ["torch conv padding string"] = (() => Torch.Conv2d(Nchw, Wc, padding: "full"), "padding", "full"),
        ["torch conv kernel larger than input"] = (() => Torch.Conv2d(Nchw, Zeros(3, 2, 7, 3)), "weight", "7"),
        ["torch conv output size overflow"] = (() => Torch.Conv2d(Nchw, Wc, padding: new long[] { 1L << 30 }), "padding", "2147483650"),
        ["torch conv output elements overflow"] = (() => Torch.Conv2d(Nchw, Wc, padding: new long[] { 1 << 29 }), "padding", "1073741826"),
        ["torch conv dilation zero"] = (() => Torch.Conv2d(Nchw, Wc, dilation: [1, 0]), "dilation", "0"),
        ["torch conv groups huge"] = (() => Torch.Conv2d(Nchw, Wc, groups: 1L << 40), "groups", "1099511627776"),
        ["torch groups huge"] = (() => Torch.ConvTranspose2d(Nchw, Wt, groups: long.MaxValue), "groups", "9223372036854775807"),
        ["torch conv bias"] = (() => Torch.Conv2d(Nchw, Wc, Zeros(2)), "bias", "2"),
        ["torch conv padding negative"] = (() => Torch.Conv2d(Nchw, Wc, padding: new long[] { -3 }), "padding", "-3"),

        // ---- ONNX ConvTranspose (X [1, 2, 4, 4], W [2, 3, 3, 3])
        ["onnx X rank"] = (() => Onnx.ConvTranspose(Zeros(2, 4), Zeros(2, 4), null), "X", "[2, 4]"),
        ["onnx X rank 6"] = (() => Onnx.ConvTranspose(Zeros(1, 1, 1, 1, 1, 1), Zeros(1, 1, 1, 1, 1, 1), null), "X", "[1, 1, 1, 1, 1, 1]"),
        ["onnx W rank"] = (() => Onnx.ConvTranspose(Nchw, Zeros(2, 3, 3), null), "W", "[2, 3, 3]"),
        ["onnx channels"] = (() => Onnx.ConvTranspose(Zeros(1, 5, 4, 4), Wt, null), "W", "5"),
        ["onnx group zero"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Group = 0 }), "group", "0"),
        ["onnx group negative"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Group = -1 }), "group", "-1"),
        ["onnx group does not divide"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Group = 3 }), "group", "3"),
        ["onnx kernel_shape"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { KernelShape = [3, 2] }), "kernel_shape", "[3, 2]"),
        ["onnx bias length"] = (() => Onnx.ConvTranspose(Nchw, Wt, Zeros(2)), "B", "2"),
        ["onnx bias rank"] = (() => Onnx.ConvTranspose(Nchw, Wt, Zeros(3, 1)), "B", "[3, 1]"),
        ["onnx pads with auto_pad"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { AutoPad = "SAME_UPPER", Pads = [1, 1, 1, 1] }), "pads", "SAME_UPPER"),
        ["onnx auto_pad unknown"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { AutoPad = "same_upper" }), "auto_pad", "same_upper"),
        ["onnx strides zero"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Strides = [1, 0] }), "strides", "0"),
        ["onnx strides length"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Strides = [2] }), "strides", "1"),
        ["onnx dilations negative"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Dilations = [1, -1] }), "dilations", "-1"),
        ["onnx pads negative"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Pads = [0, 0, -1, 0] }), "pads", "-1"),
        ["onnx pads length"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Pads = [1, 1] }), "pads", "2"),
        ["onnx pads make output empty"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Pads = [3, 0, 3, 0] }), "pads", "0"),
        ["onnx pads huge"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Pads = [1L << 40, 0, 0, 0] }), "pads", "1099511627776"),
        ["onnx output_padding too large"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Strides = [2, 2], Dilations = [3, 1], OutputPadding = [3, 0] }), "output_padding", "3"),
        ["onnx output_padding negative"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { OutputPadding = [0, -1] }), "output_padding", "-1"),
        ["onnx output_padding length"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Strides = [2, 2], OutputPadding = [1, 1, 1] }), "output_padding", "3"),
        ["onnx output_shape zero"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { OutputShape = [0, 6] }), "output_shape", "0"),
        ["onnx output_shape length"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { OutputShape = [6, 6, 6] }), "output_shape", "[6, 6, 6]"),
        ["onnx output_shape overflow"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { OutputShape = [1, 3, 1L << 40, 6] }), "output_shape", "1099511627776"),
        ["onnx output elements overflow"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { OutputShape = [1 << 30, 1 << 30] }), "output_shape", "1073741824"),

        // ---- ONNX Conv (X [1, 2, 4, 4], W [3, 2, 3, 3])
        ["onnx conv channels"] = (() => Onnx.Conv(Nchw, Zeros(3, 1, 3, 3), null), "W", "1"),
        ["onnx conv group"] = (() => Onnx.Conv(Nchw, Zeros(3, 1, 3, 3), null, A with { Group = 2 }), "group", "3"),
        ["onnx conv kernel too large"] = (() => Onnx.Conv(Nchw, Zeros(3, 2, 6, 3), null), "pads", "4"),
        ["onnx conv output size overflow"] = (() => Onnx.Conv(Nchw, Wc, null, A with { Pads = [1 << 30, 0, 1 << 30, 0] }), "pads", "2147483650"),
        ["onnx conv output elements overflow"] = (() => Onnx.Conv(Nchw, Wc, null, A with { Pads = [1 << 30, 1 << 30, 0, 0] }), "pads", "1073741826"),
        ["onnx conv dilations zero"] = (() => Onnx.Conv(Nchw, Wc, null, A with { Dilations = [0, 1] }), "dilations", "0"),
        ["onnx conv auto_pad unknown"] = (() => Onnx.Conv(Nchw, Wc, null, A with { AutoPad = "SAME" }), "auto_pad", "SAME"),
        ["onnx conv pads with auto_pad"] = (() => Onnx.Conv(Nchw, Wc, null, A with { AutoPad = "VALID", Pads = [0, 1, 0, 0] }), "pads", "VALID"),
        ["onnx group huge"] = (() => Onnx.ConvTranspose(Nchw, Wt, null, A with { Group = 1L << 33 }), "group", "8589934592"),
        ["onnx conv output_padding"] = (() => Onnx.Conv(Nchw, Wc, null, A with { OutputPadding = [1, 1] }), "output_padding", "[1, 1]"),
        ["onnx conv output_shape"] = (() => Onnx.Conv(Nchw, Wc, null, A with { OutputShape = [4, 4] }), "output_shape", "[4, 4]"),

        // ---- geometry from shapes: channel counts whose product with the groups would wrap around
        ["torch geometry channels per group"] = (() => Torch.TransposeGeometry("conv_transpose1d", 1, [1, 4, 3], [4, (1L << 62) + 1, 1], null, null, null, 4, null, null), "weight", "4611686018427387905"),
        ["torch conv geometry channels per group"] = (() => Torch.ForwardGeometry("conv1d", 1, [1, 4, 3], [4, (1L << 62) + 1, 1], null, null, null, 4), "weight", "4611686018427387905"),
        ["onnx geometry channels per group"] = (() => Onnx.ConvTransposeGeometry([1, 4, 3], [4, (1L << 62) + 1, 1], A with { Group = 4 }), "W", "4611686018427387905"),
        ["onnx conv geometry channels per group"] = (() => Onnx.ConvGeometry([1, 4, 3], [4, (1L << 62) + 1, 1], A with { Group = 4 }), "W", "4611686018427387905"),
        ["tf depthwise geometry multiplier"] = (() => TensorFlow.ForwardGeometry("depthwise_conv2d", 2, [1, 3, 3, 4], [1, 1, 4, (1L << 62) + 1], null, "VALID", "NHWC", null, depthwise: true), "filter", "4611686018427387905"),
        ["onnx conv bias"] = (() => Onnx.Conv(Nchw, Wc, Zeros(2)), "B", "2"),
        ["onnx conv strides zero"] = (() => Onnx.Conv(Nchw, Wc, null, A with { Strides = [0, 1] }), "strides", "0"),
        ["onnx conv kernel_shape"] = (() => Onnx.Conv(Nchw, Wc, null, A with { KernelShape = [2, 2] }), "kernel_shape", "[2, 2]"),
    };

    [Theory]
    [InlineData("tf output_shape overflow")]
    [InlineData("tf output elements overflow")]
    [InlineData("tf conv output elements overflow")]
    [InlineData("tf backprop filter sizes overflow")]
    [InlineData("torch output elements overflow")]
    [InlineData("torch conv output elements overflow")]
    [InlineData("onnx output elements overflow")]
    [InlineData("onnx conv output elements overflow")]
    public void Oversized_results_are_rejected_before_anything_large_is_allocated(string name)
    {
        var (call, _, _) = Cases[name];
        Assert.Throws<ConvolutionArgumentException>(call); // warm up: first-call costs (JIT, statics) are not the op's
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<ConvolutionArgumentException>(call);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
    }

    [Fact]
    public void Missing_arguments_are_ArgumentNullExceptions()
    {
        Assert.Throws<ArgumentNullException>(() => TorchPadding.Of(null!));
        Assert.Throws<ArgumentNullException>(() => TfPadding.Explicit(null!));
        Assert.Throws<ArgumentNullException>(() => TfPadding.Explicit([0, 0], null!));
        Assert.Throws<ArgumentNullException>(() => Onnx.ConvTranspose(null!, Wt, null));
        Assert.Throws<ArgumentNullException>(() => Torch.Conv2d(Nchw, null!));
        Assert.Throws<ArgumentNullException>(() => TensorFlow.Conv2DTranspose(X, F, null!, null, "VALID"));
        Assert.Throws<ArgumentNullException>(() => new ConvGeometry(1, 1, 1, 1, null!));
        var padding = Assert.Throws<ConvolutionArgumentException>(() => TfPadding.Parse(null!));
        Assert.Equal("padding", padding.ParamName);
    }

    [Fact]
    public void A_tensor_shape_that_does_not_match_the_data_is_rejected()
    {
        var ex = Assert.Throws<ConvolutionArgumentException>(() => new double[6].ToTensor(2, 4));
        Assert.Equal("shape", ex.ParamName);
        Assert.Contains("[2, 4]", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ConvolutionArgumentException>(() => new double[6].ToTensor(1L << 40, 1L << 40));
        Assert.Equal("shape", ex.ParamName);
        ex = Assert.Throws<ConvolutionArgumentException>(() => new double[6].ToTensor(-2, -3));
        Assert.Contains("[-2, -3]", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Violation_names_the_parameter_and_the_value(string name)
    {
        var (call, param, value) = Cases[name];
        var ex = Assert.Throws<ConvolutionArgumentException>(call);
        Assert.IsAssignableFrom<ArgumentException>(ex);
        Assert.True(param == ex.ParamName, $"{name}: ParamName '{ex.ParamName}', expected '{param}': {ex.Message}");
        Assert.True(ex.Reason.Contains(value, StringComparison.Ordinal), $"{name}: message does not contain '{value}': {ex.Reason}");
    }

    [Fact]
    public void Messages_start_with_the_operation_name()
    {
        var ex = Assert.Throws<ConvolutionArgumentException>(() => Onnx.ConvTranspose(Nchw, Wt, Zeros(3, 1)));
        Assert.StartsWith("ConvTranspose: ", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ConvolutionArgumentException>(() => Onnx.Conv(Nchw, Wc, Zeros(3, 1)));
        Assert.StartsWith("Conv: ", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ConvolutionArgumentException>(() => TensorFlow.Conv2DTranspose(X, F, [1, 7, 6, 1], null, "VALID"));
        Assert.StartsWith("conv2d_transpose: ", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ConvolutionArgumentException>(() => Torch.ConvTranspose2d(Nchw, Wt, padding: [-1]));
        Assert.StartsWith("conv_transpose2d: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Valid_edge_values_are_accepted()
    {
        // Batch 0 gives an empty result of the right shape.
        Assert.Equal([0L, 3, 6, 6], Torch.ConvTranspose2d(Zeros(0, 2, 4, 4), Wt).Shape());
        Assert.Equal([0L, 3, 6, 6], Onnx.ConvTranspose(Zeros(0, 2, 4, 4), Wt, null).Shape());
        Assert.Equal([0L, 6, 6, 1], TensorFlow.Conv2DTranspose(Zeros(0, 4, 4, 2), F, [0, 6, 6, 1], null, "VALID").Shape());
        // Largest valid sizes: TF VALID F + S - 1, SAME I*S; PyTorch output_padding up to max(S, D) - 1.
        Assert.Equal([1L, 10, 9, 1], TensorFlow.Conv2DTranspose(X, F, [1, 10, 9, 1], [2], "VALID").Shape());
        Assert.Equal([1L, 8, 7, 1], TensorFlow.Conv2DTranspose(X, F, [1, 8, 7, 1], [2], "SAME").Shape());
        Assert.Equal([1L, 3, 12, 12], Torch.ConvTranspose2d(Nchw, Wt, stride: [1], outputPadding: [2], dilation: [3]).Shape());
        Assert.Equal([1L, 3, 12, 12], Onnx.ConvTranspose(Nchw, Wt, null, A with { Dilations = [3, 3], OutputPadding = [2, 2] }).Shape());
        // Pads of zero may accompany auto_pad.
        Assert.Equal([1L, 3, 4, 4], Onnx.ConvTranspose(Nchw, Wt, null, A with { AutoPad = "SAME_UPPER", Pads = [0, 0, 0, 0] }).Shape());
    }
}
