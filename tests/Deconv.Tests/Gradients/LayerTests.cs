using System.Numerics.Tensors;
using Deconv.Layers;

namespace Deconv.Tests.Gradients;

public class LayerTests
{
    private static Tensor<float> Uniform(Random random, params long[] shape)
    {
        var data = new float[Shapes.Product(shape)];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return data.ToTensor(shape);
    }

    [Fact]
    public void ConvTranspose_layers_agree_with_the_functional_api()
    {
        var random = new Random(1);
        ConvTransposeLayer[] layers =
        [
            new ConvTranspose1d(4, 6, [3], stride: [2], padding: [1], outputPadding: [1], groups: 2, dilation: [2], seed: 3),
            new ConvTranspose2d(2, 3, [3, 2], stride: [2, 1], padding: [1, 0], seed: 4),
            new ConvTranspose3d(2, 2, [2], stride: [2], bias: false, seed: 5),
        ];
        foreach (var layer in layers)
        {
            var rank = layer.WeightShape.Length - 2;
            var x = Uniform(random, [2, layer.WeightShape[0], .. Enumerable.Repeat(3L, rank)]);
            var weight = layer.Weight.ToTensor(layer.WeightShape);
            var bias = layer.Bias?.ToTensor(layer.Bias.Length);
            var y = layer.Forward(x);
            var expected = rank switch
            {
                1 => Torch.ConvTranspose1d(x, weight, bias, layer.Stride, layer.Padding, layer.OutputPadding, layer.Groups, layer.Dilation),
                2 => Torch.ConvTranspose2d(x, weight, bias, layer.Stride, layer.Padding, layer.OutputPadding, layer.Groups, layer.Dilation),
                _ => Torch.ConvTranspose3d(x, weight, bias, layer.Stride, layer.Padding, layer.OutputPadding, layer.Groups, layer.Dilation),
            };
            Assert.Equal(expected.Shape(), y.Shape());
            Assert.Equal(expected.ToArray(), y.ToArray());

            var dy = Uniform(random, y.Shape());
            var dx = layer.Backward(dy);
            var (gx, gw, gb) = rank switch
            {
                1 => TorchGrad.ConvTranspose1dBackward(dy, x, weight, layer.Stride, layer.Padding, layer.OutputPadding, layer.Groups, layer.Dilation, hasBias: bias is not null),
                2 => TorchGrad.ConvTranspose2dBackward(dy, x, weight, layer.Stride, layer.Padding, layer.OutputPadding, layer.Groups, layer.Dilation, hasBias: bias is not null),
                _ => TorchGrad.ConvTranspose3dBackward(dy, x, weight, layer.Stride, layer.Padding, layer.OutputPadding, layer.Groups, layer.Dilation, hasBias: bias is not null),
            };
            Assert.Equal(gx.ToArray(), dx.ToArray());
            Assert.Equal(gw.ToArray(), layer.WeightGrad);
            Assert.Equal(gb?.ToArray(), layer.BiasGrad);
            Assert.Contains(layer.WeightGrad, v => v != 0);
        }
    }

    [Fact]
    public void Conv_layers_agree_with_the_functional_api()
    {
        var random = new Random(2);
        ConvForwardLayer[] layers =
        [
            new Conv1d(4, 2, [3], stride: [2], padding: 1, dilation: [2], groups: 2, seed: 3),
            new Conv2d(3, 2, [2, 3], padding: "same", seed: 4),
            new Conv3d(2, 4, [2], stride: [2], bias: false, seed: 5),
        ];
        foreach (var layer in layers)
        {
            var rank = layer.WeightShape.Length - 2;
            var x = Uniform(random, [2, layer.WeightShape[1] * layer.Groups, .. Enumerable.Repeat(5L, rank)]);
            var weight = layer.Weight.ToTensor(layer.WeightShape);
            var bias = layer.Bias?.ToTensor(layer.Bias.Length);
            var y = layer.Forward(x);
            var expected = rank switch
            {
                1 => Torch.Conv1d(x, weight, bias, layer.Stride, layer.Padding, layer.Dilation, layer.Groups),
                2 => Torch.Conv2d(x, weight, bias, layer.Stride, layer.Padding, layer.Dilation, layer.Groups),
                _ => Torch.Conv3d(x, weight, bias, layer.Stride, layer.Padding, layer.Dilation, layer.Groups),
            };
            Assert.Equal(expected.ToArray(), y.ToArray());

            var dy = Uniform(random, y.Shape());
            var dx = layer.Backward(dy);
            var (gx, gw, gb) = rank switch
            {
                1 => TorchGrad.Conv1dBackward(dy, x, weight, layer.Stride, layer.Padding, layer.Dilation, layer.Groups, hasBias: bias is not null),
                2 => TorchGrad.Conv2dBackward(dy, x, weight, layer.Stride, layer.Padding, layer.Dilation, layer.Groups, hasBias: bias is not null),
                _ => TorchGrad.Conv3dBackward(dy, x, weight, layer.Stride, layer.Padding, layer.Dilation, layer.Groups, hasBias: bias is not null),
            };
            Assert.Equal(gx.ToArray(), dx.ToArray());
            Assert.Equal(gw.ToArray(), layer.WeightGrad);
            Assert.Equal(gb?.ToArray(), layer.BiasGrad);
        }
    }

