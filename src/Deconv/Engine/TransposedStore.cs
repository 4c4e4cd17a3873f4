using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Deconv.Engine;

/// <summary>
/// Transposes between channels-last and channels-first blocks. <see cref="ChannelsFirst"/> writes a block of
/// sums <c>[pixel][lane]</c> into channels-first output, where a lane's pixels are
/// contiguous: <c>y[lane*channelStride + p] = sums[p*rowStride + lane] + bias[lane]</c>. With AVX it
/// transposes 8 x 8 blocks in registers, so both sides move whole vectors; the additions are the same
/// single roundings either way.
/// </summary>
internal static unsafe class TransposedStore
{
    /// <summary>
    /// <c>target[k*targetStride + c] = source[c*sourceStride + k]</c> for c &lt; rows, k &lt; columns: channels-first
    /// rows into channels-last, 8 x 8 blocks in registers where AVX is available.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToChannelsLast(float* source, long sourceStride, int rows, int columns, float* target, long targetStride)
    {
        var c = 0;
        if (Avx.IsSupported && rows < 8 && targetStride == rows)
        {
            FewToChannelsLast(source, sourceStride, rows, columns, target);
            return;
        }

        if (Avx.IsSupported)
        {
            for (; c + 8 <= rows; c += 8)
            {
                var k = 0;
                for (; k + 8 <= columns; k += 8)
                {
                    var (c0, c1, c2, c3, c4, c5, c6, c7) = Transpose8x8(source + c * sourceStride + k, sourceStride);
                    var to = target + k * targetStride + c;
                    Avx.Store(to, c0);
                    Avx.Store(to + targetStride, c1);
                    Avx.Store(to + 2 * targetStride, c2);
                    Avx.Store(to + 3 * targetStride, c3);
                    Avx.Store(to + 4 * targetStride, c4);
                    Avx.Store(to + 5 * targetStride, c5);
                    Avx.Store(to + 6 * targetStride, c6);
                    Avx.Store(to + 7 * targetStride, c7);
                }

                for (; k < columns; k++)
                {
                    for (var r = c; r < c + 8; r++)
                    {
                        target[k * targetStride + r] = source[r * sourceStride + k];
                    }
                }
            }
        }

        for (; c < rows; c++)
        {
            for (var k = 0; k < columns; k++)
            {
                target[k * targetStride + c] = source[c * sourceStride + k];
            }
        }
    }

