using System.Runtime.CompilerServices;
using Deconv.Reference;

namespace Deconv.Engine;

/// <summary>
/// The large side of a geometry (<see cref="ConvGeometry.OutputShape"/> data, M channels) copied
/// channels-last into a zero-padded buffer <c>[N, P0, P1, P2, M]</c> (pixels maybe spaced wider than M: see <see cref="PixelStride"/>), where position <c>o</c> of an axis
/// sits at <c>o + CropBegin</c>. Every read of the forward convolution and the weight gradient,
/// <c>i*Stride + k*Dilation - CropBegin</c>, then lands inside the buffer at <c>i*Stride + k*Dilation</c>,
/// so their inner loops need no bounds checks: out-of-range positions read the padding's zeros.
/// </summary>
internal sealed unsafe class PaddedLargeSide
{
    /// <summary>
    /// Floats after the buffer that a whole vector (up to two of 16 lanes) starting at a pixel's channel
    /// may read past the last channel; the lanes they feed are never stored.
    /// </summary>
    public const int Slack = 32;

    /// <summary>
    /// Most floats of the buffer that one channels-first copy writes when it takes several rows together (they stay in
    /// L2 while every block of 8 channels writes its part of each pixel). Rows of 32 positions of 64 channels copied one
    /// at a time, unet3d's input gradient read dy's 64 channel planes 128 bytes at a time; 12 rows at once, it ran 5-15%
    /// faster at 1 and 2 threads, its weight gradient 5-12% (in alternation); unet's whole 4.4 MB plane in one copy
    /// made its weight gradient up to 16% slower, in 128 KB parts the same as row by row.
    /// </summary>
    private const long MergedCopyFloats = 32 * 1024;

    private readonly Lifted _g;
    private readonly AlignedBuffer _buffer;
    private readonly int _padded0, _padded1, _padded2;
    private readonly int _pixelStride; // floats from one pixel to the next: see PixelStride

    private PaddedLargeSide(Lifted g, long padded0, long padded1, long padded2, long length)
    {
        _g = g;
        _pixelStride = PixelStride(g.M);
        (_padded0, _padded1, _padded2) = ((int)padded0, (int)padded1, (int)padded2);
        _buffer = new AlignedBuffer(length + Slack);
        Data = _buffer.Data;
    }

    /// <summary>The buffer's first element.</summary>
    public float* Data { get; }

    /// <summary>Floats held.</summary>
    public long Length => _buffer.Length;

    /// <summary>Rows (n, o0, o1) of the copy; each is O2 positions of M channels.</summary>
    public int Rows => _g.N * _g.A0.Output * _g.A1.Output;

    /// <summary>The buffer, or null when it would not fit an array.</summary>
    public static PaddedLargeSide? TryCreate(Lifted g)
    {
        long Padded(AxisGeometry a) => Math.Max((long)a.CropBegin + a.Output, a.FullLength);
        var (p0, p1, p2) = (Padded(g.A0), Padded(g.A1), Padded(g.A2));
        var length = Shapes.TryProduct([g.N, p0, p1, p2, PixelStride(g.M)]);
        return length is null || length > Array.MaxLength - Slack ? null : new PaddedLargeSide(g, p0, p1, p2, length.Value);
    }

    /// <summary>
    /// Floats from one pixel to the next: a tile reads several pixels at the same channel together, which with
    /// 512 channels at stride 2 (dcgan1's input gradient) are 4 KB apart and share L1 sets; spaced by
    /// <see cref="CacheSpacing"/>, dcgan1's input gradient ran 10-13% faster (AVX2, in alternation), dcgan2 2%,
    /// the weight gradients the same.
    /// </summary>
    private static int PixelStride(int channels) => (int)CacheSpacing.Stride(channels, from: 64);

    /// <summary>
    /// Offset, at channel 0, of the window start of small-side pixel (n, i0, i1, i2): padded position
    /// <c>i*Stride</c> on every axis.
    /// </summary>
    public int WindowOffset(int n, int i0, int i1, int i2) =>
        (int)(((((long)n * _padded0 + (long)i0 * _g.A0.Stride) * _padded1 + (long)i1 * _g.A1.Stride) * _padded2 + (long)i2 * _g.A2.Stride) * _pixelStride);

    /// <summary>Offset of tap (k0, k1, k2) from a window start.</summary>
    public int TapOffset(int k0, int k1, int k2) =>
        (int)(((((long)k0 * _g.A0.Dilation) * _padded1 + (long)k1 * _g.A1.Dilation) * _padded2 + (long)k2 * _g.A2.Dilation) * _pixelStride);

