using Deconv.Engine;

namespace Deconv.Tests.Engine;

public class ConvForwardPlanTests
{
    private const double Tolerance = 1e-5;

    private static ConvForwardPlan Plan(BackwardCase c, int threads, bool? direct, long parallelLimit = ConvTransposePlan.ParallelLimit) =>
        new(c.Geometry, c.W, c.Bias, threads, direct, parallelLimit);

    [Theory]
    [InlineData(1, 1500)]
    [InlineData(2, 1500)]
    public void Fast_path_agrees_with_the_reference_on_random_configurations(int seed, int count)
    {
        var random = new Random(seed);
        var fast = 0;
        for (var i = 0; i < count; i++)
        {
            var c = BackwardCases.Random(random);
            var plan = Plan(c, 1, direct: false);
            fast += plan.IsDirect ? 0 : 1;
            var error = EngineCases.MaxRelativeError(plan.Run(c.Large), c.ForwardReference());
            Assert.True(error <= Tolerance, $"case {i}: {c}: error {error}");
        }

        // Only empty outputs (batch 0) stay direct.
        Assert.True(fast > count * 9 / 10, $"only {fast} of {count} plans took the fast path");
    }

    [Fact]
    public void Direct_path_agrees_with_the_reference_and_bit_for_bit_with_the_fast_path()
    {
        var random = new Random(3);
        for (var i = 0; i < 500; i++)
        {
            var c = BackwardCases.Random(random);
            var direct = Plan(c, 1, direct: true).Run(c.Large);
            var error = EngineCases.MaxRelativeError(direct, c.ForwardReference());
            Assert.True(error <= Tolerance, $"case {i}: {c}: error {error}");
            // Both sum each output over (tap, channel) in the same order with fused multiply-adds.
            Assert.Equal(direct, Plan(c, 1, direct: false).Run(c.Large));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)] // wider than the hardware's vectors runs in software
    public void Direct_path_in_matrix_form_gives_the_bits_of_its_loops(int lanes)
    {
        var random = new Random(40 + lanes);
        for (var i = 0; i < 150; i++)
        {
            var c = BackwardCases.Random(random, maxMultiplyAdds: ConvTransposePlan.DirectLimit);
            var loops = new ConvForwardPlan(c.Geometry, c.W, c.Bias, 1, direct: true, ConvTransposePlan.ParallelLimit, (SimdWidth)lanes, matrix: false);
            var matrix = new ConvForwardPlan(c.Geometry, c.W, c.Bias, 1, direct: true, ConvTransposePlan.ParallelLimit, (SimdWidth)lanes, matrix: true);
            Assert.True(matrix.DirectUsesMatrix);
            Assert.False(loops.DirectUsesMatrix);
            Assert.Equal(loops.Run(c.Large), matrix.Run(c.Large));

            // One value not finite anywhere: the loops, with the same bits (0 * infinity would be NaN).
            var large = (float[])c.Large.Clone();
            if (large.Length > 0)
            {
                large[random.Next(large.Length)] = random.Next(3) switch { 0 => float.PositiveInfinity, 1 => float.NegativeInfinity, _ => float.NaN };
                Assert.Equal(loops.Run(large), matrix.Run(large));
            }
        }
    }

    [Theory]
    [InlineData(3, 2, 1, 0, 4)] // the seed cases' forward convolutions
    [InlineData(2, 2, 2, 0, 4)]
    [InlineData(4, 2, 1, 0, 4)]
    public void Seed_cases_run_in_matrix_form(int input, int kernel, int stride, int cropBegin, int output)
    {
        var axis = new AxisGeometry(input, kernel, stride, 1, cropBegin, output);
        var plan = new ConvForwardPlan(new ConvGeometry(1, 1, 1, 1, [axis, axis]), new float[kernel * kernel]);
        Assert.True(plan.IsDirect);
        Assert.Equal(SimdSupport.Best != SimdWidth.Scalar, plan.DirectUsesMatrix);
    }

