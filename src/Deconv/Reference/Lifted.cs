namespace Deconv.Reference;

/// <summary>
/// A geometry with every missing spatial axis filled in as a unit axis (length 1, kernel 1), so the
/// reference loops are always three spatial loops deep, and with the flat offsets of both layouts.
/// </summary>
internal readonly struct Lifted
{
    public readonly int N, C, M, G, Cg, Mg;
    public readonly AxisGeometry A0, A1, A2; // outermost (depth) to innermost (width)
    public readonly DataLayout Layout;

    public Lifted(ConvGeometry g)
    {
        N = g.Batch;
        C = g.InputChannels;
        M = g.OutputChannels;
        G = g.Groups;
        Cg = g.InputChannelsPerGroup;
        Mg = g.OutputChannelsPerGroup;
        var axes = g.Axes;
        var pad = 3 - axes.Count;
        A0 = pad >= 1 ? AxisGeometry.Unit : axes[0 - pad];
        A1 = pad >= 2 ? AxisGeometry.Unit : axes[1 - pad];
        A2 = axes[2 - pad];
        Layout = g.Layout;
    }

    /// <summary>Offset of x[n, c, i0, i1, i2] in the transposed convolution's input (C channels, lengths Input).</summary>
    public long InputIndex(int n, int c, int i0, int i1, int i2) => Index(n, c, C, i0, i1, i2, A0.Input, A1.Input, A2.Input);

    /// <summary>Offset of y[n, m, o0, o1, o2] in the transposed convolution's output (M channels, lengths Output).</summary>
    public long OutputIndex(int n, int m, int o0, int o1, int o2) => Index(n, m, M, o0, o1, o2, A0.Output, A1.Output, A2.Output);

    /// <summary>
    /// Where input position (i0, i1, i2) lands through tap (k0, k1, k2): <c>o = i*S + k*D - crop_begin</c> on every
    /// axis; false when that falls outside the output (cropped).
    /// </summary>
    public bool Reaches(int i0, int i1, int i2, int k0, int k1, int k2, out int o0, out int o1, out int o2)
    {
        o0 = i0 * A0.Stride + k0 * A0.Dilation - A0.CropBegin;
        o1 = i1 * A1.Stride + k1 * A1.Dilation - A1.CropBegin;
        o2 = i2 * A2.Stride + k2 * A2.Dilation - A2.CropBegin;
        return (uint)o0 < (uint)A0.Output && (uint)o1 < (uint)A1.Output && (uint)o2 < (uint)A2.Output;
    }

    /// <summary>Offset of w[c, j, k0, k1, k2] in the weight <c>[C, M/G, k0, k1, k2]</c>.</summary>
    public long WeightIndex(int c, int j, int k0, int k1, int k2) =>
        ((((long)c * Mg + j) * A0.Kernel + k0) * A1.Kernel + k1) * A2.Kernel + k2;

    private long Index(int n, int c, int channels, int p0, int p1, int p2, int l0, int l1, int l2) => Layout == DataLayout.ChannelsFirst
        ? (((((long)n * channels + c) * l0 + p0) * l1 + p1) * l2) + p2
        : (((((long)n * l0 + p0) * l1 + p1) * l2 + p2) * channels) + c;
}
