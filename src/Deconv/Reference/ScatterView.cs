using System.Numerics;

namespace Deconv.Reference;

/// <summary>
/// The transposed convolution as its definition: every input value stamps a copy of the kernel,
/// scaled by that value, onto the output at <c>i*stride - crop_begin</c>, taps <c>dilation</c> apart;
/// stamps that fall outside the output are dropped.
/// </summary>
public static class ScatterView
{
    /// <summary>
    /// y = conv_transpose(x, w) + bias. x: <see cref="ConvGeometry.InputShape"/>; w: <c>[C, M/G, k...]</c>;
    /// bias: <c>[M]</c> or empty; returns <see cref="ConvGeometry.OutputShape"/>.
    /// </summary>
    public static T[] ConvTranspose<T>(ConvGeometry geometry, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias)
        where T : INumber<T>
    {
        Check.Lengths(geometry, x.Length, geometry.InputLength, w.Length, bias.Length, geometry.OutputChannels);
        var g = new Lifted(geometry);
        var y = new T[geometry.OutputLength];
        AddBias(g, y, bias);
        for (var n = 0; n < g.N; n++)
        for (var c = 0; c < g.C; c++)
        for (var i0 = 0; i0 < g.A0.Input; i0++)
        for (var i1 = 0; i1 < g.A1.Input; i1++)
        for (var i2 = 0; i2 < g.A2.Input; i2++)
        {
            var value = x[(int)g.InputIndex(n, c, i0, i1, i2)];
            var group = c / g.Cg;
            // Stamp w[c, :, ...] * value with its corner at i*S - crop.
            for (var j = 0; j < g.Mg; j++)
            for (var k0 = 0; k0 < g.A0.Kernel; k0++)
            for (var k1 = 0; k1 < g.A1.Kernel; k1++)
            for (var k2 = 0; k2 < g.A2.Kernel; k2++)
            {
                var o0 = i0 * g.A0.Stride + k0 * g.A0.Dilation - g.A0.CropBegin;
                var o1 = i1 * g.A1.Stride + k1 * g.A1.Dilation - g.A1.CropBegin;
                var o2 = i2 * g.A2.Stride + k2 * g.A2.Dilation - g.A2.CropBegin;
                if ((uint)o0 < (uint)g.A0.Output && (uint)o1 < (uint)g.A1.Output && (uint)o2 < (uint)g.A2.Output)
                {
                    y[g.OutputIndex(n, group * g.Mg + j, o0, o1, o2)] += value * w[(int)g.WeightIndex(c, j, k0, k1, k2)];
                }
            }
        }

        return y;
    }

    internal static void AddBias<T>(Lifted g, T[] y, ReadOnlySpan<T> bias)
        where T : INumber<T>
    {
        if (bias.IsEmpty)
        {
            return;
        }

        for (var n = 0; n < g.N; n++)
        for (var m = 0; m < g.M; m++)
        for (var o0 = 0; o0 < g.A0.Output; o0++)
        for (var o1 = 0; o1 < g.A1.Output; o1++)
        for (var o2 = 0; o2 < g.A2.Output; o2++)
        {
            y[g.OutputIndex(n, m, o0, o1, o2)] = bias[m];
        }
    }
}
