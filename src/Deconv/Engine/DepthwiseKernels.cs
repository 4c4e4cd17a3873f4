using System.Runtime.CompilerServices;

namespace Deconv.Engine;

/// <summary>
/// Micro-kernels for depthwise geometries (one channel in and one out per group), where every channel is
/// its own tiny convolution: SIMD vectors run over neighbouring channels, which sit side by side in the
/// channels-last buffers, and each lane does one fused multiply-add per product.
/// </summary>
internal static unsafe class DepthwiseKernels
{
    /// <summary>Pixels per forward tile; taps per weight-gradient tile.</summary>
    public const int Tile = 6;

    /// <summary>
    /// Forward tile: for six pixels, <c>tile[p*tileStride + lane] = sum over taps t ascending of
    /// x_p[tapOffsets[t] + lane] * w[t*weightStride + lane]</c>, from zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pixels<TV, TS>(float* w, int weightStride, int* tapOffsets, int taps,
        float* x0, float* x1, float* x2, float* x3, float* x4, float* x5, float* tile, int tileStride)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero, a4 = TS.Zero, a5 = TS.Zero;
        for (var t = 0; t < taps; t++)
        {
            var weight = TS.Load(w + (long)t * weightStride);
            var offset = tapOffsets[t];
            a0 = TS.Fma(TS.Load(x0 + offset), weight, a0);
            a1 = TS.Fma(TS.Load(x1 + offset), weight, a1);
            a2 = TS.Fma(TS.Load(x2 + offset), weight, a2);
            a3 = TS.Fma(TS.Load(x3 + offset), weight, a3);
            a4 = TS.Fma(TS.Load(x4 + offset), weight, a4);
            a5 = TS.Fma(TS.Load(x5 + offset), weight, a5);
        }

        TS.Store(tile, a0);
        TS.Store(tile + tileStride, a1);
        TS.Store(tile + 2 * tileStride, a2);
        TS.Store(tile + 3 * tileStride, a3);
        TS.Store(tile + 4 * tileStride, a4);
        TS.Store(tile + 5 * tileStride, a5);
    }

    /// <summary>
    /// Weight-gradient tile: for six taps r, <c>tile[r*width + lane] = sum over pixels p ascending of
    /// large[windows[p] + o_r + lane] * small[p*smallStride + lane]</c>, from zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Taps<TV, TS>(float* large, int* windows, int pixels, float* small, int smallStride,
        int o0, int o1, int o2, int o3, int o4, int o5, float* tile)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero, a4 = TS.Zero, a5 = TS.Zero;
        for (var p = 0; p < pixels; p++)
        {
            var s = TS.Load(small + (long)p * smallStride);
            var window = large + windows[p];
            a0 = TS.Fma(TS.Load(window + o0), s, a0);
            a1 = TS.Fma(TS.Load(window + o1), s, a1);
            a2 = TS.Fma(TS.Load(window + o2), s, a2);
            a3 = TS.Fma(TS.Load(window + o3), s, a3);
            a4 = TS.Fma(TS.Load(window + o4), s, a4);
            a5 = TS.Fma(TS.Load(window + o5), s, a5);
        }

        TS.Store(tile, a0);
        TS.Store(tile + width, a1);
        TS.Store(tile + 2 * width, a2);
        TS.Store(tile + 3 * width, a3);
        TS.Store(tile + 4 * width, a4);
        TS.Store(tile + 5 * width, a5);
    }
}
