using CsCheck;
using Deconv.Reference;

namespace Deconv.Tests.Reference;

/// <summary>
/// The forward convolution is the adjoint of the transposed convolution, and the weight gradient is the
/// derivative of both with respect to the weight (semantics.md 6.1).
/// </summary>
public class AdjointTests
{
    private static readonly Gen<(ConvGeometry Geometry, int Seed)> Cases = Gen.Select(Generators.Geometry(), Gen.Int);

    private static void AssertClose(double expected, double actual, double scale)
    {
        // Both sides sum the same products in different orders: they differ by rounding only.
        Assert.InRange(Math.Abs(expected - actual), 0, 1e-12 * (scale + 1));
    }

    [Fact]
    public void Forward_convolution_is_the_adjoint_of_the_transposed_convolution()
    {
        Cases.Sample((g, seed) =>
        {
            var random = new Random(seed);
            var a = TestData.Reals(random, g.OutputLength); // the convolution's input
            var b = TestData.Reals(random, g.InputLength);  // the convolution's output
            var w = TestData.Reals(random, g.WeightLength);
            var conv = ForwardConvolution.Conv<double>(g, a, w, []);
            var transposed = ScatterView.ConvTranspose<double>(g, b, w, []);
            Assert.Equal(g.InputLength, conv.LongLength);
            AssertClose(TestData.Dot(conv, b), TestData.Dot(a, transposed), TestData.AbsDot(conv, b) + TestData.AbsDot(a, transposed));
        }, iter: 3000);
    }

    [Fact]
    public void Adjoint_identity_is_exact_on_small_integers()
    {
        Cases.Sample((g, seed) =>
        {
            var random = new Random(seed);
            var a = TestData.SmallInts(random, g.OutputLength);
            var b = TestData.SmallInts(random, g.InputLength);
            var w = TestData.SmallInts(random, g.WeightLength);
            Assert.Equal(TestData.Dot(ForwardConvolution.Conv<double>(g, a, w, []), b), TestData.Dot(a, ScatterView.ConvTranspose<double>(g, b, w, [])));
        }, iter: 1000);
    }

    [Fact]
    public void Weight_gradient_pairs_with_the_weight_like_the_convolution_pairs_with_its_output_gradient()
    {
        // Conv is linear in w, so <dConv/dw (a, b), w> = <Conv(a, w), b>.
        Cases.Sample((g, seed) =>
        {
            var random = new Random(seed);
            var a = TestData.Reals(random, g.OutputLength);
            var b = TestData.Reals(random, g.InputLength);
            var w = TestData.Reals(random, g.WeightLength);
            var dw = ForwardConvolution.WeightGradient<double>(g, a, b);
            Assert.Equal(g.WeightLength, dw.LongLength);
            var conv = ForwardConvolution.Conv<double>(g, a, w, []);
            AssertClose(TestData.Dot(conv, b), TestData.Dot(dw, w), TestData.AbsDot(conv, b) + TestData.AbsDot(dw, w));
        }, iter: 3000);
    }

    [Fact]
    public void Forward_bias_is_added_to_every_output_position()
    {
        Cases.Sample((g, seed) =>
        {
            var random = new Random(seed);
            var a = TestData.SmallInts(random, g.OutputLength);
            var w = TestData.SmallInts(random, g.WeightLength);
            var bias = TestData.SmallInts(random, g.InputChannels);
            var without = ForwardConvolution.Conv<double>(g, a, w, []);
            var with = ForwardConvolution.Conv<double>(g, a, w, bias);
            var channels = g.InputChannels;
            var perChannel = g.Axes.Aggregate(1L, (p, axis) => p * axis.Input);
            for (long i = 0; i < with.LongLength; i++)
            {
                var c = g.Layout == DataLayout.ChannelsLast ? i % channels : i / perChannel % channels;
                Assert.Equal(without[i] + bias[c], with[i]);
            }
        }, iter: 500);
    }

