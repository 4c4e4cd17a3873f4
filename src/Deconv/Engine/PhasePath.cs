using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Deconv.Reference;

namespace Deconv.Engine;

/// <summary>
/// A fast path over the output phases (semantics.md section 6.5): the input is copied once per run into
/// a zero-padded scratch buffer, so every phase is a dense stride-1 correlation without bounds checks,
/// and the output is cut into independent work items that each write their own outputs once.
/// </summary>
/// <remarks>
/// Every output value is summed over (tap ascending in k0, k1, k2, then input channel ascending) with one
/// fused multiply-add per product, starting from zero; the bias is added and the activation applied
/// when it is stored. The padding only ever multiplies zeros by finite weights, which adds nothing (the
/// direct path, which skips those products, gives the same bits but for the sign of an all-zero sum); the
/// tiles skip most of them too, running over the taps that read inside (<see cref="TapRuns"/>): the channel path's
/// along every axis, the pixel path's along all but the last.
/// </remarks>
internal abstract unsafe class PhasePath
{
    protected PhasePath(Lifted g, float[] bias, FusedActivation activation, float slope, SimdWidth simd)
    {
        G = g;
        KernelWidth = simd;
        Bias = bias;
        Activation = activation;
        Slope = slope;
        Phases = [AxisPhase.Decompose(g.A0), AxisPhase.Decompose(g.A1), AxisPhase.Decompose(g.A2)];
        OutputPlane = (long)g.A0.Output * g.A1.Output * g.A2.Output;
    }

    /// <summary>The geometry; a field, so reading a member does not copy the struct.</summary>
    protected readonly Lifted G;

    protected float[] Bias { get; }

    /// <summary>The vector width the kernels are compiled for.</summary>
    protected SimdWidth KernelWidth { get; }

    protected FusedActivation Activation { get; }

    protected float Slope { get; }

    /// <summary>The phases of each spatial axis.</summary>
    protected AxisPhase[][] Phases { get; }

    /// <summary>Output elements per channel and batch entry.</summary>
    protected long OutputPlane { get; }

    /// <summary>Independent pieces of work; any thread may run any of them.</summary>
    public abstract int ItemCount { get; }

    /// <summary>Floats held: packed weight and scratch.</summary>
    public abstract long ExtraFloats { get; }

    /// <summary>Rows (all spatial axes but the last, with batch and, channels-first, channel) of the input copy.</summary>
    public abstract int ScratchRows { get; }

    /// <summary>Copies input rows [first, first + count) into the scratch (the padding stays zero).</summary>
    public abstract void FillScratch(float* x, int first, int count);

    /// <summary>Computes and stores the outputs of one work item (the paths that copy x into their scratch read that instead).</summary>
    public void RunItem(int index, float* x, float* y)
    {
        switch (KernelWidth)
        {
            case SimdWidth.V512:
                RunItem<Vector512<float>, Simd512>(index, x, y);
                break;
            case SimdWidth.V256:
                RunItem<Vector256<float>, Simd256>(index, x, y);
                break;
            case SimdWidth.V128:
                RunItem<Vector128<float>, Simd128>(index, x, y);
                break;
            default:
                RunItem<float, SimdScalar>(index, x, y);
                break;
        }
    }

    /// <summary><see cref="RunItem(int, float*, float*)"/> with kernels of one vector type.</summary>
    protected abstract void RunItem<TV, TS>(int index, float* x, float* y)
        where TV : struct
        where TS : struct, ISimd<TV>;

    /// <summary>Distance between output channels in y.</summary>
    protected long OutputChannelStride => G.Layout == DataLayout.ChannelsFirst ? OutputPlane : 1;

    /// <summary>Distance between neighbouring positions of the last spatial axis in y.</summary>
    protected long OutputPositionStride => G.Layout == DataLayout.ChannelsFirst ? 1 : G.M;

