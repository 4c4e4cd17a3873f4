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
/// <remarks>
/// The smallest problems run in <see cref="MatrixForm"/>, its rows by input position descending, then channel
/// ascending: that brings every output its products taps ascending, then channels ascending, the order of the loops.
/// </remarks>
internal sealed class DirectPath
{
    private readonly Lifted _g;
    private readonly float[] _weight;
    private readonly float[] _bias;
    private readonly FusedActivation _activation;
    private readonly float _slope;
    private readonly nint _xc, _ym, _wc, _wj; // element strides of x's channel, y's channel, w's c and j

    // The spatial output positions, ordered by how many products reach them (so that the loop over one position's
    // products runs the same number of times for a whole group of positions, which the branch predictor learns):
    // group g is _groups[g].Outputs positions with _groups[g].Products products each. Position p (in that order)
    // is at _yOffset[p] from its channel's start; its products are the next entries, taps ascending: entry e is
    // _offsets[2e] (the input position, as an element offset in x) times _offsets[2e+1] (the tap, as an offset in w).
    // Offsets within one batch item fit an int, as the lengths of its arrays do.
    private readonly (int Products, int Outputs)[] _groups;
    private readonly int[] _yOffset;
    private readonly int[] _offsets;

    private readonly MatrixForm? _matrix; // null when the loops over products run: see UsesMatrix

    /// <summary>
    /// The product lists, and the matrix form when it suits; tests force it with <paramref name="matrix"/> (true or false)
    /// and choose its vector width with <paramref name="simd"/>.
    /// </summary>
    public DirectPath(Lifted g, float[] weight, float[] bias, FusedActivation activation, float slope, bool? matrix = null, SimdWidth? simd = null)
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
        (_xc, _ym) = ((nint)xc, (nint)ym);
        _wj = (nint)(wk0 * g.A0.Kernel);
        _wc = _wj * g.Mg;

        // Products per position, positions row-major over (o0, o1, o2).
        var (a0, a1, a2) = (AxisGather.Of(g.A0), AxisGather.Of(g.A1), AxisGather.Of(g.A2));
        var products = new int[outPlane];
        var p = 0;
        for (var o0 = 0; o0 < g.A0.Output; o0++)
        for (var o1 = 0; o1 < g.A1.Output; o1++)
        for (var o2 = 0; o2 < g.A2.Output; o2++)
        {
            products[p++] = a0.Count(o0) * a1.Count(o1) * a2.Count(o2);
        }

        // The order by product count (a counting sort, row-major within a count): where each count's positions and
        // (x, w) offset pairs start.
        var mostProducts = outPlane == 0 ? 0 : products.Max();
        var positionsWith = new int[mostProducts + 1];
        foreach (var count in products)
        {
            positionsWith[count]++;
        }

        _groups = [.. Enumerable.Range(0, mostProducts + 1).Where(count => positionsWith[count] > 0).Select(count => (count, positionsWith[count]))];
        var (nextPosition, nextPair) = (new int[mostProducts + 1], new int[mostProducts + 1]);
        for (var count = 1; count <= mostProducts; count++)
        {
            nextPosition[count] = nextPosition[count - 1] + positionsWith[count - 1];
            nextPair[count] = checked(nextPair[count - 1] + 2 * (count - 1) * positionsWith[count - 1]);
        }

        _yOffset = new int[outPlane];
        _offsets = new int[checked(nextPair[mostProducts] + 2 * mostProducts * positionsWith[mostProducts])];
        p = 0;
        for (var o0 = 0; o0 < g.A0.Output; o0++)
        for (var o1 = 0; o1 < g.A1.Output; o1++)
        for (var o2 = 0; o2 < g.A2.Output; o2++)
        {
            var count = products[p];
            _yOffset[nextPosition[count]++] = (int)(p++ * y2);
            ref var e = ref nextPair[count];
            for (var e0 = a0.Start[o0]; e0 < a0.Start[o0 + 1]; e0++)
            for (var e1 = a1.Start[o1]; e1 < a1.Start[o1 + 1]; e1++)
            for (var e2 = a2.Start[o2]; e2 < a2.Start[o2 + 1]; e2++)
            {
                _offsets[e++] = (int)(a0.Input[e0] * x0 + a1.Input[e1] * x1 + a2.Input[e2] * x2);
                _offsets[e++] = (int)(a0.Tap[e0] * wk0 + a1.Tap[e1] * wk1 + a2.Tap[e2]);
            }
        }

