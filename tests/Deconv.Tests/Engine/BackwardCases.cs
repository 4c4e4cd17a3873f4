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
            var g = Generate(random);
            if (g.MultiplyAdds <= maxMultiplyAdds)
            {
                return WithData(random, g, bias: random.Next(3) > 0);
            }
        }
    }

    public static BackwardCase WithData(Random random, ConvGeometry geometry, bool bias) => new(
        geometry,
        Values(random, geometry.OutputLength),
        Values(random, geometry.InputLength),
        Values(random, geometry.WeightLength),
        bias ? Values(random, geometry.InputChannels) : []);

    private static ConvGeometry Generate(Random random)
    {
        var rank = random.Next(1, 4);
        var axes = new AxisGeometry[rank];
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
            var cropEnd = random.Next(-3, Math.Max(-2, full - cropBegin));
            axes[a] = new AxisGeometry(input, kernel, stride, dilation, cropBegin, Math.Max(1, full - cropBegin - cropEnd));
        }

        var groups = random.Next(4) switch { 0 => random.Next(2, 5), _ => 1 };
        var depthwise = groups > 1 && random.Next(3) == 0;
        var perGroupIn = depthwise ? 1 : Pick(random, rank);
        var perGroupOut = depthwise ? random.Next(1, 3) : Pick(random, rank);
        var layout = random.Next(2) == 0 ? DataLayout.ChannelsFirst : DataLayout.ChannelsLast;
        var batch = random.Next(20) == 0 ? 0 : random.Next(1, 4);
        return new ConvGeometry(batch, groups * perGroupIn, groups * perGroupOut, groups, axes, layout);
    }

    private static int Pick(Random random, int rank) =>
        rank == 3 ? random.Next(1, 6) : ChannelCounts[random.Next(ChannelCounts.Length)];

    private static float[] Values(Random random, long length)
    {
        var values = new float[length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }
}
