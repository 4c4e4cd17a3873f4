using System.Numerics;

namespace Deconv.Reference;

/// <summary>
/// The transposed convolution as a matrix product: build the forward convolution's matrix <c>C</c>
/// (rows: forward outputs <c>(c, i...)</c>; columns: forward inputs <c>(m, o...)</c>), one batch item at a
/// time, and compute <c>y = C^T x</c>. For small sizes only: the matrix has
/// <c>(C * prod I) x (M * prod O)</c> entries.
/// </summary>
public static class MatrixView
{
    /// <summary>Largest matrix built, in entries.</summary>
    public const long MaxEntries = 1 << 24;

    /// <summary>
    /// The forward convolution matrix for one batch item: <c>[C * prod(Input), M * prod(Output)]</c>, row-major,
    /// rows and columns ordered channels-first whatever the geometry's layout.
    /// </summary>
    public static T[,] ConvolutionMatrix<T>(ConvGeometry geometry, ReadOnlySpan<T> w)
        where T : INumber<T>
    {
        var single = new ConvGeometry(1, geometry.InputChannels, geometry.OutputChannels, geometry.Groups, geometry.Axes, DataLayout.ChannelsFirst);
        var rows = single.InputLength;
        var cols = single.OutputLength;
        if (rows * cols > MaxEntries)
        {
            throw new ConvolutionArgumentException($"the convolution matrix would have {rows} x {cols} entries; the matrix view is limited to {MaxEntries}", nameof(geometry));
        }

        Check.Lengths(single, rows, rows, w.Length, 0, 0);
        var g = new Lifted(single);
        var matrix = new T[rows, cols];
        for (var c = 0; c < g.C; c++)
        for (var i0 = 0; i0 < g.A0.Input; i0++)
        for (var i1 = 0; i1 < g.A1.Input; i1++)
        for (var i2 = 0; i2 < g.A2.Input; i2++)
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
                var row = g.InputIndex(0, c, i0, i1, i2);
                var col = g.OutputIndex(0, c / g.Cg * g.Mg + j, p0, p1, p2);
                matrix[row, col] += w[(int)g.WeightIndex(c, j, k0, k1, k2)];
            }
        }

        return matrix;
    }

    /// <summary>Same contract as <see cref="ScatterView.ConvTranspose{T}"/>, computed as <c>C^T x</c> per batch item.</summary>
    public static T[] ConvTranspose<T>(ConvGeometry geometry, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias)
        where T : INumber<T>
    {
        Check.Lengths(geometry, x.Length, geometry.InputLength, w.Length, bias.Length, geometry.OutputChannels);
        var matrix = ConvolutionMatrix(geometry, w);
        var first = new Lifted(geometry.WithLayout(DataLayout.ChannelsFirst));
        var g = new Lifted(geometry);
        var y = new T[geometry.OutputLength];
        ScatterView.AddBias(g, y, bias);
        for (var n = 0; n < g.N; n++)
        {
            // Rows of C are indexed like x, columns like y (channels-first, batch item 0).
            for (var c = 0; c < g.C; c++)
            for (var i0 = 0; i0 < g.A0.Input; i0++)
            for (var i1 = 0; i1 < g.A1.Input; i1++)
            for (var i2 = 0; i2 < g.A2.Input; i2++)
            {
                var row = first.InputIndex(0, c, i0, i1, i2);
                var value = x[(int)g.InputIndex(n, c, i0, i1, i2)];
                for (var m = 0; m < g.M; m++)
                for (var o0 = 0; o0 < g.A0.Output; o0++)
                for (var o1 = 0; o1 < g.A1.Output; o1++)
                for (var o2 = 0; o2 < g.A2.Output; o2++)
                {
                    y[g.OutputIndex(n, m, o0, o1, o2)] += matrix[row, first.OutputIndex(0, m, o0, o1, o2)] * value;
                }
            }
        }

        return y;
    }
}
