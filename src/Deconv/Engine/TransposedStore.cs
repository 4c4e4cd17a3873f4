using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Deconv.Engine;

/// <summary>
/// Writes a block of sums <c>[pixel][lane]</c> into channels-first output, where a lane's pixels are
/// contiguous: <c>y[lane*channelStride + p] = sums[p*rowStride + lane] + bias[lane]</c>. With AVX it
/// transposes 8 x 8 blocks in registers, so both sides move whole vectors; the additions are the same
/// single roundings either way.
/// </summary>
internal static unsafe class TransposedStore
{
    public static void ChannelsFirst(float* sums, int rowStride, int pixels, int lanes, float* bias, float* y, long channelStride)
    {
        var lane = 0;
        if (Avx.IsSupported)
        {
            for (; lane + 8 <= lanes; lane += 8)
            {
                var p = 0;
                for (; p + 8 <= pixels; p += 8)
                {
                    Block8x8(sums + p * rowStride + lane, rowStride, bias + lane, y + lane * channelStride + p, channelStride);
                }

                Scalar(sums + lane, rowStride, p, pixels, 8, bias + lane, y + lane * channelStride, channelStride);
            }
        }

        Scalar(sums + lane, rowStride, 0, pixels, lanes - lane, bias + lane, y + lane * channelStride, channelStride);
    }

    private static void Scalar(float* sums, int rowStride, int firstPixel, int pixels, int lanes, float* bias, float* y, long channelStride)
    {
        for (var lane = 0; lane < lanes; lane++)
        {
            var target = y + lane * channelStride;
            var laneBias = bias[lane];
            for (var p = firstPixel; p < pixels; p++)
            {
                target[p] = sums[p * rowStride + lane] + laneBias;
            }
        }
    }

    /// <summary>Rows r0..r7 (8 pixels, 8 lanes each) to columns (8 lanes, 8 pixels each): unpack, shuffle, swap halves.</summary>
    private static void Block8x8(float* sums, int rowStride, float* bias, float* y, long channelStride)
    {
        var r0 = Avx.LoadVector256(sums);
        var r1 = Avx.LoadVector256(sums + rowStride);
        var r2 = Avx.LoadVector256(sums + 2 * rowStride);
        var r3 = Avx.LoadVector256(sums + 3 * rowStride);
        var r4 = Avx.LoadVector256(sums + 4 * rowStride);
        var r5 = Avx.LoadVector256(sums + 5 * rowStride);
        var r6 = Avx.LoadVector256(sums + 6 * rowStride);
        var r7 = Avx.LoadVector256(sums + 7 * rowStride);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Store(Avx.Permute2x128(u0, u4, 0x20), bias[0], y);
        Store(Avx.Permute2x128(u1, u5, 0x20), bias[1], y + channelStride);
        Store(Avx.Permute2x128(u2, u6, 0x20), bias[2], y + 2 * channelStride);
        Store(Avx.Permute2x128(u3, u7, 0x20), bias[3], y + 3 * channelStride);
        Store(Avx.Permute2x128(u0, u4, 0x31), bias[4], y + 4 * channelStride);
        Store(Avx.Permute2x128(u1, u5, 0x31), bias[5], y + 5 * channelStride);
        Store(Avx.Permute2x128(u2, u6, 0x31), bias[6], y + 6 * channelStride);
        Store(Avx.Permute2x128(u3, u7, 0x31), bias[7], y + 7 * channelStride);
    }

    private static void Store(Vector256<float> column, float bias, float* target) =>
        Avx.Store(target, Avx.Add(column, Vector256.Create(bias)));
}
