using CsCheck;
using Deconv.Reference;

namespace Deconv.Tests.Geometry;

public class GeometryTests
{
    [Fact]
    public void Full_length_and_crop_end_follow_their_definitions()
    {
        Generators.Axis(6).Sample(a =>
        {
            var ek = (long)a.Dilation * (a.Kernel - 1) + 1;
            Assert.Equal(ek, a.EffectiveKernel);
            Assert.Equal(a.Input == 0 ? 0 : (long)a.Stride * (a.Input - 1) + ek, a.FullLength);
            Assert.Equal(a.FullLength - a.Output - a.CropBegin, a.CropEnd);
            Assert.Equal(a.Output, a.FullLength - a.CropBegin - a.CropEnd);
        }, iter: 2000);
    }

    [Fact]
    public void Full_length_is_one_past_the_last_position_any_product_reaches()
    {
        // Every product of the uncropped transposed convolution lands in [0, F), and the last one at F - 1.
        Generators.Axis(6).Where(a => a.Input > 0).Sample(a =>
        {
            var last = (long)(a.Input - 1) * a.Stride + (long)(a.Kernel - 1) * a.Dilation;
            Assert.Equal(a.FullLength - 1, last);
        }, iter: 500);
    }

    [Fact]
    public void Positions_past_the_full_result_receive_only_the_bias()
    {
        Generators.Geometry().Where(g => g.Rank == 1 && g.Axes[0].CropEnd < 0).Sample(geometry =>
        {
            var g = geometry.WithLayout(DataLayout.ChannelsFirst);
            var a = g.Axes[0];
            var y = ScatterView.ConvTranspose<double>(g, Ones(g.InputLength), Ones(g.WeightLength), [.. Enumerable.Repeat(0.5, g.OutputChannels)]);
            for (long o = 0; o < a.Output; o++)
            {
                var reached = o + a.CropBegin < a.FullLength;
                for (var row = 0; row < g.Batch * g.OutputChannels; row++)
                {
                    var value = y[row * a.Output + o];
                    Assert.True(reached ? value >= 0.5 : value == 0.5, $"position {o} of {a}: {value}");
                }
            }
        }, iter: 300);
    }

    [Fact]
    public void Shapes_in_both_layouts()
    {
        Generators.Geometry().Sample(g =>
        {
            var n = (long)g.Batch;
            long[] inputSpatial = [.. g.Axes.Select(a => (long)a.Input)];
            long[] outputSpatial = [.. g.Axes.Select(a => (long)a.Output)];
            var first = g.WithLayout(DataLayout.ChannelsFirst);
            var last = g.WithLayout(DataLayout.ChannelsLast);
            Assert.Equal([n, g.InputChannels, .. inputSpatial], first.InputShape);
            Assert.Equal([n, g.OutputChannels, .. outputSpatial], first.OutputShape);
            Assert.Equal([n, .. inputSpatial, g.InputChannels], last.InputShape);
            Assert.Equal([n, .. outputSpatial, g.OutputChannels], last.OutputShape);
            Assert.Equal([g.InputChannels, g.OutputChannels / g.Groups, .. g.Axes.Select(a => (long)a.Kernel)], g.WeightShape);
            Assert.Equal(g.InputShape.Aggregate(1L, (p, v) => p * v), g.InputLength);
            Assert.Equal(g.OutputShape.Aggregate(1L, (p, v) => p * v), g.OutputLength);
            Assert.Equal(g.WeightShape.Aggregate(1L, (p, v) => p * v), g.WeightLength);
            Assert.Equal(g.InputChannels / g.Groups, g.InputChannelsPerGroup);
            Assert.Equal(g.OutputChannels / g.Groups, g.OutputChannelsPerGroup);
            Assert.Equal(n * g.InputChannels * g.OutputChannelsPerGroup * inputSpatial.Aggregate(1L, (p, v) => p * v)
                * g.Axes.Aggregate(1L, (p, a) => p * a.Kernel), g.MultiplyAdds);
            Assert.Equal(g.Axes, last.Axes);
            Assert.Equal(g.Rank, g.Axes.Count);
        }, iter: 1000);
    }

    [Fact]
    public void MultiplyAdds_counts_the_products_the_scatter_view_makes_when_nothing_is_cropped()
    {
        // With crop 0 and output = full length, every product lands in the output: all ones give the count.
        Generators.Geometry().Select(g => new ConvGeometry(g.Batch, g.InputChannels, g.OutputChannels, g.Groups,
                [.. g.Axes.Select(a => a with { CropBegin = 0, Output = (int)a.FullLength })]))
            .Where(g => Generators.Work(g) < 30_000)
            .Sample(g => Assert.Equal(g.MultiplyAdds, (long)ScatterView.ConvTranspose<double>(g, Ones(g.InputLength), Ones(g.WeightLength), []).Sum()), iter: 500);
    }

