using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Deconv.Reference;

namespace Deconv.Engine;

/// <summary>How a <see cref="ConvTransposePlan"/> computes.</summary>
public enum ConvTransposeStrategy
{
    /// <summary>A scalar gather over the output: tiny problems, non-finite weights, or sizes the fast path cannot pad.</summary>
    Direct,

    /// <summary>Phase decomposition into stride-1 correlations, each an implicit GEMM with SIMD register tiles.</summary>
    PhaseGemm,
}

/// <summary>
/// A float32 transposed convolution prepared once for a geometry and weight, then run many times.
/// </summary>
/// <remarks>
/// <para>Creation validates, chooses the strategy and packs the weight; <see cref="Run(ReadOnlySpan{float}, Span{float})"/>
/// then allocates nothing on the heap when it runs on one thread (on several, only
/// <see cref="Parallel"/>'s own bookkeeping).</para>
/// <para>Each output value is one sum over (tap, input channel) in a fixed order, written once, so the
/// result is bit-identical for every thread count and SIMD width. A plan owns a scratch buffer: do not
/// run one plan from several threads at once.</para>
/// </remarks>
public sealed unsafe class ConvTransposePlan
{
    /// <summary>Problems with at most this many multiply-adds take the direct path (packing would cost more).</summary>
    internal const long DirectLimit = 1 << 12;

    /// <summary>Problems with fewer multiply-adds than this run on one thread.</summary>
    internal const long ParallelLimit = 1 << 18;

    /// <summary>Pixel tiles per work item.</summary>
    private const int ChunkTiles = 16;

    private readonly Lifted _g;
    private readonly float[] _weight;
    private readonly float[] _bias; // [M], zeros when no bias was given
    private readonly FusedActivation _activation;
    private readonly float _slope;

    // Phase-GEMM state (unused by the direct path).
    private readonly SimdWidth _simd;
    private readonly Phase[] _phases = [];
    private readonly WorkItem[] _items = [];
    private readonly int _blocks; // channel blocks of two vectors per group
    private readonly float* _packed; // pinned: per (phase, group, block) a panel [tap][channel][block lanes]
    private readonly float* _scratch; // pinned: input channels-last, zero-padded: [N, P0, P1, P2, C]
    private readonly float[]? _packedArray, _scratchArray;
    private readonly int _padded0, _padded1, _padded2, _pad0, _pad1, _pad2;
    private readonly Action<int>? _parallelBody;
    private readonly ParallelOptions? _parallelOptions;
    private float* _runOutput; // the output of the Run in progress, for the parallel body

    /// <summary>Validates, chooses the strategy and packs the weight.</summary>
    /// <param name="geometry">The transposed convolution.</param>
    /// <param name="weight"><c>[C, M/G, k...]</c>, flat.</param>
    /// <param name="bias"><c>[M]</c> or empty.</param>
    /// <param name="threads">Threads to use; 0 means one per processor.</param>
    /// <param name="activation">Applied to each output value after the bias.</param>
    /// <param name="leakyReluSlope">Slope for negative values of <see cref="FusedActivation.LeakyRelu"/>.</param>
    /// <exception cref="ConvolutionArgumentException">A length, the thread count or the activation is invalid.</exception>
    public ConvTransposePlan(ConvGeometry geometry, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias = default,
        int threads = 0, FusedActivation activation = FusedActivation.None, float leakyReluSlope = 0.01f)
        : this(geometry, weight, bias, threads, activation, leakyReluSlope, preferDirect: null, ParallelLimit)
    {
    }

    /// <summary>
    /// Tests' constructor: <paramref name="preferDirect"/> overrides the size rule of the strategy choice
    /// (the fast path still needs finite weights), <paramref name="parallelLimit"/> the size from which
    /// work is split across threads.
    /// </summary>
    internal ConvTransposePlan(ConvGeometry geometry, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int threads, FusedActivation activation, float leakyReluSlope, bool? preferDirect, long parallelLimit)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        Check.Lengths(geometry, geometry.InputLength, geometry.InputLength, weight.Length, bias.Length, geometry.OutputChannels);
        if (threads < 0)
        {
            throw new ConvolutionArgumentException($"ConvTransposePlan: threads is {threads} but must be at least 0 (0 = one per processor)", nameof(threads));
        }