    [Fact]
    public void Forward_with_output_size_is_remembered_for_backward()
    {
        var layer = new ConvTranspose1d(1, 1, [3], stride: [2], seed: 1);
        var x = Uniform(new Random(3), 1, 1, 4);
        var y = layer.Forward(x, [10]);
        Assert.Equal([1L, 1, 10], y.Shape());
        var dx = layer.Backward(Uniform(new Random(4), 1, 1, 10));
        Assert.Equal(x.Shape(), dx.Shape());
        // A later Forward without output_size uses the default size again, and Backward follows it.
        Assert.Equal([1L, 1, 9], layer.Forward(x).Shape());
        Assert.Equal(x.Shape(), layer.Backward(Uniform(new Random(5), 1, 1, 9)).Shape());
    }

    [Fact]
    public void Initial_weights_follow_PyTorch_bounds_and_the_seed()
    {
        var a = new ConvTranspose2d(2, 3, [4], seed: 9);
        var b = new ConvTranspose2d(2, 3, [4], seed: 9);
        var c = new ConvTranspose2d(2, 3, [4], seed: 10);
        Assert.Equal([2L, 3, 4, 4], a.WeightShape);
        Assert.Equal(a.Weight, b.Weight);
        Assert.NotEqual(a.Weight, c.Weight);
        // fan_in = weight.shape[1] * taps = 3 * 16.
        var bound = 1 / MathF.Sqrt(48);
        Assert.All(a.Weight, v => Assert.InRange(v, -bound, bound));
        Assert.All(a.Bias!, v => Assert.InRange(v, -bound, bound));
        Assert.Equal(2, a.Parameters.Count);
        Assert.Single(new Conv2d(2, 3, [4], bias: false).Parameters);
    }

    [Fact]
    public void Bad_layer_arguments_and_backward_before_forward_are_clear_errors()
    {
        Assert.Equal("groups", Assert.Throws<ConvolutionArgumentException>(() => new ConvTranspose2d(3, 4, [2], groups: 2)).ParamName);
        Assert.Equal("in_channels", Assert.Throws<ConvolutionArgumentException>(() => new Conv2d(0, 4, [2])).ParamName);
        Assert.Equal("kernel_size", Assert.Throws<ConvolutionArgumentException>(() => new Conv3d(1, 1, [2, 2])).ParamName);
        var e = Assert.Throws<InvalidOperationException>(() => new Conv1d(1, 1, [2]).Backward(Tensor.CreateFromShape<float>([1, 1, 3])));
        Assert.Contains("Forward", e.Message, StringComparison.Ordinal);
        var layer = new ConvTranspose1d(1, 1, [2]);
        layer.Forward(Tensor.CreateFromShape<float>([1, 1, 3]));
        Assert.Equal("grad_output", Assert.Throws<ConvolutionArgumentException>(() => layer.Backward(Tensor.CreateFromShape<float>([1, 1, 3]))).ParamName);
    }

    [Fact]
    public void Optimizers_reject_bad_hyperparameters()
    {
        var p = new ConvTranspose1d(1, 1, [2]).Parameters;
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(p, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(p, float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(p, 0.1f, beta1: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(p, 0.1f, momentum: -0.5f));
    }

    [Fact]
    public void Adam_step_matches_the_formula()
    {
        var value = new float[] { 1, -2 };
        var gradient = new float[] { 0.5f, -4 };
        var adam = new Adam([new Parameter("p", value, gradient, [2])], learningRate: 0.1f);
        adam.Step();
        // First step: m_hat = g, v_hat = g^2, so each value moves by lr * g / (|g| + eps) = 0.1 * sign(g).
        Assert.Equal(0.9f, value[0], 6);
        Assert.Equal(-1.9f, value[1], 6);
        var sgd = new Sgd([new Parameter("p", value, gradient, [2])], learningRate: 0.5f, momentum: 0.5f);
        sgd.Step();
        sgd.Step();
        // v1 = g, v2 = 0.5 g + g = 1.5 g; total step 0.5 * 2.5 * g.
        Assert.Equal(0.9f - 0.5f * 2.5f * 0.5f, value[0], 5);
        Assert.Equal(-1.9f + 0.5f * 2.5f * 4f, value[1], 5);
    }

    /// <summary>A student layer learns a teacher layer's map from random inputs (mean squared error).</summary>
    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    public void A_tiny_training_loop_reduces_the_loss(string optimizer)
    {
        var random = new Random(11);
        var teacher = new ConvTranspose2d(2, 2, [3], stride: [2], padding: [1], outputPadding: [1], seed: 1);
        var student = new ConvTranspose2d(2, 2, [3], stride: [2], padding: [1], outputPadding: [1], seed: 2);
        Optimizer step = optimizer == "adam" ? new Adam(student.Parameters, 0.05f) : new Sgd(student.Parameters, 0.1f, momentum: 0.9f);
        var x = Uniform(random, 8, 2, 5, 5);
        var target = teacher.Forward(x).ToArray();
        double Loss(out float[] gradient)
        {
            var y = student.Forward(x).ToArray();
            gradient = new float[y.Length];
            var sum = 0.0;
            for (var i = 0; i < y.Length; i++)
            {
                var error = y[i] - target[i];
                sum += error * error;
                gradient[i] = 2 * error / y.Length;
            }

            return sum / y.Length;
        }

        var initial = Loss(out _);
        for (var i = 0; i < 200; i++)
        {
            Loss(out var gradient);
            student.Backward(gradient.ToTensor(8, 2, 10, 10));
            step.Step();
        }

        var final = Loss(out _);
        Assert.True(final < initial / 100, $"{optimizer}: loss {initial} -> {final}");
    }
}
