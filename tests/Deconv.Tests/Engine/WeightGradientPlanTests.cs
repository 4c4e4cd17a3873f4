using Deconv.Engine;
using Deconv.Reference;

namespace Deconv.Tests.Engine;

public class WeightGradientPlanTests
{
    private const double Tolerance = 1e-5;

    private static WeightGradientPlan Plan(BackwardCase c, int threads, bool? direct, long parallelLimit = ConvTransposePlan.ParallelLimit, bool? channelLanes = null) =>
        new(c.Geometry, threads, direct, parallelLimit, channelLanes);

    [Theory]
    [InlineData(1, 1500)]
    [InlineData(2, 1500)]
    public void Fast_path_agrees_with_the_reference_on_random_configurations(int seed, int count)
    {
        var random = new Random(seed + 100);
        var fast = 0;
        for (var i = 0; i < count; i++)
        {
            var c = BackwardCases.Random(random);
            var plan = Plan(c, 1, direct: false);
            fast += plan.IsDirect ? 0 : 1;
            var error = EngineCases.MaxRelativeError(plan.Run(c.Large, c.Small), c.WeightGradientReference());
            Assert.True(error <= Tolerance, $"case {i}: {c}: error {error}");
        }

        Assert.True(fast > count * 9 / 10, $"only {fast} of {count} plans took the fast path");
    }

    [Fact]
    public void Both_tile_orientations_agree_with_the_reference_and_bit_for_bit_with_each_other()
    {
        var random = new Random(108);
        for (var i = 0; i < 800; i++)
        {
            var c = BackwardCases.Random(random);
            var channelLanes = Plan(c, 1, direct: false, channelLanes: true).Run(c.Large, c.Small);
            var error = EngineCases.MaxRelativeError(channelLanes, c.WeightGradientReference());
            Assert.True(error <= Tolerance, $"case {i}: {c}: error {error}");
            // Each value is the same chunk sums in the same order either way.
            Assert.Equal(Plan(c, 1, direct: false, channelLanes: false).Run(c.Large, c.Small), channelLanes);
        }
    }

    [Fact]
    public void Runs_of_last_axis_taps_are_merged_only_where_their_pixels_are_neighbours()
    {
        // Lanes over j: a merged run's lanes are (last-axis tap, j), every block of them in one item; the sums are the
        // same chunk sums in the same order as with lanes over c, which never merges.
        foreach (var (geometry, merges) in BackwardCases.MergedTapGeometries())
        {
            var c = BackwardCases.WithData(new Random(31), geometry, bias: false);
            var byC = Plan(c, 1, direct: false, channelLanes: true);
            Assert.False(byC.MergesLastAxisTaps);
            var expected = byC.Run(c.Large, c.Small);
            // Sums of up to 18 x 18 products (fcn's kernel over 3 x 3 pixels: 9) relative to the output's scale.
            var reference = c.WeightGradientReference();
            var scale = Math.Max(1, reference.Max(Math.Abs));
            Assert.True(expected.Zip(reference, (a, b) => Math.Abs(a - b)).Max() / scale <= 1e-5, geometry.ToString());
            foreach (var threads in new[] { 1, 3 })
            {
                var plan = Plan(c, threads, direct: false, parallelLimit: 0, channelLanes: false);
                Assert.Equal(merges, plan.MergesLastAxisTaps);
                Assert.Equal(expected, plan.Run(c.Large, c.Small));
            }
        }
    }

    [Fact]
    public void Fast_path_with_512_bit_vectors_gives_the_bits_of_the_hardware_width()
    {
        // 512-bit vectors (in software where the processor has none), both tile orientations: each value is the same chunk
        // sums in the same order whatever the vector width.
        var random = new Random(109);
        var fast = 0;
        for (var i = 0; i < 300; i++)
        {
            var c = BackwardCases.Random(random);
            var wide = new WeightGradientPlan(c.Geometry, 1 + i % 2, direct: false, parallelLimit: 0, channelLanes: i % 4 < 2, SimdWidth.V512);
            fast += wide.IsDirect ? 0 : 1;
            var y = wide.Run(c.Large, c.Small);
            Assert.True(EngineCases.MaxRelativeError(y, c.WeightGradientReference()) <= Tolerance, $"case {i}: {c}");
            Assert.Equal(Plan(c, 1, direct: false, channelLanes: i % 4 < 2).Run(c.Large, c.Small), y);
        }

        Assert.True(fast > 270, $"only {fast} of 300 plans took the fast path");
    }

