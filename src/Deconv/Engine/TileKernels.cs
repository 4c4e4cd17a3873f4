using System.Runtime.CompilerServices;

namespace Deconv.Engine;

/// <summary>
/// Register-tiled micro-kernels of the implicit GEMM: a tile of <see cref="Pixels"/> output pixels times
/// one or two vectors of output channels, accumulated over (tap, input channel) in that fixed order,
/// each lane with one fused multiply-add per product. Every pixel is therefore summed in the same order
/// whatever tile or thread computes it.
/// </summary>
/// <remarks>
/// <c>x0..x5</c> point at each pixel's input (channels-last, zero-padded) at shift 0 and at the group's
/// first channel; tap <c>t</c> reads <c>x_p + tapOffsets[t] + c</c>. The weight panel is
/// <c>[tap][channel][2 or 1 vectors]</c>. The tile is written to <c>tile[pixel][lane]</c>. With
/// <c>continuing</c> the sums start from the tile's contents instead of zero, so a large weight panel can be
/// run in cache-sized blocks of taps: blocks over consecutive taps give the bits of one call over all taps.
/// </remarks>
internal static unsafe class TileKernels
{
    /// <summary>Output pixels per tile.</summary>
    public const int Pixels = 6;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TwoVectors<TV, TS>(float* w, int* tapOffsets, int taps, int channels,
        float* x0, float* x1, float* x2, float* x3, float* x4, float* x5, float* tile, bool continuing = false)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        var row = 2 * width;
        TV a00 = TS.Zero, a01 = TS.Zero, a10 = TS.Zero, a11 = TS.Zero, a20 = TS.Zero, a21 = TS.Zero;
        TV a30 = TS.Zero, a31 = TS.Zero, a40 = TS.Zero, a41 = TS.Zero, a50 = TS.Zero, a51 = TS.Zero;
        if (continuing)
        {
            (a00, a01, a10, a11) = (TS.Load(tile), TS.Load(tile + width), TS.Load(tile + row), TS.Load(tile + row + width));
            (a20, a21, a30, a31) = (TS.Load(tile + 2 * row), TS.Load(tile + 2 * row + width), TS.Load(tile + 3 * row), TS.Load(tile + 3 * row + width));
            (a40, a41, a50, a51) = (TS.Load(tile + 4 * row), TS.Load(tile + 4 * row + width), TS.Load(tile + 5 * row), TS.Load(tile + 5 * row + width));
        }

        for (var t = 0; t < taps; t++)
        {
            var offset = tapOffsets[t];
            float* p0 = x0 + offset, p1 = x1 + offset, p2 = x2 + offset, p3 = x3 + offset, p4 = x4 + offset, p5 = x5 + offset;
            for (var c = 0; c < channels; c++)
            {
                var w0 = TS.Load(w);
                var w1 = TS.Load(w + width);
                w += 2 * width;
                var b = TS.Broadcast(p0[c]);
                a00 = TS.Fma(b, w0, a00);
                a01 = TS.Fma(b, w1, a01);
                b = TS.Broadcast(p1[c]);
                a10 = TS.Fma(b, w0, a10);
                a11 = TS.Fma(b, w1, a11);
                b = TS.Broadcast(p2[c]);
                a20 = TS.Fma(b, w0, a20);
                a21 = TS.Fma(b, w1, a21);
                b = TS.Broadcast(p3[c]);
                a30 = TS.Fma(b, w0, a30);
                a31 = TS.Fma(b, w1, a31);
                b = TS.Broadcast(p4[c]);
                a40 = TS.Fma(b, w0, a40);
                a41 = TS.Fma(b, w1, a41);
                b = TS.Broadcast(p5[c]);
                a50 = TS.Fma(b, w0, a50);
                a51 = TS.Fma(b, w1, a51);
            }
        }

        TS.Store(tile, a00);
        TS.Store(tile + width, a01);
        TS.Store(tile + row, a10);
        TS.Store(tile + row + width, a11);
        TS.Store(tile + 2 * row, a20);
        TS.Store(tile + 2 * row + width, a21);
        TS.Store(tile + 3 * row, a30);
        TS.Store(tile + 3 * row + width, a31);
        TS.Store(tile + 4 * row, a40);
        TS.Store(tile + 4 * row + width, a41);
        TS.Store(tile + 5 * row, a50);
        TS.Store(tile + 5 * row + width, a51);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OneVector<TV, TS>(float* w, int* tapOffsets, int taps, int channels,
        float* x0, float* x1, float* x2, float* x3, float* x4, float* x5, float* tile, bool continuing = false)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero, a4 = TS.Zero, a5 = TS.Zero;
        if (continuing)
        {
            (a0, a1, a2) = (TS.Load(tile), TS.Load(tile + width), TS.Load(tile + 2 * width));
            (a3, a4, a5) = (TS.Load(tile + 3 * width), TS.Load(tile + 4 * width), TS.Load(tile + 5 * width));
        }

        for (var t = 0; t < taps; t++)
        {
            var offset = tapOffsets[t];
            float* p0 = x0 + offset, p1 = x1 + offset, p2 = x2 + offset, p3 = x3 + offset, p4 = x4 + offset, p5 = x5 + offset;
            for (var c = 0; c < channels; c++)
            {
                var w0 = TS.Load(w);
                w += width;
                a0 = TS.Fma(TS.Broadcast(p0[c]), w0, a0);
                a1 = TS.Fma(TS.Broadcast(p1[c]), w0, a1);
                a2 = TS.Fma(TS.Broadcast(p2[c]), w0, a2);
                a3 = TS.Fma(TS.Broadcast(p3[c]), w0, a3);
                a4 = TS.Fma(TS.Broadcast(p4[c]), w0, a4);
                a5 = TS.Fma(TS.Broadcast(p5[c]), w0, a5);
            }
        }

        TS.Store(tile, a0);
        TS.Store(tile + width, a1);
        TS.Store(tile + 2 * width, a2);
        TS.Store(tile + 3 * width, a3);
        TS.Store(tile + 4 * width, a4);
        TS.Store(tile + 5 * width, a5);
    }
}