        if (!Enum.IsDefined(activation))
        {
            throw new ConvolutionArgumentException($"ConvTransposePlan: activation {(int)activation} is not a FusedActivation", nameof(activation));
        }

        Geometry = geometry;
        Threads = threads == 0 ? Environment.ProcessorCount : threads;
        _g = new Lifted(geometry);
        _weight = weight.ToArray();
        _bias = bias.IsEmpty ? new float[geometry.OutputChannels] : bias.ToArray();
        _activation = activation;
        _slope = leakyReluSlope;
        _simd = SimdSupport.Best;

        Strategy = ConvTransposeStrategy.Direct;
        if (geometry.OutputLength == 0 || (preferDirect ?? geometry.MultiplyAdds <= DirectLimit) || !AllFinite(_weight))
        {
            return;
        }

        var axes = new[] { _g.A0, _g.A1, _g.A2 };
        var axisPhases = axes.Select(AxisPhase.Decompose).ToArray();
        var pads = new int[3];
        var padded = new long[3];
        for (var a = 0; a < 3; a++)
        {
            (pads[a], padded[a]) = Padding(axes[a], axisPhases[a]);
        }

        var width = (int)_simd;
        _blocks = (_g.Mg + 2 * width - 1) / (2 * width);
        var scratchLength = Shapes.TryProduct([_g.N, padded[0], padded[1], padded[2], _g.C]);
        var packedLength = (long)_g.C * _blocks * 2 * width * axes.Aggregate(1L, (p, a) => p * a.Kernel);
        if (scratchLength is null || scratchLength > Array.MaxLength || packedLength > Array.MaxLength)
        {
            return; // padding an extreme geometry would not fit: the direct path needs none
        }

