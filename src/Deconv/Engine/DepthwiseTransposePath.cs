using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Deconv.Reference;

namespace Deconv.Engine;

/// <summary>
/// The phase path for one input and one output channel per group (depthwise, multiplier 1) in channels-first
/// layout: no packing beyond a flat copy of the weight. A work item is a few output rows (axes 0 and 1) of
/// one plane. It copies the input rows it reads into a small buffer, zero-padded along the last axis, and
/// computes each output row whole, phase by phase of the last axis, with vectors along the phase
/// (neighbouring outputs of a phase read neighbouring inputs). With stride 2 both phases of a block are
/// summed in registers and interleaved by vector shuffles straight into the row; otherwise (and for the
/// rest of a row) a phase is summed into a small buffer and written from there.
/// </summary>
/// <remarks>
/// With one channel per group each output sums only a few products, so set-up is what costs: the tile
/// kernels ran depthwise k=4 s=2 at 2.7% of the FMA peak, and vectors along the row with edge outputs
/// summed one by one and the taps looked up per vector at 6%. Here the padding along the last axis gives
/// every output of a row the same vector code, each row's taps come from a table made with the plan (the
/// offset each reads at and its weight), and a block of <see cref="Vectors"/> vectors takes each tap's
/// weight once. Taps whose (k0, k1) row lies outside the input are left out. Each output is the same fused
/// multiply-add chain over its taps ascending (k0, k1, k2) as on the other paths.
/// </remarks>
internal sealed unsafe class DepthwiseTransposePath : PhasePath
{
    /// <summary>Outputs of one phase computed into the buffer at a time.</summary>
    private const int Segment = 256;

    /// <summary>Output rows (o0, o1) per work item at most.</summary>
    private const int ItemRows = 32;

    /// <summary>Vectors of one phase computed together (they share each tap's weight); Segment is a multiple of their outputs.</summary>
    private const int Vectors = 4;

    private readonly float[] _weight; // [C][k0][k1][k2]
    private readonly int _taps;
    private readonly long _inputPlane;
    private readonly WorkItem[] _items;
    private readonly AxisPhase[] _lastAxisPhases; // the last axis's phases with outputs, by first output
    private readonly int _rowLength; // a padded input row: zeros, I2 inputs, zeros
    private readonly int _before; // zeros before the inputs of a padded row
    private readonly int _bufferLength; // the largest item's padded input rows
    private readonly RowTaps _rowTaps;