    [Theory]
    [InlineData(DataLayout.ChannelsFirst)]
    [InlineData(DataLayout.ChannelsLast)]
    public void Large_side_copied_with_spaced_pixels_or_merged_rows_agrees_with_the_reference(DataLayout layout)
    {
        foreach (var c in BackwardCases.WithSpacedLargeSide(layout, bias: false).Concat(BackwardCases.WithMergedRows(layout, bias: false)))
        {
            var one = Plan(c, 1, direct: false).Run(c.Large, c.Small);
            Assert.True(EngineCases.MaxRelativeError(one, c.WeightGradientReference()) <= 1e-4);
            Assert.Equal(one, Plan(c, 2, direct: false, parallelLimit: 0).Run(c.Large, c.Small));
            Assert.Equal(one, Plan(c, 3, direct: false, parallelLimit: 0).Run(c.Large, c.Small));
        }
    }

    [Fact]
    public void Direct_path_agrees_with_the_reference()
    {
        var random = new Random(103);
        for (var i = 0; i < 500; i++)
        {
            var c = BackwardCases.Random(random);
            var plan = Plan(c, 1, direct: true);
            Assert.True(plan.IsDirect);
            var error = EngineCases.MaxRelativeError(plan.Run(c.Large, c.Small), c.WeightGradientReference());
            Assert.True(error <= Tolerance, $"case {i}: {c}: error {error}");
        }
    }

    [Fact]
    public void Results_are_bit_identical_for_1_2_and_4_threads()
    {
        var random = new Random(104);
        var parallelRuns = 0;
        for (var i = 0; i < 150; i++)
        {
            var c = BackwardCases.Random(random, maxMultiplyAdds: 200_000);
            var channelLanes = random.Next(2) == 0;
            var one = Plan(c, 1, direct: false, parallelLimit: 0, channelLanes).Run(c.Large, c.Small);
            foreach (var threads in new[] { 2, 4 })
            {
                var plan = Plan(c, threads, direct: false, parallelLimit: 0, channelLanes);
                parallelRuns += plan.RunsInParallel ? 1 : 0;
                Assert.Equal(one, plan.Run(c.Large, c.Small));
            }
        }

        Assert.True(parallelRuns > 200, $"only {parallelRuns} of 300 multi-thread plans split their work");
    }

