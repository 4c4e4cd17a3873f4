using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Deconv.Reference;

namespace Deconv.Engine;

/// <summary>
/// The phase path for one input and one output channel per group (depthwise, multiplier 1) in channels-first
/// layout: no input copy and no packing beyond a flat copy of the weight. A work item is a few output rows
/// (axes 0 and 1) of one plane; each row is computed whole, phase by phase of the last axis, with vectors
/// along the phase (neighbouring outputs of a phase read neighbouring inputs), into a small buffer from
/// which the phases' values are written into the row, interleaved by vector shuffles for stride 2.
/// </summary>
/// <remarks>
/// With one channel per group each output sums only a few products, so the tile kernels spent their time
/// on set-up and one-value stores (depthwise k=4 s=2: 2.7% of the FMA peak). Here taps that read outside
/// the input are skipped instead of reading zero padding: each output is the same fused multiply-add chain
/// over its taps ascending (k0, k1, k2) as on the other paths, less products that are exactly zero, so the
/// bits are the same but for the sign of an all-zero sum (as on the direct path).
/// </remarks>
internal sealed unsafe class DepthwiseTransposePath : PhasePath
{
    /// <summary>Outputs of one phase computed into the buffer at a time.</summary>
    private const int Segment = 256;

    /// <summary>Output rows (o0, o1) per work item at most.</summary>
    private const int ItemRows = 32;

    private readonly float[] _weight; // [C][k0][k1][k2]
    private readonly int _taps;
    private readonly long _inputPlane;
    private readonly WorkItem[] _items;
    private readonly int[] _lastAxisOrder; // the last axis's phases with outputs, by first output

    // The (k0, k1) taps that reach output row o0*O1 + o1 from inside the input, ascending, are entries
    // [_rowTapStart[row], _rowTapStart[row + 1]): the input row they read (offset in a plane) and their weights' offset.
    private readonly int[] _rowTapStart;
    private readonly long[] _rowTapInput;
    private readonly int[] _rowTapWeight;

    private DepthwiseTransposePath(Lifted g, float[] weight, float[] bias, FusedActivation activation, float slope, SimdWidth simd)
        : base(g, bias, activation, slope, simd)
    {
        _taps = g.A0.Kernel * g.A1.Kernel * g.A2.Kernel;
        _weight = new float[(long)g.C * _taps];
        for (var c = 0; c < g.C; c++)
        for (var k0 = 0; k0 < g.A0.Kernel; k0++)
        for (var k1 = 0; k1 < g.A1.Kernel; k1++)
        for (var k2 = 0; k2 < g.A2.Kernel; k2++)
        {
            _weight[((long)c * g.A0.Kernel + k0) * g.A1.Kernel * g.A2.Kernel + k1 * g.A2.Kernel + k2] = weight[g.WeightIndex(c, 0, k0, k1, k2)];
        }

        _inputPlane = (long)g.A0.Input * g.A1.Input * g.A2.Input;
        (_rowTapStart, _rowTapInput, _rowTapWeight) = RowTaps(g, Phases);
        _lastAxisOrder = [.. Enumerable.Range(0, Phases[2].Length).Where(r => Phases[2][r].Count > 0).OrderBy(r => Phases[2][r].FirstOutput)];
        var rows = g.A0.Output * g.A1.Output;
        var items = new List<WorkItem>();
        for (var plane = 0; plane < g.N * g.C; plane++)
        for (var row = 0; row < rows; row += ItemRows)
        {
            items.Add(new WorkItem(plane, row, Math.Min(ItemRows, rows - row)));
        }

        _items = [.. items];
    }

    /// <summary>The path for one channel in and out per group, channels-first; else null.</summary>
    public static DepthwiseTransposePath? TryCreate(Lifted g, float[] weight, float[] bias, FusedActivation activation, float slope, SimdWidth simd) =>
        g.Cg == 1 && g.Mg == 1 && g.Layout == DataLayout.ChannelsFirst && (long)g.N * g.C * g.A0.Output * g.A1.Output <= int.MaxValue
            ? new DepthwiseTransposePath(g, weight, bias, activation, slope, simd)
            : null;

    public override int ItemCount => _items.Length;

    public override long ExtraFloats => _weight.Length + _rowTapStart.Length + 3L * _rowTapInput.Length; // the tables as floats' worth

    public override int ScratchRows => 0;

