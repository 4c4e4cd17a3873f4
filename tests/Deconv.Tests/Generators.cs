using CsCheck;

namespace Deconv.Tests;

/// <summary>Random small canonical geometries for property tests.</summary>
internal static class Generators
{
    /// <summary>
    /// One axis with any lengths (input possibly 0), crop from 0 to one past the full result and output
    /// from 0 to a little past it, so both cropping and extension at either end occur.
    /// </summary>
    public static Gen<AxisGeometry> Axis(int maxInput) =>
        Gen.Select(Rarely(0, Gen.Int[1, maxInput]), Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[1, 3]).SelectMany((input, kernel, stride, dilation) =>
        {
            var full = input == 0 ? 0 : stride * (input - 1) + dilation * (kernel - 1) + 1;
            return Gen.Select(Gen.Int[0, full + 1], Rarely(0, Gen.Int[1, full + stride]), (crop, output) =>
                new AxisGeometry(input, kernel, stride, dilation, crop, output));
        });

    /// <summary>Rank 1 to 3, batch 0 to 2, 1 to 3 groups of 1 to 2 channels each way, either layout, limited work.</summary>
    public static Gen<ConvGeometry> Geometry(long maxWork = 30_000) =>
        Gen.Int[1, 3].SelectMany(rank => Axis(rank switch { 1 => 5, 2 => 3, _ => 2 }).Array[rank])
            .Select(Rarely(0, Gen.Int[1, 2]), Gen.Int[1, 3], Gen.Int[1, 2], Gen.Int[1, 2], Gen.Bool, (axes, batch, groups, cg, mg, last) =>
                new ConvGeometry(batch, groups * cg, groups * mg, groups, axes, last ? DataLayout.ChannelsLast : DataLayout.ChannelsFirst))
            .Where(g => Work(g) <= maxWork);

    /// <summary>Mostly <paramref name="usual"/>, one time in 30 the edge value <paramref name="edge"/>.</summary>
    public static Gen<int> Rarely(int edge, Gen<int> usual) => Gen.Frequency((1, Gen.Const(edge)), (29, usual));

    /// <summary>Rough cost of the slowest reference view (the matrix view) on a geometry.</summary>
    public static long Work(ConvGeometry g) =>
        Math.Max(1, g.Batch) * (g.InputLength / Math.Max(1, g.Batch) + 1) * (g.OutputLength / Math.Max(1, g.Batch) + 1)
        + g.Batch * g.OutputLength * g.InputChannels * g.Axes.Aggregate(1L, (p, a) => p * a.Kernel);
}