    /// <summary>Offset in y of [n, channel 0, o0, o1, o2].</summary>
    protected long OutputOffset(int n, long o0, long o1, long o2)
    {
        var spatial = (o0 * G.A1.Output + o1) * G.A2.Output + o2;
        return G.Layout == DataLayout.ChannelsFirst ? (long)n * G.M * OutputPlane + spatial : ((long)n * OutputPlane + spatial) * G.M;
    }

    /// <summary><c>target[i*stride] = activation(sums[i] + bias[i*biasStep])</c> for i &lt; count: the one write of each output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected void Store(float* sums, float* bias, int biasStep, int count, float* target, long stride)
    {
        if (Activation == FusedActivation.None && stride == 1 && biasStep == 1)
        {
            // Contiguous: vectorised (an addition rounds the same in any width).
            TensorPrimitives.Add(new ReadOnlySpan<float>(sums, count), new ReadOnlySpan<float>(bias, count), new Span<float>(target, count));
        }
        else if (Activation == FusedActivation.None && stride == 1 && biasStep == 0)
        {
            TensorPrimitives.Add(new ReadOnlySpan<float>(sums, count), *bias, new Span<float>(target, count));
        }
        else if (Activation == FusedActivation.None && biasStep == 0)
        {
            // One channel's pixels, every stride-th output: the pixel path's common case.
            var value = *bias;
            for (var i = 0; i < count; i++, target += stride)
            {
                *target = sums[i] + value;
            }
        }
        else if (Activation == FusedActivation.None)
        {
            for (var i = 0; i < count; i++)
            {
                target[i * stride] = sums[i] + bias[i * biasStep];
            }
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                target[i * stride] = Activations.Apply(sums[i] + bias[i * biasStep], Activation, Slope);
            }
        }
    }

    /// <summary>
    /// Zeros needed before an axis, and its padded length, so that every phase's reads <c>q - shift</c>
    /// stay inside; reads run up to <paramref name="tile"/> - 1 positions past a phase's last output
    /// (a partial tile computes whole vectors).
    /// </summary>
    protected static (int Before, long Length) Padding(AxisGeometry axis, AxisPhase[] phases, int tile)
    {
        long lowest = 0, highest = axis.Input - 1L;
        foreach (var p in phases.Where(p => p.Count > 0))
        {
            lowest = Math.Min(lowest, p.FirstQ - p.MaxShift);
            highest = Math.Max(highest, p.FirstQ + (p.Count + tile - 1) / tile * tile - 1);
        }

        return ((int)Math.Min(-lowest, int.MaxValue), highest - lowest + 1);
    }

    /// <summary>
    /// The outputs of an axis phase in runs that read the same taps: positions [First, First + Count) of the phase,
    /// whose taps From to To - 1 (indices into <see cref="AxisPhase.Taps"/>) read inputs inside the axis (of
    /// <paramref name="input"/> positions); the others would read the padding's zeros. The inside taps of an output
    /// are consecutive: its input <c>q - shift</c> is inside for <c>q - input &lt; shift &lt;= q</c>, and the shifts ascend.
    /// </summary>
    protected static (int First, int Count, int From, int To)[] TapRuns(AxisPhase phase, int input) =>
        InsideTaps.Runs(phase.Count, phase.Taps.Length, (u, j) => phase.FirstQ + u - phase.Shifts[j] is var q && q >= 0 && q < input);

    /// <summary>
    /// A phase's boxes of outputs that read the same taps, in order: a run of its positions along each axis
    /// (<see cref="TapRuns"/>; along the last axis the whole axis with all its taps unless <paramref name="cutLastAxis"/>),
    /// with the numbers of the box's inside taps as runs of consecutive numbers (<see cref="InsideTaps.Numbers"/>).
    /// </summary>
    protected static IEnumerable<((int First, int Count) A0, (int First, int Count) A1, (int First, int Count) A2, (int Start, int Length)[] TapRuns)> InsideBoxes(
        Lifted g, AxisPhase p0, AxisPhase p1, AxisPhase p2, bool cutLastAxis)
    {
        var (taps1, taps2) = (p1.Taps.Length, p2.Taps.Length);
        foreach (var r0 in TapRuns(p0, g.A0.Input))
        foreach (var r1 in TapRuns(p1, g.A1.Input))
        foreach (var r2 in cutLastAxis ? TapRuns(p2, g.A2.Input) : [(0, p2.Count, 0, taps2)])
        {
            yield return ((r0.First, r0.Count), (r1.First, r1.Count), (r2.First, r2.Count),
                InsideTaps.Numbers((r0.From, r0.To), (r1.From, r1.To), (r2.From, r2.To), taps1, taps2));
        }
    }

    /// <summary>The phase combinations over the three axes that have outputs, in order (r0, r1, r2).</summary>
    protected IEnumerable<(AxisPhase P0, AxisPhase P1, AxisPhase P2)> OutputPhases()
    {
        foreach (var p0 in Phases[0])
        foreach (var p1 in Phases[1])
        foreach (var p2 in Phases[2])
        {
            if (p0.Count > 0 && p1.Count > 0 && p2.Count > 0)
            {
                yield return (p0, p1, p2);
            }
        }
    }

    /// <summary>
    /// For each tap of a phase (ascending k0, k1, k2), its read offset relative to shift 0 in a scratch
    /// whose spatial axes have element strides <paramref name="stride0"/>, <paramref name="stride1"/>, <paramref name="stride2"/>.
    /// </summary>
    protected static int[] TapOffsets(AxisPhase p0, AxisPhase p1, AxisPhase p2, long stride0, long stride1, long stride2)
    {
        var offsets = new int[p0.Taps.Length * p1.Taps.Length * p2.Taps.Length];
        var t = 0;
        foreach (var e0 in p0.Shifts)
        foreach (var e1 in p1.Shifts)
        foreach (var e2 in p2.Shifts)
        {
            offsets[t++] = -(int)(e0 * stride0 + e1 * stride1 + e2 * stride2);
        }

        return offsets;
    }

    /// <summary>
    /// Packs the weight into every panel: panel (phase, group, block) holds
    /// <c>[tap][input channel][lane] = w[group*C/G + channel, first + lane, taps]</c>, zero past M/G, where
    /// <paramref name="lanes"/> gives a block's first output channel and width, and
    /// <c>panelOffsets[phase][group*blocks + block]</c> where it starts. Input channel outermost, so each
    /// channel's weights <c>[M/G, k...]</c> are read while they are in cache.
    /// </summary>
    protected void PackPanels(float[] weight, float* packed, IReadOnlyList<(AxisPhase P0, AxisPhase P1, AxisPhase P2, long[] PanelOffsets)> phases,
        int blocks, Func<int, (int First, int Width)> lanes)
    {
        for (var group = 0; group < G.G; group++)
        for (var c = 0; c < G.Cg; c++)
        {
            var channel = group * G.Cg + c;
            foreach (var (p0, p1, p2, offsets) in phases)
            for (var block = 0; block < blocks; block++)
            {
                var (first, width) = lanes(block);
                var panel = packed + offsets[group * blocks + block];
                var t = 0;
                foreach (var k0 in p0.Taps)
                foreach (var k1 in p1.Taps)
                foreach (var k2 in p2.Taps)
                {
                    var target = panel + ((long)t++ * G.Cg + c) * width;
                    for (var lane = 0; lane < width; lane++)
                    {
                        var j = first + lane;
                        target[lane] = j < G.Mg ? weight[G.WeightIndex(channel, j, k0, k1, k2)] : 0f;
                    }
                }
            }
        }
    }

    /// <summary>A zeroed buffer that never moves, and its 64-byte aligned address.</summary>
    protected static AlignedBuffer PinnedArray(long length, out float* address)
    {
        var buffer = new AlignedBuffer(length);
        address = buffer.Data;
        return buffer;
    }
}
