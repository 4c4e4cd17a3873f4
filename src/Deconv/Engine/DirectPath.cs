using System.Runtime.CompilerServices;
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
    private readonly AxisGather _a0, _a1, _a2;

    public DirectPath(Lifted g, float[] weight, float[] bias, FusedActivation activation, float slope)
    {
        _g = g;
        _weight = weight;
        _bias = bias;
        _activation = activation;
        _slope = slope;
        (_a0, _a1, _a2) = (AxisGather.Of(g.A0), AxisGather.Of(g.A1), AxisGather.Of(g.A2));
    }

    public long ExtraFloats => _weight.Length;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(ReadOnlySpan<float> x, Span<float> y)
    {
        var g = _g;
        var w = _weight.AsSpan();
        var channelsFirst = g.Layout == DataLayout.ChannelsFirst;
        // Element strides of x [n, c, i0, i1, i2], y [n, m, o0, o1, o2] and w [c, j, k0, k1, k2].
        long inPlane = (long)g.A0.Input * g.A1.Input * g.A2.Input, outPlane = (long)g.A0.Output * g.A1.Output * g.A2.Output;
        var (xc, x2) = channelsFirst ? (inPlane, 1L) : (1L, g.C);
        var (ym, y2) = channelsFirst ? (outPlane, 1L) : (1L, g.M);
        long x1 = x2 * g.A2.Input, x0 = x1 * g.A1.Input, y1 = y2 * g.A2.Output, y0 = y1 * g.A1.Output;
        long wk1 = g.A2.Kernel, wk0 = wk1 * g.A1.Kernel, wj = wk0 * g.A0.Kernel, wc = wj * g.Mg;
        for (var n = 0; n < g.N; n++)
        for (var m = 0; m < g.M; m++)
        {
            var firstChannel = m / g.Mg * g.Cg;
            var xBase = n * inPlane * g.C + firstChannel * xc;
            var wBase = firstChannel * wc + m % g.Mg * wj;
            var yBase = n * outPlane * g.M + m * ym;
            var bias = _bias[m];
            for (var o0 = 0; o0 < g.A0.Output; o0++)
            for (var o1 = 0; o1 < g.A1.Output; o1++)
            for (var o2 = 0; o2 < g.A2.Output; o2++)
            {
                var sum = 0f;
                for (var e0 = _a0.Start[o0]; e0 < _a0.Start[o0 + 1]; e0++)
                for (var e1 = _a1.Start[o1]; e1 < _a1.Start[o1 + 1]; e1++)
                for (var e2 = _a2.Start[o2]; e2 < _a2.Start[o2 + 1]; e2++)
                {
                    var xi = xBase + _a0.Input[e0] * x0 + _a1.Input[e1] * x1 + _a2.Input[e2] * x2;
                    var wi = wBase + _a0.Tap[e0] * wk0 + _a1.Tap[e1] * wk1 + _a2.Tap[e2];
                    for (var c = 0; c < g.Cg; c++, xi += xc, wi += wc)
                    {
                        sum = MathF.FusedMultiplyAdd(x[(int)xi], w[(int)wi], sum);
                    }
                }

                y[(int)(yBase + o0 * y0 + o1 * y1 + o2 * y2)] = Activations.Apply(sum + bias, _activation, _slope);
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