        var simdWidth = simd ?? SimdSupport.Best;
        var (rows, outputs) = ((long)g.C * inPlane, (long)g.M * outPlane);
        if (matrix ?? MatrixForm.Suits(rows, outputs, products: _offsets.Length / 2L * g.Cg * g.M, simdWidth))
        {
            _matrix = BuildMatrix(g, weight, bias, simdWidth);
        }
    }

    /// <summary>Whether the sums run in <see cref="MatrixForm"/> (when it suits, see <see cref="MatrixForm.Suits"/>).</summary>
    public bool UsesMatrix => _matrix is not null;

    /// <summary>
    /// The matrix form of one image: row (input position p descending, then channel c) holds, at output (m, o), the
    /// weight w[c, j, k] that carries x[c, p] to y[m, o] (m = g*M/G + j, o = p*S + k*D - crop_begin on every axis),
    /// and zero where no tap does.
    /// </summary>
    private static MatrixForm BuildMatrix(Lifted g, float[] weight, float[] bias, SimdWidth simd)
    {
        var inPlane = g.A0.Input * g.A1.Input * g.A2.Input;
        var outputs = g.M * g.A0.Output * g.A1.Output * g.A2.Output;
        var form = new MatrixForm(g.C * inPlane, outputs, imageInputs: g.C * inPlane, simd);
        var position = 0; // flat input position (i0, i1, i2), row-major
        for (var i0 = 0; i0 < g.A0.Input; i0++)
        for (var i1 = 0; i1 < g.A1.Input; i1++)
        for (var i2 = 0; i2 < g.A2.Input; i2++, position++)
        for (var c = 0; c < g.C; c++)
        {
            var row = (inPlane - 1 - position) * g.C + c;
            form.SetInput(row, (int)g.InputIndex(0, c, i0, i1, i2));
            var group = c / g.Cg;
            for (var j = 0; j < g.Mg; j++)
            for (var k0 = 0; k0 < g.A0.Kernel; k0++)
            for (var k1 = 0; k1 < g.A1.Kernel; k1++)
            for (var k2 = 0; k2 < g.A2.Kernel; k2++)
            {
                if (g.Reaches(i0, i1, i2, k0, k1, k2, out var o0, out var o1, out var o2))
                {
                    form.Set(row, g.OutputIndex(0, group * g.Mg + j, o0, o1, o2), weight[g.WeightIndex(c, j, k0, k1, k2)]);
                }
            }
        }

        for (var m = 0; m < g.M; m++)
        for (var o0 = 0; o0 < g.A0.Output; o0++)
        for (var o1 = 0; o1 < g.A1.Output; o1++)
        for (var o2 = 0; o2 < g.A2.Output; o2++)
        {
            form.SetBias(g.OutputIndex(0, m, o0, o1, o2), bias[m]);
        }

        return form;
    }

    public long ExtraFloats => _weight.Length + _offsets.Length + _yOffset.Length + 2L * _groups.Length + (_matrix?.ExtraFloats ?? 0);

    /// <summary>
    /// y from x. Compiled optimised from the first call, as is the plan's Run: tiered, both ran their first code for
    /// seconds while other code was still being compiled (the seed cases 60-100 ns per call instead of 20-30).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(ReadOnlySpan<float> x, Span<float> y)
    {
        // The matrix form multiplies every input value by zeros too, which is exact only for finite ones.
        if (_matrix is null || !_matrix.Run(x, y, _g.N))
        {
            RunProducts(x, y);
        }

        if (_activation != FusedActivation.None)
        {
            // A pass of its own: a call among the sums makes the JIT spill its registers around every output.
            foreach (ref var v in y)
            {
                v = Activations.Apply(v, _activation, _slope);
            }
        }
    }

    private void RunProducts(ReadOnlySpan<float> x, Span<float> y)
    {
        // The plan checked both lengths; the offsets were built from the same geometry, so every index is in range.
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var yr = ref MemoryMarshal.GetReference(y);
        ref var wr = ref MemoryMarshal.GetArrayDataReference(_weight);
        var (inPlane, outPlane) = ((nint)_g.A0.Input * _g.A1.Input * _g.A2.Input, (nint)_yOffset.Length);
        for (var n = 0; n < _g.N; n++)
        for (var group = 0; group < _g.G; group++)
        for (var j = 0; j < _g.Mg; j++)
        {
            // Output channel m = group*Mg + j reads input channels firstChannel .. firstChannel + Cg - 1 and weights w[c, j].
            var (m, firstChannel) = (group * _g.Mg + j, group * _g.Cg);
            ref var xg = ref Unsafe.Add(ref xr, n * inPlane * _g.C + firstChannel * _xc);
            ref var wj = ref Unsafe.Add(ref wr, firstChannel * _wc + j * _wj);
            ref var ym = ref Unsafe.Add(ref yr, n * outPlane * _g.M + m * _ym);
            if (_g.Cg == 1)
            {
                SumOneChannel(ref xg, ref wj, ref ym, _bias[m]);
            }
            else
            {
                SumChannels(ref xg, ref wj, ref ym, _bias[m]);
            }
        }
    }

    /// <summary>
    /// One output channel of one batch item: <paramref name="x"/> at the group's first input channel, <paramref name="w"/>
    /// at w[first channel, j], <paramref name="y"/> at the output channel. Everything its loops read is a local
    /// (a field would be reloaded after every store to y), so that the JIT keeps it in a register.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SumChannels(ref float x, ref float w, ref float y, float bias)
    {
        ref var yOffset = ref MemoryMarshal.GetArrayDataReference(_yOffset); // the next position's
        ref var pair = ref MemoryMarshal.GetArrayDataReference(_offsets); // the next product's
        var (groups, channels, xc, wc) = (_groups, _g.Cg, _xc, _wc);
        foreach (var (products, outputs) in groups)
        {
            for (var i = 0; i < outputs; i++)
            {
                var sum = 0f;
                for (var t = 0; t < products; t++)
                {
                    // Channel 0, then the rest of the group (there is at least one channel).
                    ref var xe = ref Unsafe.Add(ref x, pair);
                    ref var we = ref Unsafe.Add(ref w, Unsafe.Add(ref pair, 1));
                    pair = ref Unsafe.Add(ref pair, 2);
                    sum = MathF.FusedMultiplyAdd(xe, we, sum);
                    for (var c = 1; c < channels; c++)
                    {
                        xe = ref Unsafe.Add(ref xe, xc);
                        we = ref Unsafe.Add(ref we, wc);
                        sum = MathF.FusedMultiplyAdd(xe, we, sum);
                    }
                }

                Unsafe.Add(ref y, yOffset) = sum + bias;
                yOffset = ref Unsafe.Add(ref yOffset, 1);
            }
        }
    }

    /// <summary>
    /// <see cref="SumChannels"/> for groups of one input channel (the tiny cases, depthwise): the same sums without
    /// the channel loop, whose test for every product is a tenth of a tiny case's time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SumOneChannel(ref float x, ref float w, ref float y, float bias)
    {
        ref var yOffset = ref MemoryMarshal.GetArrayDataReference(_yOffset);
        ref var pair = ref MemoryMarshal.GetArrayDataReference(_offsets);
        foreach (var (products, outputs) in _groups)
        {
            for (var i = 0; i < outputs; i++)
            {
                var sum = 0f;
                for (var t = 0; t < products; t++)
                {
                    sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref x, pair), Unsafe.Add(ref w, Unsafe.Add(ref pair, 1)), sum);
                    pair = ref Unsafe.Add(ref pair, 2);
                }

                Unsafe.Add(ref y, yOffset) = sum + bias;
                yOffset = ref Unsafe.Add(ref yOffset, 1);
            }
        }
    }

    /// <summary>For each output position o of an axis, the (tap, input) pairs reaching it, taps ascending, at <c>[Start[o], Start[o+1])</c>.</summary>
    private sealed record AxisGather(int[] Start, int[] Tap, int[] Input)
    {
        public int Count(int o) => Start[o + 1] - Start[o];

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
