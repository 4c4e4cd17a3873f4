using System.Numerics.Tensors;

namespace Deconv.Tests.Gradients;

/// <summary>
/// The adjoint identities of every pair, exact with small-integer data in float64:
/// <c>&lt;T(x, w), dy&gt; = &lt;x, dL/dx&gt; = &lt;w, dL/dw&gt;</c> (each operation is linear in x and in w), the input
/// gradient of each operation is its partner's forward call on dy, and the bias gradient is the channel sum.
/// </summary>
public class AdjointTests
{
    public static TheoryData<int> Seeds { get; } = [.. Enumerable.Range(0, 60)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Torch_conv_transpose_and_conv_are_adjoint(int seed)
    {
        // output_padding below the stride, so that conv maps the transposed output back to the input size.
        var c = TransposeCase.Random(seed, outputPaddingBelowStride: true);
        var random = new Random(6000 + seed);
        var (x, w) = (Data.Integers(random, c.Input), Data.Integers(random, c.Weight));
        var y = c.Rank switch
        {
            1 => Torch.ConvTranspose1d(x, w, null, c.Stride, c.Padding, c.OutputPadding, c.Groups, c.Dilation),
            2 => Torch.ConvTranspose2d(x, w, null, c.Stride, c.Padding, c.OutputPadding, c.Groups, c.Dilation),
            _ => Torch.ConvTranspose3d(x, w, null, c.Stride, c.Padding, c.OutputPadding, c.Groups, c.Dilation),
        };
        var dy = Data.Integers(random, y.Shape());
        var (gx, gw, gb) = c.Rank switch
        {
            1 => TorchGrad.ConvTranspose1dBackward(dy, x, w, c.Stride, c.Padding, c.OutputPadding, c.Groups, c.Dilation),
            2 => TorchGrad.ConvTranspose2dBackward(dy, x, w, c.Stride, c.Padding, c.OutputPadding, c.Groups, c.Dilation),
            _ => TorchGrad.ConvTranspose3dBackward(dy, x, w, c.Stride, c.Padding, c.OutputPadding, c.Groups, c.Dilation),
        };
        var convOfDy = c.Rank switch
        {
            1 => Torch.Conv1d(dy, w, null, c.Stride, c.Padding, c.Dilation, c.Groups),
            2 => Torch.Conv2d(dy, w, null, c.Stride, c.Padding, c.Dilation, c.Groups),
            _ => Torch.Conv3d(dy, w, null, c.Stride, c.Padding, c.Dilation, c.Groups),
        };
        var loss = Data.Dot(y, dy);
        Assert.Equal(loss, Data.Dot(x, convOfDy));
        Assert.Equal(convOfDy.ToArray(), gx.ToArray());
        Assert.Equal(loss, Data.Dot(x, gx));
        Assert.Equal(loss, Data.Dot(w, gw));
        Assert.Equal(ChannelSums(dy), gb!.ToArray());
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Torch_conv_and_conv_transpose_are_adjoint(int seed)
    {
        var c = ForwardCase.Random(seed);
        var random = new Random(7000 + seed);
        var (x, w) = (Data.Integers(random, c.Input), Data.Integers(random, c.Weight));
        var y = c.Rank switch
        {
            1 => Torch.Conv1d(x, w, null, c.Stride, c.Padding, c.Dilation, c.Groups),
            2 => Torch.Conv2d(x, w, null, c.Stride, c.Padding, c.Dilation, c.Groups),
            _ => Torch.Conv3d(x, w, null, c.Stride, c.Padding, c.Dilation, c.Groups),
        };
        var dy = Data.Integers(random, y.Shape());
        var (gx, gw, gb) = c.Rank switch
        {
            1 => TorchGrad.Conv1dBackward(dy, x, w, c.Stride, c.Padding, c.Dilation, c.Groups),
            2 => TorchGrad.Conv2dBackward(dy, x, w, c.Stride, c.Padding, c.Dilation, c.Groups),
            _ => TorchGrad.Conv3dBackward(dy, x, w, c.Stride, c.Padding, c.Dilation, c.Groups),
        };
        var loss = Data.Dot(y, dy);
        Assert.Equal(loss, Data.Dot(x, gx));
        Assert.Equal(loss, Data.Dot(w, gw));
        Assert.Equal(ChannelSums(dy), gb!.ToArray());
        if (c.Padding.Mode is null)
        {
            // conv_transpose with output_size = the conv's input size is the conv's input gradient.
            var size = c.Input[2..];
            var padding = c.Padding.Values!.ToArray();
            var transposeOfDy = c.Rank switch
            {
                1 => Torch.ConvTranspose1d(dy, w, null, c.Stride, padding, null, c.Groups, c.Dilation, size),
                2 => Torch.ConvTranspose2d(dy, w, null, c.Stride, padding, null, c.Groups, c.Dilation, size),
                _ => Torch.ConvTranspose3d(dy, w, null, c.Stride, padding, null, c.Groups, c.Dilation, size),
            };
            Assert.Equal(transposeOfDy.ToArray(), gx.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Onnx_conv_transpose_and_conv_are_adjoint(int seed)
    {
        var c = TransposeCase.Random(seed);
        var attributes = FiniteDifferenceTests.OnnxTransposeAttributes(c, seed);
        var random = new Random(8000 + seed);
        var (x, w) = (Data.Integers(random, c.Input), Data.Integers(random, c.Weight));
        var y = Onnx.ConvTranspose(x, w, null, attributes);
        var dy = Data.Integers(random, y.Shape());
        var (gx, gw, gb) = OnnxGrad.ConvTransposeBackward(dy, x, w, hasBias: seed % 2 == 0, attributes);
        var loss = Data.Dot(y, dy);
        Assert.Equal(loss, Data.Dot(x, gx));
        Assert.Equal(loss, Data.Dot(w, gw));
        if (seed % 2 == 0)
        {
            Assert.Equal(ChannelSums(dy), gb!.ToArray());
        }
        else
        {
            Assert.Null(gb);
        }

        // And the other direction: Conv's gradient of dy-shaped data back through the same geometry.
        var geometry = Onnx.ConvTransposeGeometry(c.Input, c.Weight, attributes);
        var (cx, cw, _) = ConvGradients.Forward<double>(geometry, x.ToArray(), dy.ToArray(), w.ToArray(), hasBias: false);
        Assert.Equal(loss, Data.Dot(dy.ToArray(), cx));
        Assert.Equal(gw.ToArray(), cw);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Onnx_conv_backward_is_the_transposed_convolution(int seed)
    {
        var c = ForwardCase.Random(seed);
        var random = new Random(9000 + seed);
        var autoPad = (seed % 3, c.Padding.Mode) switch { (1, _) => "SAME_LOWER", (2, null) => "NOTSET", _ => "SAME_UPPER" };
        var attributes = new OnnxConvAttributes
        {
            AutoPad = autoPad, Strides = c.Stride, Dilations = c.Dilation, Group = c.Groups,
            Pads = autoPad == "NOTSET" ? [.. c.Padding.Values!, .. c.Padding.Values!] : null,
        };
        var (x, w) = (Data.Integers(random, c.Input), Data.Integers(random, c.Weight));
        var y = Onnx.Conv(x, w, null, attributes);
        var dy = Data.Integers(random, y.Shape());
        var (gx, gw, gb) = OnnxGrad.ConvBackward(dy, x, w, hasBias: true, attributes);
        var loss = Data.Dot(y, dy);
        Assert.Equal(loss, Data.Dot(x, gx));
        Assert.Equal(loss, Data.Dot(w, gw));
        Assert.Equal(ChannelSums(dy), gb!.ToArray());
        // ConvTranspose with output_shape = the conv's input size; SAME_UPPER maps to SAME_UPPER, others crop ceil(T/2).
        if (attributes.AutoPad != "NOTSET")
        {
            var transposeOfDy = Onnx.ConvTranspose(dy, w, null, new OnnxConvAttributes
            {
                AutoPad = attributes.AutoPad, Strides = c.Stride, Dilations = c.Dilation, Group = c.Groups, OutputShape = c.Input[2..],
            });
            Assert.Equal(transposeOfDy.ToArray(), gx.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void TensorFlow_transpose_gradients_are_conv_and_the_shared_filter_gradient(int seed)
    {
        var random = new Random(10000 + seed);
        var rank = 1 + seed % 3;
        var padding = seed % 2 == 0 ? "SAME" : "VALID";
        var inChannels = random.Next(1, 4);
        var outChannels = random.Next(1, 4);
        long[] input = [random.Next(1, 3), .. Enumerable.Range(0, rank).Select(_ => (long)random.Next(1, 5)), inChannels];
        long[] kernel = [.. Enumerable.Range(0, rank).Select(_ => (long)random.Next(1, 4))];
        long[] strides = [.. Enumerable.Range(0, rank).Select(_ => (long)random.Next(1, 4))];
        long[] filterShape = [.. kernel, outChannels, inChannels];
        long[] outputShape = [input[0], .. Enumerable.Range(0, rank).Select(a =>
        {
            var (first, last) = TensorFlow.TransposeValidSizes((int)input[a + 1], (int)kernel[a], (int)strides[a], 1, padding);
            return first + random.Next(0, (int)(last - first + 1));
        }), outChannels];
        var (x, f) = (Data.Integers(random, input), Data.Integers(random, filterShape));
        var y = rank switch
        {
            1 => TensorFlow.Conv1DTranspose(x, f, outputShape, strides, padding),
            2 => TensorFlow.Conv2DTranspose(x, f, outputShape, strides, padding),
            _ => TensorFlow.Conv3DTranspose(x, f, outputShape, strides, padding),
        };
        var dy = Data.Integers(random, outputShape);
        var (gx, conv) = rank switch
        {
            1 => (TensorFlow.Conv1DTransposeBackpropInput(dy, f, strides, padding), TensorFlow.Conv1D(dy, f, strides, padding)),
            2 => (TensorFlow.Conv2DTransposeBackpropInput(dy, f, strides, padding), TensorFlow.Conv2D(dy, f, strides, padding)),
            _ => (TensorFlow.Conv3DTransposeBackpropInput(dy, f, strides, padding), TensorFlow.Conv3D(dy, f, strides, padding)),
        };
        var gf = rank switch
        {
            1 => TensorFlow.Conv1DTransposeBackpropFilter(x, filterShape, dy, strides, padding),
            2 => TensorFlow.Conv2DTransposeBackpropFilter(x, filterShape, dy, strides, padding),
            _ => TensorFlow.Conv3DTransposeBackpropFilter(x, filterShape, dy, strides, padding),
        };
        var loss = Data.Dot(y, dy);
        Assert.Equal(conv.ToArray(), gx.ToArray());
        Assert.Equal(loss, Data.Dot(x, gx));
        Assert.Equal(loss, Data.Dot(f, gf));
        if (rank >= 2)
        {
            // Conv{2,3}DBackpropFilter(input: dy, out_backprop: x) is the same tensor: the shared weight gradient.
            var shared = rank == 2
                ? TensorFlow.Conv2DBackpropFilter(dy, filterShape, x, strides, padding)
                : TensorFlow.Conv3DBackpropFilterV2(dy, filterShape, x, strides, padding);
            Assert.Equal(shared.ToArray(), gf.ToArray());
        }
    }

    [Fact]
    public void Bias_gradient_sums_channels_last_data_per_channel()
    {
        // dy: [N=2, W=3, C=2] channels-last; a geometry with M=2 output channels.
        var geometry = new ConvGeometry(2, 1, 2, 1, [new AxisGeometry(3, 1, 1, 1, 0, 3)], DataLayout.ChannelsLast);
        double[] dy = [1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60];
        var (_, _, gb) = ConvGradients.Transpose<double>(geometry, dy, new double[6], new double[2], hasBias: true);
        Assert.Equal([21.0, 210.0], gb!);
    }

    [Fact]
    public void An_empty_batch_has_empty_input_gradients_and_zero_weight_and_bias_gradients()
    {
        var (gx, gw, gb) = TorchGrad.ConvTranspose2dBackward(Tensor.CreateFromShape<double>([0, 3, 5, 5]),
            Tensor.CreateFromShape<double>([0, 2, 2, 2]), Data.Integers(new Random(1), [2, 3, 2, 2]), stride: [2], padding: [0], outputPadding: [1]);
        Assert.Equal([0L, 2, 2, 2], gx.Shape());
        Assert.Equal(new double[24], gw.ToArray());
        Assert.Equal(new double[3], gb!.ToArray());
    }

    [Fact]
    public void Unbatched_input_gives_unbatched_gradients()
    {
        var random = new Random(2);
        var (x, w, dy) = (Data.Integers(random, [2, 4]), Data.Integers(random, [3, 2, 2]), Data.Integers(random, [3, 3]));
        var (gx, gw, gb) = TorchGrad.Conv1dBackward(dy, x, w);
        var (bx, bw, bb) = TorchGrad.Conv1dBackward(dy.ToArray().ToTensor(1, 3, 3), x.ToArray().ToTensor(1, 2, 4), w);
        Assert.Equal([2L, 4], gx.Shape());
        Assert.Equal(bx.ToArray(), gx.ToArray());
        Assert.Equal(bw.ToArray(), gw.ToArray());
        Assert.Equal(bb!.ToArray(), gb!.ToArray());
    }

    [Fact]
    public void A_gradient_of_the_wrong_shape_is_rejected_with_its_name()
    {
        var x = Tensor.CreateFromShape<double>([1, 1, 3]);
        var w = Tensor.CreateFromShape<double>([1, 1, 2]);
        var e = Assert.Throws<ConvolutionArgumentException>(() => TorchGrad.ConvTranspose1dBackward(Tensor.CreateFromShape<double>([1, 1, 5]), x, w));
        Assert.Equal("grad_output", e.ParamName);
        Assert.Contains("[1, 1, 4]", e.Message, StringComparison.Ordinal);
        var onnx = Assert.Throws<ConvolutionArgumentException>(() => OnnxGrad.ConvBackward(Tensor.CreateFromShape<double>([1, 1, 3]), x, w, hasBias: false));
        Assert.Equal("dY", onnx.ParamName);
        var tf = Assert.Throws<ConvolutionArgumentException>(() => TensorFlow.Conv1DTransposeBackpropFilter(
            Tensor.CreateFromShape<double>([1, 3, 1]), [2, 1, 1], Tensor.CreateFromShape<double>([1, 9, 1]), [1], "VALID"));
        Assert.Equal("output_shape", tf.ParamName);
    }

    private static double[] ChannelSums(Tensor<double> dy)
    {
        // dy: [N, C, spatial...]
        var shape = dy.Shape();
        var data = dy.ToArray();
        var channels = (int)shape[1];
        var plane = data.Length == 0 ? 0 : data.Length / (int)shape[0] / channels;
        var sums = new double[channels];
        for (var i = 0; i < data.Length; i++)
        {
            sums[i / plane % channels] += data[i];
        }

        return sums;
    }
}
