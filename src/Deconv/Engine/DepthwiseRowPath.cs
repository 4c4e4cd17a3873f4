using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Deconv.Reference;

namespace Deconv.Engine;

/// <summary>
/// The forward convolution of a depthwise geometry (one channel in and out per group) in channels-first
/// layout, computed plane by plane without a channels-last copy: SIMD vectors run along the last axis
/// of the output. Each plane of x is copied into a zero-padded buffer whose last axis is split into its
/// <c>Stride</c> phases, <c>[P0][P1][phase][column]</c> with position <c>t</c> at phase <c>t % S</c>, column
/// <c>t / S</c>, so that output <c>i</c>'s tap <c>k</c>, at <c>t = i*S + k*D</c>, is column
/// <c>i + (k*D)/S</c> of phase <c>(k*D) % S</c>: neighbouring outputs read neighbouring floats.
/// </summary>
/// <remarks>
/// Each output is one fused multiply-add chain over the taps ascending (k0, k1, k2) from zero, then the
/// bias is added: the same order, so the same bits, as the other paths of <see cref="ConvForwardPlan"/>.
/// The same buffer serves the depthwise weight gradient of <see cref="WeightGradientPlan"/>
/// (<see cref="WeightGradientChannel"/>).
/// </remarks>
internal sealed unsafe class DepthwiseRowPath
{
    /// <summary>Vectors of one output row computed together (they share each tap's weight).</summary>
    private const int Vectors = 4;

    /// <summary>
    /// Partial sums per tap of the weight gradient: position i2 feeds sum i2 % 16 whatever the vector
    /// width, so the result does not depend on the hardware.
    /// </summary>
    private const int GradientLanes = 16;

    private readonly Lifted _g;
    private readonly float[] _weight; // [C, k0, k1, k2]; empty for the weight gradient
    private readonly float[] _bias; // [C]
    private readonly SimdWidth _simd;
    private readonly int _width, _padded0, _padded1, _columns, _bufferLength;
    private readonly int[] _tapRow; // per tap: offset of its (k0, k1) row, in rows of the buffer
    private readonly int[] _tapColumn; // per tap: offset of its phase and column within a row
    private readonly ConcurrentBag<float[]> _planes = []; // padded planes for FillPlane: see TakePlane

    public DepthwiseRowPath(Lifted g, float[] weight, float[] bias, SimdWidth simd)
    {
        _g = g;
        _weight = weight;
        _bias = bias;
        _simd = simd;
        _width = (int)simd;
        long Padded(AxisGeometry a) => Math.Max((long)a.CropBegin + a.Output, a.FullLength);
        _padded0 = (int)Padded(g.A0);
        _padded1 = (int)Padded(g.A1);
        var a2 = g.A2;
        var block = Vectors * _width;
        var maxShift = (int)((long)(a2.Kernel - 1) * a2.Dilation / a2.Stride);
        // Columns: every vector group of the row (rounded up, also to the gradient's lanes) plus the largest tap shift.
        var rounding = Math.Max(block, GradientLanes);
        _columns = (a2.Input + rounding - 1) / rounding * rounding + maxShift + 1;
        var rowLength = (long)a2.Stride * _columns;
        var length = (long)_padded0 * _padded1 * rowLength;
        _bufferLength = length > Array.MaxLength ? -1 : (int)length;
        var taps = g.A0.Kernel * g.A1.Kernel * a2.Kernel;
        _tapRow = new int[taps];
        _tapColumn = new int[taps];
        var t = 0;
        for (var k0 = 0; k0 < g.A0.Kernel; k0++)
        for (var k1 = 0; k1 < g.A1.Kernel; k1++)
        for (var k2 = 0; k2 < a2.Kernel; k2++, t++)
        {
            _tapRow[t] = k0 * g.A0.Dilation * _padded1 + k1 * g.A1.Dilation;
            var shift = k2 * a2.Dilation;
            _tapColumn[t] = shift % a2.Stride * _columns + shift / a2.Stride;
        }
    }

    /// <summary>Whether the padded plane fits an array.</summary>
    public bool Fits => _bufferLength >= 0;

    /// <summary>Planes (n, c): the independent work items.</summary>
    public int Planes => _g.N * _g.C;

    /// <summary>Whether the weight gradient's vectors run past the rows of small (whose last axis is not a multiple of 16) and multiply large values by zeros.</summary>
    public bool WeightGradientReadsPastRows => _g.A2.Input % GradientLanes != 0;