    [Fact]
    public void Forward_convolution_multiplies_each_batch_item_by_the_convolution_matrix()
    {
        Cases.Sample((geometry, seed) =>
        {
            var g = geometry.WithLayout(DataLayout.ChannelsFirst);
            var random = new Random(seed);
            var a = TestData.SmallInts(random, g.OutputLength);
            var w = TestData.SmallInts(random, g.WeightLength);
            var conv = ForwardConvolution.Conv<double>(g, a, w, []);
            var matrix = MatrixView.ConvolutionMatrix<double>(g, w);
            int rows = matrix.GetLength(0), cols = matrix.GetLength(1);
            for (var n = 0; n < g.Batch; n++)
            for (var r = 0; r < rows; r++)
            {
                var sum = 0.0;
                for (var c = 0; c < cols; c++)
                {
                    sum += matrix[r, c] * a[n * cols + c];
                }

                Assert.Equal(sum, conv[n * rows + r]);
            }
        }, iter: 500);
    }

    /// <summary>
    /// Finite differences of the quadratic loss <c>L = 0.5 |op(x, w) + bias - t|^2</c> for both directions: its
    /// gradients are <c>dL/dx = adjoint(r)</c>, <c>dL/dw = WeightGradient</c>, <c>dL/dbias = sum of r per channel</c>
    /// with <c>r = op(x, w) + bias - t</c>. The loss is quadratic in each coordinate, so central differences are
    /// exact up to rounding.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gradients_match_finite_differences_of_a_scalar_loss(bool transposed)
    {
        Gen.Select(Generators.Geometry(8_000), Gen.Int).Sample((g, seed) =>
        {
            var random = new Random(seed);
            var xLength = transposed ? g.InputLength : g.OutputLength;
            var yLength = transposed ? g.OutputLength : g.InputLength;
            var yChannels = transposed ? g.OutputChannels : g.InputChannels;
            var x = TestData.Reals(random, xLength);
            var w = TestData.Reals(random, g.WeightLength);
            var bias = TestData.Reals(random, yChannels);
            var target = TestData.Reals(random, yLength);
            double[] Apply(double[] xs, double[] ws, double[] bs) => transposed
                ? ScatterView.ConvTranspose<double>(g, xs, ws, bs)
                : ForwardConvolution.Conv<double>(g, xs, ws, bs);
            double Loss(double[] xs, double[] ws, double[] bs) =>
                0.5 * Apply(xs, ws, bs).Zip(target, (y, t) => (y - t) * (y - t)).Sum();

            var residual = Apply(x, w, bias).Zip(target, (y, t) => y - t).ToArray();
            var dx = transposed ? ForwardConvolution.Conv<double>(g, residual, w, []) : ScatterView.ConvTranspose<double>(g, residual, w, []);
            var dw = transposed ? ForwardConvolution.WeightGradient<double>(g, residual, x) : ForwardConvolution.WeightGradient<double>(g, x, residual);
            var perChannel = yLength / Math.Max(1, g.Batch) / yChannels;
            var dbias = new double[yChannels];
            for (long i = 0; i < yLength; i++)
            {
                dbias[g.Layout == DataLayout.ChannelsLast ? i % yChannels : i / perChannel % yChannels] += residual[i];
            }

            var loss = Loss(x, w, bias);
            const double h = 1e-3;
            void CheckCoordinate(double[] values, long index, double analytic)
            {
                var saved = values[index];
                values[index] = saved + h;
                var plus = Loss(x, w, bias);
                values[index] = saved - h;
                var minus = Loss(x, w, bias);
                values[index] = saved;
                Assert.InRange(Math.Abs((plus - minus) / (2 * h) - analytic), 0, 1e-9 * (1 + loss));
            }

            foreach (var (values, gradient) in new[] { (x, dx), (w, dw), (bias, dbias) })
            {
                Assert.Equal(values.LongLength, gradient.LongLength);
                for (var probe = 0; probe < Math.Min(4, values.Length); probe++)
                {
                    var index = random.NextInt64(values.LongLength);
                    CheckCoordinate(values, index, gradient[index]);
                }
            }
        }, iter: 300);
    }
}
