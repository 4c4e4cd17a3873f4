using Deconv.Engine;
using Deconv.Reference;

namespace Deconv.Tests.Engine;

public class DirectPathTests
{
    [Fact]
    public void Activations_give_the_same_bits_as_both_fast_paths()
    {
        // The direct path applies the activation in a pass after the sums; the fast paths as they store each sum.
        var random = new Random(17);
        for (var i = 0; i < 60; i++)
        {
            var c = EngineCases.Random(random);
            foreach (var activation in new[] { FusedActivation.Relu, FusedActivation.LeakyRelu, FusedActivation.Tanh, FusedActivation.Sigmoid })
            {
                var direct = c.RunEngine(1, ConvTransposeStrategy.Direct, activation: activation);
                Assert.Equal(direct, c.RunEngine(1, ConvTransposeStrategy.ChannelTiles, activation: activation));
                Assert.Equal(direct, c.RunEngine(1, ConvTransposeStrategy.PixelTiles, activation: activation));
            }
        }
    }

    [Theory]
    [InlineData(3, 2, 1, 0, 4)] // seed 1: 1, 2 or 4 products per output
    [InlineData(2, 2, 2, 0, 4)] // seed 2: 1 product per output
    [InlineData(4, 2, 1, 0, 4)] // seed 3: the last row and column cropped
    [InlineData(3, 3, 2, 1, 7)] // the last row and column past the full result: no product reaches them
    public void Tiny_cases_equal_the_sum_written_out(int input, int kernel, int stride, int cropBegin, int output)
    {
        // One channel, small integers: every sum is exact, so the expected value is the plain sum over taps.
        var axis = new AxisGeometry(input, kernel, stride, 1, cropBegin, output);
        var geometry = new ConvGeometry(1, 1, 1, 1, [axis, axis]);
        var random = new Random(input * 10 + kernel);
        float[] x = [.. Enumerable.Range(0, input * input).Select(_ => (float)random.Next(-4, 5))];
        float[] w = [.. Enumerable.Range(0, kernel * kernel).Select(_ => (float)random.Next(-4, 5))];
        var plan = new ConvTransposePlan(geometry, w, [0.5f]);
        Assert.Equal(ConvTransposeStrategy.Direct, plan.Strategy);
        var expected = new float[output * output];
        expected.AsSpan().Fill(0.5f);
        for (var i0 = 0; i0 < input; i0++)
        for (var i1 = 0; i1 < input; i1++)
        for (var k0 = 0; k0 < kernel; k0++)
        for (var k1 = 0; k1 < kernel; k1++)
        {
            var (o0, o1) = (i0 * stride + k0 - cropBegin, i1 * stride + k1 - cropBegin);
            if (o0 >= 0 && o0 < output && o1 >= 0 && o1 < output)
            {
                expected[o0 * output + o1] += x[i0 * input + i1] * w[k0 * kernel + k1];
            }
        }

        var y = new float[output * output];
        y.AsSpan().Fill(float.NaN); // every output must be written, including those no product reaches
        plan.Run(x, y);
        Assert.Equal(expected, y);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)] // wider than the hardware's vectors runs in software
    public void Matrix_form_gives_the_bits_of_the_loops_over_products(int lanes)
    {
        var simd = (SimdWidth)lanes;
        // Every configuration of the engine cases small enough for the direct path: ranks 1-3, groups, depthwise, both
        // layouts, dilation, crops past the full result, batches; outputs not a multiple of the vector width.
        var random = new Random(23 + (int)simd);
        for (var i = 0; i < 150; i++)
        {
            var c = EngineCases.Random(random, maxMultiplyAdds: ConvTransposePlan.DirectLimit);
            var g = new Lifted(c.Geometry);
            var bias = c.Bias.Length > 0 ? c.Bias : new float[c.Geometry.OutputChannels];
            var activation = (FusedActivation)random.Next(5);
            var products = new DirectPath(g, c.W, bias, activation, 0.1f, matrix: false);
            var matrix = new DirectPath(g, c.W, bias, activation, 0.1f, matrix: true, simd);
            Assert.True(matrix.UsesMatrix);
            Assert.False(products.UsesMatrix);
            var expected = Run(products, c.X, c.Geometry);
            Assert.Equal(expected, Run(matrix, c.X, c.Geometry));

            // One value not finite anywhere: the loops over products, with the same bits (0 * infinity would be NaN).
            var x = (float[])c.X.Clone();
            if (x.Length > 0)
            {
                x[random.Next(x.Length)] = random.Next(3) switch { 0 => float.PositiveInfinity, 1 => float.NegativeInfinity, _ => float.NaN };
                Assert.Equal(Run(products, x, c.Geometry), Run(matrix, x, c.Geometry));
            }
        }
    }

    [Theory]
    [InlineData(3, 2, 1, 0, 4)]
    [InlineData(2, 2, 2, 0, 4)]
    [InlineData(4, 2, 1, 0, 4)]
    public void The_seed_cases_run_in_matrix_form(int input, int kernel, int stride, int cropBegin, int output)
    {
        var axis = new AxisGeometry(input, kernel, stride, 1, cropBegin, output);
        var plan = new ConvTransposePlan(new ConvGeometry(1, 1, 1, 1, [axis, axis]), new float[kernel * kernel], [0f]);
        Assert.Equal(ConvTransposeStrategy.Direct, plan.Strategy);
        Assert.Equal(SimdSupport.Best != SimdWidth.Scalar, plan.DirectUsesMatrix);
    }

    [Fact]
    public void Matrix_form_is_left_to_the_loops_where_it_would_do_more_work()
    {
        // Stride 4 with a 1-tap kernel: each output has at most one product, most none; a matrix of every input times
        // every output would be mostly zeros.
        var axis = new AxisGeometry(8, 1, 4, 1, 0, 29);
        var plan = new ConvTransposePlan(new ConvGeometry(1, 1, 1, 1, [axis, axis]), [1f], [0f]);
        Assert.Equal(ConvTransposeStrategy.Direct, plan.Strategy);
        Assert.False(plan.DirectUsesMatrix);
    }

    private static float[] Run(DirectPath path, float[] x, ConvGeometry geometry)
    {
        var y = new float[geometry.OutputLength];
        y.AsSpan().Fill(float.NaN); // every output must be written
        path.Run(x, y);
        return y;
    }
}
