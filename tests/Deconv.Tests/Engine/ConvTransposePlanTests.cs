using Deconv.Engine;

namespace Deconv.Tests.Engine;

public class ConvTransposePlanTests
{
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData(ConvTransposeStrategy.ChannelTiles, 1, 1500)]
    [InlineData(ConvTransposeStrategy.ChannelTiles, 2, 1500)]
    [InlineData(ConvTransposeStrategy.PixelTiles, 1, 1500)]
    [InlineData(ConvTransposeStrategy.PixelTiles, 2, 1500)]
    public void Fast_path_agrees_with_the_reference_on_random_configurations(ConvTransposeStrategy strategy, int seed, int count)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var c = EngineCases.Random(random);
            var plan = c.Plan(1, strategy);
            Assert.Equal(strategy, plan.Strategy);
            var error = EngineCases.MaxRelativeError(plan.Run(c.X), c.Reference());
            Assert.True(error <= Tolerance, $"case {i}: {c}: error {error}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Depthwise_rows_agree_with_the_reference_and_bit_for_bit_with_the_direct_path(int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < 1500; i++)
        {
            var c = EngineCases.RandomDepthwise(random);
            var plan = c.Plan(1, ConvTransposeStrategy.DepthwiseRows);
            Assert.Equal(ConvTransposeStrategy.DepthwiseRows, plan.Strategy);
            var y = plan.Run(c.X);
            var error = EngineCases.MaxRelativeError(y, c.Reference());
            Assert.True(error <= Tolerance, $"case {i}: {c}: error {error}");
            // Both sum the products with inputs inside x in the same order; where the rows path adds a zero from
            // its padding instead of skipping a product, only the sign of an all-zero sum can differ (Equal ignores it).
            Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct), y);
        }
    }

    [Fact]
    public void Pixel_path_with_weights_large_enough_to_prefetch_panels_matches_the_direct_path()
    {
        // 256 x 264 x 16 packed floats (4.3 MB): each work item asks for the next one's panel.
        var axes = new[] { new AxisGeometry(3, 4, 2, 1, 1, 6), new AxisGeometry(9, 4, 2, 1, 1, 18) };
        var c = EngineCases.WithData(new Random(23), new ConvGeometry(1, 256, 256, 1, axes), bias: true);
        var direct = c.RunEngine(1, ConvTransposeStrategy.Direct);
        // Each output sums 1024 float32 products (256 channels x 4 taps): a looser bound than the small cases'.
        var error = EngineCases.MaxRelativeError(direct, c.Reference());
        Assert.True(error <= 1e-4, $"error {error}");
        foreach (var threads in new[] { 1, 2 })
        {
            var plan = c.Plan(threads, ConvTransposeStrategy.PixelTiles, parallelLimit: 0);
            Assert.Equal(ConvTransposeStrategy.PixelTiles, plan.Strategy);
            Assert.True(plan.PrefetchesPanels);
            Assert.Equal(direct, plan.Run(c.X));
        }
    }

    [Theory]
    // The whole blocks are interleaved in registers with AVX-512 only; other widths take the buffer throughout.
    [InlineData(64, 4, 1, FusedActivation.None)] // depthwise k=4 s=2: rows of 128, one whole block of 64 pairs
    [InlineData(75, 4, 1, FusedActivation.None)] // 150 outputs: a block, then the rest through the buffer
    [InlineData(97, 3, 0, FusedActivation.None)] // odd kernel: the phases have different taps
    [InlineData(64, 4, 1, FusedActivation.Relu)] // an activation: every row through the buffer
    public void Depthwise_stride_2_rows_interleave_the_phases_bit_for_bit_like_the_direct_path(int inputLength, int kernel, int crop, FusedActivation activation)
    {
        var output = 2 * inputLength + kernel - 2 - 2 * crop;
        var axes = new[] { new AxisGeometry(5, kernel, 2, 1, crop, 10 + kernel - 2 - 2 * crop), new AxisGeometry(inputLength, kernel, 2, 1, crop, output) };
        var c = EngineCases.WithData(new Random(inputLength), new ConvGeometry(2, 3, 3, 3, axes, DataLayout.ChannelsFirst), bias: true);
        var plan = c.Plan(1, ConvTransposeStrategy.DepthwiseRows, activation: activation);
        Assert.Equal(ConvTransposeStrategy.DepthwiseRows, plan.Strategy);
        var y = plan.Run(c.X);
        Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct, activation: activation), y);
        if (activation == FusedActivation.None)
        {
            Assert.True(EngineCases.MaxRelativeError(y, c.Reference()) <= Tolerance);
        }
    }

    [Theory]
    [InlineData(13, 16, 32, 16, 256, 1)] // 12-channel tiles, 16 phases
    [InlineData(21, 32, 64, 32, 512, 1)] // 12-channel tiles and a partial block, 32 phases (fcn-like)
    [InlineData(3, 32, 64, 32, 1024, 2)] // three-channel tiles, 32 phases, two images
    [InlineData(1, 64, 128, 64, 2048, 1)] // one-channel tiles, 64 phases
    public void Large_strides_write_interleaved_phases_bit_for_bit_like_the_direct_path(int m, int stride, int kernel, int crop, int output, int batch)
    {
        var axes = new[] { new AxisGeometry(3, 2, 2, 1, 0, 6), new AxisGeometry((output + 2 * crop - kernel) / stride + 1, kernel, stride, 1, crop, output) };
        var c = EngineCases.WithData(new Random(17), new ConvGeometry(batch, 5, m, 1, axes), bias: true);
        var y = c.RunEngine(2, ConvTransposeStrategy.PixelTiles, parallelLimit: 0);
        Assert.True(EngineCases.MaxRelativeError(y, c.Reference()) <= Tolerance);
        Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct), y);
        Assert.Equal(y, c.RunEngine(1, ConvTransposeStrategy.PixelTiles));
    }

    [Theory]
    [InlineData(13)]
    [InlineData(16)]
    [InlineData(28)]
    [InlineData(24)]
    [InlineData(14)]
    [InlineData(15)]
    [InlineData(17)]
    public void Channels_left_over_after_blocks_of_12_or_6_take_the_four_or_three_channel_tiles_bit_for_bit(int m)
    {
        // Phase rows of 40 outputs: 12-channel tiles of one row (AVX-512), 1-4 channels left over take 4-channel tiles of
        // two rows; 6-channel tiles (AVX2), 1-3 left over take 3-channel tiles of two rows, 4-5 a zero-padded 6-channel tile.
        AxisGeometry[] axes = [new AxisGeometry(5, 3, 2, 1, 1, 9), new AxisGeometry(40, 4, 2, 1, 1, 80)];
        var c = EngineCases.WithData(new Random(18), new ConvGeometry(2, 7, m, 1, axes), bias: true);
        var y = c.RunEngine(2, ConvTransposeStrategy.PixelTiles, parallelLimit: 0);
        Assert.True(EngineCases.MaxRelativeError(y, c.Reference()) <= Tolerance);
        Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct), y);
    }

    [Theory]
    [InlineData(13, 2, 2, 40, 2)] // k = s = 2 (unet): 3 blocks of 6 channels x 2 phases, the last partial; rows of 40: a partial tile
    [InlineData(24, 4, 2, 16, 3)] // k = 2s: the phases' two taps read the same inputs; rows of 16: two rows of one vector
    [InlineData(12, 4, 4, 9, 3)] // stride 4: 3 channels x 4 phases per tile; rows of 9: partial vectors
    [InlineData(30, 2, 2, 64, 1)] // 1-D-like rows of 64: two tiles per row
    public void Phases_that_read_the_same_inputs_share_a_tile_and_give_the_direct_paths_bits(int m, int kernel, int stride, int width, int batch)
    {
        AxisGeometry[] axes = [new AxisGeometry(3, kernel, stride, 1, 0, 2 * stride + kernel), new AxisGeometry(width, kernel, stride, 1, 0, (width - 1) * stride + kernel)];
        var c = EngineCases.WithData(new Random(19), new ConvGeometry(batch, 7, m, 1, axes), bias: true);
        var plan = c.Plan(2, ConvTransposeStrategy.PixelTiles, parallelLimit: 0);
        // 12-channel tiles (AVX-512) hold 6 channels x 2 phases or 3 x 4; 6-channel tiles (AVX2) 3 channels x 2 phases.
        Assert.Equal(plan.VectorWidth == 16 || (plan.VectorWidth == 8 && stride == 2) ? stride : 1, plan.MergedPhases);
        var y = plan.Run(c.X);
        Assert.True(EngineCases.MaxRelativeError(y, c.Reference()) <= Tolerance);
        Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct), y);
        Assert.Equal(y, c.RunEngine(1, ConvTransposeStrategy.PixelTiles));

        // An activation stores value by value, and padding (a crop) gives the phases different inputs: not merged.
        var activated = c.RunEngine(1, ConvTransposeStrategy.PixelTiles, activation: FusedActivation.LeakyRelu);
        Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct, activation: FusedActivation.LeakyRelu), activated);
        AxisGeometry[] cropped = [axes[0], new AxisGeometry(width, kernel, stride, 1, 1, (width - 1) * stride + kernel - 2)];
        Assert.Equal(1, EngineCases.WithData(new Random(19), new ConvGeometry(batch, 7, m, 1, cropped), bias: true).Plan(1, ConvTransposeStrategy.PixelTiles).MergedPhases);
    }

    [Theory]
    [InlineData(1, 1, 4)] // 1-D
    [InlineData(2, 2, 16)] // dcgan1-like: four regions per phase (an edge or not along each axis)
    [InlineData(3, 1, 64)] // 3-D
    public void Channel_tiles_multiply_only_inputs_inside_the_image_and_give_the_direct_paths_bits(int form, int batch, int regions)
    {
        // Kernel 4, stride 2, padding 1 on every axis of 4 inputs: each phase's first or last output along an axis reads
        // the padding through one of its two taps, and its region of pixels runs over the other tap alone.
        AxisGeometry[] axes = [.. Enumerable.Repeat(new AxisGeometry(4, 4, 2, 1, 1, 8), form)];
        var c = EngineCases.WithData(new Random(40 + form), new ConvGeometry(batch, 11, 20, 1, axes), bias: true);
        AssertRegionsGiveTheDirectBits(c, ConvTransposeStrategy.ChannelTiles, plan => plan.ChannelPathRegions, regions, () => RunChannelPath(c, SimdWidth.V512));

        // Without padding every output reads all its taps: one region per phase.
        var unpadded = EngineCases.WithData(new Random(50 + form), new ConvGeometry(batch, 11, 20, 1, [.. Enumerable.Repeat(new AxisGeometry(4, 2, 2, 1, 0, 8), form)]), bias: true);
        Assert.Equal(1 << form, unpadded.Plan(1, ConvTransposeStrategy.ChannelTiles).ChannelPathRegions);
    }

    [Theory]
    [InlineData(2, 6, 1, 8)] // dcgan3-like rows: six-channel tiles of one row; two regions per phase along axis 1
    [InlineData(2, 3, 4, 8)] // three channels (dcgan4-like); at 1 thread whole images in the scratch one at a time
    [InlineData(3, 13, 2, 32)] // 3-D: regions along axes 0 and 1 (corners read all taps); wide tiles and a tail
    [InlineData(2, 1, 3, 8)] // one channel: tiles of four rows, cut at the regions' ends
    public void Pixel_tiles_multiply_only_input_rows_inside_the_image_and_give_the_direct_paths_bits(int form, int m, int batch, int regions)
    {
        // Kernel 4, stride 2, padding 1 along axes 0 and 1 of 4 inputs; a last axis of 40 (phase rows of 20: two vectors
        // and a part), whose vectors read all taps.
        AxisGeometry[] axes = [.. Enumerable.Repeat(new AxisGeometry(4, 4, 2, 1, 1, 8), form - 1), new AxisGeometry(20, 4, 2, 1, 1, 40)];
        var c = EngineCases.WithData(new Random(70 + m), new ConvGeometry(batch, 9, m, 1, axes), bias: true);
        AssertRegionsGiveTheDirectBits(c, ConvTransposeStrategy.PixelTiles, plan => plan.PixelPathRegions, regions, () => RunPath(PixelPath(c, SimdWidth.V512, threads: 2), c));
    }

    /// <summary>
    /// The plans of <paramref name="strategy"/> cut their phases into <paramref name="regions"/> regions and give the direct
    /// path's bits at 1, 2 and 3 threads, with an activation, and with 512-bit vectors (<paramref name="wide"/>: in software
    /// where the processor has none).
    /// </summary>
    private static void AssertRegionsGiveTheDirectBits(EngineCase c, ConvTransposeStrategy strategy, Func<ConvTransposePlan, int> regionCount, int regions, Func<float[]> wide)
    {
        var direct = c.RunEngine(1, ConvTransposeStrategy.Direct);
        Assert.True(EngineCases.MaxRelativeError(direct, c.Reference()) <= Tolerance);
        foreach (var threads in new[] { 1, 2, 3 })
        {
            var plan = c.Plan(threads, strategy, parallelLimit: 0);
            Assert.Equal(strategy, plan.Strategy);
            Assert.Equal(regions, regionCount(plan));
            Assert.Equal(direct, plan.Run(c.X));
        }

        Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct, activation: FusedActivation.Sigmoid),
            c.RunEngine(2, strategy, parallelLimit: 0, activation: FusedActivation.Sigmoid));
        Assert.Equal(direct, wide());
    }

    [Fact]
    public void Channel_tiles_give_outputs_that_no_input_reaches_the_bias_alone()
    {
        // Stride 3, kernel 2: phase 2 has no tap; output padding 2 adds position 9, which phase 0 reaches from input 3, past
        // the last: regions without taps, whose sums are zero.
        var c = EngineCases.WithData(new Random(60), new ConvGeometry(2, 7, 18, 1, [new AxisGeometry(3, 2, 3, 1, 0, 10), new AxisGeometry(5, 3, 2, 1, 1, 9)]), bias: true);
        var direct = c.RunEngine(1, ConvTransposeStrategy.Direct);
        Assert.True(EngineCases.MaxRelativeError(direct, c.Reference()) <= Tolerance);
        var plan = c.Plan(2, ConvTransposeStrategy.ChannelTiles, parallelLimit: 0);
        Assert.Equal(ConvTransposeStrategy.ChannelTiles, plan.Strategy);
        Assert.Equal(direct, plan.Run(c.X));
        // Output (n, j, 9, *) is the bias of channel j.
        var y = plan.Run(c.X);
        for (var j = 0; j < 18; j++)
        for (var o1 = 0; o1 < 9; o1++)
        {
            Assert.Equal(c.Bias[j], y[((1 * 18 + j) * 10 + 9) * 9 + o1]);
        }
    }

    [Theory]
    [InlineData(16, 1, 1, 16, 4, 2)] // hifigan-like: kernel 16, stride 8, crop 4; one block of 16 lanes
    [InlineData(21, 2, 1, 16, 4, 2)] // 21 channels: 16 + 5 lanes, the 5 stored value by value; two images, several stretches
    [InlineData(9, 1, 1, 8, 0, 2)] // kernel = stride: one tap per phase
    [InlineData(12, 1, 1, 24, 11, 2)] // three taps, an odd crop: the phases' first inputs differ
    [InlineData(10, 1, 1, 5, 2, 2)] // kernel 5: three of the eight phases have no tap (bias only)
    [InlineData(12, 2, 2, 16, 4, 1)] // two groups; a first axis of stride 2 (its phases are not interleaved)
    [InlineData(16, 1, 1, 16, 4, 3)] // 3-D
    public void Channel_tiles_compute_eight_last_axis_phases_together_bit_for_bit(int m, int batch, int groups, int kernel, int crop, int form)
    {
        var length = 13;
        var output = ((length - 1) * 8 + kernel - 2 * crop) / 8 * 8; // a multiple of the stride: the eight phases have the same length
        var last = new AxisGeometry(length, kernel, 8, 1, crop, output);
        AssertInterleavedChannelTilesGiveTheDirectBits(LastAxisCase(m, batch, groups, form, last), 8);

        // Phases of different lengths (one output more), or channels-last output: one phase per work item.
        var uneven = LastAxisCase(m, batch, groups, form, last with { Output = output + 1 });
        Assert.Equal(1, uneven.Plan(1, ConvTransposeStrategy.ChannelTiles).ChannelPathInterleavedPhases);
        Assert.Equal(uneven.RunEngine(1, ConvTransposeStrategy.Direct), uneven.RunEngine(1, ConvTransposeStrategy.ChannelTiles));
        var channelsLast = LastAxisCase(m, batch, groups, form, last, DataLayout.ChannelsLast);
        Assert.Equal(1, channelsLast.Plan(1, ConvTransposeStrategy.ChannelTiles).ChannelPathInterleavedPhases);
    }

    [Theory]
    [InlineData(16, 1, 1, 8, 4, 1, 1)] // dcgan2-like rows of 8; one block of 16 lanes
    [InlineData(21, 2, 1, 16, 4, 1, 1)] // rows of 16 (two runs of 8); 16 + 5 lanes, the 5 stored value by value; two images
    [InlineData(24, 3, 2, 24, 2, 0, 2)] // kernel = stride (one tap per phase), two groups of 12 (8 + 4 lanes), rows of 24: a work item each
    [InlineData(9, 1, 1, 8, 3, 1, 3)] // kernel 3: taps 2 and 1; 3-D
    public void Channel_tiles_compute_two_last_axis_phases_together_bit_for_bit(int m, int batch, int groups, int length, int kernel, int crop, int form)
    {
        var last = new AxisGeometry(length, kernel, 2, 1, crop, 2 * length); // phases of length rows each
        AssertInterleavedChannelTilesGiveTheDirectBits(LastAxisCase(m, batch, groups, form, last), 2);

        // Phase rows not a multiple of 8: one phase per work item.
        var shortRows = LastAxisCase(m, batch, groups, form, new AxisGeometry(length - 1, kernel, 2, 1, crop, 2 * length - 2));
        Assert.Equal(1, shortRows.Plan(1, ConvTransposeStrategy.ChannelTiles).ChannelPathInterleavedPhases);
    }

    [Theory]
    [InlineData(13, 20)] // 6-channel blocks and the 3-channel tail tile with one channel; rows of 20: a partial tile
    [InlineData(3, 32)] // 3 channels in rows of four vectors (dcgan4-like)
    [InlineData(8, 16)]
    public void Pixel_tiles_compute_both_phases_of_stride_2_together_with_avx2_bit_for_bit(int m, int width)
    {
        AxisGeometry[] axes = [new AxisGeometry(3, 4, 2, 1, 1, 6), new AxisGeometry(width, 4, 2, 1, 1, 2 * width)];
        var c = EngineCases.WithData(new Random(m), new ConvGeometry(2, 7, m, 1, axes), bias: true);
        var direct = c.RunEngine(1, ConvTransposeStrategy.Direct);
        foreach (var threads in new[] { 1, 2 })
        {
            var plan = c.Plan(threads, ConvTransposeStrategy.PixelTiles, parallelLimit: 0);
            Assert.Equal(ConvTransposeStrategy.PixelTiles, plan.Strategy);
            Assert.Equal(InterleavedWithAvx2(plan), plan.PixelPathInterleavedPhases);
            Assert.Equal(direct, plan.Run(c.X));
        }

        // With an activation each phase is stored value by value.
        Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct, activation: FusedActivation.Sigmoid),
            c.RunEngine(1, ConvTransposeStrategy.PixelTiles, activation: FusedActivation.Sigmoid));

        // 8 images at 2 threads: image by image, each in its thread's slot of the scratch.
        var batch = EngineCases.WithData(new Random(m + 1), new ConvGeometry(8, 7, m, 1, axes), bias: true);
        var slots = batch.Plan(2, ConvTransposeStrategy.PixelTiles, parallelLimit: 0);
        Assert.True(slots.CopiesImageByImage);
        Assert.Equal(batch.RunEngine(1, ConvTransposeStrategy.Direct), slots.Run(batch.X));

        // Merged phases (kernel = stride, no crop, wide tiles) share their tiles instead.
        AxisGeometry[] merged = [axes[0], new AxisGeometry(width, 2, 2, 1, 0, 2 * width)];
        var mergedPlan = EngineCases.WithData(new Random(m + 2), new ConvGeometry(1, 7, m, 1, merged), bias: true).Plan(1, ConvTransposeStrategy.PixelTiles);
        Assert.Equal(mergedPlan.MergedPhases > 1 ? 1 : InterleavedWithAvx2(mergedPlan), mergedPlan.PixelPathInterleavedPhases);
        Assert.True(m < 6 || mergedPlan.VectorWidth != 8 || mergedPlan.MergedPhases == 2);

        static int InterleavedWithAvx2(ConvTransposePlan p) => p.VectorWidth == 8 ? 2 : 1;
    }

    /// <summary>
    /// 5 input channels per group, <paramref name="m"/> output channels, the last axis <paramref name="last"/> after
    /// (<paramref name="form"/>) 1: a first axis of stride 2; 2: of stride 1; 3: two axes (3-D).
    /// </summary>
    private static EngineCase LastAxisCase(int m, int batch, int groups, int form, AxisGeometry last, DataLayout layout = DataLayout.ChannelsFirst)
    {
        AxisGeometry[] axes = form switch
        {
            1 => [new AxisGeometry(3, 4, 2, 1, 1, 6), last],
            2 => [new AxisGeometry(2, 2, 1, 1, 0, 3), last],
            _ => [new AxisGeometry(2, 2, 1, 1, 0, 3), new AxisGeometry(2, 3, 2, 1, 1, 3), last],
        };
        return EngineCases.WithData(new Random(m + form), new ConvGeometry(batch, 5 * groups, m, groups, axes, layout), bias: true);
    }

    /// <summary>
    /// The channel path computes <paramref name="phases"/> last-axis phases per work item (where AVX is, else one) and gives
    /// the direct path's bits at 1, 2 and 4 threads, with an activation (stored value by value) and with 512-bit vectors
    /// (in software where the processor has none: blocks of 32 lanes, four transposes of 8).
    /// </summary>
    private static void AssertInterleavedChannelTilesGiveTheDirectBits(EngineCase c, int phases)
    {
        var direct = c.RunEngine(1, ConvTransposeStrategy.Direct);
        Assert.True(EngineCases.MaxRelativeError(direct, c.Reference()) <= Tolerance);
        foreach (var threads in new[] { 1, 2, 4 })
        {
            var plan = c.Plan(threads, ConvTransposeStrategy.ChannelTiles, parallelLimit: 0);
            Assert.Equal(ConvTransposeStrategy.ChannelTiles, plan.Strategy);
            Assert.Equal(System.Runtime.Intrinsics.X86.Avx.IsSupported ? phases : 1, plan.ChannelPathInterleavedPhases);
            Assert.Equal(direct, plan.Run(c.X));
        }

        Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct, activation: FusedActivation.Tanh),
            c.RunEngine(2, ConvTransposeStrategy.ChannelTiles, parallelLimit: 0, activation: FusedActivation.Tanh));
        Assert.Equal(direct, RunChannelPath(c, SimdWidth.V512));
    }

    /// <summary>
    /// The pixel path with 512-bit vectors (in software where the processor has none) gives the direct path's bits on
    /// random configurations: 12-channel tiles, 4-channel tails and the few-channel tiles with 16 lanes, which this
    /// machine's plans (256-bit) never run.
    /// </summary>
    [Fact]
    public void Pixel_path_with_512_bit_vectors_gives_the_direct_path_bits()
    {
        var random = new Random(23);
        var (wide, tails) = (0, 0);
        for (var i = 0; i < 400; i++)
        {
            var c = EngineCases.Random(random, maxMultiplyAdds: 60_000);
            var lifted = new Deconv.Reference.Lifted(c.Geometry);
            wide += lifted.Mg >= 12 ? 1 : 0;
            tails += lifted.Mg > 12 && lifted.Mg % 12 is >= 1 and <= 4 ? 1 : 0;
            // The same products in the same order; where the direct path skips a product with padding only the sign of an
            // all-zero sum can differ, which Assert.Equal ignores. One or two threads: the scratch whole or in slots per image.
            Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct), RunPath(PixelPath(c, SimdWidth.V512, threads: 1 + i % 2), c));
        }

        Assert.True(wide > 60 && tails > 10, $"{wide} cases of 12-channel tiles, {tails} with 4-channel tails");
    }

    /// <summary>
    /// The pixel path's layouts of the last axis's phases for 512-bit vectors, run with their shuffles in software where
    /// the processor has no AVX-512: the phases merged into one tile's 12 lanes (kernel = stride = 2 or 4,
    /// channels-first: unet) and 16 or 32 phases computed together per tile (fcn), bit for bit like the direct path, with
    /// whole blocks of 12 channels and a 4-channel tail, at 1 and 2 threads.
    /// </summary>
    [Theory]
    [InlineData(2, 2, 0, 2, 1)] // kernel, stride, crop of each axis, merged phases, interleaved phases
    [InlineData(4, 4, 0, 4, 1)]
    [InlineData(32, 16, 8, 1, 16)]
    [InlineData(64, 32, 16, 1, 32)]
    public void Pixel_path_phase_layouts_for_512_bit_vectors_give_the_direct_path_bits(int kernel, int stride, int crop, int merged, int interleaved)
    {
        AxisGeometry Axis(int input) => new(input, kernel, stride, 1, crop, (input - 1) * stride + kernel - 2 * crop);
        foreach (var m in new[] { 12, 25 })
        {
            // Phase rows of 35: a whole tile of 2 x 16 pixels (written through the shuffles) and a partial one (value by value).
            var c = EngineCases.WithData(new Random(m + kernel), new ConvGeometry(1, 5, m, 1, [Axis(2), Axis(35)], DataLayout.ChannelsFirst), bias: true);
            var direct = c.RunEngine(1, ConvTransposeStrategy.Direct);
            foreach (var threads in new[] { 1, 2 })
            {
                var path = PixelPath(c, SimdWidth.V512, threads, shufflesInSoftware: true);
                Assert.Equal((merged, interleaved), (path.MergedPhaseCount, path.InterleavedPhaseCount));
                Assert.Equal(direct, RunPath(path, c));
            }
        }
    }

    /// <summary>The pixel path at a chosen vector width (the bias as the plan gives it: zeros when there is none).</summary>
    private static PixelTilePath PixelPath(EngineCase c, SimdWidth simd, int threads, bool shufflesInSoftware = false) =>
        PixelTilePath.TryCreate(new Deconv.Reference.Lifted(c.Geometry), c.W, c.Bias.Length > 0 ? c.Bias : new float[c.Geometry.OutputChannels],
            FusedActivation.None, 0.1f, simd, threads, shufflesInSoftware)!;

    [Fact]
    public void Depthwise_rows_with_512_bit_vectors_give_the_direct_path_bits()
    {
        // 512-bit vectors in software where the processor has none: the 16-lane row kernels and their tails.
        var random = new Random(24);
        for (var i = 0; i < 300; i++)
        {
            var c = EngineCases.RandomDepthwise(random);
            var bias = c.Bias.Length > 0 ? c.Bias : new float[c.Geometry.OutputChannels];
            var path = DepthwiseTransposePath.TryCreate(new Deconv.Reference.Lifted(c.Geometry), c.W, bias, FusedActivation.None, 0.1f, SimdWidth.V512)!;
            Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct), RunPath(path, c));
        }
    }

    /// <summary>Runs a phase path: its scratch filled in two parts, its items run last to first.</summary>
    private static unsafe float[] RunPath(PhasePath path, EngineCase c)
    {
        var y = new float[c.Geometry.OutputLength];
        Array.Fill(y, float.NaN);
        fixed (float* x = c.X, yp = y)
        {
            var half = path.ScratchRows / 2;
            path.FillScratch(x, half, path.ScratchRows - half);
            path.FillScratch(x, 0, half);
            for (var i = path.ItemCount - 1; i >= 0; i--)
            {
                path.RunItem(i, x, yp);
            }
        }

        return y;
    }

    /// <summary>The channel path at a chosen vector width, its scratch filled in two parts and its items run last to first.</summary>
    private static float[] RunChannelPath(EngineCase c, SimdWidth simd) =>
        RunPath(ChannelTilePath.TryCreate(new Deconv.Reference.Lifted(c.Geometry), c.W, c.Bias, FusedActivation.None, 0.1f, simd)!, c);

    [Theory]
    [InlineData(1)] // one-channel tiles of four rows
    [InlineData(3)] // three-channel tiles of two rows
    [InlineData(13)] // wide tiles and a tail of two rows
    [InlineData(14)]
    public void Stretches_over_256_KB_take_half_as_many_rows_bit_for_bit(int m)
    {
        // 40 channels of padded rows over 300 floats: 8 rows of every channel are over 256 KB, so items take 4 rows.
        AxisGeometry[] axes = [new AxisGeometry(5, 3, 2, 1, 1, 9), new AxisGeometry(300, 4, 2, 1, 1, 600)];
        var c = EngineCases.WithData(new Random(23), new ConvGeometry(2, 40, m, 1, axes), bias: true);
        var direct = c.RunEngine(1, ConvTransposeStrategy.Direct);
        Assert.True(EngineCases.MaxRelativeError(direct, c.Reference()) <= Tolerance);
        foreach (var threads in new[] { 1, 2, 3 })
        {
            var plan = c.Plan(threads, ConvTransposeStrategy.PixelTiles, parallelLimit: 0);
            Assert.Equal(ConvTransposeStrategy.PixelTiles, plan.Strategy);
            Assert.Equal(direct, plan.Run(c.X));
        }
    }

    [Theory]
    [InlineData(3, 36)] // phase rows of 36: a whole tile of four vectors (W = 8) and a partial one, or two rows of two (W = 16)
    [InlineData(6, 70)] // two blocks of three channels, rows of 70
    [InlineData(3, 12)] // rows shorter than four vectors: two rows of two
    public void Three_output_channels_in_rows_of_four_vectors_give_the_direct_paths_bits(int m, int width)
    {
        AxisGeometry[] axes = [new AxisGeometry(5, 4, 2, 1, 1, 10), new AxisGeometry(width, 4, 2, 1, 1, 2 * width)];
        var c = EngineCases.WithData(new Random(22), new ConvGeometry(2, 9, m, 1, axes), bias: true);
        var direct = c.RunEngine(1, ConvTransposeStrategy.Direct);
        Assert.True(EngineCases.MaxRelativeError(direct, c.Reference()) <= Tolerance);
        foreach (var threads in new[] { 1, 2 })
        {
            var plan = c.Plan(threads, ConvTransposeStrategy.PixelTiles, parallelLimit: 0);
            Assert.Equal(ConvTransposeStrategy.PixelTiles, plan.Strategy);
            Assert.Equal(direct, plan.Run(c.X));
        }

        Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct, activation: FusedActivation.Tanh), c.RunEngine(1, ConvTransposeStrategy.PixelTiles, activation: FusedActivation.Tanh));
    }

    [Theory]
    [InlineData(3)] // three-channel tiles
    [InlineData(1)] // one-channel tiles of four rows
    public void Long_padded_rows_are_spaced_an_odd_number_of_cache_lines_apart_and_give_the_direct_paths_bits(int m)
    {
        // 1-D rows of 300 inputs: padded rows of 256 floats or more are spaced an odd number of 64-byte lines apart, and the gap must stay zero.
        var geometry = new ConvGeometry(2, 5, m, 1, [new AxisGeometry(300, 4, 2, 1, 1, 600)]);
        var c = EngineCases.WithData(new Random(21), geometry, bias: true);
        foreach (var threads in new[] { 1, 2 })
        {
            var plan = c.Plan(threads, ConvTransposeStrategy.PixelTiles, parallelLimit: 0);
            Assert.Equal(ConvTransposeStrategy.PixelTiles, plan.Strategy);
            var y = plan.Run(c.X);
            Assert.True(EngineCases.MaxRelativeError(y, c.Reference()) <= Tolerance);
            Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct), y);
            Assert.Equal(y, plan.Run(c.X)); // and again, with the scratch as the first run left it
        }
    }

    [Theory]
    [InlineData(3, DataLayout.ChannelsFirst)] // three-channel tiles (dcgan4-like)
    [InlineData(13, DataLayout.ChannelsFirst)] // 12-channel tiles and a 4-channel tail
    [InlineData(3, DataLayout.ChannelsLast)] // the channels-last copy
    public void Padded_images_copied_one_at_a_time_give_the_bits_of_the_whole_batch_copy(int m, DataLayout layout)
    {
        AxisGeometry[] axes = [new AxisGeometry(6, 4, 2, 1, 1, 12), new AxisGeometry(20, 4, 2, 1, 1, 40)];
        var c = EngineCases.WithData(new Random(20), new ConvGeometry(3, 9, m, 1, axes, layout), bias: true);
        var plan = c.Plan(1, ConvTransposeStrategy.PixelTiles);
        Assert.Equal(ConvTransposeStrategy.PixelTiles, plan.Strategy);
        Assert.True(plan.CopiesImageByImage);
        var y = plan.Run(c.X);
        Assert.True(EngineCases.MaxRelativeError(y, c.Reference()) <= Tolerance);
        Assert.Equal(c.RunEngine(1, ConvTransposeStrategy.Direct), y);

        // Two threads with 3 images copy the whole batch first (in parts on both threads), and the result is the same.
        var parallel = c.Plan(2, ConvTransposeStrategy.PixelTiles, parallelLimit: 0);
        Assert.False(parallel.CopiesImageByImage);
        Assert.Equal(y, parallel.Run(c.X));
        Assert.Equal(y, plan.Run(c.X)); // and again: the scratch of one image is reused

        // With 4 images per thread, each thread copies its images into a slot of its own, taken for each image: the same bits again.
        var batch = EngineCases.WithData(new Random(21), new ConvGeometry(8, 9, m, 1, axes, layout), bias: true);
        var one = batch.RunEngine(1, ConvTransposeStrategy.PixelTiles);
        var slots = batch.Plan(2, ConvTransposeStrategy.PixelTiles, parallelLimit: 0);
        Assert.True(slots.CopiesImageByImage);
        Assert.Equal(one, slots.Run(batch.X));
        Assert.Equal(one, slots.Run(batch.X));
        Assert.Equal(batch.RunEngine(1, ConvTransposeStrategy.Direct), one);
    }

    [Fact]
    public void Depthwise_rows_are_chosen_for_channels_first_depthwise_and_refused_otherwise()
    {
        var depthwise = new ConvGeometry(2, 8, 8, 8, [new AxisGeometry(40, 4, 2, 1, 1, 80), new AxisGeometry(40, 4, 2, 1, 1, 80)]);
        var c = EngineCases.WithData(new Random(16), depthwise, bias: true);
        Assert.Equal(ConvTransposeStrategy.DepthwiseRows, c.Plan(1, null).Strategy);
        // Channels-last, or two output channels per group: not this path (forcing it falls back to the direct path).
        Assert.Equal(ConvTransposeStrategy.Direct, EngineCases.WithData(new Random(16), depthwise.WithLayout(DataLayout.ChannelsLast), bias: false).Plan(1, ConvTransposeStrategy.DepthwiseRows).Strategy);
        var multiplier = new ConvGeometry(2, 8, 16, 8, depthwise.Axes);
        Assert.NotEqual(ConvTransposeStrategy.DepthwiseRows, EngineCases.WithData(new Random(16), multiplier, bias: false).Plan(1, null).Strategy);
    }

    [Fact]
    public void Direct_path_agrees_with_the_reference_and_bit_for_bit_with_both_fast_paths()
    {
        var random = new Random(3);
        for (var i = 0; i < 500; i++)
        {
            var c = EngineCases.Random(random);
            var direct = c.RunEngine(1, ConvTransposeStrategy.Direct);
            var error = EngineCases.MaxRelativeError(direct, c.Reference());
            Assert.True(error <= Tolerance, $"case {i}: {c}: error {error}");
            // All sum each output over (tap, channel) in the same order with fused multiply-adds.
            Assert.Equal(direct, c.RunEngine(1, ConvTransposeStrategy.ChannelTiles));
            Assert.Equal(direct, c.RunEngine(1, ConvTransposeStrategy.PixelTiles));
        }
    }

    [Theory]
    [InlineData(DataLayout.ChannelsFirst, 1)]
    [InlineData(DataLayout.ChannelsLast, 1)]
    [InlineData(DataLayout.ChannelsLast, 0)]
    public void Channel_tiles_with_spaced_scratch_pixels_match_the_direct_path(DataLayout layout, int crop)
    {
        // 64 and 70 input channels: scratch pixels of 80 floats (5 cache lines) and 80. Kernel = stride = 2 needs
        // no padding: channels-last, x is then copied pixel by pixel into the spaced scratch instead of read in place.
        foreach (var channels in new[] { 64, 70 })
        {
            var axes = crop == 0
                ? new[] { new AxisGeometry(3, 2, 2, 1, 0, 6), new AxisGeometry(5, 2, 2, 1, 0, 10) }
                : [new AxisGeometry(3, 4, 2, 1, crop, 8 - 2 * crop), new AxisGeometry(5, 3, 2, 1, crop, 11 - 2 * crop)];
            var c = EngineCases.WithData(new Random(channels), new ConvGeometry(2, channels, 19, 1, axes, layout), bias: true);
            var direct = c.RunEngine(1, ConvTransposeStrategy.Direct);
            Assert.True(EngineCases.MaxRelativeError(direct, c.Reference()) <= 1e-4);
            foreach (var threads in new[] { 1, 2 })
            {
                var plan = c.Plan(threads, ConvTransposeStrategy.ChannelTiles, parallelLimit: 0);
                Assert.Equal(ConvTransposeStrategy.ChannelTiles, plan.Strategy);
                Assert.Equal(direct, plan.Run(c.X));
            }
        }
    }

    [Theory]
    [InlineData(ConvTransposeStrategy.ChannelTiles)]
    [InlineData(ConvTransposeStrategy.PixelTiles)]
    [InlineData(ConvTransposeStrategy.DepthwiseRows)]
    public void Results_are_bit_identical_for_1_2_and_4_threads(ConvTransposeStrategy strategy)
    {
        var random = new Random(4);
        var parallelRuns = 0;
        for (var i = 0; i < 150; i++)
        {
            var c = strategy == ConvTransposeStrategy.DepthwiseRows
                ? EngineCases.RandomDepthwise(random, maxMultiplyAdds: 200_000)
                : EngineCases.Random(random, maxMultiplyAdds: 200_000);
            var one = c.RunEngine(1, strategy, parallelLimit: 0);
            foreach (var threads in new[] { 2, 4 })
            {
                var plan = c.Plan(threads, strategy, parallelLimit: 0);
                parallelRuns += plan.RunsInParallel ? 1 : 0;
                Assert.Equal(one, plan.Run(c.X));
            }
        }

        Assert.True(parallelRuns > 250, $"only {parallelRuns} of 300 multi-thread plans split their work");
    }

    [Fact]
    public void Channels_last_depthwise_with_long_rows_takes_the_pixel_path_where_vectors_are_8_or_16_wide()
    {
        var geometry = new ConvGeometry(1, 32, 32, 32, [new AxisGeometry(40, 4, 2, 1, 1, 80), new AxisGeometry(40, 4, 2, 1, 1, 80)], DataLayout.ChannelsLast);
        var c = EngineCases.WithData(new Random(13), geometry, bias: true);
        var plan = new ConvTransposePlan(geometry, c.W, c.Bias, threads: 2);
        Assert.Equal(plan.VectorWidth >= 8 ? ConvTransposeStrategy.PixelTiles : ConvTransposeStrategy.ChannelTiles, plan.Strategy);
        Assert.True(EngineCases.MaxRelativeError(plan.Run(c.X), c.Reference()) <= Tolerance);
    }

    [Fact]
    public void Many_channels_with_long_channels_first_rows_take_the_pixel_path_where_vectors_are_8_or_16_wide()
    {
        var axes = new[] { new AxisGeometry(4, 2, 2, 1, 0, 8), new AxisGeometry(32, 2, 2, 1, 0, 64) };
        var first = new ConvGeometry(1, 24, 40, 1, axes, DataLayout.ChannelsFirst);
        var c = EngineCases.WithData(new Random(16), first, bias: true);
        var plan = new ConvTransposePlan(first, c.W, c.Bias);
        Assert.Equal(plan.VectorWidth >= 8 ? ConvTransposeStrategy.PixelTiles : ConvTransposeStrategy.ChannelTiles, plan.Strategy);
        Assert.True(EngineCases.MaxRelativeError(plan.Run(c.X), c.Reference()) <= Tolerance);
        // Channels-last output is written faster a pixel at a time, and phase rows shorter than a vector waste lanes.
        Assert.Equal(ConvTransposeStrategy.ChannelTiles, new ConvTransposePlan(first.WithLayout(DataLayout.ChannelsLast), c.W, c.Bias).Strategy);
        var shortRows = new ConvGeometry(1, 24, 40, 1, [axes[0], new AxisGeometry(7, 2, 2, 1, 0, 14)]);
        Assert.Equal(ConvTransposeStrategy.ChannelTiles, new ConvTransposePlan(shortRows, new float[shortRows.WeightLength]).Strategy);
        // Rows of 16: one vector of 16 (two rows per tile), or two of 8.
        var vectorRows = new ConvGeometry(1, 24, 40, 1, [axes[0], new AxisGeometry(16, 2, 2, 1, 0, 32)]);
        var v = EngineCases.WithData(new Random(18), vectorRows, bias: true);
        var vectorPlan = new ConvTransposePlan(vectorRows, v.W, v.Bias);
        Assert.Equal(plan.VectorWidth >= 8 ? ConvTransposeStrategy.PixelTiles : ConvTransposeStrategy.ChannelTiles, vectorPlan.Strategy);
        Assert.True(EngineCases.MaxRelativeError(vectorPlan.Run(v.X), v.Reference()) <= Tolerance);
        // Rows of 8 (dcgan2's): vectors over channels with AVX2 too.
        var rows8 = new ConvGeometry(1, 24, 40, 1, [axes[0], new AxisGeometry(8, 2, 2, 1, 0, 16)]);
        Assert.Equal(ConvTransposeStrategy.ChannelTiles, new ConvTransposePlan(rows8, new float[rows8.WeightLength]).Strategy);
        // A last-axis stride of 8 (hifigan-like): its outputs, stored value by value 8 apart, take vectors over channels with 256-bit vectors.
        var stride8 = new ConvGeometry(1, 24, 40, 1, [axes[0], new AxisGeometry(32, 16, 8, 1, 4, 256)]);
        var s8 = EngineCases.WithData(new Random(19), stride8, bias: true);
        var stride8Plan = new ConvTransposePlan(stride8, s8.W, s8.Bias);
        Assert.Equal(plan.VectorWidth == 16 ? ConvTransposeStrategy.PixelTiles : ConvTransposeStrategy.ChannelTiles, stride8Plan.Strategy);
        Assert.True(EngineCases.MaxRelativeError(stride8Plan.Run(s8.X), s8.Reference()) <= Tolerance);
    }

    [Fact]
    public void Large_problem_splits_work_across_threads_and_matches_one_thread_and_the_reference()
    {
        var geometry = new ConvGeometry(2, 40, 37, 1,
            [new AxisGeometry(9, 4, 2, 1, 1, 18), new AxisGeometry(11, 3, 3, 1, 0, 33)], DataLayout.ChannelsFirst);
        var c = EngineCases.WithData(new Random(5), geometry, bias: true);
        var plan = new ConvTransposePlan(geometry, c.W, c.Bias, threads: 3);
        Assert.True(plan.RunsInParallel);
        Assert.Equal(ConvTransposeStrategy.ChannelTiles, plan.Strategy);
        var y = plan.Run(c.X);
        Assert.Equal(c.RunEngine(1, strategy: null), y);
        Assert.True(EngineCases.MaxRelativeError(y, c.Reference()) <= Tolerance);
    }

    [Theory]
    [InlineData(FusedActivation.Relu)]
    [InlineData(FusedActivation.LeakyRelu)]
    [InlineData(FusedActivation.Tanh)]
    [InlineData(FusedActivation.Sigmoid)]
    public void Fused_activation_is_applied_after_the_bias(FusedActivation activation)
    {
        var random = new Random(6);
        for (var i = 0; i < 50; i++)
        {
            var c = EngineCases.Random(random);
            var expected = c.Reference().Select(v => activation switch
            {
                FusedActivation.Relu => Math.Max(v, 0),
                FusedActivation.LeakyRelu => v < 0 ? 0.1 * v : v,
                FusedActivation.Tanh => Math.Tanh(v),
                _ => 1 / (1 + Math.Exp(-v)),
            }).ToArray();
            foreach (var strategy in Enum.GetValues<ConvTransposeStrategy>())
            {
                var y = c.RunEngine(1, strategy, activation: activation);
                Assert.True(EngineCases.MaxRelativeError(y, expected) <= Tolerance, $"{activation} {c}");
            }
        }
    }

    public static TheoryData<string, int, int, int, int, AxisGeometry[]> EdgeGeometries() => new()
    {
        // name, N, C, M, G, axes
        { "empty input axis", 1, 3, 4, 1, [new AxisGeometry(0, 3, 2, 1, 0, 5)] },
        { "empty batch", 0, 3, 4, 1, [new AxisGeometry(4, 3, 2, 1, 0, 9)] },
        { "crop past the full result", 1, 3, 4, 1, [new AxisGeometry(3, 2, 2, 1, 9, 4)] },
        { "single output", 2, 5, 3, 1, [new AxisGeometry(6, 3, 2, 1, 4, 1), new AxisGeometry(5, 2, 3, 1, 1, 1)] },
        { "1x1 kernel is a matrix product", 2, 33, 31, 1, [new AxisGeometry(7, 1, 1, 1, 0, 7), new AxisGeometry(5, 1, 1, 1, 0, 5)] },
        { "dilation sharing a factor with the stride", 1, 4, 6, 2, [new AxisGeometry(9, 3, 4, 2, 1, 40)] },
        { "stride far above the kernel", 1, 2, 17, 1, [new AxisGeometry(5, 2, 7, 1, 0, 40), new AxisGeometry(3, 1, 4, 1, 0, 12)] },
        { "output far past the full result", 1, 3, 2, 1, [new AxisGeometry(2, 2, 1, 1, 0, 70)] },
        { "depthwise with multiplier", 1, 5, 15, 5, [new AxisGeometry(40, 4, 2, 1, 1, 80)] },
        { "kernel = stride, rows of whole tiles, no padding", 2, 5, 7, 1, [new AxisGeometry(3, 2, 2, 1, 0, 6), new AxisGeometry(32, 2, 2, 1, 0, 64)] },
        { "3-D with dilation and crops", 1, 3, 5, 1, [new AxisGeometry(3, 2, 2, 2, 1, 6), new AxisGeometry(4, 3, 3, 1, 2, 12), new AxisGeometry(5, 2, 1, 3, 0, 9)] },
    };

    [Theory]
    [MemberData(nameof(EdgeGeometries))]
    public void Edge_geometries_agree_with_the_reference_on_every_path(string name, int n, int c, int m, int groups, AxisGeometry[] axes)
    {
        foreach (var layout in new[] { DataLayout.ChannelsFirst, DataLayout.ChannelsLast })
        {
            var geometry = new ConvGeometry(n, c, m, groups, axes, layout);
            var data = EngineCases.WithData(new Random(15), geometry, bias: true);
            var expected = data.Reference();
            foreach (var strategy in Enum.GetValues<ConvTransposeStrategy>())
            {
                var y = data.RunEngine(2, strategy, parallelLimit: 0);
                Assert.True(EngineCases.MaxRelativeError(y, expected) <= Tolerance, $"{name} {layout} {strategy}");
            }
        }
    }

    [Fact]
    public void Phases_without_taps_receive_only_the_bias()
    {
        // Kernel 2, stride 5: three of every five outputs get no product.
        var geometry = new ConvGeometry(1, 3, 2, 1, [new AxisGeometry(4, 2, 5, 1, 0, 20)], DataLayout.ChannelsLast);
        var c = EngineCases.WithData(new Random(7), geometry, bias: true);
        var y = c.RunEngine(1, ConvTransposeStrategy.ChannelTiles);
        for (var o = 0; o < 20; o++)
        {
            if (o % 5 >= 2)
            {
                Assert.Equal(c.Bias, y.AsSpan(o * 2, 2).ToArray());
            }
        }

        Assert.True(EngineCases.MaxRelativeError(y, c.Reference()) <= Tolerance);
    }

    [Fact]
    public void Output_past_the_full_length_is_bias_only()
    {
        // Full length 3*2+3 = 9; output 14 runs 5 past it (crop end -5).
        var geometry = new ConvGeometry(1, 2, 3, 1, [new AxisGeometry(4, 3, 2, 1, 0, 14)]);
        var c = EngineCases.WithData(new Random(8), geometry, bias: true);
        var y = c.RunEngine(1, ConvTransposeStrategy.ChannelTiles);
        for (var m = 0; m < 3; m++)
        for (var o = 9; o < 14; o++)
        {
            Assert.Equal(c.Bias[m], y[m * 14 + o]);
        }

        Assert.True(EngineCases.MaxRelativeError(y, c.Reference()) <= Tolerance);
    }

    [Fact]
    public void Non_finite_weights_take_the_exact_direct_path()
    {
        var geometry = new ConvGeometry(1, 4, 20, 1, [new AxisGeometry(30, 3, 2, 1, 1, 60), new AxisGeometry(30, 3, 2, 1, 1, 60)]);
        var c = EngineCases.WithData(new Random(9), geometry, bias: false);
        c.W[5] = float.PositiveInfinity;
        var plan = new ConvTransposePlan(geometry, c.W);
        Assert.Equal(ConvTransposeStrategy.Direct, plan.Strategy);
        var y = plan.Run(c.X);
        var expected = c.Reference();
        for (var i = 0; i < y.Length; i++)
        {
            Assert.True(y[i].Equals((float)expected[i]) || Math.Abs(y[i] - expected[i]) <= Tolerance * Math.Max(1, Math.Abs(expected[i])), $"{i}: {y[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Tiny_single_channel_problem_takes_the_direct_path()
    {
        var geometry = new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(3, 2, 1, 1, 0, 4), new AxisGeometry(3, 2, 1, 1, 0, 4)]);
        var plan = new ConvTransposePlan(geometry, [1, 1, 1, 1]);
        Assert.Equal(ConvTransposeStrategy.Direct, plan.Strategy);
        Assert.Equal([1f, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1], plan.Run(Enumerable.Repeat(1f, 9).ToArray()));
    }

    [Theory]
    [InlineData(ConvTransposeStrategy.Direct)]
    [InlineData(ConvTransposeStrategy.ChannelTiles)]
    [InlineData(ConvTransposeStrategy.PixelTiles)]
    [InlineData(ConvTransposeStrategy.DepthwiseRows)]
    public void Run_on_one_thread_allocates_nothing(ConvTransposeStrategy strategy)
    {
        AxisGeometry[] axes = [new AxisGeometry(20, 3, 2, 1, 1, 40), new AxisGeometry(20, 3, 2, 1, 1, 40)];
        var geometry = strategy == ConvTransposeStrategy.DepthwiseRows ? new ConvGeometry(2, 6, 6, 6, axes) : new ConvGeometry(2, 6, 5, 1, axes, DataLayout.ChannelsLast);
        var c = EngineCases.WithData(new Random(14), geometry, bias: true);
        var plan = c.Plan(1, strategy, activation: FusedActivation.Tanh);
        Assert.Equal(strategy, plan.Strategy);
        var y = new float[geometry.OutputLength];
        plan.Run(c.X, y);
        plan.Run(c.X, y);
        var before = GC.GetAllocatedBytesForCurrentThread();
        plan.Run(c.X, y);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void Running_twice_gives_the_same_result()
    {
        var c = EngineCases.Random(new Random(10));
        var plan = c.Plan(2, ConvTransposeStrategy.ChannelTiles, parallelLimit: 0);
        var first = plan.Run(c.X);
        var second = new float[first.Length];
        second.AsSpan().Fill(float.NaN);
        plan.Run(c.X, second);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Concurrent_runs_of_one_plan_are_refused_not_corrupted()
    {
        var geometry = new ConvGeometry(4, 64, 64, 1, [new AxisGeometry(24, 4, 2, 1, 1, 48), new AxisGeometry(24, 4, 2, 1, 1, 48)]);
        var c = EngineCases.WithData(new Random(17), geometry, bias: false);
        var plan = c.Plan(1, ConvTransposeStrategy.ChannelTiles);
        var expected = plan.Run(c.X);
        var refused = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            var y = new float[expected.Length];
            try
            {
                plan.Run(c.X, y);
                Assert.Equal(expected, y);
            }
            catch (InvalidOperationException)
            {
                Interlocked.Increment(ref refused);
            }
        });
        Assert.Equal(expected, plan.Run(c.X)); // still usable afterwards
        Assert.True(refused < 8, "every run was refused");
    }

    [Fact]
    public void Bad_arguments_name_the_parameter()
    {
        var geometry = new ConvGeometry(1, 2, 2, 1, [new AxisGeometry(3, 2, 2, 1, 0, 6)]);
        var w = new float[8];
        Assert.Equal("w", Assert.Throws<ConvolutionArgumentException>(() => new ConvTransposePlan(geometry, new float[7])).ParamName);
        Assert.Equal("bias", Assert.Throws<ConvolutionArgumentException>(() => new ConvTransposePlan(geometry, w, new float[3])).ParamName);
        Assert.Equal("threads", Assert.Throws<ConvolutionArgumentException>(() => new ConvTransposePlan(geometry, w, threads: -1)).ParamName);
        Assert.Equal("activation", Assert.Throws<ConvolutionArgumentException>(() => new ConvTransposePlan(geometry, w, activation: (FusedActivation)9)).ParamName);
        var plan = new ConvTransposePlan(geometry, w);
        Assert.Equal("x", Assert.Throws<ConvolutionArgumentException>(() => plan.Run(new float[5], new float[12])).ParamName);
        Assert.Equal("y", Assert.Throws<ConvolutionArgumentException>(() => plan.Run(new float[6], new float[11])).ParamName);
        Assert.Throws<ArgumentNullException>(() => new ConvTransposePlan(null!, w));
    }
}
