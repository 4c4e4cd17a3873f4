using CsCheck;

namespace Deconv.Tests.Upsampling;

public class UpsamplingTests
{
    [Fact]
    public void Bilinear_kernel_for_factor_2_is_the_tent_quarter_three_quarters()
    {
        Assert.Equal([0.25, 0.75, 0.75, 0.25], Deconv.Upsampling.Kernel1D(UpsamplingKernel.Bilinear, 2, 4));
        Assert.Equal(4, Deconv.Upsampling.DefaultSize(UpsamplingKernel.Bilinear, 2));
        Assert.Equal(5, Deconv.Upsampling.DefaultSize(UpsamplingKernel.Bilinear, 3));
        Assert.Equal([1 / 3.0, 2 / 3.0, 1, 2 / 3.0, 1 / 3.0], Deconv.Upsampling.Kernel1D(UpsamplingKernel.Bilinear, 3, 5).Select(v => Math.Round(v, 12)).ToArray(),
            new RoundedComparer());
    }

    [Fact]
    public void Bilinear_k4_s2_p1_darkens_edges_to_three_quarters_and_corners_to_0_5625()
    {
        const int n = 6;
        var y = Deconv.Upsampling.Upsample(Enumerable.Repeat(1f, n * n).ToArray(), n, n, UpsamplingKernel.Bilinear, 2, 4);
        const int w = 2 * n;
        Assert.Equal(0.5625f, y[0]);
        Assert.Equal(0.5625f, y[(w * w) - 1]);
        Assert.Equal(0.75f, y[5]);
        Assert.Equal(0.75f, y[5 * w]);
        for (var r = 1; r < w - 1; r++)
        for (var c = 1; c < w - 1; c++)
        {
            Assert.Equal(1f, y[(r * w) + c]);
        }
    }

    [Fact]
    public void Nearest_replicates_each_pixel_into_a_block()
    {
        float[] image = [1, 2, 3, 4, 5, 6];
        var y = Deconv.Upsampling.Upsample(image, 2, 3, UpsamplingKernel.Nearest, 3, 3);
        for (var r = 0; r < 6; r++)
        for (var c = 0; c < 9; c++)
        {
            Assert.Equal(image[(r / 3 * 3) + (c / 3)], y[(r * 9) + c]);
        }
    }

    [Fact]
    public void Box_kernel_not_a_multiple_of_the_factor_makes_a_checkerboard()
    {
        const int n = 8;
        var y = Deconv.Upsampling.Upsample(Enumerable.Repeat(1f, n * n).ToArray(), n, n, UpsamplingKernel.Box, 2, 3);
        // Interior rows alternate between 1 and 2 taps of weight 2/3 per axis.
        var row = Enumerable.Range(4, 6).Select(c => y[(6 * 2 * n) + c]).ToArray();
        Assert.Equal(2, row.Distinct().Count());
    }

    [Fact]
    public void Overlap_counts_taps_reaching_each_position()
    {
        Assert.Equal([1, 1, 2, 1, 2, 1, 2, 1, 1], Deconv.Upsampling.OverlapCounts(3, 2, 4));
        Gen.Select(Gen.Int[1, 7], Gen.Int[1, 5], Gen.Int[1, 6]).Sample((k, s, n) =>
        {
            var counts = Deconv.Upsampling.OverlapCounts(k, s, n);
            Assert.Equal(s * (n - 1) + k, counts.Length);
            for (var o = 0; o < counts.Length; o++)
            {
                var expected = Enumerable.Range(0, n).Sum(i => Enumerable.Range(0, k).Count(t => (i * s) + t == o));
                Assert.Equal(expected, counts[o]);
            }
        }, iter: 500);
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(2, 0)]
    [InlineData(2, 5000)]
    public void Bad_factor_or_size_is_a_clear_error(int factor, int size)
    {
        var e = Assert.Throws<ConvolutionArgumentException>(() => Deconv.Upsampling.Kernel1D(UpsamplingKernel.Box, factor, size));
        Assert.Contains("must be between 1 and 1024", e.Message, StringComparison.Ordinal);
    }

    private sealed class RoundedComparer : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-12;

        public int GetHashCode(double obj) => 0;
    }
}
