using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Deconv.Reference;

namespace Deconv.Engine;

/// <summary>
/// The scalar gather: every output value sums the products that reach it, taps ascending (k0, k1, k2),
/// then input channels ascending, with fused multiply-adds from zero; the same order as the phase paths,
/// so it gives the same bits. No padding, so it is also exact for non-finite weights. Used for tiny
/// problems (nothing to pack, no scratch) and as the fallback.
/// </summary>
internal sealed class DirectPath
{
    private readonly Lifted _g;
    private readonly float[] _weight;
    private readonly float[] _bias;
    private readonly FusedActivation _activation;
    private readonly float _slope;
    private readonly long _xc, _ym, _y2, _wc, _wj; // element strides of x's channel, y's channel and position, w's c and j

    // The products reaching spatial output position o (row-major over o0, o1, o2) are entries [_start[o], _start[o+1])
    // of _xOffset (input position, as an element offset in x) and _wOffset (tap, as an offset in w), taps ascending.
    private readonly int[] _start;
    private readonly long[] _xOffset, _wOffset;

    public DirectPath(Lifted g, float[] weight, float[] bias, FusedActivation activation, float slope)
    {
        _g = g;
        _weight = weight;
        _bias = bias;
        _activation = activation;
        _slope = slope;
        // Element strides of x [n, c, i0, i1, i2], y [n, m, o0, o1, o2] and w [c, j, k0, k1, k2].
        var channelsFirst = g.Layout == DataLayout.ChannelsFirst;
        long inPlane = (long)g.A0.Input * g.A1.Input * g.A2.Input, outPlane = (long)g.A0.Output * g.A1.Output * g.A2.Output;
        var (xc, x2) = channelsFirst ? (inPlane, 1L) : (1L, g.C);
        var (ym, y2) = channelsFirst ? (outPlane, 1L) : (1L, g.M);
        long x1 = x2 * g.A2.Input, x0 = x1 * g.A1.Input;
        long wk1 = g.A2.Kernel, wk0 = wk1 * g.A1.Kernel;
        (_xc, _ym, _y2) = (xc, ym, y2);
        _wj = wk0 * g.A0.Kernel;
        _wc = _wj * g.Mg;

        var (a0, a1, a2) = (AxisGather.Of(g.A0), AxisGather.Of(g.A1), AxisGather.Of(g.A2));
        _start = new int[outPlane + 1];
        var xOffset = new List<long>();
        var wOffset = new List<long>();
        var o = 0;
        for (var o0 = 0; o0 < g.A0.Output; o0++)
        for (var o1 = 0; o1 < g.A1.Output; o1++)
        for (var o2 = 0; o2 < g.A2.Output; o2++)
        {
            _start[o++] = xOffset.Count;
            for (var e0 = a0.Start[o0]; e0 < a0.Start[o0 + 1]; e0++)
            for (var e1 = a1.Start[o1]; e1 < a1.Start[o1 + 1]; e1++)
            for (var e2 = a2.Start[o2]; e2 < a2.Start[o2 + 1]; e2++)
            {
                xOffset.Add(a0.Input[e0] * x0 + a1.Input[e1] * x1 + a2.Input[e2] * x2);
                wOffset.Add(a0.Tap[e0] * wk0 + a1.Tap[e1] * wk1 + a2.Tap[e2]);
            }
        }

        _start[o] = xOffset.Count;
        (_xOffset, _wOffset) = ([.. xOffset], [.. wOffset]);
    }

    public long ExtraFloats => _weight.Length + 4L * _xOffset.Length + _start.Length;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(ReadOnlySpan<float> x, Span<float> y)
    {
        ref readonly var g = ref _g; // no copy of the struct
        // The plan checked both lengths; the offsets were built from the same geometry, so every index is in range.
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var yr = ref MemoryMarshal.GetReference(y);
        ref var wr = ref MemoryMarshal.GetArrayDataReference(_weight);
        ref var start = ref MemoryMarshal.GetArrayDataReference(_start);
        ref var xOffset = ref MemoryMarshal.GetArrayDataReference(_xOffset);
        ref var wOffset = ref MemoryMarshal.GetArrayDataReference(_wOffset);
        long inPlane = (long)g.A0.Input * g.A1.Input * g.A2.Input, outPlane = _start.Length - 1;
        for (var n = 0; n < g.N; n++)
        for (var m = 0; m < g.M; m++)
        {
            var firstChannel = m / g.Mg * g.Cg;
            var xBase = n * inPlane * g.C + firstChannel * _xc;
            var wBase = firstChannel * _wc + m % g.Mg * _wj;
            var yBase = n * outPlane * g.M + m * _ym;
            var bias = _bias[m];
            // Spatial positions are row-major in both layouts: position o is at o * (1 or M) from the channel's base.
            for (var o = 0; o < outPlane; o++)
            {
                var sum = 0f;
                for (int e = Unsafe.Add(ref start, o), end = Unsafe.Add(ref start, o + 1); e < end; e++)
                {
                    var xi = xBase + Unsafe.Add(ref xOffset, e);
                    var wi = wBase + Unsafe.Add(ref wOffset, e);
                    for (var c = 0; c < g.Cg; c++, xi += _xc, wi += _wc)
                    {
                        sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref xr, (nint)xi), Unsafe.Add(ref wr, (nint)wi), sum);
                    }
                }

                Unsafe.Add(ref yr, (nint)(yBase + o * _y2)) = Activations.Apply(sum + bias, _activation, _slope);
            }
        }
    }

    /// <summary>For each output position o of an axis, the (tap, input) pairs reaching it, taps ascending, at <c>[Start[o], Start[o+1])</c>.</summary>
    private sealed record AxisGather(int[] Start, int[] Tap, int[] Input)
    {
        public static AxisGather Of(AxisGeometry axis)
        {
            var start = new int[axis.Output + 1];
            var taps = new List<int>();
            var inputs = new List<int>();
            for (var o = 0; o < axis.Output; o++)
            {
                start[o] = taps.Count;
                for (var k = 0; k < axis.Kernel; k++)
                {
                    var t = (long)o + axis.CropBegin - (long)k * axis.Dilation;
                    if (t >= 0 && t % axis.Stride == 0 && t / axis.Stride < axis.Input)
                    {
                        taps.Add(k);
                        inputs.Add((int)(t / axis.Stride));
                    }
                }
            }

            start[axis.Output] = taps.Count;
            return new AxisGather(start, [.. taps], [.. inputs]);
        }
    }
}
