using CsCheck;
using Deconv.Reference;

namespace Deconv.Tests.Reference;

/// <summary>The three reference views of the transposed convolution are one function.</summary>
public class ViewsAgreeTests
{
    private static readonly Gen<(ConvGeometry Geometry, int Seed, bool WithBias)> Cases =
        Gen.Select(Generators.Geometry(), Gen.Int, Gen.Bool);

    private static (double[] X, double[] W, double[] Bias) SmallIntData(ConvGeometry g, int seed, bool withBias)
    {
        var random = new Random(seed);
        return (TestData.SmallInts(random, g.InputLength), TestData.SmallInts(random, g.WeightLength),
            withBias ? TestData.SmallInts(random, g.OutputChannels) : []);
    }

    [Fact]
    public void Scatter_gather_and_matrix_views_agree_exactly_on_small_integers_in_double()
    {
        Cases.Sample((g, seed, withBias) =>
        {
            var (x, w, bias) = SmallIntData(g, seed, withBias);
            var scatter = ScatterView.ConvTranspose<double>(g, x, w, bias);
            Assert.Equal(g.OutputLength, scatter.LongLength);
            Assert.Equal(scatter, GatherView.ConvTranspose<double>(g, x, w, bias));
            Assert.Equal(scatter, MatrixView.ConvTranspose<double>(g, x, w, bias));
        }, iter: 3000);
    }

    [Fact]
    public void Float_views_agree_exactly_with_each_other_and_with_double_on_small_integers()
    {
        Cases.Sample((g, seed, withBias) =>
        {
            var (x, w, bias) = SmallIntData(g, seed, withBias);
            var expected = ScatterView.ConvTranspose<double>(g, x, w, bias);
            float[] xf = TestData.ToFloat(x), wf = TestData.ToFloat(w), bf = TestData.ToFloat(bias);
            var scatter = ScatterView.ConvTranspose<float>(g, xf, wf, bf);
            Assert.Equal(expected, TestData.ToDouble(scatter));
            Assert.Equal(scatter, GatherView.ConvTranspose<float>(g, xf, wf, bf));
            Assert.Equal(scatter, MatrixView.ConvTranspose<float>(g, xf, wf, bf));
        }, iter: 1500);
    }

    [Fact]
    public void Views_agree_to_rounding_on_real_data()
    {
        Cases.Sample((g, seed, withBias) =>
        {
            var random = new Random(seed);
            var x = TestData.Reals(random, g.InputLength);
            var w = TestData.Reals(random, g.WeightLength);
            double[] bias = withBias ? TestData.Reals(random, g.OutputChannels) : [];
            var scatter = ScatterView.ConvTranspose<double>(g, x, w, bias);
            var gather = GatherView.ConvTranspose<double>(g, x, w, bias);
            var matrix = MatrixView.ConvTranspose<double>(g, x, w, bias);
            // Each output is a sum of at most C/G * prod(K) products of numbers below 1, plus the bias.
            var bound = 1e-13 * (g.InputChannelsPerGroup * g.Axes.Aggregate(1, (p, a) => p * a.Kernel) + 1);
            for (var i = 0; i < scatter.Length; i++)
            {
                Assert.InRange(Math.Abs(gather[i] - scatter[i]), 0, bound);
                Assert.InRange(Math.Abs(matrix[i] - scatter[i]), 0, bound);
            }
        }, iter: 1000);
    }

    [Fact]
    public void Channels_last_result_is_the_channels_first_result_permuted()
    {
        Cases.Sample((geometry, seed, withBias) =>
        {
            var first = geometry.WithLayout(DataLayout.ChannelsFirst);
            var last = geometry.WithLayout(DataLayout.ChannelsLast);
            var (x, w, bias) = SmallIntData(first, seed, withBias);
            var rank = geometry.Rank;
            var expected = TestData.Permute(ScatterView.ConvTranspose<double>(first, x, w, bias), first.OutputShape, TestData.ToChannelsLast(rank));
            var xLast = TestData.Permute(x, first.InputShape, TestData.ToChannelsLast(rank));
            Assert.Equal(last.InputShape, TestData.PermuteShape(first.InputShape, TestData.ToChannelsLast(rank)));
            Assert.Equal(last.OutputShape, TestData.PermuteShape(first.OutputShape, TestData.ToChannelsLast(rank)));
            Assert.Equal(expected, ScatterView.ConvTranspose<double>(last, xLast, w, bias));
            Assert.Equal(expected, GatherView.ConvTranspose<double>(last, xLast, w, bias));
            Assert.Equal(expected, MatrixView.ConvTranspose<double>(last, xLast, w, bias));
        }, iter: 1000);
    }

