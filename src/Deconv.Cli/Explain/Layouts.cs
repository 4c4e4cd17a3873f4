namespace Deconv.Cli.Explain;

/// <summary>Moves the channel axis of a data tensor between second place <c>[N, C, S...]</c> and last place <c>[N, S..., C]</c>.</summary>
internal static class Layouts
{
    /// <summary>data: <paramref name="shape"/> = <c>[N, C, S...]</c>; returns <c>[N, S..., C]</c>.</summary>
    public static float[] ToChannelsLast(float[] data, long[] shape)
    {
        var (n, c, spatial) = ((int)shape[0], (int)shape[1], (int)Shapes.Product(shape.AsSpan(2)));
        var result = new float[data.Length];
        for (var b = 0; b < n; b++)
        for (var ch = 0; ch < c; ch++)
        for (var s = 0; s < spatial; s++)
        {
            result[((b * spatial) + s) * c + ch] = data[((b * c) + ch) * spatial + s];
        }

        return result;
    }

    /// <summary>data: <paramref name="shape"/> = <c>[N, S..., C]</c>; returns <c>[N, C, S...]</c>.</summary>
    public static float[] ToChannelsFirst(float[] data, long[] shape)
    {
        var (n, c, spatial) = ((int)shape[0], (int)shape[^1], (int)Shapes.Product(shape.AsSpan(1, shape.Length - 2)));
        var result = new float[data.Length];
        for (var b = 0; b < n; b++)
        for (var ch = 0; ch < c; ch++)
        for (var s = 0; s < spatial; s++)
        {
            result[((b * c) + ch) * spatial + s] = data[((b * spatial) + s) * c + ch];
        }

        return result;
    }
}
