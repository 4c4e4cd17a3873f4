using System.Runtime.CompilerServices;

namespace Deconv.Engine;

/// <summary>
/// <see cref="TileKernels"/> that continue sums already in the tile instead of starting from zero: the
/// same fused multiply-add chains, cut into blocks of taps so that a block of a large weight panel is
/// reused by many tiles while it is in cache. Started from a zeroed tile and run over consecutive tap
/// blocks, they give exactly the bits of one <see cref="TileKernels"/> call over all taps.
/// </summary>
internal static unsafe class ContinuingTileKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TwoVectors<TV, TS>(float* w, int* tapOffsets, int taps, int channels,
        float* x0, float* x1, float* x2, float* x3, float* x4, float* x5, float* tile)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        var row = 2 * width;
        TV a00 = TS.Load(tile), a01 = TS.Load(tile + width);
        TV a10 = TS.Load(tile + row), a11 = TS.Load(tile + row + width);
        TV a20 = TS.Load(tile + 2 * row), a21 = TS.Load(tile + 2 * row + width);
        TV a30 = TS.Load(tile + 3 * row), a31 = TS.Load(tile + 3 * row + width);
        TV a40 = TS.Load(tile + 4 * row), a41 = TS.Load(tile + 4 * row + width);
        TV a50 = TS.Load(tile + 5 * row), a51 = TS.Load(tile + 5 * row + width);
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
        float* x0, float* x1, float* x2, float* x3, float* x4, float* x5, float* tile)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        TV a0 = TS.Load(tile), a1 = TS.Load(tile + width), a2 = TS.Load(tile + 2 * width);
        TV a3 = TS.Load(tile + 3 * width), a4 = TS.Load(tile + 4 * width), a5 = TS.Load(tile + 5 * width);
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