    /// <summary>
    /// Taps along the last axis whose values, channel after channel, are one contiguous run of the buffer: K2 with
    /// dilation 1 and pixels M/G floats apart (fewer than 64 channels, one group), else 1. The backward plans take such
    /// a run as one kernel tap of K2 x M/G values, summed in the same order.
    /// </summary>
    public int ContiguousTapRun => _g.A2.Kernel > 1 && _g.A2.Dilation == 1 && _pixelStride == _g.Mg ? _g.A2.Kernel : 1;

    /// <summary>The offsets of every tap, ascending in (k0, k1, k2); with <paramref name="run"/> (a divisor of K2), of the first of each run of taps.</summary>
    public int[] TapOffsets(int run = 1)
    {
        var offsets = new int[_g.A0.Kernel * _g.A1.Kernel * (_g.A2.Kernel / run)];
        var t = 0;
        for (var k0 = 0; k0 < _g.A0.Kernel; k0++)
        for (var k1 = 0; k1 < _g.A1.Kernel; k1++)
        for (var k2 = 0; k2 < _g.A2.Kernel; k2 += run)
        {
            offsets[t++] = TapOffset(k0, k1, k2);
        }

        return offsets;
    }

    /// <summary>The window offset of every small-side pixel, in order (n, i0, i1, i2).</summary>
    public int[] WindowOffsets()
    {
        var offsets = new int[(long)_g.N * _g.A0.Input * _g.A1.Input * _g.A2.Input];
        var p = 0;
        for (var n = 0; n < _g.N; n++)
        for (var i0 = 0; i0 < _g.A0.Input; i0++)
        for (var i1 = 0; i1 < _g.A1.Input; i1++)
        for (var i2 = 0; i2 < _g.A2.Input; i2++)
        {
            offsets[p++] = WindowOffset(n, i0, i1, i2);
        }

        return offsets;
    }

    /// <summary>
    /// Copies part <paramref name="part"/> of <paramref name="parts"/> of rows [<paramref name="firstRow"/>,
    /// <paramref name="endRow"/>) of <paramref name="large"/> (in the geometry's layout) into the buffer; the padding
    /// stays zero. Row r is (n, o0, o1) = ((n*O0 + o0)*O1 + o1). The parts split the positions of the rows in order,
    /// so one long row (hifigan's 16384 positions of 256 channels) is shared by the threads too. Rows that are neighbours
    /// in the buffer as in <paramref name="large"/> are copied together.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Fill(float* large, int firstRow, int endRow, int part, int parts)
    {
        var (o0, o1, o2, channels) = (_g.A0.Output, _g.A1.Output, _g.A2.Output, _g.M);
        var total = (long)(endRow - firstRow) * o2; // positions of the rows
        var (begin, end) = ((long)firstRow * o2 + total * part / parts, (long)firstRow * o2 + total * (part + 1) / parts);
        while (begin < end)
        {
            var r = (int)(begin / o2);
            var first = (int)(begin % o2);
            var count = (int)Math.Min(o2 - first, end - begin);
            if (_padded2 == o2)
            {
                // Without padding along the last axis, the rows of one (n, o0) plane are neighbours in the buffer as in
                // large: copied together up to MergedCopyFloats, channels-first each channel is read in one run.
                var planeLeft = (long)(o1 - r % o1) * o2 - first;
                count = (int)Math.Min(Math.Max(count, Math.Min(planeLeft, MergedCopyFloats / _pixelStride)), end - begin);
            }

            var (n, a, b) = (r / o1 / o0, r / o1 % o0, r % o1);
            var row = Data + ((((long)n * _padded0 + a + _g.A0.CropBegin) * _padded1 + b + _g.A1.CropBegin) * _padded2 + _g.A2.CropBegin + first) * _pixelStride;
            if (_g.Layout == DataLayout.ChannelsLast)
            {
                // large: [N, O0, O1, O2, M]: row r of O2*M is contiguous.
                Simd.CopyPixels(large + ((long)r * o2 + first) * channels, channels, count, row, _pixelStride);
            }
            else
            {
                // large: [N, M, O0, O1, O2]: the row's M x O2 block transposed.
                var source = large + (((long)n * channels * o0 + a) * o1 + b) * o2 + first;
                TransposedStore.ToChannelsLast(source, (long)o0 * o1 * o2, channels, count, row, _pixelStride);
            }

            begin += count;
        }
    }
}