    public override void FillScratch(float* x, int first, int count)
    {
        // Reads x directly.
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void RunItem<TV, TS>(int index, float* x, float* y)
    {
        var item = _items[index];
        var channel = item.Plane % G.C; // = the group: one channel in and out each
        var input = x + item.Plane * _inputPlane; // x: [N, C, I0, I1, I2], this plane
        var output = y + item.Plane * OutputPlane; // y: [N, M, O0, O1, O2], M = C
        var bias = Bias[channel];
        var tapRows = stackalloc float*[G.A0.Kernel * G.A1.Kernel]; // this row's (k0, k1) taps: their input rows
        var values = stackalloc float[2 * Segment]; // [phase slot][u]: at most two phases are held for interleaving
        fixed (float* weights = _weight)
        fixed (int* tapWeights = _rowTapWeight)
        {
            var w = weights + (long)channel * _taps;
            for (var row = item.FirstRow; row < item.FirstRow + item.RowCount; row++)
            {
                var firstTap = _rowTapStart[row];
                var tapRowCount = _rowTapStart[row + 1] - firstTap;
                for (var r = 0; r < tapRowCount; r++)
                {
                    tapRows[r] = input + _rowTapInput[firstTap + r];
                }

                var outputRow = output + (long)row * G.A2.Output;
                var stride = G.A2.Stride;
                var zip = stride == 2 && _lastAxisOrder.Length == 2 && KernelWidth == SimdWidth.V512 && Avx512F.IsSupported;
                var longest = Phases[2][_lastAxisOrder[0]].Count; // the phase with the first output has the most
                for (var first = 0; first < longest; first += Segment)
                {
                    for (var slot = 0; slot < _lastAxisOrder.Length; slot++)
                    {
                        var phase = Phases[2][_lastAxisOrder[slot]];
                        var count = Math.Min(Segment, phase.Count - first);
                        if (count <= 0)
                        {
                            continue;
                        }

                        var buffer = values + (zip ? slot * Segment : 0);
                        PhaseSegment<TV, TS>(phase, first, count, tapRows, tapWeights + firstTap, tapRowCount, w, buffer);
                        if (!zip)
                        {
                            Store(buffer, &bias, 0, count, outputRow + phase.FirstOutput + (long)stride * first, stride);
                        }
                    }

                    if (zip)
                    {
                        Interleave2(values, Math.Min(Segment, longest - first), Math.Min(Segment, Phases[2][_lastAxisOrder[1]].Count - first),
                            bias, outputRow + 2L * first);
                    }
                }
            }
        }
    }

    /// <summary>
    /// <c>buffer[u - first]</c> = the sum for output <c>u</c> of the last-axis phase, <c>first &lt;= u &lt; first + count</c>:
    /// vectors where every tap reads inside the row, single values at the row's ends.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PhaseSegment<TV, TS>(AxisPhase phase, int first, int count, float** tapRows, int* tapWeights, int tapRowCount, float* w, float* buffer)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        var inputLength = G.A2.Input;
        // Output u reads input FirstQ + u - shift for each tap: all inside for u in [interiorStart, interiorEnd).
        var maxShift = phase.Shifts.Length == 0 ? 0 : phase.Shifts[^1];
        var minShift = phase.Shifts.Length == 0 ? 0 : phase.Shifts[0];
        var interiorStart = (int)Math.Clamp(maxShift - phase.FirstQ, first, first + count);
        var interiorEnd = (int)Math.Clamp(inputLength + minShift - phase.FirstQ, interiorStart, first + count);
        var u = first;
        for (; u < interiorStart; u++)
        {
            buffer[u - first] = EdgeSum(phase, u, tapRows, tapWeights, tapRowCount, w);
        }

        fixed (int* taps = phase.Taps, shifts = phase.Shifts)
        {
            var tapCount = phase.Taps.Length;
            while (u < interiorEnd && interiorEnd - interiorStart >= width)
            {
                // The last vector may overlap the one before: it recomputes the same values.
                u = Math.Min(u, interiorEnd - width);
                var sum = TS.Zero;
                for (var r = 0; r < tapRowCount; r++)
                {
                    var source = tapRows[r] + phase.FirstQ + u;
                    var rowWeights = w + tapWeights[r];
                    for (var j = 0; j < tapCount; j++)
                    {
                        sum = TS.Fma(TS.Load(source - shifts[j]), TS.Broadcast(rowWeights[taps[j]]), sum);
                    }
                }

                TS.Store(buffer + (u - first), sum);
                u += width;
            }
        }

        for (; u < first + count; u++)
        {
            buffer[u - first] = EdgeSum(phase, u, tapRows, tapWeights, tapRowCount, w);
        }
    }

