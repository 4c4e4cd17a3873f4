using CsCheck;

namespace Deconv.Tests.Geometry;

public class TranslationTests
{
    private static readonly Gen<AxisGeometry> Axes =
        from input in Gen.Int[1, 6]
        from kernel in Gen.Int[1, 5]
        from stride in Gen.Int[1, 4]
        from dilation in Gen.Int[1, 3]
        let full = stride * (input - 1) + dilation * (kernel - 1) + 1
        from crop in Gen.Int[0, full - 1]
        from output in Gen.Int[1, full - crop + stride + dilation]
        select new AxisGeometry(input, kernel, stride, dilation, crop, output);

    [Fact]
    public void TensorFlow_parameters_give_back_the_same_axis() => Axes.Sample(a =>
    {
        var t = Translation.ToTensorFlow(a);
        if (!t.Expressible)
        {
            return;
        }

        var p = t.Parameters;
        var padding = p.Padding == "EXPLICIT" ? TfPadding.Explicit([p.Before, p.After]) : TfPadding.Parse(p.Padding);
        var g = TensorFlow.TransposeGeometry("conv1d_transpose", 1, [1, a.Input, 1], [a.Kernel, 1, 1], [1, p.OutputSize, 1],
            [a.Stride], padding, "NWC", [a.Dilation]);
        Assert.Equal(a, g.Axes[0]);
    }, iter: 3000);

    [Fact]
    public void Torch_parameters_give_back_the_same_axis() => Axes.Sample(a =>
    {
        var t = Translation.ToTorch(a);
        if (!t.Expressible)
        {
            Assert.NotNull(t.Workaround);
            return;
        }

        var g = Torch.TransposeGeometry("conv_transpose1d", 1, [1, 1, a.Input], [1, 1, a.Kernel], [a.Stride],
            [t.Parameters.Padding], [t.Parameters.OutputPadding], 1, [a.Dilation], null);
        Assert.Equal(a, g.Axes[0]);
    }, iter: 3000);

    [Fact]
    public void Onnx_parameters_give_back_the_same_axis() => Axes.Sample(a =>
    {
        var t = Translation.ToOnnx(a);
        if (!t.Expressible)
        {
            return;
        }

        var p = t.Parameters;
        var attributes = new OnnxConvAttributes
        {
            Strides = [a.Stride],
            Dilations = [a.Dilation],
            Pads = [p.PadBegin, p.PadEnd],
            OutputPadding = [p.OutputPadding],
            OutputShape = p.OutputShape is { } s ? [s] : null,
        };
        var g = Onnx.ConvTransposeGeometry([1, 1, a.Input], [1, 1, a.Kernel], attributes);
        Assert.Equal(a, g.Axes[0]);
    }, iter: 3000);

    [Fact]
    public void Kernel_3_stride_2_same_upsampling_has_no_exact_PyTorch_parameters()
    {
        // semantics.md section 7, row 1: K=3, S=2, O=2I crops (0, 1).
        var axis = new AxisGeometry(Input: 4, Kernel: 3, Stride: 2, Dilation: 1, CropBegin: 0, Output: 8);
        Assert.Equal(new TfAxisParameters("SAME", 0, 0, 8), Translation.ToTensorFlow(axis).Parameters);
        Assert.Equal(new OnnxAxisParameters(0, 1, 0, null), Translation.ToOnnx(axis).Parameters);
        var torch = Translation.ToTorch(axis);
        Assert.False(torch.Expressible);
        Assert.Contains("keep positions [0, 8)", torch.Workaround, StringComparison.Ordinal);
    }

    [Fact]
    public void Kernel_4_stride_2_same_is_PyTorch_padding_1()
    {
        var axis = new AxisGeometry(Input: 4, Kernel: 4, Stride: 2, Dilation: 1, CropBegin: 1, Output: 8);
        Assert.Equal(new TorchAxisParameters(1, 0), Translation.ToTorch(axis).Parameters);
        Assert.Equal("SAME", Translation.ToTensorFlow(axis).Parameters.Padding);
    }

    [Fact]
    public void Kernel_1_stride_2_same_extends_with_output_padding()
    {
        // semantics.md section 7, row 4: F = 2I-1, crops (0, -1).
        var axis = new AxisGeometry(Input: 3, Kernel: 1, Stride: 2, Dilation: 1, CropBegin: 0, Output: 6);
        Assert.Equal(new TorchAxisParameters(0, 1), Translation.ToTorch(axis).Parameters);
        Assert.Equal(new OnnxAxisParameters(0, 0, 1, null), Translation.ToOnnx(axis).Parameters);
        Assert.Equal("SAME", Translation.ToTensorFlow(axis).Parameters.Padding);
    }
}
