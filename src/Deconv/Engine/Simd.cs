using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Deconv.Engine;

/// <summary>
/// The few vector operations the kernels need, over one vector type. The kernels are generic over a
/// struct implementing this, so the JIT compiles one specialised copy per width. Every width computes
/// each lane with the same fused multiply-add, so results do not depend on the width chosen.
/// </summary>
internal unsafe interface ISimd<TV>
    where TV : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Width { get; }

    static abstract TV Zero { get; }

    static abstract TV Load(float* p);

    static abstract TV Broadcast(float value);

    /// <summary><c>a * b + addend</c> with one rounding.</summary>
    static abstract TV Fma(TV a, TV b, TV addend);

    static abstract TV Add(TV a, TV b);

    static abstract void Store(float* p, TV value);

    /// <summary>Lane <paramref name="index"/> of <paramref name="value"/>.</summary>
    static abstract float Lane(TV value, int index);

    /// <summary>The lanes of <paramref name="a"/> and <paramref name="b"/> alternated: <c>a0 b0 a1 b1 ...</c>, the first half of them in <c>Low</c>.</summary>
    static abstract (TV Low, TV High) Zip(TV a, TV b);

    /// <summary>The inverse of <see cref="Zip"/>: the even lanes of <c>low, high</c> (read as one vector twice as long), and the odd ones.</summary>
    static abstract (TV Even, TV Odd) Unzip(TV low, TV high);
}

internal readonly unsafe struct Simd512 : ISimd<Vector512<float>>
{
    public static int Width => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    public static Vector512<float> Load(float* p) => Vector512.Load(p);
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> addend) => Vector512.FusedMultiplyAdd(a, b, addend);
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    public static void Store(float* p, Vector512<float> value) => value.Store(p);
    public static float Lane(Vector512<float> value, int index) => value.GetElement(index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Low, Vector512<float> High) Zip(Vector512<float> a, Vector512<float> b)
    {
        if (Avx512F.IsSupported)
        {
            return (Avx512F.PermuteVar16x32x2(a, Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), b),
                Avx512F.PermuteVar16x32x2(a, Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), b));
        }

        // The lower halves zipped give the lower result, the upper halves the upper.
        var (lowLow, lowHigh) = Simd256.Zip(a.GetLower(), b.GetLower());
        var (highLow, highHigh) = Simd256.Zip(a.GetUpper(), b.GetUpper());
        return (Vector512.Create(lowLow, lowHigh), Vector512.Create(highLow, highHigh));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Even, Vector512<float> Odd) Unzip(Vector512<float> low, Vector512<float> high)
    {
        if (Avx512F.IsSupported)
        {
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            return (Avx512F.PermuteVar16x32x2(low, even, high), Avx512F.PermuteVar16x32x2(low, even + Vector512<int>.One, high));
        }

        var (lowEven, lowOdd) = Simd256.Unzip(low.GetLower(), low.GetUpper());
        var (highEven, highOdd) = Simd256.Unzip(high.GetLower(), high.GetUpper());
        return (Vector512.Create(lowEven, highEven), Vector512.Create(lowOdd, highOdd));
    }
}

internal readonly unsafe struct Simd256 : ISimd<Vector256<float>>
{
    public static int Width => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    public static Vector256<float> Load(float* p) => Vector256.Load(p);
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> addend) => Vector256.FusedMultiplyAdd(a, b, addend);
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    public static void Store(float* p, Vector256<float> value) => value.Store(p);
    public static float Lane(Vector256<float> value, int index) => value.GetElement(index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Low, Vector256<float> High) Zip(Vector256<float> a, Vector256<float> b)
    {
        if (Avx.IsSupported)
        {
            // Unpacking zips within each 128-bit half; the half swap puts the four pairs of each output in order.
            var low = Avx.UnpackLow(a, b); // a0 b0 a1 b1 | a4 b4 a5 b5
            var high = Avx.UnpackHigh(a, b); // a2 b2 a3 b3 | a6 b6 a7 b7
            return (Avx.Permute2x128(low, high, 0x20), Avx.Permute2x128(low, high, 0x31));
        }

        var (lowLow, lowHigh) = Simd128.Zip(a.GetLower(), b.GetLower());
        var (highLow, highHigh) = Simd128.Zip(a.GetUpper(), b.GetUpper());
        return (Vector256.Create(lowLow, lowHigh), Vector256.Create(highLow, highHigh));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Even, Vector256<float> Odd) Unzip(Vector256<float> low, Vector256<float> high)
    {
        if (Avx2.IsSupported)
        {
            // Shuffling picks the even (odd) lanes within each 128-bit half: low0 low2 high0 high2 | low4 low6 high4 high6;
            // the 64-bit permutation puts the halves' pairs in order.
            var even = Avx.Shuffle(low, high, 0b10_00_10_00).AsDouble();
            var odd = Avx.Shuffle(low, high, 0b11_01_11_01).AsDouble();
            return (Avx2.Permute4x64(even, 0b11_01_10_00).AsSingle(), Avx2.Permute4x64(odd, 0b11_01_10_00).AsSingle());
        }

        var (lowEven, lowOdd) = Simd128.Unzip(low.GetLower(), low.GetUpper());
        var (highEven, highOdd) = Simd128.Unzip(high.GetLower(), high.GetUpper());
        return (Vector256.Create(lowEven, highEven), Vector256.Create(lowOdd, highOdd));
    }
}

