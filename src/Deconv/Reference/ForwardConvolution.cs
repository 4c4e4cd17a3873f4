using System.Numerics;

namespace Deconv.Reference;

/// <summary>
/// The forward convolution of a geometry (the adjoint of its transposed convolution), and the weight
/// gradient that both share. Read <see cref="ConvGeometry"/> backwards: the convolution maps data of
/// <see cref="ConvGeometry.OutputShape"/> to <see cref="ConvGeometry.InputShape"/>.
/// </summary>
public static class ForwardConvolution
{
    /// <summary>
    /// x: <see cref="ConvGeometry.OutputShape"/> (M channels); w: <c>[C, M/G, k...]</c>, the ONNX/PyTorch Conv
    /// weight; bias: <c>[C]</c> or empty; returns <see cref="ConvGeometry.InputShape"/>:
    /// <c>y[n, c, i] = bias[c] + sum_{j,k} x[n, g*M/G + j, i*S + k*D - crop_begin] * w[c, j, k]</c>.
    /// </summary>
    public static T[] Conv<T>(ConvGeometry geometry, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias)
        where T : INumber<T>
    {
        Check.Lengths(geometry, x.Length, geometry.OutputLength, w.Length, bias.Length, geometry.InputChannels);
        var g = new Lifted(geometry);
        var y = new T[geometry.InputLength];
        for (var n = 0; n < g.N; n++)
        for (var c = 0; c < g.C; c++)
        for (var i0 = 0; i0 < g.A0.Input; i0++)
        for (var i1 = 0; i1 < g.A1.Input; i1++)
        for (var i2 = 0; i2 < g.A2.Input; i2++)
        {
            var sum = bias.IsEmpty ? T.Zero : bias[c];
            var group = c / g.Cg;
            for (var j = 0; j < g.Mg; j++)
            for (var k0 = 0; k0 < g.A0.Kernel; k0++)
            for (var k1 = 0; k1 < g.A1.Kernel; k1++)
            for (var k2 = 0; k2 < g.A2.Kernel; k2++)
            {
                var p0 = i0 * g.A0.Stride + k0 * g.A0.Dilation - g.A0.CropBegin;
                var p1 = i1 * g.A1.Stride + k1 * g.A1.Dilation - g.A1.CropBegin;
                var p2 = i2 * g.A2.Stride + k2 * g.A2.Dilation - g.A2.CropBegin;
                if ((uint)p0 < (uint)g.A0.Output && (uint)p1 < (uint)g.A1.Output && (uint)p2 < (uint)g.A2.Output)
                {
                    sum += x[(int)g.OutputIndex(n, group * g.Mg + j, p0, p1, p2)] * w[(int)g.WeightIndex(c, j, k0, k1, k2)];
                }
            }

            y[g.InputIndex(n, c, i0, i1, i2)] = sum;
        }

        return y;
    }

    /// <summary>
    /// The weight gradient shared by the pair: for the forward convolution with input <paramref name="large"/>
    /// (<see cref="ConvGeometry.OutputShape"/>) and output gradient <paramref name="small"/>
    /// (<see cref="ConvGeometry.InputShape"/>), or equally the transposed convolution with input
    /// <paramref name="small"/> and output gradient <paramref name="large"/>:
    /// <c>dw[c, j, k] = sum_{n,i} large[n, g*M/G + j, i*S + k*D - crop_begin] * small[n, c, i]</c>. Returns <c>[C, M/G, k...]</c>.
    /// </summary>
    public static T[] WeightGradient<T>(ConvGeometry geometry, ReadOnlySpan<T> large, ReadOnlySpan<T> small)
        where T : INumber<T>
    {
        Check.Lengths(geometry, large.Length, geometry.OutputLength, geometry.WeightLength, 0, 0);
        Check.Lengths(geometry, small.Length, geometry.InputLength, geometry.WeightLength, 0, 0);
        var g = new Lifted(geometry);
        var dw = new T[geometry.WeightLength];
        for (var c = 0; c < g.C; c++)
        for (var j = 0; j < g.Mg; j++)
        for (var k0 = 0; k0 < g.A0.Kernel; k0++)
        for (var k1 = 0; k1 < g.A1.Kernel; k1++)
        for (var k2 = 0; k2 < g.A2.Kernel; k2++)
        {
            var sum = T.Zero;
            var m = c / g.Cg * g.Mg + j;
            for (var n = 0; n < g.N; n++)
            for (var i0 = 0; i0 < g.A0.Input; i0++)
            for (var i1 = 0; i1 < g.A1.Input; i1++)
            for (var i2 = 0; i2 < g.A2.Input; i2++)
            {
                var p0 = i0 * g.A0.Stride + k0 * g.A0.Dilation - g.A0.CropBegin;
                var p1 = i1 * g.A1.Stride + k1 * g.A1.Dilation - g.A1.CropBegin;
                var p2 = i2 * g.A2.Stride + k2 * g.A2.Dilation - g.A2.CropBegin;
                if ((uint)p0 < (uint)g.A0.Output && (uint)p1 < (uint)g.A1.Output && (uint)p2 < (uint)g.A2.Output)
                {
                    sum += large[(int)g.OutputIndex(n, m, p0, p1, p2)] * small[(int)g.InputIndex(n, c, i0, i1, i2)];
                }
            }

            dw[g.WeightIndex(c, j, k0, k1, k2)] = sum;
        }

        return dw;
    }
}
