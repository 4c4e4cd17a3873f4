using Deconv.Engine;
using Deconv.Reference;

namespace Deconv.Tests.Engine;

/// <summary>A random transposed convolution with its data, for comparing the engine with the reference.</summary>
internal sealed record EngineCase(ConvGeometry Geometry, float[] X, float[] W, float[] Bias)
{
    /// <summary>The reference result, computed in double from the same float data.</summary>
    public double[] Reference()
    {
        var y = ScatterView.ConvTranspose<double>(Geometry, Widen(X), Widen(W), Widen(Bias));
        return y;
    }

    public ConvTransposePlan Plan(int threads, ConvTransposeStrategy? strategy, long parallelLimit = ConvTransposePlan.ParallelLimit,
        FusedActivation activation = FusedActivation.None) =>
        new(Geometry, W, Bias, threads, activation, 0.1f, strategy, parallelLimit);

    public float[] RunEngine(int threads, ConvTransposeStrategy? strategy, long parallelLimit = ConvTransposePlan.ParallelLimit,
        FusedActivation activation = FusedActivation.None) =>
        Plan(threads, strategy, parallelLimit, activation).Run(X);

    public override string ToString() => $"{Geometry} bias={Bias.Length > 0}";

    private static double[] Widen(float[] values) => [.. values.Select(v => (double)v)];
}

/// <summary>Random configurations covering the engine's corners: ranks 1-3, strides above the kernel,
/// dilation, crops including a negative end crop, groups and depthwise, both layouts, channel counts
/// around the vector widths and tile sizes.</summary>
internal static class EngineCases
{
    /// <summary>
    /// Channel counts just below, at and above 4, 8, 16 and 32 lanes (one or two vectors) and 12 and 24
    /// (the pixel path's widest channel block), and primes.
    /// </summary>
    private static readonly int[] ChannelCounts = [1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 24, 25, 31, 32, 33, 37];

    public static EngineCase Random(Random random, long maxMultiplyAdds = 20_000)
    {
        while (true)
        {
            var c = Generate(random, ChannelCounts, r => r.Next(1, 3));
            if (c.MultiplyAdds <= maxMultiplyAdds && c.InputLength * c.InputChannels > 0)
            {
                return WithData(random, c, bias: random.Next(3) > 0);
            }
        }
    }

    /// <summary>
    /// A random depthwise case for <see cref="ConvTransposeStrategy.DepthwiseRows"/>: one channel in and out per group,
    /// channels-first, on the axes of <see cref="Generate"/> (ranks 1-3, strides, dilations, crops, long rows).
    /// </summary>
    public static EngineCase RandomDepthwise(Random random, long maxMultiplyAdds = 20_000)
    {
        while (true)
        {
            var axes = Generate(random, ChannelCounts, r => r.Next(1, 3));
            var groups = random.Next(1, 6);
            var c = new ConvGeometry(axes.Batch, groups, groups, groups, axes.Axes, DataLayout.ChannelsFirst);
            if (c.MultiplyAdds <= maxMultiplyAdds && c.InputLength > 0)
            {
                return WithData(random, c, bias: random.Next(3) > 0);
            }
        }
    }

    public static EngineCase WithData(Random random, ConvGeometry geometry, bool bias) => new(
        geometry,
        Values(random, geometry.InputLength),
        Values(random, geometry.WeightLength),
        bias ? Values(random, geometry.OutputChannels) : []);

    /// <summary>
    /// A random geometry: ranks 1-3 (now and then a long last axis), strides up to 4, dilations, crops including a
    /// negative end crop, groups and depthwise, both layouts; channel counts per group from <paramref name="channelCounts"/>
    /// (1-5 for rank 3) and the batch from <paramref name="batch"/>. Shared with the backward-pass cases.
    /// </summary>
    internal static ConvGeometry Generate(Random random, int[] channelCounts, Func<Random, int> batch)
    {
        var rank = random.Next(1, 4);
        var axes = new AxisGeometry[rank];
        // Now and then a long last axis, so rows span several pixel tiles and work chunks.
        var longRows = rank < 3 && random.Next(5) == 0;
        for (var a = 0; a < rank; a++)
        {
            var input = longRows && a == rank - 1 ? random.Next(20, rank == 1 ? 300 : 80)
                : random.Next(1, rank == 1 ? 14 : rank == 2 ? 8 : 5);
            var kernel = random.Next(1, 6);
            var stride = random.Next(1, 5);
            var dilation = random.Next(3) == 0 ? random.Next(2, 4) : 1;
            var effective = dilation * (kernel - 1) + 1;
            var full = stride * (input - 1) + effective;
            var cropBegin = random.Next(0, Math.Min(effective, full));
            // End crop from -3 (output runs past the full result) to as much as leaves one output.
            var cropEnd = random.Next(-3, Math.Max(-2, full - cropBegin));
            axes[a] = new AxisGeometry(input, kernel, stride, dilation, cropBegin, Math.Max(1, full - cropBegin - cropEnd));
        }

        var groups = random.Next(4) switch { 0 => random.Next(2, 5), _ => 1 };
        var depthwise = groups > 1 && random.Next(3) == 0;
        int Pick() => rank == 3 ? random.Next(1, 6) : channelCounts[random.Next(channelCounts.Length)];
        var perGroupIn = depthwise ? 1 : Pick();
        var perGroupOut = depthwise ? random.Next(1, 3) : Pick();
        var layout = random.Next(2) == 0 ? DataLayout.ChannelsFirst : DataLayout.ChannelsLast;
        return new ConvGeometry(batch(random), groups * perGroupIn, groups * perGroupOut, groups, axes, layout);
    }

    internal static float[] Values(Random random, long length)
    {
        var values = new float[length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }

    /// <summary>The largest error of <paramref name="actual"/> relative to max(1, |expected|); NaN as infinite.</summary>
    public static double MaxRelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length)
        {
            return double.PositiveInfinity;
        }

        var worst = 0.0;
        for (var i = 0; i < actual.Length; i++)
        {
            var error = Math.Abs(actual[i] - expected[i]) / Math.Max(1.0, Math.Abs(expected[i]));
            worst = double.IsNaN(error) ? double.PositiveInfinity : Math.Max(worst, error);
        }

        return worst;
    }
}
