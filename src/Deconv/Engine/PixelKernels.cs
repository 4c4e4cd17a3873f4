using System.Runtime.CompilerServices;

namespace Deconv.Engine;

/// <summary>
/// Micro-kernels vectorised over output pixels, for few output channels: each vector holds consecutive
/// outputs of one phase along the last axis, which read consecutive inputs of one channels-first row.
/// A tile is one to four rows times two vectors (or one row of four) times 1, 3, 4, 6 or 12 output channels, accumulated over
/// (tap, input channel) in that order with one fused multiply-add per product, like
/// <see cref="TileKernels"/>, so both give the same bits.
/// </summary>
/// <remarks>
/// <c>r0..r3</c> point at each row's input (shift 0, the group's first channel, the tile's first pixel);
/// tap <c>t</c> of channel <c>c</c> reads <c>r + tapOffsets[t] + c*channelStride</c>. The weight panel
/// is <c>[tap][channel][1, 3, 4, 6 or 12 output channels]</c>. The tile is written as <c>tile[row][channel][pixel]</c>.
/// </remarks>
internal static unsafe class PixelKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FourChannels<TV, TS>(float* w, int* tapOffsets, int taps, int channels, long channelStride,
        float* r0, float* r1, float* tile)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        // a{row}{vector}{channel}
        TV a000 = TS.Zero, a001 = TS.Zero, a002 = TS.Zero, a003 = TS.Zero, a010 = TS.Zero, a011 = TS.Zero, a012 = TS.Zero, a013 = TS.Zero;
        TV a100 = TS.Zero, a101 = TS.Zero, a102 = TS.Zero, a103 = TS.Zero, a110 = TS.Zero, a111 = TS.Zero, a112 = TS.Zero, a113 = TS.Zero;
        for (var t = 0; t < taps; t++)
        {
            var p0 = r0 + tapOffsets[t];
            var p1 = r1 + tapOffsets[t];
            for (var c = 0; c < channels; c++)
            {
                var x00 = TS.Load(p0);
                var x01 = TS.Load(p0 + width);
                var x10 = TS.Load(p1);
                var x11 = TS.Load(p1 + width);
                p0 += channelStride;
                p1 += channelStride;
                var b = TS.Broadcast(w[0]);
                a000 = TS.Fma(x00, b, a000);
                a010 = TS.Fma(x01, b, a010);
                a100 = TS.Fma(x10, b, a100);
                a110 = TS.Fma(x11, b, a110);
                b = TS.Broadcast(w[1]);
                a001 = TS.Fma(x00, b, a001);
                a011 = TS.Fma(x01, b, a011);
                a101 = TS.Fma(x10, b, a101);
                a111 = TS.Fma(x11, b, a111);
                b = TS.Broadcast(w[2]);
                a002 = TS.Fma(x00, b, a002);
                a012 = TS.Fma(x01, b, a012);
                a102 = TS.Fma(x10, b, a102);
                a112 = TS.Fma(x11, b, a112);
                b = TS.Broadcast(w[3]);
                a003 = TS.Fma(x00, b, a003);
                a013 = TS.Fma(x01, b, a013);
                a103 = TS.Fma(x10, b, a103);
                a113 = TS.Fma(x11, b, a113);
                w += 4;
            }
        }

        var row = 2 * width; // one channel's pixels
        TS.Store(tile, a000);
        TS.Store(tile + width, a010);
        TS.Store(tile + row, a001);
        TS.Store(tile + row + width, a011);
        TS.Store(tile + 2 * row, a002);
        TS.Store(tile + 2 * row + width, a012);
        TS.Store(tile + 3 * row, a003);
        TS.Store(tile + 3 * row + width, a013);
        TS.Store(tile + 4 * row, a100);
        TS.Store(tile + 4 * row + width, a110);
        TS.Store(tile + 5 * row, a101);
        TS.Store(tile + 5 * row + width, a111);
        TS.Store(tile + 6 * row, a102);
        TS.Store(tile + 6 * row + width, a112);
        TS.Store(tile + 7 * row, a103);
        TS.Store(tile + 7 * row + width, a113);
    }

    /// <summary>
    /// Two vectors, twelve output channels: 24 accumulators, for 512-bit vectors (32 registers). The two
    /// vectors start at <paramref name="v0"/> and <paramref name="v1"/>: one row (<c>v1 = v0 + width</c>)
    /// or two short rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TwelveChannels<TV, TS>(float* w, int* tapOffsets, int taps, int channels, long channelStride,
        float* v0, float* v1, float* tile)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        // a{vector}{channel}
        TV a000 = TS.Zero, a100 = TS.Zero, a001 = TS.Zero, a101 = TS.Zero, a002 = TS.Zero, a102 = TS.Zero, a003 = TS.Zero, a103 = TS.Zero, a004 = TS.Zero, a104 = TS.Zero, a005 = TS.Zero, a105 = TS.Zero, a006 = TS.Zero, a106 = TS.Zero, a007 = TS.Zero, a107 = TS.Zero, a008 = TS.Zero, a108 = TS.Zero, a009 = TS.Zero, a109 = TS.Zero, a010 = TS.Zero, a110 = TS.Zero, a011 = TS.Zero, a111 = TS.Zero;
        for (var t = 0; t < taps; t++)
        {
            var p0 = v0 + tapOffsets[t];
            var p1 = v1 + tapOffsets[t];
            for (var c = 0; c < channels; c++)
            {
                var x0 = TS.Load(p0);
                var x1 = TS.Load(p1);
                p0 += channelStride;
                p1 += channelStride;
                TV b;
                b = TS.Broadcast(w[0]);
                a000 = TS.Fma(x0, b, a000);
                a100 = TS.Fma(x1, b, a100);
                b = TS.Broadcast(w[1]);
                a001 = TS.Fma(x0, b, a001);
                a101 = TS.Fma(x1, b, a101);
                b = TS.Broadcast(w[2]);
                a002 = TS.Fma(x0, b, a002);
                a102 = TS.Fma(x1, b, a102);
                b = TS.Broadcast(w[3]);
                a003 = TS.Fma(x0, b, a003);
                a103 = TS.Fma(x1, b, a103);
                b = TS.Broadcast(w[4]);
                a004 = TS.Fma(x0, b, a004);
                a104 = TS.Fma(x1, b, a104);
                b = TS.Broadcast(w[5]);
                a005 = TS.Fma(x0, b, a005);
                a105 = TS.Fma(x1, b, a105);
                b = TS.Broadcast(w[6]);
                a006 = TS.Fma(x0, b, a006);
                a106 = TS.Fma(x1, b, a106);
                b = TS.Broadcast(w[7]);
                a007 = TS.Fma(x0, b, a007);
                a107 = TS.Fma(x1, b, a107);
                b = TS.Broadcast(w[8]);
                a008 = TS.Fma(x0, b, a008);
                a108 = TS.Fma(x1, b, a108);
                b = TS.Broadcast(w[9]);
                a009 = TS.Fma(x0, b, a009);
                a109 = TS.Fma(x1, b, a109);
                b = TS.Broadcast(w[10]);
                a010 = TS.Fma(x0, b, a010);
                a110 = TS.Fma(x1, b, a110);
                b = TS.Broadcast(w[11]);
                a011 = TS.Fma(x0, b, a011);
                a111 = TS.Fma(x1, b, a111);
                w += 12;
            }
        }

        var row = 2 * width; // one channel's pixels
        TS.Store(tile + 0 * row, a000);
        TS.Store(tile + 0 * row + width, a100);
        TS.Store(tile + 1 * row, a001);
        TS.Store(tile + 1 * row + width, a101);
        TS.Store(tile + 2 * row, a002);
        TS.Store(tile + 2 * row + width, a102);
        TS.Store(tile + 3 * row, a003);
        TS.Store(tile + 3 * row + width, a103);
        TS.Store(tile + 4 * row, a004);
        TS.Store(tile + 4 * row + width, a104);
        TS.Store(tile + 5 * row, a005);
        TS.Store(tile + 5 * row + width, a105);
        TS.Store(tile + 6 * row, a006);
        TS.Store(tile + 6 * row + width, a106);
        TS.Store(tile + 7 * row, a007);
        TS.Store(tile + 7 * row + width, a107);
        TS.Store(tile + 8 * row, a008);
        TS.Store(tile + 8 * row + width, a108);
        TS.Store(tile + 9 * row, a009);
        TS.Store(tile + 9 * row + width, a109);
        TS.Store(tile + 10 * row, a010);
        TS.Store(tile + 10 * row + width, a110);
        TS.Store(tile + 11 * row, a011);
        TS.Store(tile + 11 * row + width, a111);
    }

    /// <summary>
    /// Two vectors, six output channels: 12 accumulators + 2 inputs + 1 weight = 15 registers, for 256-bit vectors
    /// (AVX2 has 16). Like <see cref="TwelveChannels"/>, the two vectors start at <paramref name="v0"/> and
    /// <paramref name="v1"/>, and the tile is <c>[channel][vector]</c>. With <paramref name="pairs"/> the six channels
    /// are 3 output channels x 2 merged phases (channel j's even outputs are lane 2j, its odd ones lane 2j + 1), written
    /// straight to channel j's 4W outputs at <c>pairs + j * pairStride</c> with <c>pairBias[j]</c> added, not to the tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SixChannels<TV, TS>(float* w, int* tapOffsets, int taps, int channels, long channelStride,
        float* v0, float* v1, float* tile, float* pairs = null, long pairStride = 0, float* pairBias = null)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        // a{vector}{channel}
        TV a000 = TS.Zero, a100 = TS.Zero, a001 = TS.Zero, a101 = TS.Zero, a002 = TS.Zero, a102 = TS.Zero;
        TV a003 = TS.Zero, a103 = TS.Zero, a004 = TS.Zero, a104 = TS.Zero, a005 = TS.Zero, a105 = TS.Zero;
        // The input is left to the hardware prefetchers. (Asked for 8 channels ahead, unet had run 2-4% faster in session 8;
        // in session 10, call by call on one plan, it ran 0-2% slower at 1 and 2 threads in quiet stretches and up to 11%
        // slower at 2 threads in a busy one, and timed beside ORT call by call its calls slowed 1.40-1.53x in the machine's
        // busy stretches against 1.25-1.28x without the requests: they take load slots the busy neighbours contend for.)
        for (var t = 0; t < taps; t++)
        {
            var p0 = v0 + tapOffsets[t];
            var p1 = v1 + tapOffsets[t];
            for (var c = 0; c < channels; c++)
            {
                var x0 = TS.Load(p0);
                var x1 = TS.Load(p1);
                p0 += channelStride;
                p1 += channelStride;
                TV b;
                b = TS.Broadcast(w[0]);
                a000 = TS.Fma(x0, b, a000);
                a100 = TS.Fma(x1, b, a100);
                b = TS.Broadcast(w[1]);
                a001 = TS.Fma(x0, b, a001);
                a101 = TS.Fma(x1, b, a101);
                b = TS.Broadcast(w[2]);
                a002 = TS.Fma(x0, b, a002);
                a102 = TS.Fma(x1, b, a102);
                b = TS.Broadcast(w[3]);
                a003 = TS.Fma(x0, b, a003);
                a103 = TS.Fma(x1, b, a103);
                b = TS.Broadcast(w[4]);
                a004 = TS.Fma(x0, b, a004);
                a104 = TS.Fma(x1, b, a104);
                b = TS.Broadcast(w[5]);
                a005 = TS.Fma(x0, b, a005);
                a105 = TS.Fma(x1, b, a105);
                w += 6;
            }
        }

        if (pairs != null)
        {
            StorePair<TV, TS>(a000, a001, a100, a101, pairBias[0], pairs);
            StorePair<TV, TS>(a002, a003, a102, a103, pairBias[1], pairs + pairStride);
            StorePair<TV, TS>(a004, a005, a104, a105, pairBias[2], pairs + 2 * pairStride);
            return;
        }

        var row = 2 * width; // one channel's pixels
        TS.Store(tile + 0 * row, a000);
        TS.Store(tile + 0 * row + width, a100);
        TS.Store(tile + 1 * row, a001);
        TS.Store(tile + 1 * row + width, a101);
        TS.Store(tile + 2 * row, a002);
        TS.Store(tile + 2 * row + width, a102);
        TS.Store(tile + 3 * row, a003);
        TS.Store(tile + 3 * row + width, a103);
        TS.Store(tile + 4 * row, a004);
        TS.Store(tile + 4 * row + width, a104);
        TS.Store(tile + 5 * row, a005);
        TS.Store(tile + 5 * row + width, a105);
    }

    /// <summary>
    /// Two vectors at each of <paramref name="r0"/> and <paramref name="r1"/>, three output channels: two rows, or one
    /// row of four vectors (<c>r1 = r0 + 2W</c>). Sum <c>(r, v, j)</c> goes to <c>tile[r*rowStep + j*channelStep + v*W]</c>:
    /// <c>[row][channel][pixel]</c> (rowStep 6W, channelStep 2W) or, for one row, <c>[channel][pixel]</c> (2W, 4W).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ThreeChannels<TV, TS>(float* w, int* tapOffsets, int taps, int channels, long channelStride,
        float* r0, float* r1, float* tile, int rowStep, int channelStep)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        // a{row}{vector}{channel}
        TV a000 = TS.Zero, a001 = TS.Zero, a002 = TS.Zero, a010 = TS.Zero, a011 = TS.Zero, a012 = TS.Zero;
        TV a100 = TS.Zero, a101 = TS.Zero, a102 = TS.Zero, a110 = TS.Zero, a111 = TS.Zero, a112 = TS.Zero;
        for (var t = 0; t < taps; t++)
        {
            var p0 = r0 + tapOffsets[t];
            var p1 = r1 + tapOffsets[t];
            for (var c = 0; c < channels; c++)
            {
                // The three weights stay in registers while each input vector is loaded once and used three
                // times: 12 accumulators + 3 weights + 1 input = 16 registers, all AVX2 has (holding the four
                // inputs instead needs 17, and the spill made dcgan4 2x slower with 256-bit vectors).
                var w0 = TS.Broadcast(w[0]);
                var w1 = TS.Broadcast(w[1]);
                var w2 = TS.Broadcast(w[2]);
                var x = TS.Load(p0);
                a000 = TS.Fma(x, w0, a000);
                a001 = TS.Fma(x, w1, a001);
                a002 = TS.Fma(x, w2, a002);
                x = TS.Load(p0 + width);
                a010 = TS.Fma(x, w0, a010);
                a011 = TS.Fma(x, w1, a011);
                a012 = TS.Fma(x, w2, a012);
                x = TS.Load(p1);
                a100 = TS.Fma(x, w0, a100);
                a101 = TS.Fma(x, w1, a101);
                a102 = TS.Fma(x, w2, a102);
                x = TS.Load(p1 + width);
                a110 = TS.Fma(x, w0, a110);
                a111 = TS.Fma(x, w1, a111);
                a112 = TS.Fma(x, w2, a112);
                p0 += channelStride;
                p1 += channelStride;
                w += 3;
            }
        }

        var t1 = tile + rowStep;
        TS.Store(tile, a000);
        TS.Store(tile + width, a010);
        TS.Store(tile + channelStep, a001);
        TS.Store(tile + channelStep + width, a011);
        TS.Store(tile + 2 * channelStep, a002);
        TS.Store(tile + 2 * channelStep + width, a012);
        TS.Store(t1, a100);
        TS.Store(t1 + width, a110);
        TS.Store(t1 + channelStep, a101);
        TS.Store(t1 + channelStep + width, a111);
        TS.Store(t1 + 2 * channelStep, a102);
        TS.Store(t1 + 2 * channelStep + width, a112);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OneChannel<TV, TS>(float* w, int* tapOffsets, int taps, int channels, long channelStride,
        float* r0, float* r1, float* r2, float* r3, float* tile)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        TV a00 = TS.Zero, a01 = TS.Zero, a10 = TS.Zero, a11 = TS.Zero, a20 = TS.Zero, a21 = TS.Zero, a30 = TS.Zero, a31 = TS.Zero;
        for (var t = 0; t < taps; t++)
        {
            var offset = tapOffsets[t];
            float* p0 = r0 + offset, p1 = r1 + offset, p2 = r2 + offset, p3 = r3 + offset;
            for (var c = 0; c < channels; c++)
            {
                var b = TS.Broadcast(*w++);
                a00 = TS.Fma(TS.Load(p0), b, a00);
                a01 = TS.Fma(TS.Load(p0 + width), b, a01);
                a10 = TS.Fma(TS.Load(p1), b, a10);
                a11 = TS.Fma(TS.Load(p1 + width), b, a11);
                a20 = TS.Fma(TS.Load(p2), b, a20);
                a21 = TS.Fma(TS.Load(p2 + width), b, a21);
                a30 = TS.Fma(TS.Load(p3), b, a30);
                a31 = TS.Fma(TS.Load(p3 + width), b, a31);
                p0 += channelStride;
                p1 += channelStride;
                p2 += channelStride;
                p3 += channelStride;
            }
        }

        TS.Store(tile, a00);
        TS.Store(tile + width, a01);
        TS.Store(tile + 2 * width, a10);
        TS.Store(tile + 3 * width, a11);
        TS.Store(tile + 4 * width, a20);
        TS.Store(tile + 5 * width, a21);
        TS.Store(tile + 6 * width, a30);
        TS.Store(tile + 7 * width, a31);
    }

    /// <summary>
    /// One output channel's two phases (even and odd outputs) of two vectors of pixels each,
    /// interleaved into 4W neighbouring outputs: <c>y[2i] = even[i] + bias, y[2i + 1] = odd[i] + bias</c> over the two vectors in turn.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePair<TV, TS>(TV even0, TV odd0, TV even1, TV odd1, float bias, float* y)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        var biasVector = TS.Broadcast(bias);
        var (low, high) = TS.Zip(even0, odd0);
        TS.Store(y, TS.Add(low, biasVector));
        TS.Store(y + width, TS.Add(high, biasVector));
        (low, high) = TS.Zip(even1, odd1);
        TS.Store(y + 2 * width, TS.Add(low, biasVector));
        TS.Store(y + 3 * width, TS.Add(high, biasVector));
    }
}