    /// <summary>One output's sum, skipping taps that read outside the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float EdgeSum(AxisPhase phase, int u, float** tapRows, int* tapWeights, int tapRowCount, float* w)
    {
        var sum = 0f;
        for (var r = 0; r < tapRowCount; r++)
        for (var j = 0; j < phase.Taps.Length; j++)
        {
            var i2 = phase.FirstQ + u - phase.Shifts[j];
            if (i2 >= 0 && i2 < G.A2.Input)
            {
                sum = MathF.FusedMultiplyAdd(tapRows[r][i2], w[tapWeights[r] + phase.Taps[j]], sum);
            }
        }

        return sum;
    }

    /// <summary>
    /// Stride 2: <c>target[2u] = values[u]</c>, <c>target[2u + 1] = values[Segment + u]</c> (plus the bias, then the
    /// activation) for the <paramref name="evenCount"/> and <paramref name="oddCount"/> values of the two phases,
    /// 16 pairs at a time by two-source shuffles into whole vectors.
    /// </summary>
    private void Interleave2(float* values, int evenCount, int oddCount, float bias, float* target)
    {
        var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        var biasVector = Vector512.Create(bias);
        var u = 0;
        if (Activation == FusedActivation.None)
        {
            for (; u + 16 <= oddCount; u += 16)
            {
                var even = Vector512.Load(values + u);
                var odd = Vector512.Load(values + Segment + u);
                (Avx512F.PermuteVar16x32x2(even, low, odd) + biasVector).Store(target + 2 * u);
                (Avx512F.PermuteVar16x32x2(even, high, odd) + biasVector).Store(target + 2 * u + 16);
            }
        }

        for (; u < evenCount; u++)
        {
            target[2 * u] = Activations.Apply(values[u] + bias, Activation, Slope);
            if (u < oddCount)
            {
                target[2 * u + 1] = Activations.Apply(values[Segment + u] + bias, Activation, Slope);
            }
        }
    }

    /// <summary>For each output row (o0, o1), the (k0, k1) taps that read inside the input, ascending: see <see cref="_rowTapStart"/>.</summary>
    private static (int[] Start, long[] Input, int[] Weight) RowTaps(Lifted g, AxisPhase[][] phases)
    {
        var start = new int[g.A0.Output * g.A1.Output + 1];
        var inputs = new List<long>();
        var weights = new List<int>();
        for (var o0 = 0; o0 < g.A0.Output; o0++)
        for (var o1 = 0; o1 < g.A1.Output; o1++)
        {
            start[o0 * g.A1.Output + o1] = inputs.Count;
            var (p0, u0) = PhaseOf(g.A0, phases[0], o0);
            var (p1, u1) = PhaseOf(g.A1, phases[1], o1);
            for (var j0 = 0; j0 < p0.Taps.Length; j0++)
            for (var j1 = 0; j1 < p1.Taps.Length; j1++)
            {
                var (i0, i1) = (p0.FirstQ + u0 - p0.Shifts[j0], p1.FirstQ + u1 - p1.Shifts[j1]);
                if (i0 >= 0 && i0 < g.A0.Input && i1 >= 0 && i1 < g.A1.Input)
                {
                    inputs.Add((i0 * g.A1.Input + i1) * g.A2.Input);
                    weights.Add((p0.Taps[j0] * g.A1.Kernel + p1.Taps[j1]) * g.A2.Kernel);
                }
            }
        }

        start[^1] = inputs.Count;
        return (start, [.. inputs], [.. weights]);
    }

    /// <summary>The phase of an axis that output <paramref name="o"/> belongs to, and its number within the phase.</summary>
    private static (AxisPhase Phase, int U) PhaseOf(AxisGeometry axis, AxisPhase[] phases, int o)
    {
        var phase = phases[(int)(((long)o + axis.CropBegin) % axis.Stride)];
        return (phase, (o - phase.FirstOutput) / axis.Stride);
    }

    /// <summary>Output rows [FirstRow, FirstRow + RowCount) of plane (n, c), rows numbered o0*O1 + o1.</summary>
    private readonly record struct WorkItem(int Plane, int FirstRow, int RowCount);
}
