using System.Numerics.Tensors;

namespace Deconv.Tests.Gradients;

/// <summary>
/// Every backward (input, weight, bias) of conv and conv_transpose, ranks 1-3, against central finite
/// differences in float64 of the loss <c>L = sum(dy * f(x, w, b))</c> for a random upstream gradient dy.
/// </summary>
public class FiniteDifferenceTests
{
    public static TheoryData<int> Seeds { get; } = [.. Enumerable.Range(0, 150)];

    public static TheoryData<int> FewSeeds { get; } = [.. Enumerable.Range(0, 45)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Torch_conv_transpose_gradients_match_finite_differences(int seed)
    {
        var c = TransposeCase.Random(seed);
        var random = new Random(1000 + seed);
        var (x, w, b) = (Data.Uniform(random, c.Input), Data.Uniform(random, c.Weight), Data.Uniform(random, [c.OutChannels]));
        Tensor<double> F(Tensor<double> x_, Tensor<double> w_, Tensor<double> b_) => c.Rank switch
        {
            1 => Torch.ConvTranspose1d(x_, w_, b_, c.Stride, c.Padding, c.OutputPadding, c.Groups, c.Dilation),
            2 => Torch.ConvTranspose2d(x_, w_, b_, c.Stride, c.Padding, c.OutputPadding, c.Groups, c.Dilation),
            _ => Torch.ConvTranspose3d(x_, w_, b_, c.Stride, c.Padding, c.OutputPadding, c.Groups, c.Dilation),
        };
        var dy = Data.Uniform(random, F(x, w, b).Shape());
        Assert.Equal(c.OutputShape, dy.Shape());
        var (gx, gw, gb) = c.Rank switch
        {
            1 => TorchGrad.ConvTranspose1dBackward(dy, x, w, c.Stride, c.Padding, c.OutputPadding, c.Groups, c.Dilation),
            2 => TorchGrad.ConvTranspose2dBackward(dy, x, w, c.Stride, c.Padding, c.OutputPadding, c.Groups, c.Dilation),
            _ => TorchGrad.ConvTranspose3dBackward(dy, x, w, c.Stride, c.Padding, c.OutputPadding, c.Groups, c.Dilation),
        };
        CheckAll(c.ToString(), x, w, b, dy, gx, gw, gb!, F, random);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Torch_conv_gradients_match_finite_differences(int seed)
    {
        var c = ForwardCase.Random(seed);
        var random = new Random(2000 + seed);
        var (x, w, b) = (Data.Uniform(random, c.Input), Data.Uniform(random, c.Weight), Data.Uniform(random, [c.Weight[0]]));
        Tensor<double> F(Tensor<double> x_, Tensor<double> w_, Tensor<double> b_) => c.Rank switch
        {
            1 => Torch.Conv1d(x_, w_, b_, c.Stride, c.Padding, c.Dilation, c.Groups),
            2 => Torch.Conv2d(x_, w_, b_, c.Stride, c.Padding, c.Dilation, c.Groups),
            _ => Torch.Conv3d(x_, w_, b_, c.Stride, c.Padding, c.Dilation, c.Groups),
        };
        var dy = Data.Uniform(random, F(x, w, b).Shape());
        var (gx, gw, gb) = c.Rank switch
        {
            1 => TorchGrad.Conv1dBackward(dy, x, w, c.Stride, c.Padding, c.Dilation, c.Groups),
            2 => TorchGrad.Conv2dBackward(dy, x, w, c.Stride, c.Padding, c.Dilation, c.Groups),
            _ => TorchGrad.Conv3dBackward(dy, x, w, c.Stride, c.Padding, c.Dilation, c.Groups),
        };
        CheckAll(c.ToString(), x, w, b, dy, gx, gw, gb!, F, random);
    }

    [Theory]
    [MemberData(nameof(FewSeeds))]
    public void Onnx_conv_transpose_gradients_match_finite_differences_with_auto_pad_and_output_shape(int seed)
    {
        var c = TransposeCase.Random(seed);
        var random = new Random(3000 + seed);
        var attributes = OnnxTransposeAttributes(c, seed);
        var (x, w, b) = (Data.Uniform(random, c.Input), Data.Uniform(random, c.Weight), Data.Uniform(random, [c.OutChannels]));
        Tensor<double> F(Tensor<double> x_, Tensor<double> w_, Tensor<double> b_) => Onnx.ConvTranspose(x_, w_, b_, attributes);
        var dy = Data.Uniform(random, F(x, w, b).Shape());
        var (gx, gw, gb) = OnnxGrad.ConvTransposeBackward(dy, x, w, hasBias: true, attributes);
        CheckAll($"{c} {attributes}", x, w, b, dy, gx, gw, gb!, F, random);
    }

    [Theory]
    [MemberData(nameof(FewSeeds))]
    public void Onnx_conv_gradients_match_finite_differences_with_auto_pad(int seed)
    {
        var c = ForwardCase.Random(seed);
        var random = new Random(4000 + seed);
        var rank = c.Rank;
        var kernelFits = Enumerable.Range(0, rank).All(a => c.Input[a + 2] >= c.Dilation[a] * (c.Weight[a + 2] - 1) + 1);
        var autoPad = (seed % 4) switch { 0 => "SAME_UPPER", 1 => "SAME_LOWER", 2 when kernelFits => "VALID", _ => "NOTSET" };
        var attributes = new OnnxConvAttributes
        {
            AutoPad = autoPad,
            Strides = c.Stride,
            Dilations = c.Dilation,
            Group = c.Groups,
            // Asymmetric explicit pads for NOTSET, the end pad raised where the padded input would be shorter than the kernel.
            Pads = autoPad == "NOTSET" ? AsymmetricPads(c, seed) : null,
        };
        var (x, w, b) = (Data.Uniform(random, c.Input), Data.Uniform(random, c.Weight), Data.Uniform(random, [c.Weight[0]]));
        Tensor<double> F(Tensor<double> x_, Tensor<double> w_, Tensor<double> b_) => Onnx.Conv(x_, w_, b_, attributes);
        var dy = Data.Uniform(random, F(x, w, b).Shape());
        var (gx, gw, gb) = OnnxGrad.ConvBackward(dy, x, w, hasBias: true, attributes);
        CheckAll($"{c} {attributes}", x, w, b, dy, gx, gw, gb!, F, random);
    }

    [Theory]
    [MemberData(nameof(FewSeeds))]
    public void TensorFlow_transpose_gradients_match_finite_differences(int seed)
    {
        var random = new Random(5000 + seed);
        var rank = 1 + seed % 3;
        var padding = seed % 2 == 0 ? "SAME" : "VALID";
        var groups = 1 + seed / 3 % 2;
        var inChannels = groups * random.Next(1, 3);
        var outPerGroup = random.Next(1, 3);
        long[] input = [random.Next(1, 3), .. Enumerable.Range(0, rank).Select(_ => (long)random.Next(1, rank == 3 ? 3 : 5)), inChannels];
        long[] kernel = [.. Enumerable.Range(0, rank).Select(_ => (long)random.Next(1, 4))];
        long[] strides = [.. Enumerable.Range(0, rank).Select(_ => (long)random.Next(1, 4))];
        long[] dilations = [.. Enumerable.Range(0, rank).Select(_ => (long)random.Next(1, 3))];
        long[] filterShape = [.. kernel, outPerGroup, inChannels];
        // Any accepted output size: VALID [F, F+S-1], SAME [(I-1)S+1, IS].
        long[] outputShape = [input[0], .. Enumerable.Range(0, rank).Select(a =>
        {
            var (first, last) = TensorFlow.TransposeValidSizes((int)input[a + 1], (int)kernel[a], (int)strides[a], (int)dilations[a], padding);
            return first + random.Next(0, (int)(last - first + 1));
        }), groups * outPerGroup];
        var (x, f) = (Data.Uniform(random, input), Data.Uniform(random, filterShape));
        Tensor<double> F(Tensor<double> x_, Tensor<double> f_) => rank switch
        {
            1 => TensorFlow.Conv1DTranspose(x_, f_, outputShape, strides, padding, dilations: dilations),
            2 => TensorFlow.Conv2DTranspose(x_, f_, outputShape, strides, padding, dilations: dilations),
            _ => TensorFlow.Conv3DTranspose(x_, f_, outputShape, strides, padding, dilations: dilations),
        };
        var dy = Data.Uniform(random, outputShape);
        var gx = rank switch
        {
            1 => TensorFlow.Conv1DTransposeBackpropInput(dy, f, strides, padding, dilations: dilations),
            2 => TensorFlow.Conv2DTransposeBackpropInput(dy, f, strides, padding, dilations: dilations),
            _ => TensorFlow.Conv3DTransposeBackpropInput(dy, f, strides, padding, dilations: dilations),
        };
        var gf = rank switch
        {
            1 => TensorFlow.Conv1DTransposeBackpropFilter(x, filterShape, dy, strides, padding, dilations: dilations),
            2 => TensorFlow.Conv2DTransposeBackpropFilter(x, filterShape, dy, strides, padding, dilations: dilations),
            _ => TensorFlow.Conv3DTransposeBackpropFilter(x, filterShape, dy, strides, padding, dilations: dilations),
        };
        var what = $"rank {rank} input [{string.Join(",", input)}] filter [{string.Join(",", filterShape)}] output [{string.Join(",", outputShape)}] {padding}";
        Assert.Equal(input, gx.Shape());
        Assert.Equal(filterShape, gf.Shape());
        FiniteDifference.Check(what + " d/dx", x.ToArray(), gx.ToArray(), p => Data.Dot(dy, F(p.ToTensor(input), f)), random);
        FiniteDifference.Check(what + " d/df", f.ToArray(), gf.ToArray(), p => Data.Dot(dy, F(x, p.ToTensor(filterShape))), random);
    }

    private static long[] AsymmetricPads(ForwardCase c, int seed)
    {
        var rank = c.Rank;
        var pads = new long[2 * rank];
        for (var a = 0; a < rank; a++)
        {
            var ek = c.Dilation[a] * (c.Weight[a + 2] - 1) + 1;
            pads[a] = (seed + a) % 3;
            pads[a + rank] = Math.Max((seed + a + 1) % 3, ek - c.Input[a + 2] - pads[a]);
        }

        return pads;
    }

    internal static OnnxConvAttributes OnnxTransposeAttributes(TransposeCase c, int seed)
    {
        var rank = c.Rank;
        return (seed % 4) switch
        {
            0 => new OnnxConvAttributes { AutoPad = "SAME_UPPER", Strides = c.Stride, Dilations = c.Dilation, Group = c.Groups, OutputPadding = c.OutputPadding },
            1 => new OnnxConvAttributes { AutoPad = "SAME_LOWER", Strides = c.Stride, Dilations = c.Dilation, Group = c.Groups },
            // output_shape: some sizes beyond the full result (extended at the end).
            2 => new OnnxConvAttributes { Strides = c.Stride, Dilations = c.Dilation, Group = c.Groups, OutputShape = [.. c.OutputShape.Skip(2).Select(v => v + (seed % 3) - 1 > 0 ? v + (seed % 3) - 1 : v)] },
            // Asymmetric pads.
            _ => new OnnxConvAttributes
            {
                Strides = c.Stride, Dilations = c.Dilation, Group = c.Groups, OutputPadding = c.OutputPadding,
                Pads = [.. c.Padding, .. c.Padding.Select(p => p > 0 ? p - 1 : 0)],
            },
        };
    }

    private static void CheckAll(string what, Tensor<double> x, Tensor<double> w, Tensor<double> b, Tensor<double> dy,
        Tensor<double> gx, Tensor<double> gw, Tensor<double> gb, Func<Tensor<double>, Tensor<double>, Tensor<double>, Tensor<double>> f, Random random)
    {
        Assert.Equal(x.Shape(), gx.Shape());
        Assert.Equal(w.Shape(), gw.Shape());
        Assert.Equal(b.Shape(), gb.Shape());
        FiniteDifference.Check(what + " d/dx", x.ToArray(), gx.ToArray(), p => Data.Dot(dy, f(p.ToTensor(x.Shape()), w, b)), random);
        FiniteDifference.Check(what + " d/dw", w.ToArray(), gw.ToArray(), p => Data.Dot(dy, f(x, p.ToTensor(w.Shape()), b)), random);
        FiniteDifference.Check(what + " d/db", b.ToArray(), gb.ToArray(), p => Data.Dot(dy, f(x, w, p.ToTensor(b.Shape()))), random);
    }
}