    [Theory]
    [InlineData(DataLayout.ChannelsFirst)]
    [InlineData(DataLayout.ChannelsLast)]
    public void Large_side_copied_with_spaced_pixels_or_merged_rows_gives_the_direct_path_bits(DataLayout layout)
    {
        foreach (var c in BackwardCases.WithSpacedLargeSide(layout, bias: true).Concat(BackwardCases.WithMergedRows(layout, bias: true)))
        {
            var direct = Plan(c, 1, direct: true).Run(c.Large);
            Assert.True(EngineCases.MaxRelativeError(direct, c.ForwardReference()) <= 1e-4);
            foreach (var threads in new[] { 1, 2, 3 })
            {
                var plan = Plan(c, threads, direct: false, parallelLimit: 0);
                Assert.False(plan.IsDirect);
                Assert.Equal(direct, plan.Run(c.Large));
            }
        }
    }

    [Fact]
    public void Blocks_of_taps_give_the_bits_of_whole_chains()
    {
        var random = new Random(20);
        var blocked = 0;
        for (var i = 0; i < 400; i++)
        {
            var c = BackwardCases.Random(random);
            var whole = Plan(c, 1, direct: false).Run(c.Large);
            var plan = Plan(c, 1, direct: false);
            plan.TapBlock = random.Next(1, 4);
            blocked += plan.TapBlock < plan.KernelTaps ? 1 : 0;
            Assert.Equal(whole, plan.Run(c.Large));
        }

        Assert.True(blocked > 200, $"only {blocked} plans cut their taps into blocks");
    }

    [Theory]
    [InlineData(DataLayout.ChannelsFirst, 1, 1)]
    [InlineData(DataLayout.ChannelsFirst, 2, 3)]
    [InlineData(DataLayout.ChannelsLast, 2, 2)]
    public void Tiles_multiply_only_values_of_dy_inside_it_and_give_the_direct_paths_bits(DataLayout layout, int groups, int threads)
    {
        // Kernel 4, stride 2, padding 1 along axes 0 and 1 of 8 outputs (x 4 x 4): the first and last pixels of x along each
        // read dy through three of their four taps, so the pixels fall into 3 x 3 regions, and along the last axis (kernel 3,
        // padding 1) into 3 more, unless its taps are merged (one group: fewer than 64 channels of dy side by side). Kernel 1,
        // stride 2 and 2 outputs cropped at the end along the first axis of a second geometry: x's last row reads no dy at
        // all (its outputs are the bias).
        foreach (var (geometry, regions, lastAxisRuns) in new[]
        {
            (new ConvGeometry(2, 6 * groups, 5 * groups, groups, [new AxisGeometry(4, 4, 2, 1, 1, 8), new AxisGeometry(4, 4, 2, 1, 1, 8), new AxisGeometry(6, 3, 1, 1, 1, 6)], layout), 9, 3),
            (new ConvGeometry(3, 7 * groups, 4 * groups, groups, [new AxisGeometry(5, 1, 2, 1, 0, 7), new AxisGeometry(9, 2, 1, 1, 0, 10)], layout), 2, 1),
        })
        {
            var c = BackwardCases.WithData(new Random(40 + regions), geometry, bias: true);
            var direct = Plan(c, 1, direct: true).Run(c.Large);
            Assert.True(EngineCases.MaxRelativeError(direct, c.ForwardReference()) <= Tolerance, geometry.ToString());
            var plan = Plan(c, threads, direct: false, parallelLimit: 0);
            Assert.Equal(groups == 1, plan.MergesLastAxisTaps);
            Assert.Equal(regions * (plan.MergesLastAxisTaps ? 1 : lastAxisRuns), plan.RegionCount);
            Assert.Equal(direct, plan.Run(c.Large));
            plan.TapBlock = 2; // blocks of taps that cut the regions' runs of taps
            Assert.Equal(direct, plan.Run(c.Large));
        }
    }

