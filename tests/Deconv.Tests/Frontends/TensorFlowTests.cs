using System.Numerics.Tensors;

namespace Deconv.Tests.Frontends;

public class TensorFlowTests
{
    private static Tensor<float> Ones(params long[] shape)
    {
        var t = Tensor.CreateFromShape<float>([.. shape.Select(l => (nint)l)]);
        t.Fill(1f);
        return t;
    }

    [Theory]
    [InlineData(3, 1, "VALID", new float[] { 1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1 })]
    [InlineData(2, 2, "VALID", new float[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 })]
    [InlineData(4, 1, "SAME", new float[] { 1, 2, 2, 2, 2, 4, 4, 4, 2, 4, 4, 4, 2, 4, 4, 4 })]
    public void Worked_examples(int size, int stride, string padding, float[] expected)
    {
        var y = TensorFlow.Conv2DTranspose(Ones(1, size, size, 1), Ones(2, 2, 1, 1), [1, 4, 4, 1], [1, stride, stride, 1], padding);
        Assert.Equal([1L, 4, 4, 1], y.Shape());
        Assert.Equal(expected, y.ToArray());
    }

    [Fact]
    public void Rejects_an_output_size_that_TensorFlow_rejects_and_names_the_valid_sizes()
    {
        var e = Assert.Throws<ConvolutionArgumentException>(() =>
            TensorFlow.Conv2DTranspose(Ones(1, 3, 3, 1), Ones(2, 2, 1, 1), [1, 5, 5, 1], [1, 1, 1, 1], "VALID"));
        Assert.Equal("output_shape", e.ParamName);
        Assert.Contains("valid sizes: 4", e.Message, StringComparison.Ordinal);
        Assert.Contains("Size of out_backprop doesn't match computed: actual = 3, computed = 4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stride_zero_is_an_error_not_a_hang()
    {
        var e = Assert.Throws<ConvolutionArgumentException>(() =>
            TensorFlow.Conv2DTranspose(Ones(1, 3, 3, 1), Ones(2, 2, 1, 1), [1, 4, 4, 1], [1, 0, 0, 1], "VALID"));
        Assert.Equal("strides", e.ParamName);
    }
}