    [Fact]
    public void ToString_names_every_parameter()
    {
        var g = new ConvGeometry(2, 6, 4, 2, [new AxisGeometry(3, 5, 2, 3, 1, 9)], DataLayout.ChannelsLast);
        Assert.Equal("N=2 C=6 M=4 G=2 ChannelsLast axes=[I3 K5 S2 D3 crop1 O9]", g.ToString());
    }

    [Theory]
    [InlineData(3, 0, 1, 1, 0, 3, "kernel", "0")]
    [InlineData(3, 2, 0, 1, 0, 3, "strides", "0")]
    [InlineData(3, 2, -4, 1, 0, 3, "strides", "-4")]
    [InlineData(3, 2, 1, 0, 0, 3, "dilations", "0")]
    [InlineData(-1, 2, 1, 1, 0, 3, "input", "-1")]
    [InlineData(3, 2, 1, 1, 0, -7, "output", "-7")]
    [InlineData(3, 2, 1, 1, -2, 3, "crop_begin", "-2")]
    [InlineData(3, int.MaxValue, 1, 2, 0, 3, "kernel", "4294967293")]
    [InlineData(int.MaxValue, 2, 2, 1, 0, 3, "kernel", "4294967294")]
    public void Invalid_axes_are_rejected_with_the_parameter_and_value(int input, int kernel, int stride, int dilation, int crop, int output, string param, string value)
    {
        var ex = Assert.Throws<ConvolutionArgumentException>(() =>
            new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(1, 1, 1, 1, 0, 1), new AxisGeometry(input, kernel, stride, dilation, crop, output)], op: "TestOp"));
        Assert.Equal(param, ex.ParamName);
        Assert.Contains(value, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("TestOp: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("axis 1", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, 1, 1, 1, "batch", "-1")]
    [InlineData(1, 0, 1, 1, "input_channels", "0")]
    [InlineData(1, 1, -3, 1, "output_channels", "-3")]
    [InlineData(1, 2, 2, 0, "groups", "0")]
    [InlineData(1, 3, 2, 2, "groups", "3")]
    [InlineData(1, 2, 3, 2, "groups", "3")]
    public void Invalid_counts_are_rejected(int batch, int inputChannels, int outputChannels, int groups, string param, string value)
    {
        var ex = Assert.Throws<ConvolutionArgumentException>(() =>
            new ConvGeometry(batch, inputChannels, outputChannels, groups, [new AxisGeometry(2, 2, 1, 1, 0, 3)]));
        Assert.Equal(param, ex.ParamName);
        Assert.Contains(value, ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void Only_one_to_three_spatial_axes(int rank)
    {
        var ex = Assert.Throws<ConvolutionArgumentException>(() =>
            new ConvGeometry(1, 1, 1, 1, [.. Enumerable.Repeat(new AxisGeometry(2, 2, 1, 1, 0, 3), rank)]));
        Assert.Equal("axes", ex.ParamName);
        Assert.Contains(rank.ToString(), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Element_counts_beyond_an_array_are_rejected_before_anything_is_allocated()
    {
        // Output 2^30 x 2^30 positions: each length fits an int, the count does not fit an array.
        var big = new AxisGeometry(1, 1, 1, 1, 0, 1 << 30);
        var ex = Assert.Throws<ConvolutionArgumentException>(() => new ConvGeometry(1, 1, 1, 1, [big, big]));
        Assert.Equal("output", ex.ParamName);
        Assert.Contains("1073741824", ex.Message, StringComparison.Ordinal);

        var wide = new AxisGeometry(1 << 20, 1, 1, 1, 0, 1 << 20);
        ex = Assert.Throws<ConvolutionArgumentException>(() => new ConvGeometry(int.MaxValue, 1, 1, 1, [wide, wide, wide]));
        Assert.Equal("input", ex.ParamName);

        var taps = new AxisGeometry(1, 1 << 16, 1, 1, 0, 1);
        ex = Assert.Throws<ConvolutionArgumentException>(() => new ConvGeometry(1, 1 << 10, 1, 1, [taps, taps]));
        Assert.Equal("weight", ex.ParamName);
    }

    [Fact]
    public void Zero_sized_batch_and_axes_are_valid_and_give_empty_or_zero_results()
    {
        var g = new ConvGeometry(0, 2, 2, 1, [new AxisGeometry(3, 2, 1, 1, 0, 4)]);
        Assert.Empty(ScatterView.ConvTranspose<double>(g, [], new double[8], []));
        // An empty input still has an output: it receives only the bias.
        var empty = new ConvGeometry(1, 1, 2, 1, [new AxisGeometry(0, 2, 1, 1, 0, 3)]);
        Assert.Equal(0, empty.Axes[0].FullLength);
        Assert.Equal([1.0, 1, 1, 2, 2, 2], ScatterView.ConvTranspose<double>(empty, [], new double[4], [1, 2]));
    }

    private static double[] Ones(long length) => [.. Enumerable.Repeat(1.0, (int)length)];
}