    [Fact]
    public void Runs_of_last_axis_taps_are_merged_only_where_their_pixels_are_neighbours()
    {
        foreach (var (geometry, merges) in BackwardCases.MergedTapGeometries())
        {
            var c = BackwardCases.WithData(new Random(30), geometry, bias: true);
            var direct = Plan(c, 1, direct: true).Run(c.Large);
            // Sums of up to 64 x 64 taps x 21 channels (fcn's kernel): compared relative to the output's scale.
            var reference = c.ForwardReference();
            var scale = Math.Max(1, reference.Max(Math.Abs));
            Assert.True(direct.Zip(reference, (a, b) => Math.Abs(a - b)).Max() / scale <= 1e-5, geometry.ToString());
            var plan = Plan(c, 2, direct: false, parallelLimit: 0);
            Assert.Equal(merges, plan.MergesLastAxisTaps);
            Assert.Equal(geometry.Axes.Aggregate(1, (p, a) => p * a.Kernel) / (merges ? geometry.Axes[^1].Kernel : 1), plan.KernelTaps);
            Assert.Equal(direct, plan.Run(c.Large));
            plan.TapBlock = 1;
            Assert.Equal(direct, plan.Run(c.Large));
        }
    }

    [Fact]
    public void Fast_path_with_512_bit_vectors_gives_the_direct_path_bits()
    {
        // 512-bit vectors (in software where the processor has none): blocks of 32 lanes and the tails of 16, which this
        // machine's plans (256-bit) never run.
        var random = new Random(8);
        var fast = 0;
        for (var i = 0; i < 300; i++)
        {
            var c = BackwardCases.Random(random);
            var plan = new ConvForwardPlan(c.Geometry, c.W, c.Bias, 1 + i % 2, direct: false, parallelLimit: 0, SimdWidth.V512);
            fast += plan.IsDirect ? 0 : 1;
            Assert.Equal(Plan(c, 1, direct: true).Run(c.Large), plan.Run(c.Large));
        }

        Assert.True(fast > 270, $"only {fast} of 300 plans took the fast path");
    }

    [Fact]
    public void Large_weight_panels_run_in_blocks_of_taps()
    {
        // 64 x 64 taps of 21 channels: an 11 MB panel.
        var geometry = new ConvGeometry(1, 21, 21, 1, [new AxisGeometry(3, 64, 32, 1, 16, 64), new AxisGeometry(3, 64, 32, 1, 16, 64)]);
        var c = BackwardCases.WithData(new Random(21), geometry, bias: true);
        var plan = new ConvForwardPlan(geometry, c.W, c.Bias, threads: 1);
        Assert.False(plan.IsDirect);
        Assert.True(plan.TapBlock < 64 * 64, $"tap block {plan.TapBlock}");
        Assert.True(plan.GoesBlockByBlock); // over 4 MB of weights, channels-first
        var y = plan.Run(c.Large);
        plan.TapBlock = 64 * 64;
        Assert.Equal(plan.Run(c.Large), y);
        Assert.Equal(y, new ConvForwardPlan(geometry, c.W, c.Bias, threads: 2, direct: false, parallelLimit: 0).Run(c.Large));
        Assert.False(new ConvForwardPlan(geometry.WithLayout(DataLayout.ChannelsLast), c.W, c.Bias).GoesBlockByBlock);

        // Sums of 86016 products: compared with the reference relative to the output's scale.
        var expected = c.ForwardReference();
        var scale = expected.Max(Math.Abs);
        var error = y.Zip(expected, (a, b) => Math.Abs(a - b)).Max() / scale;
        Assert.True(error <= Tolerance, $"error {error}");
    }

