using System.Numerics;

namespace Deconv.Reference;

/// <summary>
/// The transposed convolution as the textbook explains it: insert <c>stride-1</c> zeros between the
/// input values, pad with <c>dilated_kernel-1</c> zeros less the crop (a negative amount crops), and run
/// an ordinary stride-1 convolution (correlation, with the dilation) using the spatially flipped kernel
/// with input and output channels swapped inside each group.
/// </summary>
public static class GatherView
{
    /// <summary>Same contract as <see cref="ScatterView.ConvTranspose{T}"/>.</summary>
    public static T[] ConvTranspose<T>(ConvGeometry geometry, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias)
        where T : INumber<T>
    {
        Check.Lengths(geometry, x.Length, geometry.InputLength, w.Length, bias.Length, geometry.OutputChannels);
        var g = new Lifted(geometry);
        var y = new T[geometry.OutputLength];
        ScatterView.AddBias(g, y, bias);
        for (var n = 0; n < g.N; n++)
        for (var c = 0; c < g.C; c++)
        {
            // grid: [O0 + EK0 - 1, O1 + EK1 - 1, O2 + EK2 - 1], the zero-inserted, padded input channel.
            var grid = PaddedGrid(g, x, n, c, out var l1, out var l2);
            var group = c / g.Cg;
            for (var j = 0; j < g.Mg; j++)
            for (var o0 = 0; o0 < g.A0.Output; o0++)
            for (var o1 = 0; o1 < g.A1.Output; o1++)
            for (var o2 = 0; o2 < g.A2.Output; o2++)
            {
                var sum = T.Zero;
                for (var k0 = 0; k0 < g.A0.Kernel; k0++)
                for (var k1 = 0; k1 < g.A1.Kernel; k1++)
                for (var k2 = 0; k2 < g.A2.Kernel; k2++)
                {
                    // The flipped kernel: tap k of the correlation is tap K-1-k of w.
                    var flipped = w[(int)g.WeightIndex(c, j, g.A0.Kernel - 1 - k0, g.A1.Kernel - 1 - k1, g.A2.Kernel - 1 - k2)];
                    var t0 = o0 + k0 * g.A0.Dilation;
                    var t1 = o1 + k1 * g.A1.Dilation;
                    var t2 = o2 + k2 * g.A2.Dilation;
                    sum += grid[(((long)t0 * l1) + t1) * l2 + t2] * flipped;
                }

                y[g.OutputIndex(n, group * g.Mg + j, o0, o1, o2)] += sum;
            }
        }

        return y;
    }

    /// <summary>
    /// One input channel with <c>stride-1</c> zeros inserted and padded by <c>EK-1-crop_begin</c> at the start
    /// (negative: cropped); its lengths are <c>Output + EK - 1</c> per axis, exactly what a stride-1
    /// correlation with the dilated kernel needs to produce <c>Output</c> values.
    /// </summary>
    internal static T[] PaddedGrid<T>(Lifted g, ReadOnlySpan<T> x, int n, int c, out int l1, out int l2)
        where T : INumber<T>
    {
        var l0 = (int)(g.A0.Output + g.A0.EffectiveKernel - 1);
        l1 = (int)(g.A1.Output + g.A1.EffectiveKernel - 1);
        l2 = (int)(g.A2.Output + g.A2.EffectiveKernel - 1);
        var grid = new T[(long)l0 * l1 * l2];
        for (var t0 = 0; t0 < l0; t0++)
        for (var t1 = 0; t1 < l1; t1++)
        for (var t2 = 0; t2 < l2; t2++)
        {
            if (Source(g.A0, t0) is int i0 && Source(g.A1, t1) is int i1 && Source(g.A2, t2) is int i2)
            {
                grid[(((long)t0 * l1) + t1) * l2 + t2] = x[(int)g.InputIndex(n, c, i0, i1, i2)];
            }
        }

        return grid;
    }

    /// <summary>The input index at grid position t, or null where the grid holds an inserted or padding zero.</summary>
    private static int? Source(AxisGeometry a, int t)
    {
        // Position in the zero-inserted sequence (length (I-1)*S + 1) after padding EK-1-crop at the start.
        var u = t - (a.EffectiveKernel - 1 - a.CropBegin);
        return u >= 0 && u % a.Stride == 0 && u / a.Stride < a.Input ? (int)(u / a.Stride) : null;
    }
}