    [Fact]
    public void Long_reductions_span_several_chunks_and_match_one_thread_and_the_reference()
    {
        foreach (var layout in new[] { DataLayout.ChannelsFirst, DataLayout.ChannelsLast })
        {
            // 2*9*33 = 594 pixels: two full chunks of 256 and a partial one; 101 channels: a partial tile of six.
            var geometry = new ConvGeometry(2, 101, 40, 1, [new AxisGeometry(9, 4, 2, 1, 1, 18), new AxisGeometry(33, 3, 1, 2, 2, 33)], layout);
            var c = BackwardCases.WithData(new Random(105), geometry, bias: false);
            var plan = new WeightGradientPlan(geometry, threads: 3);
            Assert.True(plan.RunsInParallel);
            Assert.False(plan.IsDirect);
            var dw = plan.Run(c.Large, c.Small);
            Assert.Equal(new WeightGradientPlan(geometry, threads: 1).Run(c.Large, c.Small), dw);

            // A chain of n fused multiply-adds, then the chunk sums added, is off by at most (n + chunks) units of
            // float32 rounding (2^-24) times the sum of the products' magnitudes.
            var expected = c.WeightGradientReference();
            var magnitudes = ForwardConvolution.WeightGradient<double>(geometry, [.. c.Large.Select(v => (double)Math.Abs(v))], [.. c.Small.Select(v => (double)Math.Abs(v))]);
            var bound = (WeightGradientPlan.PixelChunk + 3) * Math.Pow(2, -24);
            for (var i = 0; i < dw.Length; i++)
            {
                Assert.True(Math.Abs(dw[i] - expected[i]) <= bound * magnitudes[i], $"{layout}: dw[{i}] = {dw[i]}, reference {expected[i]}, magnitudes {magnitudes[i]}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Depthwise_channels_first_runs_channel_by_channel_and_is_bit_identical_for_1_2_and_4_threads(int stride)
    {
        var random = new Random(110 + stride);
        foreach (var axes in new[]
        {
            new[] { new AxisGeometry(37, 4, stride, 1, 1, 37 * stride) },
            [new AxisGeometry(5, 3, stride, 2, 1, 5 * stride + 2), new AxisGeometry(70, 4, stride, 1, 2, 70 * stride - 1)],
            [new AxisGeometry(3, 2, 1, 1, 0, 4), new AxisGeometry(4, 3, stride, 1, 1, 4 * stride), new AxisGeometry(20, 3, stride, 3, 3, 20 * stride + 3)],
        })
        {
            var geometry = new ConvGeometry(3, 19, 19, 19, axes, DataLayout.ChannelsFirst);
            var c = BackwardCases.WithData(random, geometry, bias: false);
            var one = new WeightGradientPlan(geometry, 1, direct: null, parallelLimit: 0, channelLanes: null);
            Assert.True(one.UsesRowPath);
            var dw = one.Run(c.Large, c.Small);
            Assert.True(EngineCases.MaxRelativeError(dw, c.WeightGradientReference()) <= Tolerance, geometry.ToString());
            foreach (var threads in new[] { 2, 4 })
            {
                var plan = new WeightGradientPlan(geometry, threads, direct: null, parallelLimit: 0, channelLanes: null);
                Assert.True(plan.RunsInParallel);
                Assert.Equal(dw, plan.Run(c.Large, c.Small));
            }

            // Again on other data: the plan's padded planes, written in the same places for every plane, keep their zeros.
            var other = c.Large.Select(v => 1000 * v + 1).ToArray();
            Assert.Equal(new WeightGradientPlan(geometry, 1, direct: null, parallelLimit: 0, channelLanes: null).Run(other, c.Small), one.Run(other, c.Small));

            // Non-finite large data would meet the zeros past each row's end: the exact direct path instead.
            c.Large[1] = float.PositiveInfinity;
            Assert.Equal(c.WeightGradientReference().Select(double.IsNaN), one.Run(c.Large, c.Small).Select(float.IsNaN));
        }
    }

    [Theory]
    [InlineData(32)] // rows a multiple of 16: the row path runs, its vectors stay inside the rows
    [InlineData(20)] // vector tails would multiply large by zeros: the direct path runs
    public void Depthwise_non_finite_large_data_gives_the_reference_non_finite_values(int length)
    {
        var geometry = new ConvGeometry(2, 3, 3, 3, [new AxisGeometry(5, 4, 2, 1, 1, 10), new AxisGeometry(length, 4, 2, 1, 1, 2 * length)], DataLayout.ChannelsFirst);
        var c = BackwardCases.WithData(new Random(107), geometry, bias: false);
        c.Large[5] = float.PositiveInfinity;
        c.Large[3 * 10 * 2 * length + 7] = float.NaN; // n = 1, channel 0
        c.Large[2 * 10 * 2 * length + 2 * length - 1] = float.NegativeInfinity; // channel 2, the last position of its first row
        var plan = new WeightGradientPlan(geometry, threads: 1);
        Assert.True(plan.UsesRowPath);
        var dw = plan.Run(c.Large, c.Small);
        var expected = c.WeightGradientReference();
        Assert.Equal(expected.Select(double.IsNaN), dw.Select(float.IsNaN));
        Assert.Equal(expected.Select(double.IsPositiveInfinity), dw.Select(float.IsPositiveInfinity));
        Assert.Equal(expected.Select(double.IsNegativeInfinity), dw.Select(float.IsNegativeInfinity));
        Assert.Contains(dw, float.IsFinite);
    }

    [Theory]
    [InlineData(DataLayout.ChannelsFirst)]
    [InlineData(DataLayout.ChannelsLast)]
    public void Non_finite_small_data_takes_the_exact_direct_path(DataLayout layout)
    {
        // Each copy of small checks the values it copies: a non-finite one anywhere (first, middle, last) sends the run to
        // the direct path, whichever copy (channel rows, lane blocks, depthwise pixels) and thread found it; the next run,
        // on finite data, takes the fast path again.
        foreach (var (groups, m, last) in new[] { (1, 20, 30), (4, 4, 30), (4, 4, 3) }) // depthwise rows of 3: not the row path
        {
            var geometry = new ConvGeometry(2, 4, m, groups, [new AxisGeometry(30, 3, 2, 1, 1, 60), new AxisGeometry(last, 3, 2, 1, 1, 2 * last)], layout);
            var c = BackwardCases.WithData(new Random(106), geometry, bias: false);
            foreach (var (threads, channelLanes) in new[] { (1, false), (1, true), (3, false), (3, true) })
            {
                var plan = new WeightGradientPlan(geometry, threads, direct: false, parallelLimit: 0, channelLanes);
                Assert.False(plan.IsDirect);
                var fast = plan.Run(c.Large, c.Small);
                foreach (var at in new[] { 0, c.Small.Length / 2 + 3, c.Small.Length - 1 })
                {
                    var small = c.Small.ToArray();
                    small[at] = float.PositiveInfinity;
                    var dw = plan.Run(c.Large, small);
                    var expected = ForwardConvolution.WeightGradient<double>(geometry, [.. c.Large.Select(v => (double)v)], [.. small.Select(v => (double)v)]);
                    // Pixel 0's window starts in the padding: a padded path would make 0 * infinity = NaN there.
                    Assert.Equal(expected.Select(double.IsNaN), dw.Select(float.IsNaN));
                    Assert.Contains(dw, v => float.IsInfinity(v));
                    Assert.Contains(dw, float.IsFinite);
                    Assert.Equal(fast, plan.Run(c.Large, c.Small));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(BackwardCases.EdgeGeometries), MemberType = typeof(BackwardCases))]
    public void Edge_geometries_agree_with_the_reference(string name, int n, int c, int m, int groups, AxisGeometry[] axes)
    {
        foreach (var layout in new[] { DataLayout.ChannelsFirst, DataLayout.ChannelsLast })
        {
            var geometry = new ConvGeometry(n, c, m, groups, axes, layout);
            var data = BackwardCases.WithData(new Random(15), geometry, bias: true);
            var error = EngineCases.MaxRelativeError(new WeightGradientPlan(geometry, 2, direct: false, parallelLimit: 0, channelLanes: null).Run(data.Large, data.Small), data.WeightGradientReference());
            Assert.True(error <= Tolerance, $"{name} {layout}: error {error}");
        }
    }

    [Fact]
    public void Wrong_lengths_and_thread_counts_are_argument_errors()
    {
        var geometry = new ConvGeometry(1, 2, 3, 1, [new AxisGeometry(3, 2, 2, 1, 0, 6)]);
        Assert.Equal("threads", Assert.Throws<ConvolutionArgumentException>(() => new WeightGradientPlan(geometry, threads: -1)).ParamName);
        var plan = new WeightGradientPlan(geometry);
        Assert.Equal("large", Assert.Throws<ConvolutionArgumentException>(() => plan.Run(new float[17], new float[6])).ParamName);
        Assert.Equal("small", Assert.Throws<ConvolutionArgumentException>(() => plan.Run(new float[18], new float[7])).ParamName);
        Assert.Equal("dw", Assert.Throws<ConvolutionArgumentException>(() => plan.Run(new float[18], new float[6], new float[11])).ParamName);
    }

    [Fact]
    public void Float_weight_gradient_runs_on_the_plan_and_double_on_the_reference()
    {
        var random = new Random(107);
        for (var i = 0; i < 100; i++)
        {
            var c = BackwardCases.Random(random);
            var dw = ConvOps.WeightGradient<float>(c.Geometry, c.Large, c.Small);
            Assert.Equal(new WeightGradientPlan(c.Geometry).Run(c.Large, c.Small), dw);
            Assert.True(EngineCases.MaxRelativeError(dw, c.WeightGradientReference()) <= Tolerance, c.ToString());
        }

        var d = BackwardCases.Random(random);
        Assert.Equal(d.WeightGradientReference(), ConvOps.WeightGradient<double>(d.Geometry, [.. d.Large.Select(v => (double)v)], [.. d.Small.Select(v => (double)v)]));
    }
}