    [Theory]
    [InlineData(6, true)] // 128 x 256 x 36 packed floats: 4.7 MB, block by block
    [InlineData(3, false)] // 1.2 MB: stretch by stretch through every block
    public void Channels_first_work_goes_block_by_block_only_for_large_weights_with_the_same_bits(int kernel, bool blockByBlock)
    {
        // 8 blocks of 16 output channels; 8 images of 3 x 3 pixels: several stretches at 2 threads.
        var axes = new[] { new AxisGeometry(3, kernel, 2, 1, 0, 4 + kernel), new AxisGeometry(3, kernel, 2, 1, 0, 4 + kernel) };
        var c = BackwardCases.WithData(new Random(kernel), new ConvGeometry(8, 128, 256, 1, axes), bias: true);
        var direct = Plan(c, 1, direct: true).Run(c.Large);
        foreach (var threads in new[] { 1, 2 })
        {
            var plan = Plan(c, threads, direct: false, parallelLimit: 0);
            Assert.Equal(blockByBlock, plan.GoesBlockByBlock);
            Assert.Equal(direct, plan.Run(c.Large));
        }
    }

    [Fact]
    public void Results_are_bit_identical_for_1_2_and_4_threads()
    {
        var random = new Random(4);
        var parallelRuns = 0;
        for (var i = 0; i < 150; i++)
        {
            var c = BackwardCases.Random(random, maxMultiplyAdds: 200_000);
            var one = Plan(c, 1, direct: false, parallelLimit: 0).Run(c.Large);
            foreach (var threads in new[] { 2, 4 })
            {
                var plan = Plan(c, threads, direct: false, parallelLimit: 0);
                parallelRuns += plan.RunsInParallel ? 1 : 0;
                Assert.Equal(one, plan.Run(c.Large));
            }
        }

        // A plan of one tile and one channel block has nothing to split.
        Assert.True(parallelRuns > 200, $"only {parallelRuns} of 300 multi-thread plans split their work");
    }

    [Theory]
    [InlineData(2, 2, 0, 1)] // windows apart (kernel = stride): each row of the copy read by one work item
    [InlineData(2, 2, 0, 3)]
    [InlineData(4, 2, 1, 1)] // overlapping windows: rows read by neighbouring items, and by several threads' runs
    [InlineData(4, 2, 1, 3)]
    public void Each_run_copies_its_own_input_rows_again(int kernel, int stride, int pad, int threads)
    {
        // The copy is made row by row as items first read each row: a second run on new data must not reuse the first's.
        // Sums of up to 64 taps x 20 channels differ from the reference's by up to 2e-5 of the largest output.
        const double SumsOf1280Tolerance = 1e-4;
        foreach (var layout in new[] { DataLayout.ChannelsFirst, DataLayout.ChannelsLast })
        {
            // (I - 1)*S + K - 2*pad = I*S for both kernels.
            var geometry = new ConvGeometry(2, 24, 20, 1, [new AxisGeometry(5, kernel, stride, 1, pad, 5 * stride), new AxisGeometry(3, kernel, stride, 1, pad, 3 * stride),
                new AxisGeometry(12, kernel, stride, 1, pad, 12 * stride)], layout);
            var first = BackwardCases.WithData(new Random(6), geometry, bias: true);
            var second = BackwardCases.WithData(new Random(7), geometry, bias: true) with { W = first.W, Bias = first.Bias };
            var plan = new ConvForwardPlan(geometry, first.W, first.Bias, threads, direct: false, parallelLimit: 0);
            Assert.Equal(threads > 1, plan.RunsInParallel);
            // Three threads' work items are stretches of 60 pixels, 5 whole rows of 12: windows apart, no two read one row of the copy.
            Assert.Equal(threads > 1 && pad > 0, plan.SharedCopyRows > 0);
            Assert.True(EngineCases.MaxRelativeError(plan.Run(first.Large), first.ForwardReference()) <= SumsOf1280Tolerance);
            var again = plan.Run(second.Large);
            Assert.True(EngineCases.MaxRelativeError(again, second.ForwardReference()) <= SumsOf1280Tolerance);
            Assert.Equal(new ConvForwardPlan(geometry, first.W, first.Bias, threads: 1).Run(second.Large), again);
        }
    }

