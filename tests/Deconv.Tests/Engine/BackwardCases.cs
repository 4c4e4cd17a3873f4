using Deconv.Reference;

namespace Deconv.Tests.Engine;

/// <summary>
/// A random geometry with data for the two other passes: <see cref="Large"/> of <see cref="ConvGeometry.OutputShape"/>
/// (the forward convolution's input), <see cref="Small"/> of <see cref="ConvGeometry.InputShape"/> (the forward
/// convolution's output gradient), weight <c>[C, M/G, k...]</c> and a bias <c>[C]</c> or none.
/// </summary>
internal sealed record BackwardCase(ConvGeometry Geometry, float[] Large, float[] Small, float[] W, float[] Bias)
{
    /// <summary>The reference forward convolution of <see cref="Large"/>, in double from the same float data.</summary>
    public double[] ForwardReference() => ForwardConvolution.Conv<double>(Geometry, Widen(Large), Widen(W), Widen(Bias));

    /// <summary>The reference weight gradient, in double from the same float data.</summary>
    public double[] WeightGradientReference() => ForwardConvolution.WeightGradient<double>(Geometry, Widen(Large), Widen(Small));

    public override string ToString() => $"{Geometry} bias={Bias.Length > 0}";

    private static double[] Widen(float[] values) => [.. values.Select(v => (double)v)];
}

/// <summary>
/// Random configurations for the forward convolution and weight gradient plans: ranks 1-3, strides above
/// the kernel, dilation, crops including a negative end crop, groups and depthwise, both layouts, batch 0-3,
/// channel counts around the vector widths, the tile (6) and the weight gradient's channel block (96), and
/// now and then enough pixels to span several work chunks.
/// </summary>
internal static class BackwardCases
{
    private static readonly int[] ChannelCounts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 15, 16, 17, 23, 31, 32, 33, 37, 47, 49, 97];

    public static BackwardCase Random(Random random, long maxMultiplyAdds = 20_000)
    {
        while (true)
        {
            var g = EngineCases.Generate(random, ChannelCounts, r => r.Next(20) == 0 ? 0 : r.Next(1, 4));
            if (g.MultiplyAdds <= maxMultiplyAdds)
            {
                return WithData(random, g, bias: random.Next(3) > 0);
            }
        }
    }

    public static BackwardCase WithData(Random random, ConvGeometry geometry, bool bias) => new(
        geometry,
        EngineCases.Values(random, geometry.OutputLength),
        EngineCases.Values(random, geometry.InputLength),
        EngineCases.Values(random, geometry.WeightLength),
        bias ? EngineCases.Values(random, geometry.InputChannels) : []);

    /// <summary>
    /// Cases whose large side has 64 and 70 channels: their scratch pixels are 80 floats apart (5 cache lines),
    /// channels-last copied pixel by pixel, channels-first transposed into them.
    /// </summary>
    public static IEnumerable<BackwardCase> WithSpacedLargeSide(DataLayout layout, bool bias)
    {
        var axes = new[] { new AxisGeometry(3, 4, 2, 1, 1, 6), new AxisGeometry(5, 3, 2, 1, 0, 11) };
        return new[] { 64, 70 }.Select(m => WithData(new Random(m), new ConvGeometry(2, 5, m, 1, axes, layout), bias));
    }

    /// <summary>
    /// Cases whose large side has no padding along its last axis, so that rows of one plane are copied together: 32 x 32
    /// planes of 64 channels (80 floats a pixel), copied in parts of 409 positions that start and end inside rows (k = s
    /// = 2, 3-D), and 10 x 32 planes with padding along the middle axis (k = 3, s = 1).
    /// </summary>
    public static IEnumerable<BackwardCase> WithMergedRows(DataLayout layout, bool bias)
    {
        AxisGeometry[][] shapes =
        [
            [new AxisGeometry(3, 2, 2, 1, 0, 6), new AxisGeometry(16, 2, 2, 1, 0, 32), new AxisGeometry(16, 2, 2, 1, 0, 32)],
            [new AxisGeometry(10, 3, 1, 1, 1, 10), new AxisGeometry(30, 3, 1, 1, 0, 32)],
        ];
        return shapes.Select((axes, i) => WithData(new Random(20 + i), new ConvGeometry(2, 7, 64, 1, axes, layout), bias));
    }

    /// <summary>
    /// Geometries, in both layouts, whose runs of last-axis taps the backward plans take as one kernel tap (few
    /// large-side channels, dilation 1: the taps' pixels are neighbours in the copy) or must not, and whether they do.
    /// </summary>
    public static IEnumerable<(ConvGeometry Geometry, bool Merges)> MergedTapGeometries()
    {
        var axes = new[] { new AxisGeometry(6, 4, 2, 1, 1, 12), new AxisGeometry(9, 4, 2, 1, 1, 18) };
        var dilated = new[] { new AxisGeometry(6, 4, 2, 1, 1, 12), new AxisGeometry(9, 3, 2, 2, 1, 18) };
        var fcnKernel = new[] { new AxisGeometry(3, 64, 32, 1, 16, 64), new AxisGeometry(3, 64, 32, 1, 16, 64) };
        foreach (var layout in new[] { DataLayout.ChannelsFirst, DataLayout.ChannelsLast })
        {
            yield return (new ConvGeometry(2, 10, 3, 1, axes, layout), true); // dcgan4's shape: 3 channels x 4 taps in a run
            yield return (new ConvGeometry(2, 13, 21, 1, fcnKernel, layout), true); // fcn's: 21 x 64
            yield return (new ConvGeometry(1, 7, 21, 1, [new AxisGeometry(40, 7, 1, 1, 3, 40)], layout), true);
            yield return (new ConvGeometry(2, 10, 64, 1, axes, layout), false); // pixels spaced 80 floats apart
            yield return (new ConvGeometry(2, 10, 3, 1, dilated, layout), false);
            yield return (new ConvGeometry(2, 10, 6, 2, axes, layout), false); // a group's 3 channels of a pixel's 6
        }
    }

    /// <summary>The transposed engine's edge geometries and the backward passes' own (depthwise crops, few j per group).</summary>
    public static TheoryData<string, int, int, int, int, AxisGeometry[]> EdgeGeometries()
    {
        var data = ConvTransposePlanTests.EdgeGeometries();
        data.Add("depthwise, crop past the full result", 1, 20, 20, 20, [new AxisGeometry(9, 2, 2, 1, 40, 30)]);
        data.Add("depthwise, long rows, output past the full result", 2, 17, 17, 17, [new AxisGeometry(2, 3, 1, 1, 1, 4), new AxisGeometry(40, 3, 3, 2, 0, 140)]);
        data.Add("few j per group, many c", 2, 70, 3, 1, [new AxisGeometry(30, 4, 2, 1, 1, 60)]);
        return data;
    }
}