    /// <summary>
    /// <see cref="ToChannelsLast"/> for fewer than 8 rows into dense pixels (target stride = rows; dcgan4's 3 channels):
    /// 8 columns at a time through the register transpose, each pixel stored as a whole vector whose lanes past the
    /// rows the next pixel's store overwrites. The last whole block stores its last pixels value by value: nothing may
    /// be written past the columns, where another thread's part of the row may begin. (One value at a time, the copy
    /// took 10% of dcgan4's input gradient.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FewToChannelsLast(float* source, long sourceStride, int rows, int columns, float* target)
    {
        var pixels = stackalloc Vector256<float>[8];
        var k = 0;
        for (; k + 8 <= columns; k += 8)
        {
            (pixels[0], pixels[1], pixels[2], pixels[3], pixels[4], pixels[5], pixels[6], pixels[7]) = Transpose8x8(source + k, sourceStride, rows);
            var to = target + k * rows;
            // A whole vector reaches 8 floats, less than the next 8 pixels: past the columns only in the last blocks.
            var lastWhole = k + 16 <= columns ? 7 : 8 - (8 + rows - 1) / rows; // else the last pixel j with j*rows + 8 <= 8*rows
            for (var j = 0; j < 8; j++)
            {
                if (j <= lastWhole)
                {
                    Avx.Store(to + j * rows, pixels[j]);
                    continue;
                }

                for (var r = 0; r < rows; r++)
                {
                    to[j * rows + r] = pixels[j].GetElement(r);
                }
            }
        }

        for (; k < columns; k++)
        {
            for (var r = 0; r < rows; r++)
            {
                target[k * rows + r] = source[r * sourceStride + k];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>
    /// One pixel's sums in 8 phases (<paramref name="phaseStride"/> apart) for 8 lanes, to 8 neighbouring outputs of each
    /// lane's channel: <c>y[lane * channelStride + phase] = sums[phase * phaseStride + lane] + bias[lane]</c>. Needs AVX.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EightPhases(float* sums, long phaseStride, float* bias, float* y, long channelStride) =>
        Block8x8(sums, phaseStride, bias, y, channelStride);

    /// <summary>
    /// Two phases' sums of 8 neighbouring pixels of a row (<paramref name="pixelStride"/> apart, the phases
    /// <paramref name="phaseStride"/> apart) for 8 lanes, to 16 neighbouring outputs of each lane's channel:
    /// <c>y[lane * channelStride + 2 * pixel + phase] = sums[phase * phaseStride + pixel * pixelStride + lane] + bias[lane]</c>.
    /// Needs AVX.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void TwoPhaseRows(float* sums, long pixelStride, long phaseStride, float* bias, float* y, long channelStride)
    {
        var (a0, a1, a2, a3, a4, a5, a6, a7) = Transpose8x8(sums, pixelStride); // lane l's 8 pixels, phase 0
        var (b0, b1, b2, b3, b4, b5, b6, b7) = Transpose8x8(sums + phaseStride, pixelStride);
        StorePair(a0, b0, bias[0], y);
        StorePair(a1, b1, bias[1], y + channelStride);
        StorePair(a2, b2, bias[2], y + 2 * channelStride);
        StorePair(a3, b3, bias[3], y + 3 * channelStride);
        StorePair(a4, b4, bias[4], y + 4 * channelStride);
        StorePair(a5, b5, bias[5], y + 5 * channelStride);
        StorePair(a6, b6, bias[6], y + 6 * channelStride);
        StorePair(a7, b7, bias[7], y + 7 * channelStride);
    }

    /// <summary><c>y[2i] = a[i] + bias, y[2i + 1] = b[i] + bias</c> for 8 values of each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePair(Vector256<float> a, Vector256<float> b, float bias, float* y)
    {
        var low = Avx.UnpackLow(a, b); // a0 b0 a1 b1 | a4 b4 a5 b5
        var high = Avx.UnpackHigh(a, b); // a2 b2 a3 b3 | a6 b6 a7 b7
        Store(Avx.Permute2x128(low, high, 0x20), bias, y);
        Store(Avx.Permute2x128(low, high, 0x31), bias, y + 8);
    }

    /// <summary>
    /// 8 values of each of <paramref name="count"/> phases (<paramref name="phaseStride"/> apart; count a multiple of 8) to
    /// 8 runs of <paramref name="count"/> neighbouring outputs: <c>y[count * i + k] = phases[k * phaseStride + i] + bias</c>,
    /// 8 phases at a time through the register transpose. Needs AVX.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PhaseRuns(float* phases, long phaseStride, int count, float bias, float* y)
    {
        var biasVector = Vector256.Create(bias);
        for (var k = 0; k < count; k += 8)
        {
            var (c0, c1, c2, c3, c4, c5, c6, c7) = Transpose8x8(phases + k * phaseStride, phaseStride);
            var to = y + k;
            Avx.Store(to, Avx.Add(c0, biasVector));
            Avx.Store(to + count, Avx.Add(c1, biasVector));
            Avx.Store(to + 2 * count, Avx.Add(c2, biasVector));
            Avx.Store(to + 3 * count, Avx.Add(c3, biasVector));
            Avx.Store(to + 4 * count, Avx.Add(c4, biasVector));
            Avx.Store(to + 5 * count, Avx.Add(c5, biasVector));
            Avx.Store(to + 6 * count, Avx.Add(c6, biasVector));
            Avx.Store(to + 7 * count, Avx.Add(c7, biasVector));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8x8(float* sums, long rowStride, float* bias, float* y, long channelStride)
    {
        var (c0, c1, c2, c3, c4, c5, c6, c7) = Transpose8x8(sums, rowStride);
        Store(c0, bias[0], y);
        Store(c1, bias[1], y + channelStride);
        Store(c2, bias[2], y + 2 * channelStride);
        Store(c3, bias[3], y + 3 * channelStride);
        Store(c4, bias[4], y + 4 * channelStride);
        Store(c5, bias[5], y + 5 * channelStride);
        Store(c6, bias[6], y + 6 * channelStride);
        Store(c7, bias[7], y + 7 * channelStride);
    }

    /// <summary>
    /// Rows r0..r7 (8 floats each, <paramref name="rowStride"/> apart; zeros from row <paramref name="rows"/> on, which
    /// are not read) to their columns: unpack, shuffle, swap halves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>)
        Transpose8x8(float* sums, long rowStride, int rows = 8)
    {
        var r0 = Avx.LoadVector256(sums);
        var r1 = rows > 1 ? Avx.LoadVector256(sums + rowStride) : Vector256<float>.Zero;
        var r2 = rows > 2 ? Avx.LoadVector256(sums + 2 * rowStride) : Vector256<float>.Zero;
        var r3 = rows > 3 ? Avx.LoadVector256(sums + 3 * rowStride) : Vector256<float>.Zero;
        var r4 = rows > 4 ? Avx.LoadVector256(sums + 4 * rowStride) : Vector256<float>.Zero;
        var r5 = rows > 5 ? Avx.LoadVector256(sums + 5 * rowStride) : Vector256<float>.Zero;
        var r6 = rows > 6 ? Avx.LoadVector256(sums + 6 * rowStride) : Vector256<float>.Zero;
        var r7 = rows > 7 ? Avx.LoadVector256(sums + 7 * rowStride) : Vector256<float>.Zero;
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
        return (Avx.Permute2x128(u0, u4, 0x20), Avx.Permute2x128(u1, u5, 0x20), Avx.Permute2x128(u2, u6, 0x20), Avx.Permute2x128(u3, u7, 0x20),
            Avx.Permute2x128(u0, u4, 0x31), Avx.Permute2x128(u1, u5, 0x31), Avx.Permute2x128(u2, u6, 0x31), Avx.Permute2x128(u3, u7, 0x31));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> column, float bias, float* target) =>
        Avx.Store(target, Avx.Add(column, Vector256.Create(bias)));
}