    [Fact]
    public void Large_problem_splits_work_across_threads_and_matches_one_thread_and_the_reference()
    {
        foreach (var layout in new[] { DataLayout.ChannelsFirst, DataLayout.ChannelsLast })
        {
            var geometry = new ConvGeometry(2, 37, 40, 1, [new AxisGeometry(9, 4, 2, 1, 1, 18), new AxisGeometry(11, 3, 3, 1, 0, 33)], layout);
            var c = BackwardCases.WithData(new Random(5), geometry, bias: true);
            var plan = new ConvForwardPlan(geometry, c.W, c.Bias, threads: 3);
            Assert.True(plan.RunsInParallel);
            Assert.False(plan.IsDirect);
            var y = plan.Run(c.Large);
            Assert.Equal(new ConvForwardPlan(geometry, c.W, c.Bias, threads: 1).Run(c.Large), y);
            Assert.True(EngineCases.MaxRelativeError(y, c.ForwardReference()) <= Tolerance);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Depthwise_channels_first_runs_plane_by_plane_bit_for_bit_like_channels_last(int stride)
    {
        var random = new Random(12 + stride);
        foreach (var axes in new[]
        {
            new[] { new AxisGeometry(37, 4, stride, 1, 1, 37 * stride) },
            [new AxisGeometry(5, 3, stride, 2, 1, 5 * stride + 2), new AxisGeometry(70, 4, stride, 1, 2, 70 * stride - 1)],
            [new AxisGeometry(3, 2, 1, 1, 0, 4), new AxisGeometry(4, 3, stride, 1, 1, 4 * stride), new AxisGeometry(20, 3, stride, 3, 3, 20 * stride + 3)],
        })
        {
            var first = new ConvGeometry(2, 19, 19, 19, axes, DataLayout.ChannelsFirst);
            var c = BackwardCases.WithData(random, first, bias: true);
            var plan = new ConvForwardPlan(first, c.W, c.Bias, threads: 2, direct: null, parallelLimit: 0);
            Assert.True(plan.UsesRowPath);
            var y = plan.Run(c.Large);
            Assert.True(EngineCases.MaxRelativeError(y, c.ForwardReference()) <= Tolerance, first.ToString());
            Assert.Equal(Plan(c, 1, direct: true).Run(c.Large), y);

            // Again on other data: the plan's padded planes, written in the same places for every plane, keep their zeros.
            var other = c.Large.Select(v => 1000 * v + 1).ToArray();
            Assert.Equal(new ConvForwardPlan(first, c.W, c.Bias, threads: 1, direct: true, parallelLimit: 0).Run(other), plan.Run(other));

            // The same data channels-last, through the channel-vector path.
            var last = first.WithLayout(DataLayout.ChannelsLast);
            var lastPlan = new ConvForwardPlan(last, c.W, c.Bias, threads: 1);
            Assert.False(lastPlan.UsesRowPath);
            Assert.Equal(ToChannelsFirst(lastPlan.Run(ToChannelsLast(c.Large, 19)), 19), y);
        }
    }

    private static float[] ToChannelsLast(float[] data, int channels)
    {
        var n = 2;
        var plane = data.Length / n / channels;
        var result = new float[data.Length];
        for (var b = 0; b < n; b++)
        for (var c = 0; c < channels; c++)
        for (var p = 0; p < plane; p++)
        {
            result[(b * plane + p) * channels + c] = data[(b * channels + c) * plane + p];
        }

        return result;
    }

    private static float[] ToChannelsFirst(float[] data, int channels)
    {
        var n = 2;
        var plane = data.Length / n / channels;
        var result = new float[data.Length];
        for (var b = 0; b < n; b++)
        for (var c = 0; c < channels; c++)
        for (var p = 0; p < plane; p++)
        {
            result[(b * channels + c) * plane + p] = data[(b * plane + p) * channels + c];
        }

        return result;
    }

    [Fact]
    public void Non_finite_weights_take_the_exact_direct_path()
    {
        var geometry = new ConvGeometry(1, 4, 20, 1, [new AxisGeometry(30, 3, 2, 1, 1, 60), new AxisGeometry(30, 3, 2, 1, 1, 60)]);
        var c = BackwardCases.WithData(new Random(9), geometry, bias: false);
        c.W[5] = float.PositiveInfinity;
        var plan = new ConvForwardPlan(geometry, c.W);
        Assert.True(plan.IsDirect);
        var y = plan.Run(c.Large);
        var expected = c.ForwardReference();
        // Padding would multiply zeros by infinity; the direct path never reads outside x, like the reference.
        Assert.Equal(expected.Select(double.IsNaN), y.Select(float.IsNaN));
        Assert.Contains(y, v => float.IsInfinity(v));
        Assert.Contains(y, float.IsFinite);
    }

    [Fact]
    public void Non_finite_data_stays_where_the_reference_puts_it()
    {
        var geometry = new ConvGeometry(1, 16, 12, 1, [new AxisGeometry(40, 3, 2, 1, 1, 80)], DataLayout.ChannelsLast);
        var c = BackwardCases.WithData(new Random(10), geometry, bias: true);
        c.Large[17] = float.NaN;
        var plan = new ConvForwardPlan(geometry, c.W, c.Bias);
        Assert.False(plan.IsDirect);
        var y = plan.Run(c.Large);
        Assert.Equal(c.ForwardReference().Select(double.IsNaN), y.Select(float.IsNaN));
        Assert.Contains(y, float.IsFinite);
    }

    [Theory]
    [MemberData(nameof(BackwardCases.EdgeGeometries), MemberType = typeof(BackwardCases))]
    public void Edge_geometries_agree_with_the_reference(string name, int n, int c, int m, int groups, AxisGeometry[] axes)
    {
        foreach (var layout in new[] { DataLayout.ChannelsFirst, DataLayout.ChannelsLast })
        {
            var geometry = new ConvGeometry(n, c, m, groups, axes, layout);
            var data = BackwardCases.WithData(new Random(15), geometry, bias: true);
            var error = EngineCases.MaxRelativeError(new ConvForwardPlan(geometry, data.W, data.Bias, 2, direct: false, parallelLimit: 0).Run(data.Large), data.ForwardReference());
            Assert.True(error <= Tolerance, $"{name} {layout}: error {error}");
        }
    }

    [Fact]
    public void Wrong_lengths_and_thread_counts_are_argument_errors()
    {
        var geometry = new ConvGeometry(1, 2, 3, 1, [new AxisGeometry(3, 2, 2, 1, 0, 6)]);
        Assert.Equal("w", Assert.Throws<ConvolutionArgumentException>(() => new ConvForwardPlan(geometry, new float[11])).ParamName);
        Assert.Equal("bias", Assert.Throws<ConvolutionArgumentException>(() => new ConvForwardPlan(geometry, new float[12], new float[3])).ParamName);
        Assert.Equal("threads", Assert.Throws<ConvolutionArgumentException>(() => new ConvForwardPlan(geometry, new float[12], threads: -1)).ParamName);
        var plan = new ConvForwardPlan(geometry, new float[12]);
        Assert.Equal("x", Assert.Throws<ConvolutionArgumentException>(() => plan.Run(new float[17])).ParamName);
        Assert.Equal("y", Assert.Throws<ConvolutionArgumentException>(() => plan.Run(new float[18], new float[5])).ParamName);
    }

    [Fact]
    public void Float_forward_runs_on_the_plan_and_double_on_the_reference()
    {
        var random = new Random(11);
        for (var i = 0; i < 100; i++)
        {
            var c = BackwardCases.Random(random);
            var y = ConvOps.Forward<float>(c.Geometry, c.Large, c.W, c.Bias);
            Assert.Equal(new ConvForwardPlan(c.Geometry, c.W, c.Bias).Run(c.Large), y);
            Assert.True(EngineCases.MaxRelativeError(y, c.ForwardReference()) <= Tolerance, c.ToString());
        }

        var d = BackwardCases.Random(random);
        Assert.Equal(d.ForwardReference(), ConvOps.Forward<double>(d.Geometry, [.. d.Large.Select(v => (double)v)], [.. d.W.Select(v => (double)v)], [.. d.Bias.Select(v => (double)v)]));
    }
}