    /// <summary>Floats held besides the weights: a padded plane per thread that has run the path (see <see cref="TakePlane"/>).</summary>
    public long PlaneFloats => (long)_planes.Count * _bufferLength;

    /// <summary>
    /// A padded plane for <see cref="FillPlane"/>, the path's own: FillPlane writes the same places of every plane, so the
    /// padding, zero since the array was made, stays zero and is never cleared again (clearing each plane's buffer of
    /// 66 KB took 6-9% of depthwise's input and weight gradients at 1 and 2 threads). A thread gets back the one it gave.
    /// </summary>
    private float[] TakePlane() => _planes.TryTake(out var plane) ? plane : new float[_bufferLength];

    private void ReturnPlane(float[] plane) => _planes.Add(plane);

    /// <summary>
    /// dw[c, 0, tap] for every tap, from the large side and the small side (both channels-first) of every
    /// batch entry. Partial sum L (of 16) sums the products at positions i2 = L mod 16 over (n, i0, i1, i2)
    /// ascending with fused multiply-adds, then the 16 are added in order: a fixed order whatever thread
    /// runs the channel and whatever the vector width.
    /// Needs finite small data (the padding multiplies it by zeros), and finite large data when
    /// <see cref="WeightGradientReadsPastRows"/> (the vector tails multiply large values by zeros of small).
    /// </summary>
    public void WeightGradientChannel(int c, float* large, float* small, float* dw)
    {
        switch (_simd)
        {
            case SimdWidth.V512:
                WeightGradientChannel<Vector512<float>, Simd512>(c, large, small, dw);
                break;
            case SimdWidth.V256:
                WeightGradientChannel<Vector256<float>, Simd256>(c, large, small, dw);
                break;
            case SimdWidth.V128:
                WeightGradientChannel<Vector128<float>, Simd128>(c, large, small, dw);
                break;
            default:
                WeightGradientChannel<float, SimdScalar>(c, large, small, dw);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WeightGradientChannel<TV, TS>(int c, float* large, float* small, float* dw)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var (a0, a1, a2) = (_g.A0, _g.A1, _g.A2);
        var rowLength = a2.Stride * _columns;
        var taps = _tapRow.Length;
        var smallRow = (a2.Input + GradientLanes - 1) / GradientLanes * GradientLanes; // a row of small, zero past I2
        var smallLength = a0.Input * a1.Input * smallRow;
        var buffer = TakePlane();
        var smallBuffer = ArrayPool<float>.Shared.Rent(smallLength);
        var sums = ArrayPool<float>.Shared.Rent(taps * GradientLanes);
        try
        {
            fixed (float* padded = buffer, rows = smallBuffer, sum = sums)
            fixed (int* tapRow = _tapRow, tapColumn = _tapColumn)
            {
                new Span<float>(sum, taps * GradientLanes).Clear();
                new Span<float>(rows, smallLength).Clear();
                for (var n = 0; n < _g.N; n++)
                {
                    var plane = n * _g.C + c;
                    FillPlane(large, plane, padded);
                    var source = small + (long)plane * a0.Input * a1.Input * a2.Input;
                    for (var r = 0; r < a0.Input * a1.Input; r++)
                    {
                        new ReadOnlySpan<float>(source + (long)r * a2.Input, a2.Input).CopyTo(new Span<float>(rows + (long)r * smallRow, a2.Input));
                    }

                    // Four taps at a time: four independent chains hide the fused multiply-adds' latency (depthwise's
                    // weight gradient 2.42 to 1.98 ms). A tap past the last repeats it: the same chain, the same sums.
                    for (var t = 0; t < taps; t += 4)
                    for (var part = 0; part < GradientLanes; part += _width)
                    {
                        // Partial sums part .. part + width - 1 of taps t .. t + 3.
                        var (t1, t2, t3) = (Math.Min(t + 1, taps - 1), Math.Min(t + 2, taps - 1), Math.Min(t + 3, taps - 1));
                        var (acc0, acc1) = (TS.Load(sum + t * GradientLanes + part), TS.Load(sum + t1 * GradientLanes + part));
                        var (acc2, acc3) = (TS.Load(sum + t2 * GradientLanes + part), TS.Load(sum + t3 * GradientLanes + part));
                        var offset0 = (long)tapRow[t] * rowLength + tapColumn[t] + part;
                        var offset1 = (long)tapRow[t1] * rowLength + tapColumn[t1] + part;
                        var offset2 = (long)tapRow[t2] * rowLength + tapColumn[t2] + part;
                        var offset3 = (long)tapRow[t3] * rowLength + tapColumn[t3] + part;
                        for (var i0 = 0; i0 < a0.Input; i0++)
                        for (var i1 = 0; i1 < a1.Input; i1++)
                        {
                            var window = padded + ((long)i0 * a0.Stride * _padded1 + (long)i1 * a1.Stride) * rowLength;
                            var s = rows + ((long)i0 * a1.Input + i1) * smallRow + part;
                            for (var v = 0; v < smallRow; v += GradientLanes)
                            {
                                var value = TS.Load(s + v);
                                acc0 = TS.Fma(TS.Load(window + offset0 + v), value, acc0);
                                acc1 = TS.Fma(TS.Load(window + offset1 + v), value, acc1);
                                acc2 = TS.Fma(TS.Load(window + offset2 + v), value, acc2);
                                acc3 = TS.Fma(TS.Load(window + offset3 + v), value, acc3);
                            }
                        }

                        TS.Store(sum + t3 * GradientLanes + part, acc3);
                        TS.Store(sum + t2 * GradientLanes + part, acc2);
                        TS.Store(sum + t1 * GradientLanes + part, acc1);
                        TS.Store(sum + t * GradientLanes + part, acc0);
                    }
                }

                // dw[c, 0, tap]: [C, 1, taps].
                for (var t = 0; t < taps; t++)
                {
                    var total = 0f;
                    for (var lane = 0; lane < GradientLanes; lane++)
                    {
                        total += sum[t * GradientLanes + lane];
                    }

                    dw[(long)c * taps + t] = total;
                }
            }
        }
        finally
        {
            ReturnPlane(buffer);
            ArrayPool<float>.Shared.Return(smallBuffer);
            ArrayPool<float>.Shared.Return(sums);
        }
    }

    /// <summary>Computes plane <paramref name="plane"/> = n*C + c of y from x (both channels-first).</summary>
    public void RunPlane(int plane, float* x, float* y)
    {
        switch (_simd)
        {
            case SimdWidth.V512:
                RunPlane<Vector512<float>, Simd512>(plane, x, y);
                break;
            case SimdWidth.V256:
                RunPlane<Vector256<float>, Simd256>(plane, x, y);
                break;
            case SimdWidth.V128:
                RunPlane<Vector128<float>, Simd128>(plane, x, y);
                break;
            default:
                RunPlane<float, SimdScalar>(plane, x, y);
                break;
        }
    }

    /// <summary>Plane <paramref name="plane"/> = n*C + c of the large side x (channels-first) into the zero-padded, phase-split buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FillPlane(float* x, int plane, float* padded)
    {
        var (a0, a1, a2) = (_g.A0, _g.A1, _g.A2);
        var rowLength = a2.Stride * _columns;
        // x plane [O0, O1, O2] into [P0][P1][phase][column].
        var source = x + (long)plane * a0.Output * a1.Output * a2.Output;
        for (var o0 = 0; o0 < a0.Output; o0++)
        for (var o1 = 0; o1 < a1.Output; o1++)
        {
            var row = padded + ((long)(o0 + a0.CropBegin) * _padded1 + o1 + a1.CropBegin) * rowLength;
            var from = source + ((long)o0 * a1.Output + o1) * a2.Output;
            // Position t = o2 + crop goes to phase t % S, column t / S; positions past the last
            // column are never read.
            var end = (int)Math.Min((long)a2.Output + a2.CropBegin, (long)_columns * a2.Stride); // last t + 1
            if (a2.Stride == 2 && SimdSupport.Shuffles(_simd))
            {
                if (_simd == SimdWidth.V512)
                {
                    SplitPairs<Vector512<float>, Simd512>(from, end - a2.CropBegin, a2.CropBegin, row);
                }
                else
                {
                    SplitPairs<Vector256<float>, Simd256>(from, end - a2.CropBegin, a2.CropBegin, row);
                }

                continue;
            }

            for (var phase = 0; phase < a2.Stride; phase++)
            {
                var t = a2.CropBegin + ((phase - a2.CropBegin % a2.Stride + a2.Stride) % a2.Stride); // first t of this phase
                var to = row + phase * _columns + t / a2.Stride;
                for (var o2 = t - a2.CropBegin; o2 < end - a2.CropBegin; o2 += a2.Stride)
                {
                    *to++ = from[o2];
                }
            }
        }
    }

    /// <summary>
    /// The stride-2 case of <see cref="FillPlane"/> for one row: <paramref name="count"/> values, the first at
    /// position <paramref name="crop"/>, to phase <c>t % 2</c>, column <c>t / 2</c> of <paramref name="row"/>;
    /// two vectors at a time, unzipped into their even and odd lanes, the rest one by one. (One by one, the
    /// copy took about 80% of the depthwise input gradient's time.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SplitPairs<TV, TS>(float* from, int count, int crop, float* row)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        // Values at even offsets i go to phase crop % 2; both phases' columns then advance by one per pair.
        var evenPhase = row + crop % 2 * _columns + crop / 2;
        var oddPhase = row + (1 - crop % 2) * _columns + (crop + 1) / 2;
        var i = 0;
        for (; i + 2 * width <= count; i += 2 * width)
        {
            var (even, odd) = TS.Unzip(TS.Load(from + i), TS.Load(from + i + width));
            TS.Store(evenPhase + i / 2, even);
            TS.Store(oddPhase + i / 2, odd);
        }

        for (; i < count; i++)
        {
            (i % 2 == 0 ? evenPhase : oddPhase)[i / 2] = from[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunPlane<TV, TS>(int plane, float* x, float* y)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var (a0, a1, a2) = (_g.A0, _g.A1, _g.A2);
        var c = plane % _g.C;
        var rowLength = a2.Stride * _columns;
        var buffer = TakePlane();
        var results = stackalloc float[Vectors * _width];
        try
        {
            fixed (float* padded = buffer, weights = _weight)
            fixed (int* tapRow = _tapRow, tapColumn = _tapColumn)
            {
                FillPlane(x, plane, padded);
                var w = weights + (long)c * _tapRow.Length;
                var bias = _bias[c];
                var taps = _tapRow.Length;
                var target = y + (long)plane * a0.Input * a1.Input * a2.Input;
                var block = Vectors * _width;
                for (var i0 = 0; i0 < a0.Input; i0++)
                for (var i1 = 0; i1 < a1.Input; i1++)
                {
                    var window = padded + ((long)i0 * a0.Stride * _padded1 + (long)i1 * a1.Stride) * rowLength;
                    var output = target + ((long)i0 * a1.Input + i1) * a2.Input;
                    for (var i2 = 0; i2 < a2.Input; i2 += block)
                    {
                        TV s0 = TS.Zero, s1 = TS.Zero, s2 = TS.Zero, s3 = TS.Zero;
                        for (var t = 0; t < taps; t++)
                        {
                            var p = window + (long)tapRow[t] * rowLength + tapColumn[t] + i2;
                            var weight = TS.Broadcast(w[t]);
                            s0 = TS.Fma(TS.Load(p), weight, s0);
                            s1 = TS.Fma(TS.Load(p + _width), weight, s1);
                            s2 = TS.Fma(TS.Load(p + 2 * _width), weight, s2);
                            s3 = TS.Fma(TS.Load(p + 3 * _width), weight, s3);
                        }

                        if (i2 + block <= a2.Input)
                        {
                            // The bias after the chain, as on the other paths (an addition rounds the same in any width).
                            var biasVector = TS.Broadcast(bias);
                            TS.Store(output + i2, TS.Add(s0, biasVector));
                            TS.Store(output + i2 + _width, TS.Add(s1, biasVector));
                            TS.Store(output + i2 + 2 * _width, TS.Add(s2, biasVector));
                            TS.Store(output + i2 + 3 * _width, TS.Add(s3, biasVector));
                            continue;
                        }

                        TS.Store(results, s0);
                        TS.Store(results + _width, s1);
                        TS.Store(results + 2 * _width, s2);
                        TS.Store(results + 3 * _width, s3);
                        for (var lane = 0; lane < a2.Input - i2; lane++)
                        {
                            output[i2 + lane] = results[lane] + bias;
                        }
                    }
                }
            }
        }
        finally
        {
            ReturnPlane(buffer);
        }
    }
}
