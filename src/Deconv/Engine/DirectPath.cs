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
    private readonly nint _xc, _ym, _y2, _wc, _wj; // element strides of x's channel, y's channel and position, w's c and j

    // The products reaching spatial output position o (row-major over o0, o1, o2) are the entries from _end[o-1]
    // (0 for o = 0) to _end[o]; entry e is the pair _offsets[2e] (input position, as an element offset in x) and
    // _offsets[2e+1] (tap, as an offset in w), taps ascending. Offsets within one channel fit an int.
    private readonly int[] _end;
    private readonly int[] _offsets;

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
        (_xc, _ym, _y2) = ((nint)xc, (nint)ym, (nint)y2);
        _wj = (nint)(wk0 * g.A0.Kernel);
        _wc = _wj * g.Mg;

        var (a0, a1, a2) = (AxisGather.Of(g.A0), AxisGather.Of(g.A1), AxisGather.Of(g.A2));
        _end = new int[outPlane];
        var offsets = new List<int>();
        var o = 0;
        for (var o0 = 0; o0 < g.A0.Output; o0++)
        for (var o1 = 0; o1 < g.A1.Output; o1++)
        for (var o2 = 0; o2 < g.A2.Output; o2++)
        {
            for (var e0 = a0.Start[o0]; e0 < a0.Start[o0 + 1]; e0++)
            for (var e1 = a1.Start[o1]; e1 < a1.Start[o1 + 1]; e1++)
            for (var e2 = a2.Start[o2]; e2 < a2.Start[o2 + 1]; e2++)
            {
                offsets.Add((int)(a0.Input[e0] * x0 + a1.Input[e1] * x1 + a2.Input[e2] * x2));
                offsets.Add((int)(a0.Tap[e0] * wk0 + a1.Tap[e1] * wk1 + a2.Tap[e2]));
            }

            _end[o++] = offsets.Count / 2;
        }

        _offsets = [.. offsets];
    }

    public long ExtraFloats => _weight.Length + _offsets.Length + _end.Length;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(ReadOnlySpan<float> x, Span<float> y)
    {
        // The plan checked both lengths; the offsets were built from the same geometry, so every index is in range.
        // Everything the loops read is a local (the JIT would reload a field after every store to y), and they
        // step references, not indexes, to leave the JIT few values to keep in registers.
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var yr = ref MemoryMarshal.GetReference(y);
        ref var wr = ref MemoryMarshal.GetArrayDataReference(_weight);
        ref var ends = ref MemoryMarshal.GetArrayDataReference(_end);
        ref var offsets = ref MemoryMarshal.GetArrayDataReference(_offsets);
        int batch = _g.N, channels = _g.C, outChannels = _g.M, cg = _g.Cg, mg = _g.Mg, outPlane = _end.Length;
        nint inPlane = (nint)_g.A0.Input * _g.A1.Input * _g.A2.Input, xc = _xc, wc = _wc, y2 = _y2;
        for (var n = 0; n < batch; n++)
        for (var m = 0; m < outChannels; m++)
        {
            // Group g = m / mg reads input channels g*cg .. g*cg + cg - 1 and weights w[c, m % mg].
            var firstChannel = m / mg * cg;
            ref var xm = ref Unsafe.Add(ref xr, n * inPlane * channels + firstChannel * xc);
            ref var wm = ref Unsafe.Add(ref wr, firstChannel * wc + m % mg * _wj);
            ref var ym = ref Unsafe.Add(ref yr, n * (nint)outPlane * outChannels + m * _ym);
            var bias = _bias[m];
            var e = 0; // output o's entries follow output o-1's
            for (var o = 0; o < outPlane; o++)
            {
                var sum = 0f;
                for (var end = Unsafe.Add(ref ends, o); e < end; e++)
                {
                    // Channel 0, then the rest of the group (cg >= 1).
                    ref var xe = ref Unsafe.Add(ref xm, Unsafe.Add(ref offsets, 2 * e));
                    ref var we = ref Unsafe.Add(ref wm, Unsafe.Add(ref offsets, 2 * e + 1));
                    sum = MathF.FusedMultiplyAdd(xe, we, sum);
                    for (var c = 1; c < cg; c++)
                    {
                        sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref xe, c * xc), Unsafe.Add(ref we, c * wc), sum);
                    }
                }

                Unsafe.Add(ref ym, o * y2) = sum + bias;
            }
        }

        if (_activation != FusedActivation.None)
        {
            // A pass of its own: a call inside the loop above makes the JIT spill its registers around every output.
            foreach (ref var v in y)
            {
                v = Activations.Apply(v, _activation, _slope);
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