        (_pad0, _pad1, _pad2) = (pads[0], pads[1], pads[2]);
        (_padded0, _padded1, _padded2) = ((int)padded[0], (int)padded[1], (int)padded[2]);
        _scratchArray = GC.AllocateArray<float>((int)scratchLength, pinned: true);
        _packedArray = GC.AllocateArray<float>((int)packedLength, pinned: true);
        _scratch = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_scratchArray));
        _packed = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_packedArray));

        var phases = new List<Phase>();
        var items = new List<WorkItem>();
        long panelOffset = 0;
        foreach (var p0 in axisPhases[0])
        foreach (var p1 in axisPhases[1])
        foreach (var p2 in axisPhases[2])
        {
            var pixels = (long)_g.N * p0.Count * p1.Count * p2.Count;
            if (pixels == 0)
            {
                continue;
            }

            var phase = new Phase(p0, p1, p2, (int)pixels, TapOffsets(p0, p1, p2), new long[_g.G * _blocks]);
            for (var group = 0; group < _g.G; group++)
            for (var block = 0; block < _blocks; block++)
            {
                phase.PanelOffsets[group * _blocks + block] = panelOffset;
                panelOffset += Pack(phase, group, block, _packed + panelOffset);
                for (var first = 0; first < phase.Pixels; first += ChunkTiles * TileKernels.Pixels)
                {
                    items.Add(new WorkItem(phases.Count, group, block, first, Math.Min(ChunkTiles * TileKernels.Pixels, phase.Pixels - first)));
                }
            }

            phases.Add(phase);
        }

        _phases = [.. phases];
        _items = [.. items];
        if (Threads > 1 && geometry.MultiplyAdds >= parallelLimit && _items.Length > 1)
        {
            _parallelOptions = new ParallelOptions { MaxDegreeOfParallelism = Threads };
            _parallelBody = i => RunItem(i, _runOutput);
        }

        Strategy = ConvTransposeStrategy.PhaseGemm;
    }

    /// <summary>The geometry the plan computes.</summary>
    public ConvGeometry Geometry { get; }

    /// <summary>Threads the plan may use.</summary>
    public int Threads { get; }

    /// <summary>The strategy chosen at creation.</summary>
    public ConvTransposeStrategy Strategy { get; }

    /// <summary>Whether <see cref="Run(ReadOnlySpan{float}, Span{float})"/> splits the work across threads.</summary>
    public bool RunsInParallel => _parallelBody is not null;

    /// <summary>Floats the plan holds besides the geometry: the weight copy, packed panels and input scratch.</summary>
    public long ExtraFloats => _weight.Length + _bias.Length + (_packedArray?.Length ?? 0) + (_scratchArray?.Length ?? 0);

    /// <summary>SIMD lanes per vector of the fast path.</summary>
    internal int VectorWidth => (int)_simd;

    /// <summary>y = activation(conv_transpose(x, w) + bias); x: <see cref="ConvGeometry.InputShape"/>, y: <see cref="ConvGeometry.OutputShape"/>.</summary>
    /// <exception cref="ConvolutionArgumentException">x or y has the wrong length.</exception>
    public void Run(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != Geometry.InputLength)
        {
            throw new ConvolutionArgumentException($"x has {x.Length} elements but the geometry {Geometry} needs {Geometry.InputLength}", nameof(x));
        }

        if (y.Length != Geometry.OutputLength)
        {
            throw new ConvolutionArgumentException($"y has {y.Length} elements but the geometry {Geometry} needs {Geometry.OutputLength}", nameof(y));
        }

        if (Strategy == ConvTransposeStrategy.Direct)
        {
            RunDirect(x, y);
            return;
        }

        fixed (float* xp = x, yp = y)
        {
            FillScratch(xp);
            if (_parallelBody is null)
            {
                for (var i = 0; i < _items.Length; i++)
                {
                    RunItem(i, yp);
                }
            }
            else
            {
                _runOutput = yp;
                try
                {
                    Parallel.For(0, _items.Length, _parallelOptions!, _parallelBody);
                }
                finally
                {
                    _runOutput = null;
                }
            }
        }
    }

    /// <summary>Runs the plan into a new array.</summary>
    public float[] Run(ReadOnlySpan<float> x)
    {
        var y = new float[Geometry.OutputLength];
        Run(x, y);
        return y;
    }

    private static bool AllFinite(float[] values)
    {
        foreach (var v in values)
        {
            if (!float.IsFinite(v))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Zeros needed before and after an axis so every phase's reads <c>q - shift</c> stay inside.</summary>
    private static (int Before, long Length) Padding(AxisGeometry axis, AxisPhase[] phases)
    {
        long lowest = 0, highest = axis.Input - 1L;
        foreach (var p in phases.Where(p => p.Count > 0))
        {
            lowest = Math.Min(lowest, p.FirstQ - p.MaxShift);
            highest = Math.Max(highest, p.FirstQ + p.Count - 1);
        }

        return ((int)Math.Min(-lowest, int.MaxValue), highest - lowest + 1);
    }

    /// <summary>For each tap of the phase (ascending k0, k1, k2), the offset in the padded channels-last input relative to shift 0.</summary>
    private int[] TapOffsets(AxisPhase p0, AxisPhase p1, AxisPhase p2)
    {
        var offsets = GC.AllocateArray<int>(p0.Taps.Length * p1.Taps.Length * p2.Taps.Length, pinned: true);
        var t = 0;
        foreach (var e0 in p0.Shifts)
        foreach (var e1 in p1.Shifts)
        foreach (var e2 in p2.Shifts)
        {
            offsets[t++] = -(int)((((long)e0 * _padded1 + e1) * _padded2 + e2) * _g.C);
        }

        return offsets;
    }

    private int BlockWidth(int block)
    {
        var width = (int)_simd;
        var remaining = _g.Mg - block * 2 * width;
        return remaining > width ? 2 * width : width;
    }

    /// <summary>Writes the panel <c>[tap][channel][lane]</c> of one (phase, group, block); returns its length.</summary>
    private int Pack(Phase phase, int group, int block, float* panel)
    {
        var blockWidth = BlockWidth(block);
        var firstOut = block * 2 * (int)_simd;
        var i = 0;
        foreach (var k0 in phase.A0.Taps)
        foreach (var k1 in phase.A1.Taps)
        foreach (var k2 in phase.A2.Taps)
        for (var c = 0; c < _g.Cg; c++)
        for (var lane = 0; lane < blockWidth; lane++)
        {
            var j = firstOut + lane;
            panel[i++] = j < _g.Mg ? _weight[_g.WeightIndex(group * _g.Cg + c, j, k0, k1, k2)] : 0f;
        }

        return i;
    }

    /// <summary>Copies x into the interior of the zero-padded channels-last scratch (the border stays zero).</summary>
    private void FillScratch(float* x)
    {
        var (i0, i1, i2, channels) = (_g.A0.Input, _g.A1.Input, _g.A2.Input, _g.C);
        for (var n = 0; n < _g.N; n++)
        for (var a = 0; a < i0; a++)
        for (var b = 0; b < i1; b++)
        {
            var row = _scratch + ((((long)n * _padded0 + a + _pad0) * _padded1 + b + _pad1) * _padded2 + _pad2) * channels;
            if (_g.Layout == DataLayout.ChannelsLast)
            {
                // x: [N, I0, I1, I2, C]: a row of I2*C is contiguous in both.
                var source = x + (((long)n * i0 + a) * i1 + b) * i2 * channels;
                Buffer.MemoryCopy(source, row, (long)i2 * channels * sizeof(float), (long)i2 * channels * sizeof(float));
            }
            else
            {
                // x: [N, C, I0, I1, I2]
                for (var c = 0; c < channels; c++)
                {
                    var source = x + ((((long)n * channels + c) * i0 + a) * i1 + b) * i2;
                    for (var k = 0; k < i2; k++)
                    {
                        row[(long)k * channels + c] = source[k];
                    }
                }
            }
        }
    }

    private void RunItem(int index, float* y)
    {
        switch (_simd)
        {
            case SimdWidth.V512:
                RunItem<Vector512<float>, Simd512>(index, y);
                break;
            case SimdWidth.V256:
                RunItem<Vector256<float>, Simd256>(index, y);
                break;
            case SimdWidth.V128:
                RunItem<Vector128<float>, Simd128>(index, y);
                break;
            default:
                RunItem<float, SimdScalar>(index, y);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunItem<TV, TS>(int index, float* y)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        const int tilePixels = TileKernels.Pixels;
        var item = _items[index];
        var phase = _phases[item.Phase];
        var blockWidth = BlockWidth(item.Block);
        var firstOut = item.Group * _g.Mg + item.Block * 2 * TS.Width; // first output channel of the block
        var lanes = Math.Min(blockWidth, _g.Mg - item.Block * 2 * TS.Width);
        var panel = _packed + phase.PanelOffsets[item.Group * _blocks + item.Block];
        var input = _scratch + (long)item.Group * _g.Cg;
        var channelStride = _g.Layout == DataLayout.ChannelsFirst ? (long)_g.A0.Output * _g.A1.Output * _g.A2.Output : 1;
        var tile = stackalloc float[tilePixels * 2 * TS.Width];
        var x = stackalloc float*[tilePixels];
        var outBase = stackalloc long[tilePixels];
        fixed (int* tapOffsets = phase.TapOffsets)
        fixed (float* bias = _bias)
        {
            var end = item.FirstPixel + item.PixelCount;
            for (var first = item.FirstPixel; first < end; first += tilePixels)
            {
                var valid = Math.Min(tilePixels, end - first);
                for (var p = 0; p < tilePixels; p++)
                {
                    // A partial tile repeats its last pixel; the copies are not stored.
                    var (inOffset, outOffset) = Locate(phase, first + Math.Min(p, valid - 1));
                    x[p] = input + inOffset;
                    outBase[p] = outOffset;
                }

                if (blockWidth == 2 * TS.Width)
                {
                    TileKernels.TwoVectors<TV, TS>(panel, tapOffsets, phase.TapOffsets.Length, _g.Cg, x[0], x[1], x[2], x[3], x[4], x[5], tile);
                }
                else
                {
                    TileKernels.OneVector<TV, TS>(panel, tapOffsets, phase.TapOffsets.Length, _g.Cg, x[0], x[1], x[2], x[3], x[4], x[5], tile);
                }

                for (var p = 0; p < valid; p++)
                {
                    var target = y + outBase[p] + firstOut * channelStride;
                    var sums = tile + p * blockWidth;
                    for (var lane = 0; lane < lanes; lane++)
                    {
                        target[lane * channelStride] = Activation.Apply(sums[lane] + bias[firstOut + lane], _activation, _slope);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Pixel number <paramref name="pixel"/> of a phase (ordered n, u0, u1, u2): its offset in the padded
    /// scratch at shift 0, and its offset in y at channel 0.
    /// </summary>
    private (long Input, long Output) Locate(Phase phase, int pixel)
    {
        var u2 = pixel % phase.A2.Count;
        pixel /= phase.A2.Count;
        var u1 = pixel % phase.A1.Count;
        pixel /= phase.A1.Count;
        var u0 = pixel % phase.A0.Count;
        var n = pixel / phase.A0.Count;
        var input = ((((long)n * _padded0 + phase.A0.FirstQ + u0 + _pad0) * _padded1 + phase.A1.FirstQ + u1 + _pad1) * _padded2
            + phase.A2.FirstQ + u2 + _pad2) * _g.C;
        var o0 = phase.A0.FirstOutput + (long)_g.A0.Stride * u0;
        var o1 = phase.A1.FirstOutput + (long)_g.A1.Stride * u1;
        var o2 = phase.A2.FirstOutput + (long)_g.A2.Stride * u2;
        var spatial = (o0 * _g.A1.Output + o1) * _g.A2.Output + o2;
        var plane = (long)_g.A0.Output * _g.A1.Output * _g.A2.Output;
        var output = _g.Layout == DataLayout.ChannelsFirst ? (long)n * _g.M * plane + spatial : ((long)n * plane + spatial) * _g.M;
        return (input, output);
    }

    /// <summary>
    /// The scalar gather: every output value sums its valid (tap, channel) products in the same order as
    /// the phase path (taps ascending, then channels), with fused multiply-adds.
    /// </summary>
    private void RunDirect(ReadOnlySpan<float> x, Span<float> y)
    {
        var g = _g;
        for (var n = 0; n < g.N; n++)
        for (var m = 0; m < g.M; m++)
        {
            var group = m / g.Mg;
            var j = m % g.Mg;
            for (var o0 = 0; o0 < g.A0.Output; o0++)
            for (var o1 = 0; o1 < g.A1.Output; o1++)
            for (var o2 = 0; o2 < g.A2.Output; o2++)
            {
                var sum = 0f;
                for (var k0 = 0; k0 < g.A0.Kernel; k0++)
                {
                    if (!InputOf(g.A0, o0, k0, out var i0))
                    {
                        continue;
                    }

                    for (var k1 = 0; k1 < g.A1.Kernel; k1++)
                    {
                        if (!InputOf(g.A1, o1, k1, out var i1))
                        {
                            continue;
                        }

                        for (var k2 = 0; k2 < g.A2.Kernel; k2++)
                        {
                            if (!InputOf(g.A2, o2, k2, out var i2))
                            {
                                continue;
                            }

                            for (var c = group * g.Cg; c < (group + 1) * g.Cg; c++)
                            {
                                sum = MathF.FusedMultiplyAdd(x[(int)g.InputIndex(n, c, i0, i1, i2)], _weight[g.WeightIndex(c, j, k0, k1, k2)], sum);
                            }
                        }
                    }
                }

                y[(int)g.OutputIndex(n, m, o0, o1, o2)] = Activation.Apply(sum + _bias[m], _activation, _slope);
            }
        }
    }

    /// <summary>The input position that tap <paramref name="k"/> carries to output <paramref name="o"/>, if any.</summary>
    private static bool InputOf(AxisGeometry axis, int o, int k, out int i)
    {
        var t = (long)o + axis.CropBegin - (long)k * axis.Dilation;
        i = (int)(t / axis.Stride);
        return t >= 0 && t % axis.Stride == 0 && i < axis.Input;
    }

    /// <summary>One output phase over all spatial axes (the product of three axis phases).</summary>
    private sealed record Phase(AxisPhase A0, AxisPhase A1, AxisPhase A2, int Pixels, int[] TapOffsets, long[] PanelOffsets);

    /// <summary>A chunk of one phase's pixels for one channel block of one group: the unit of parallel work.</summary>
    private readonly record struct WorkItem(int Phase, int Group, int Block, int FirstPixel, int PixelCount);
}
