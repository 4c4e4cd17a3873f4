using System.Numerics.Tensors;

namespace Deconv.Tests.Gradients;

/// <summary>A PyTorch conv_transpose configuration: input <c>(N, C_in, L...)</c>, weight <c>(C_in, C_out/groups, k...)</c>.</summary>
internal sealed record TransposeCase(int Rank, long[] Input, long[] Weight, long[] Stride, long[] Padding, long[] OutputPadding, long Groups, long[] Dilation)
{
    public long OutChannels => Weight[1] * Groups;

    public long[] OutputShape => [Input[0], OutChannels, .. Enumerable.Range(0, Rank).Select(a =>
        Stride[a] * (Input[a + 2] - 1) - 2 * Padding[a] + Dilation[a] * (Weight[a + 2] - 1) + OutputPadding[a] + 1)];

    public override string ToString() =>
        $"rank {Rank} input [{string.Join(",", Input)}] weight [{string.Join(",", Weight)}] stride [{string.Join(",", Stride)}] padding [{string.Join(",", Padding)}] output_padding [{string.Join(",", OutputPadding)}] groups {Groups} dilation [{string.Join(",", Dilation)}]";

    /// <summary>Small random configurations, every rank, with strides, dilations, padding, output padding and groups.</summary>
    public static TransposeCase Random(int seed, bool outputPaddingBelowStride = false)
    {
        var random = new Random(seed);
        var rank = 1 + seed % 3;
        var groups = random.Next(1, 3);
        var batch = random.Next(1, 3);
        var inChannels = groups * random.Next(1, 3);
        var outPerGroup = random.Next(1, 3);
        long[] input = [batch, inChannels, .. new long[rank]];
        long[] weight = [inChannels, outPerGroup, .. new long[rank]];
        var (stride, padding, outputPadding, dilation) = (new long[rank], new long[rank], new long[rank], new long[rank]);
        for (var a = 0; a < rank; a++)
        {
            var small = rank == 3;
            input[a + 2] = random.Next(1, small ? 3 : 5);
            weight[a + 2] = random.Next(1, small ? 3 : 4);
            stride[a] = random.Next(1, 4);
            dilation[a] = random.Next(1, 3);
            outputPadding[a] = random.Next(0, (int)(outputPaddingBelowStride ? stride[a] : Math.Max(stride[a], dilation[a])));
            var full = stride[a] * (input[a + 2] - 1) + dilation[a] * (weight[a + 2] - 1) + 1 + outputPadding[a];
            padding[a] = random.Next(0, (int)Math.Min(3, (full - 1) / 2 + 1));
        }

        return new TransposeCase(rank, input, weight, stride, padding, outputPadding, groups, dilation);
    }
}

/// <summary>A PyTorch conv configuration: input <c>(N, C_in, L...)</c>, weight <c>(C_out, C_in/groups, k...)</c>.</summary>
internal sealed record ForwardCase(int Rank, long[] Input, long[] Weight, long[] Stride, TorchPadding Padding, long Groups, long[] Dilation)
{
    public override string ToString() =>
        $"rank {Rank} input [{string.Join(",", Input)}] weight [{string.Join(",", Weight)}] stride [{string.Join(",", Stride)}] padding {Padding} groups {Groups} dilation [{string.Join(",", Dilation)}]";

    /// <summary>Small random configurations, every rank; every fourth one with padding "same" (stride 1), some "valid".</summary>
    public static ForwardCase Random(int seed)
    {
        var random = new Random(seed);
        var rank = 1 + seed % 3;
        var mode = (seed / 3 % 4) switch { 0 => "same", 1 => "valid", _ => null };
        var groups = random.Next(1, 3);
        var batch = random.Next(1, 3);
        var inChannels = groups * random.Next(1, 3);
        var outChannels = groups * random.Next(1, 3);
        long[] input = [batch, inChannels, .. new long[rank]];
        long[] weight = [outChannels, inChannels / groups, .. new long[rank]];
        var (stride, padding, dilation) = (new long[rank], new long[rank], new long[rank]);
        for (var a = 0; a < rank; a++)
        {
            var small = rank == 3;
            weight[a + 2] = random.Next(1, small ? 3 : 4);
            stride[a] = mode == "same" ? 1 : random.Next(1, 4);
            dilation[a] = random.Next(1, 3);
            padding[a] = mode is null ? random.Next(0, 3) : 0;
            var ek = dilation[a] * (weight[a + 2] - 1) + 1;
            var least = Math.Max(1, ek - 2 * padding[a]);
            input[a + 2] = least + random.Next(0, small ? 2 : (int)stride[a] + 2);
        }

        return new ForwardCase(rank, input, weight, stride, mode is null ? TorchPadding.Of(padding) : TorchPadding.Parse(mode), groups, dilation);
    }
}

internal static class Data
{
    /// <summary>Uniform values in [-1, 1).</summary>
    public static Tensor<double> Uniform(Random random, long[] shape)
    {
        var data = new double[Shapes.Product(shape)];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = random.NextDouble() * 2 - 1;
        }

        return data.ToTensor(shape);
    }

    /// <summary>Small integers in [-4, 4]: every sum of products is exact in double, so identities hold bit for bit.</summary>
    public static Tensor<double> Integers(Random random, long[] shape)
    {
        var data = new double[Shapes.Product(shape)];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = random.Next(-4, 5);
        }

        return data.ToTensor(shape);
    }

    public static double Dot(Tensor<double> a, Tensor<double> b)
    {
        Assert.Equal(a.Shape(), b.Shape());
        return Dot(a.ToArray(), b.ToArray());
    }

    public static double Dot(double[] a, double[] b)
    {
        Assert.Equal(a.Length, b.Length);
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}

/// <summary>Central finite differences of a scalar function of one array.</summary>
internal static class FiniteDifference
{
    private const double Step = 1e-3;

    /// <summary>
    /// Checks <paramref name="analytic"/> against central differences of <paramref name="loss"/> at <paramref name="point"/>,
    /// at every coordinate or at most <paramref name="maxCoordinates"/> random ones; relative tolerance 1e-6.
    /// </summary>
    public static void Check(string what, double[] point, double[] analytic, Func<double[], double> loss, Random random, int maxCoordinates = 24)
    {
        Assert.Equal(point.Length, analytic.Length);
        var coordinates = point.Length <= maxCoordinates
            ? Enumerable.Range(0, point.Length)
            : Enumerable.Range(0, maxCoordinates).Select(_ => random.Next(point.Length));
        foreach (var i in coordinates)
        {
            var saved = point[i];
            point[i] = saved + Step;
            var plus = loss(point);
            point[i] = saved - Step;
            var minus = loss(point);
            point[i] = saved;
            var numeric = (plus - minus) / (2 * Step);
            var tolerance = 1e-6 * Math.Max(1, Math.Abs(numeric));
            Assert.True(Math.Abs(numeric - analytic[i]) <= tolerance,
                $"{what}[{i}]: analytic {analytic[i]:R}, central difference {numeric:R}");
        }
    }
}