    private DepthwiseTransposePath(Lifted g, float[] weight, float[] bias, FusedActivation activation, float slope, SimdWidth simd,
        AxisPhase[] lastAxisPhases, (int Before, long Length) padding, RowTaps rowTaps, WorkItem[] items)
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
        _lastAxisPhases = lastAxisPhases;
        (_before, _rowLength) = (padding.Before, (int)padding.Length);
        _rowTaps = rowTaps;
        _items = items;
        _bufferLength = items.Length == 0 ? 0 : items.Max(i => i.InputRowCount) * _rowLength;
    }

    /// <summary>The path for one channel in and out per group, channels-first; else null.</summary>
    public static DepthwiseTransposePath? TryCreate(Lifted g, float[] weight, float[] bias, FusedActivation activation, float slope, SimdWidth simd)
    {
        if (g.Cg != 1 || g.Mg != 1 || g.Layout != DataLayout.ChannelsFirst || (long)g.N * g.C * g.A0.Output * g.A1.Output > int.MaxValue)
        {
            return null;
        }

        var phases = new[] { AxisPhase.Decompose(g.A0), AxisPhase.Decompose(g.A1), AxisPhase.Decompose(g.A2) };
        var padding = Padding(g.A2, phases[2], Vectors * (int)simd);
        AxisPhase[] lastAxisPhases = [.. phases[2].Where(p => p.Count > 0).OrderBy(p => p.FirstOutput)];
        var rowTaps = Tabulate(g, phases, lastAxisPhases, padding.Before, padding.Length);
        var rows = g.A0.Output * g.A1.Output;
        var items = new List<WorkItem>();
        for (var row = 0; row < rows; row += ItemRows)
        {
            // Rows that read no input (int.MaxValue, 0) leave the range alone; an item of such rows copies none.
            var rowCount = Math.Min(ItemRows, rows - row);
            var firstInput = TensorPrimitives.Min<int>(rowTaps.FirstInputRow.AsSpan(row, rowCount));
            var inputRows = Math.Max(0, TensorPrimitives.Max<int>(rowTaps.EndInputRow.AsSpan(row, rowCount)) - firstInput);
            firstInput = inputRows == 0 ? 0 : firstInput;
            if (inputRows * padding.Length > Array.MaxLength)
            {
                return null;
            }

            for (var plane = 0; plane < g.N * g.C; plane++)
            {
                items.Add(new WorkItem(plane, row, rowCount, firstInput, inputRows));
            }
        }

        // Planes outermost: the items of a plane run one after another and read its rows from cache.
        WorkItem[] ordered = [.. items.OrderBy(i => i.Plane).ThenBy(i => i.FirstRow)];
        return new DepthwiseTransposePath(g, weight, bias, activation, slope, simd, lastAxisPhases, padding, rowTaps, ordered);
    }

    public override int ItemCount => _items.Length;

    // The tables as floats' worth: per output row and last-axis phase a start, per tap an offset (two) and a weight,
    // per output row its input rows.
    public override long ExtraFloats => _weight.Length + _rowTaps.Start.Length + 3L * _rowTaps.Offset.Length + 2L * _rowTaps.FirstInputRow.Length;

    public override int ScratchRows => 0;

    public override void FillScratch(float* x, int first, int count)
    {
        // Each item copies the input rows it reads.
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void RunItem<TV, TS>(int index, float* x, float* y)
    {
        var item = _items[index];
        var channel = item.Plane % G.C; // = the group: one channel in and out each
        var input = x + item.Plane * _inputPlane; // x: [N, C, I0, I1, I2], this plane
        var output = y + item.Plane * OutputPlane; // y: [N, M, O0, O1, O2], M = C
        var bias = Bias[channel];
        var inputLength = G.A2.Input;
        var slots = _lastAxisPhases.Length;
        var stride = G.A2.Stride;
        var zip = stride == 2 && slots == 2 && SimdSupport.Shuffles(KernelWidth);
        var longest = slots == 0 ? 0 : _lastAxisPhases[0].Count; // the phase with the first output has the most
        var zipInRegisters = zip && Activation == FusedActivation.None;
        var values = stackalloc float[2 * Segment]; // [phase slot][u]: at most two phases are held for interleaving
        var buffer = ArrayPool<float>.Shared.Rent(Math.Max(_bufferLength, 1));
        try
        {
            fixed (float* padded = buffer, weights = _weight)
            fixed (int* tapStart = _rowTaps.Start, tapWeight = _rowTaps.Weight)
            fixed (long* tapOffset = _rowTaps.Offset)
            {
                // padded: [input row - FirstInputRow][_before zeros, I2 inputs, zeros to _rowLength].
                for (var r = 0; r < item.InputRowCount; r++)
                {
                    // Loops rather than calls: rows are short and the zeros few (depthwise k=4 s=2: 64 inputs, 1 + 3 zeros).
                    var row = padded + (long)r * _rowLength;
                    for (var i = 0; i < _before; i++)
                    {
                        row[i] = 0;
                    }

                    Simd.CopyFloats(input + (long)(item.FirstInputRow + r) * inputLength, row + _before, inputLength);
                    for (var i = _before + inputLength; i < _rowLength; i++)
                    {
                        row[i] = 0;
                    }
                }

                var rows = padded - (long)item.FirstInputRow * _rowLength; // where the table's offsets count from
                var w = weights + (long)channel * _taps;
                for (var row = item.FirstRow; row < item.FirstRow + item.RowCount; row++)
                {
                    var outputRow = output + (long)row * G.A2.Output;
                    var done = 0; // outputs of each phase written
                    if (zipInRegisters)
                    {
                        var (even, odd) = (tapStart[2 * row], tapStart[2 * row + 1]);
                        done = ZipBlocks<TV, TS>(rows, tapOffset + even, tapWeight + even, odd - even, tapOffset + odd, tapWeight + odd,
                            tapStart[2 * row + 2] - odd, w, _lastAxisPhases[1].Count, bias, outputRow);
                    }

                    for (var first = done; first < longest; first += Segment)
                    {
                        for (var slot = 0; slot < slots; slot++)
                        {
                            var phase = _lastAxisPhases[slot];
                            var count = Math.Min(Segment, phase.Count - first);
                            if (count <= 0)
                            {
                                continue;
                            }

                            var taps = tapStart[row * slots + slot];
                            var sums = values + (zip ? slot * Segment : 0);
                            PhaseSums<TV, TS>(rows + first, tapOffset + taps, tapWeight + taps, tapStart[row * slots + slot + 1] - taps, w, count, sums);
                            if (!zip)
                            {
                                Store(sums, &bias, 0, count, outputRow + phase.FirstOutput + (long)stride * first, stride);
                            }
                        }

                        if (zip)
                        {
                            Interleave2<TV, TS>(values, Math.Min(Segment, longest - first), Math.Min(Segment, _lastAxisPhases[1].Count - first), bias, outputRow + 2L * first);
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// <c>sums[v]</c> = the sum over the taps <c>t</c> of <c>rows[offsets[t] + v] * w[weights[t]]</c>, for
    /// <c>v &lt; count</c> rounded up to whole blocks of <see cref="Vectors"/> vectors (the padding holds their reads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PhaseSums<TV, TS>(float* rows, long* offsets, int* weights, int taps, float* w, int count, float* sums)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        for (var v = 0; v < count; v += Vectors * width)
        {
            BlockSums<TV, TS>(rows + v, offsets, weights, taps, w, out var s0, out var s1, out var s2, out var s3);
            TS.Store(sums + v, s0);
            TS.Store(sums + v + width, s1);
            TS.Store(sums + v + 2 * width, s2);
            TS.Store(sums + v + 3 * width, s3);
        }
    }

    /// <summary>
    /// One block of <see cref="Vectors"/> vectors of a phase: <c>s_k[lane]</c> = the sum over the taps <c>t</c> of
    /// <c>rows[offsets[t] + k*width + lane] * w[weights[t]]</c>, one fused multiply-add chain each, from zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BlockSums<TV, TS>(float* rows, long* offsets, int* weights, int taps, float* w, out TV s0, out TV s1, out TV s2, out TV s3)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        (s0, s1, s2, s3) = (TS.Zero, TS.Zero, TS.Zero, TS.Zero);
        for (var t = 0; t < taps; t++)
        {
            var p = rows + offsets[t];
            var weight = TS.Broadcast(w[weights[t]]);
            s0 = TS.Fma(TS.Load(p), weight, s0);
            s1 = TS.Fma(TS.Load(p + width), weight, s1);
            s2 = TS.Fma(TS.Load(p + 2 * width), weight, s2);
            s3 = TS.Fma(TS.Load(p + 3 * width), weight, s3);
        }
    }

    /// <summary>
    /// Stride 2 with AVX-512 or AVX2 and no activation: outputs <c>2u</c> and <c>2u + 1</c> of a row, for u in whole
    /// blocks of 4 vectors that both phases have (<paramref name="oddCount"/>, the second phase's outputs, rounded down), from the even
    /// and the odd phase's taps (as in <see cref="PhaseSums"/>), interleaved in registers and written with the bias
    /// added. Returns the outputs of each phase written. (Through the buffer and <see cref="Interleave2"/>, the
    /// row's sums were stored and loaded again: depthwise k=4 s=2 took 1.17 ms instead of 1.10 at 1 thread, 0.54 instead of 0.40 at 2.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ZipBlocks<TV, TS>(float* rows, long* evenOffsets, int* evenWeights, int evenTaps, long* oddOffsets, int* oddWeights, int oddTaps,
        float* w, int oddCount, float bias, float* target)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        var block = Vectors * width;
        var biasVector = TS.Broadcast(bias);
        var u = 0;
        for (; u + block <= oddCount; u += block)
        {
            BlockSums<TV, TS>(rows + u, evenOffsets, evenWeights, evenTaps, w, out var e0, out var e1, out var e2, out var e3);
            BlockSums<TV, TS>(rows + u, oddOffsets, oddWeights, oddTaps, w, out var o0, out var o1, out var o2, out var o3);
            var to = target + 2L * u;
            StorePairs<TV, TS>(e0, o0, biasVector, to);
            StorePairs<TV, TS>(e1, o1, biasVector, to + 2 * width);
            StorePairs<TV, TS>(e2, o2, biasVector, to + 4 * width);
            StorePairs<TV, TS>(e3, o3, biasVector, to + 6 * width);
        }

        return u;
    }

    /// <summary><c>target[2i] = even[i] + bias</c>, <c>target[2i + 1] = odd[i] + bias</c>: two whole vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePairs<TV, TS>(TV even, TV odd, TV bias, float* target)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var (low, high) = TS.Zip(even, odd);
        TS.Store(target, TS.Add(low, bias));
        TS.Store(target + TS.Width, TS.Add(high, bias));
    }

    /// <summary>
    /// Stride 2: <c>target[2u] = values[u]</c>, <c>target[2u + 1] = values[Segment + u]</c> (plus the bias, then the
    /// activation) for the <paramref name="evenCount"/> and <paramref name="oddCount"/> values of the two phases,
    /// a vector of pairs at a time zipped into two whole vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Interleave2<TV, TS>(float* values, int evenCount, int oddCount, float bias, float* target)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        var biasVector = TS.Broadcast(bias);
        var u = 0;
        if (Activation == FusedActivation.None)
        {
            for (; u + width <= oddCount; u += width)
            {
                StorePairs<TV, TS>(TS.Load(values + u), TS.Load(values + Segment + u), biasVector, target + 2 * u);
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

    /// <summary>
    /// For each output row (o0, o1), numbered o0*O1 + o1, and each phase of the last axis (in the order of
    /// <see cref="_lastAxisPhases"/>), the taps that reach it with a (k0, k1) row inside the input, ascending
    /// in (k0, k1, k2): where output 0 of the phase reads in a buffer of padded input rows, and the tap's
    /// weight within its channel's.
    /// </summary>
    private static RowTaps Tabulate(Lifted g, AxisPhase[][] phases, AxisPhase[] lastAxisPhases, int before, long rowLength)
    {
        var rows = g.A0.Output * g.A1.Output;
        var start = new int[rows * lastAxisPhases.Length + 1];
        var (firstInputRow, endInputRow) = (new int[rows], new int[rows]);
        var (offsets, weights) = (new List<long>(), new List<int>());
        for (var o0 = 0; o0 < g.A0.Output; o0++)
        for (var o1 = 0; o1 < g.A1.Output; o1++)
        {
            var row = o0 * g.A1.Output + o1;
            var (p0, u0) = PhaseOf(g.A0, phases[0], o0);
            var (p1, u1) = PhaseOf(g.A1, phases[1], o1);
            (firstInputRow[row], endInputRow[row]) = (int.MaxValue, 0);
            for (var slot = 0; slot < lastAxisPhases.Length; slot++)
            {
                var p2 = lastAxisPhases[slot];
                start[row * lastAxisPhases.Length + slot] = offsets.Count;
                for (var j0 = 0; j0 < p0.Taps.Length; j0++)
                for (var j1 = 0; j1 < p1.Taps.Length; j1++)
                {
                    var (i0, i1) = (p0.FirstQ + u0 - p0.Shifts[j0], p1.FirstQ + u1 - p1.Shifts[j1]);
                    if (i0 < 0 || i0 >= g.A0.Input || i1 < 0 || i1 >= g.A1.Input)
                    {
                        continue;
                    }

                    var inputRow = (int)(i0 * g.A1.Input + i1);
                    (firstInputRow[row], endInputRow[row]) = (Math.Min(firstInputRow[row], inputRow), Math.Max(endInputRow[row], inputRow + 1));
                    for (var j2 = 0; j2 < p2.Taps.Length; j2++)
                    {
                        offsets.Add(inputRow * rowLength + before + p2.FirstQ - p2.Shifts[j2]);
                        weights.Add((p0.Taps[j0] * g.A1.Kernel + p1.Taps[j1]) * g.A2.Kernel + p2.Taps[j2]);
                    }
                }
            }

        }

        start[^1] = offsets.Count;
        return new RowTaps(start, [.. offsets], [.. weights], firstInputRow, endInputRow);
    }

    /// <summary>The phase of an axis that output <paramref name="o"/> belongs to, and its number within the phase.</summary>
    private static (AxisPhase Phase, int U) PhaseOf(AxisGeometry axis, AxisPhase[] phases, int o)
    {
        var phase = phases[(int)(((long)o + axis.CropBegin) % axis.Stride)];
        return (phase, (o - phase.FirstOutput) / axis.Stride);
    }

    /// <summary>
    /// Taps <c>[Start[row*phases + phase], Start[row*phases + phase + 1])</c> of an output row and last-axis phase: the
    /// offset <c>Offset</c> of the input that output 0 of the phase reads through the tap, in a buffer holding padded
    /// input row <c>i0*I1 + i1</c> at <c>(i0*I1 + i1) * rowLength</c>, and the tap's weight <c>Weight</c> within its
    /// channel's. Output row <c>row</c> reads input rows <c>[FirstInputRow[row], EndInputRow[row])</c> at most
    /// (<c>int.MaxValue, 0</c> when it reads none).
    /// </summary>
    private sealed record RowTaps(int[] Start, long[] Offset, int[] Weight, int[] FirstInputRow, int[] EndInputRow);

    /// <summary>
    /// Output rows [FirstRow, FirstRow + RowCount) of plane (n, c), rows numbered o0*O1 + o1, which read input
    /// rows [FirstInputRow, FirstInputRow + InputRowCount), numbered i0*I1 + i1.
    /// </summary>
    private readonly record struct WorkItem(int Plane, int FirstRow, int RowCount, int FirstInputRow, int InputRowCount);
}