    [Fact]
    public void The_textbook_example_has_the_documented_matrix_columns()
    {
        // semantics.md 6.4: K=3, S=2, Pb=0, I=2 -> O=5: the columns of A^T are (w0, w1, w2, 0, 0) and (0, 0, w0, w1, w2).
        var g = new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(2, 3, 2, 1, 0, 5)]);
        var matrix = MatrixView.ConvolutionMatrix<double>(g, [10, 20, 30]);
        Assert.Equal(new double[,] { { 10, 20, 30, 0, 0 }, { 0, 0, 10, 20, 30 } }, matrix);
        Assert.Equal([10.0, 20, 30 + 100, 200, 300], ScatterView.ConvTranspose<double>(g, [1, 10], [10, 20, 30], []));
    }

    [Fact]
    public void Bias_reaches_every_output_position_including_those_past_the_full_result()
    {
        // F = 3, output 5: positions 3 and 4 receive no product but still the bias.
        var g = new ConvGeometry(1, 1, 2, 1, [new AxisGeometry(1, 3, 2, 1, 0, 5)]);
        foreach (var y in new[] { ScatterView.ConvTranspose<double>(g, [2], [1, 2, 3, 4, 5, 6], [100, -100]),
                     GatherView.ConvTranspose<double>(g, [2], [1, 2, 3, 4, 5, 6], [100, -100]),
                     MatrixView.ConvTranspose<double>(g, [2], [1, 2, 3, 4, 5, 6], [100, -100]) })
        {
            Assert.Equal([102.0, 104, 106, 100, 100, -92, -90, -88, -100, -100], y);
        }
    }

    [Fact]
    public void The_matrix_view_refuses_a_matrix_over_its_limit_before_allocating_it()
    {
        // 64 x 64 input, 128 x 128 output: 4096 x 16384 = 2^26 entries > 2^24.
        var axis = new AxisGeometry(64, 2, 2, 1, 0, 128);
        var g = new ConvGeometry(1, 1, 1, 1, [axis, axis]);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<ConvolutionArgumentException>(() => MatrixView.ConvolutionMatrix<double>(g, new double[4]));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
        Assert.Equal("geometry", ex.ParamName);
        Assert.Contains("4096 x 16384", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_views_reject_data_of_the_wrong_length()
    {
        var g = new ConvGeometry(1, 2, 2, 1, [new AxisGeometry(3, 2, 1, 1, 0, 4)]);
        var ex = Assert.Throws<ConvolutionArgumentException>(() => ScatterView.ConvTranspose<double>(g, new double[5], new double[8], []));
        Assert.Equal("x", ex.ParamName);
        Assert.Contains("5", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ConvolutionArgumentException>(() => GatherView.ConvTranspose<double>(g, new double[6], new double[7], []));
        Assert.Equal("w", ex.ParamName);
        ex = Assert.Throws<ConvolutionArgumentException>(() => MatrixView.ConvTranspose<double>(g, new double[6], new double[8], new double[3]));
        Assert.Equal("bias", ex.ParamName);
        ex = Assert.Throws<ConvolutionArgumentException>(() => ForwardConvolution.Conv<double>(g, new double[6], new double[8], []));
        Assert.Equal("x", ex.ParamName);
        ex = Assert.Throws<ConvolutionArgumentException>(() => ForwardConvolution.WeightGradient<double>(g, new double[8], new double[5]));
        Assert.Equal("x", ex.ParamName);
    }
}
