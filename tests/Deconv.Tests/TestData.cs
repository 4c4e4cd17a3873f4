namespace Deconv.Tests;

/// <summary>Random data, inner products and axis permutations for tests (independent of the library's own converters).</summary>
internal static class TestData
{
    /// <summary>Small integers in [-3, 3]: every sum of products is exact in float and double.</summary>
    public static double[] SmallInts(Random random, long length) =>
        [.. Enumerable.Range(0, checked((int)length)).Select(_ => (double)random.Next(-3, 4))];

    /// <summary>Small non-zero integers in [-3, 3]: no accidental zero hides a misplaced value.</summary>
    public static double[] SmallIntsNonZero(Random random, long length) =>
        [.. Enumerable.Range(0, checked((int)length)).Select(_ => (double)(random.Next(1, 4) * (random.Next(2) * 2 - 1)))];

    /// <summary>Uniform reals in [-1, 1).</summary>
    public static double[] Reals(Random random, long length) =>
        [.. Enumerable.Range(0, checked((int)length)).Select(_ => random.NextDouble() * 2 - 1)];

    public static float[] ToFloat(double[] data) => [.. data.Select(v => (float)v)];

    public static double[] ToDouble(float[] data) => [.. data.Select(v => (double)v)];

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

    /// <summary>Sum of absolute products: the scale against which rounding in <see cref="Dot"/> is judged.</summary>
    public static double AbsDot(double[] a, double[] b) => a.Zip(b, (x, y) => Math.Abs(x * y)).Sum();

    /// <summary>
    /// Row-major array <paramref name="data"/> of shape <paramref name="shape"/> with its axes reordered:
    /// result axis <c>r</c> is source axis <c>order[r]</c>.
    /// </summary>
    public static T[] Permute<T>(T[] data, long[] shape, int[] order)
    {
        var rank = shape.Length;
        var sourceStrides = new long[rank];
        long stride = 1;
        for (var a = rank - 1; a >= 0; a--)
        {
            sourceStrides[a] = stride;
            stride *= shape[a];
        }

        Assert.Equal(stride, data.LongLength);
        var resultShape = order.Select(a => shape[a]).ToArray();
        var result = new T[data.Length];
        var index = new long[rank];
        for (long flat = 0; flat < data.LongLength; flat++)
        {
            long source = 0;
            for (var r = 0; r < rank; r++)
            {
                source += index[r] * sourceStrides[order[r]];
            }

            result[flat] = data[source];
            for (var r = rank - 1; r >= 0; r--)
            {
                if (++index[r] < resultShape[r])
                {
                    break;
                }

                index[r] = 0;
            }
        }

        return result;
    }

    public static long[] PermuteShape(long[] shape, int[] order) => [.. order.Select(a => shape[a])];

    /// <summary>[N, C, s...] to [N, s..., C].</summary>
    public static int[] ToChannelsLast(int rank) => [0, .. Enumerable.Range(2, rank), 1];

    /// <summary>[N, s..., C] to [N, C, s...].</summary>
    public static int[] ToChannelsFirst(int rank) => [0, rank + 1, .. Enumerable.Range(1, rank)];

    /// <summary>Canonical weight [C, M/G, k...] to TensorFlow's [k..., M/G, C] (transposed-conv filter, or conv filter [k..., in/G, out]).</summary>
    public static int[] CanonicalToTfFilter(int rank) => [.. Enumerable.Range(2, rank), 1, 0];
}