internal readonly unsafe struct Simd128 : ISimd<Vector128<float>>
{
    public static int Width => Vector128<float>.Count;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    public static Vector128<float> Load(float* p) => Vector128.Load(p);
    public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    public static Vector128<float> Fma(Vector128<float> a, Vector128<float> b, Vector128<float> addend) => Vector128.FusedMultiplyAdd(a, b, addend);
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    public static void Store(float* p, Vector128<float> value) => value.Store(p);
    public static float Lane(Vector128<float> value, int index) => value.GetElement(index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector128<float> Low, Vector128<float> High) Zip(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported
            ? (Sse.UnpackLow(a, b), Sse.UnpackHigh(a, b))
            : (Vector128.Create(a[0], b[0], a[1], b[1]), Vector128.Create(a[2], b[2], a[3], b[3]));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector128<float> Even, Vector128<float> Odd) Unzip(Vector128<float> low, Vector128<float> high) =>
        Sse.IsSupported
            ? (Sse.Shuffle(low, high, 0b10_00_10_00), Sse.Shuffle(low, high, 0b11_01_11_01))
            : (Vector128.Create(low[0], low[2], high[0], high[2]), Vector128.Create(low[1], low[3], high[1], high[3]));
}

/// <summary>One float per "vector": the path when no SIMD hardware is available.</summary>
internal readonly unsafe struct SimdScalar : ISimd<float>
{
    public static int Width => 1;
    public static float Zero => 0f;
    public static float Load(float* p) => *p;
    public static float Broadcast(float value) => value;
    public static float Fma(float a, float b, float addend) => MathF.FusedMultiplyAdd(a, b, addend);
    public static float Add(float a, float b) => a + b;
    public static void Store(float* p, float value) => *p = value;
    public static float Lane(float value, int index) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (float Low, float High) Zip(float a, float b) => (a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (float Even, float Odd) Unzip(float low, float high) => (low, high);
}

/// <summary>Which <see cref="ISimd{TV}"/> a plan uses.</summary>
internal enum SimdWidth
{
    Scalar = 1,
    V128 = 4,
    V256 = 8,
    V512 = 16,
}

internal static class SimdSupport
{
    /// <summary>Whether the hardware zips and unzips vectors of this width in a few instructions (<see cref="ISimd{TV}.Zip"/>): AVX-512 or AVX2.</summary>
    public static bool Shuffles(SimdWidth simd) => simd == SimdWidth.V512 ? Avx512F.IsSupported : simd == SimdWidth.V256 && Avx2.IsSupported;

    /// <summary>The widest vector the hardware accelerates (with FMA semantics on every path).</summary>
    public static SimdWidth Best =>
        Vector512.IsHardwareAccelerated ? SimdWidth.V512
        : Vector256.IsHardwareAccelerated ? SimdWidth.V256
        : Vector128.IsHardwareAccelerated ? SimdWidth.V128
        : SimdWidth.Scalar;
}

internal static unsafe class Simd
{
    /// <summary>
    /// Whether no value is infinite or NaN: v * 0 is zero for every finite v and NaN for the others, so the products
    /// sum to zero exactly when all are finite (a multiply and an add per vector. With the largest magnitude instead,
    /// which orders NaNs, the weight gradients, whose copies check the values they copy, were slower: dcgan4 8-12%,
    /// depthwise 4-6%, unet3d 2%, timed call by call in alternation). Compiled optimised from the first call: called a
    /// few times per run, it stayed in its unoptimised first code for many runs (1.2% of a profile of dcgan4's weight
    /// gradient).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        var i = 0;
        var sum = 0f;
        if (Vector256.IsHardwareAccelerated && values.Length >= 32)
        {
            ref var first = ref MemoryMarshal.GetReference(values);
            var zero = Vector256<float>.Zero;
            Vector256<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero;
            for (; i + 32 <= values.Length; i += 32)
            {
                a0 += Vector256.LoadUnsafe(ref first, (nuint)i) * zero;
                a1 += Vector256.LoadUnsafe(ref first, (nuint)i + 8) * zero;
                a2 += Vector256.LoadUnsafe(ref first, (nuint)i + 16) * zero;
                a3 += Vector256.LoadUnsafe(ref first, (nuint)i + 24) * zero;
            }

            sum = Vector256.Sum(a0 + a1 + a2 + a3);
        }

        for (; i < values.Length; i++)
        {
            sum += values[i] * 0f;
        }

        return sum == 0f;
    }

    /// <summary>
    /// <paramref name="count"/> pixels of <paramref name="channels"/> floats, back to back at <paramref name="source"/>,
    /// to pixels <paramref name="targetStride"/> floats apart (see <see cref="CacheSpacing"/>): in one piece when the
    /// target's pixels are back to back too.
    /// </summary>
    public static void CopyPixels(float* source, int channels, int count, float* target, long targetStride)
    {
        if (targetStride == channels)
        {
            CopyFloats(source, target, count * channels);
            return;
        }

        for (var k = 0; k < count; k++)
        {
            CopyFloats(source + (long)k * channels, target + k * targetStride, channels);
        }
    }

    /// <summary>
    /// Copies <paramref name="count"/> floats that do not overlap. Short rows inline: for the many 32-float rows
    /// of a padded copy, a call to Buffer.MemoryCopy per row took about as long as the copying (dcgan4's input
    /// copy 0.30 ms, inline 0.20); long rows with Buffer.MemoryCopy, which was faster for them (hifigan's 2048).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyFloats(float* source, float* target, int count)
    {
        if (count >= 256 || !Vector256.IsHardwareAccelerated)
        {
            var bytes = (long)count * sizeof(float);
            Buffer.MemoryCopy(source, target, bytes, bytes);
            return;
        }

        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= count; i += 16)
            {
                Vector512.Load(source + i).Store(target + i);
            }
        }

        for (; i + 8 <= count; i += 8)
        {
            Vector256.Load(source + i).Store(target + i);
        }

        for (; i < count; i++)
        {
            target[i] = source[i];
        }
    }
}
