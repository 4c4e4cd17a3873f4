using System.Runtime.CompilerServices;
using Deconv.Reference;

namespace Deconv.Engine;

/// <summary>How a <see cref="ConvTransposePlan"/> computes.</summary>
public enum ConvTransposeStrategy
{
    /// <summary>A scalar gather over the output: tiny problems, non-finite weights, or sizes the fast paths cannot pad.</summary>
    Direct,

    /// <summary>Phase decomposition; implicit GEMM with SIMD vectors over output channels (the general fast path).</summary>
    ChannelTiles,

    /// <summary>Phase decomposition; implicit GEMM with SIMD vectors over output pixels (few output channels per group; long channels-first rows).</summary>
    PixelTiles,

    /// <summary>Phase decomposition for one input and one output channel per group (depthwise), channels-first: whole output rows, vectors along them, no input copy.</summary>
    DepthwiseRows,
}

/// <summary>
/// A float32 transposed convolution prepared once for a geometry and weight, then run many times.
/// </summary>
/// <remarks>
/// <para>Creation validates, chooses the strategy and packs the weight; <see cref="Run(ReadOnlySpan{float}, Span{float})"/>
/// then allocates nothing on the heap when it runs on one thread (on several, one small object per parallel
/// loop; the worker threads, started on first use, spin for 1 ms after each run before they sleep: see
/// <see cref="WorkerPool"/>).</para>
/// <para>Each output value is one sum over (tap, input channel) in a fixed order with fused multiply-adds,
/// written once, so the result is bit-identical for every thread count and SIMD width, and across
/// strategies up to the sign of an all-zero sum. A plan
/// owns a scratch buffer: a <c>Run</c> started while another is running on the same plan throws
/// <see cref="InvalidOperationException"/>; give each thread its own plan.</para>
/// </remarks>
public sealed unsafe class ConvTransposePlan
{
    /// <summary>Problems with at most this many multiply-adds take the direct path (packing would cost more).</summary>
    internal const long DirectLimit = 1 << 12;

    /// <summary>Problems with fewer multiply-adds than this run on one thread.</summary>
    internal const long ParallelLimit = 1 << 18;

    private readonly Lifted _g;
    private readonly long _inputLength, _outputLength; // cached: the geometry computes them from shapes
    private readonly DirectPath? _direct;
    private readonly float[] _bias; // [M], zeros when no bias was given
    private readonly PhasePath? _path;
    private readonly Action<int>? _parallelBody;
    private readonly Action<int>? _fillBody;
    private readonly int _fillParts;
    private float* _runInput, _runOutput; // the data of the Run in progress, for the parallel bodies
    private int _running; // 1 while a phase-path Run uses the scratch

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
        : this(geometry, weight, bias, threads, activation, leakyReluSlope, strategy: null, ParallelLimit)
    {
    }

    /// <summary>
    /// Tests' constructor: <paramref name="strategy"/> overrides the automatic choice (the fast paths still
    /// need finite weights and sizes they can pad), <paramref name="parallelLimit"/> the size from which
    /// work is split across threads.
    /// </summary>
    internal ConvTransposePlan(ConvGeometry geometry, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int threads, FusedActivation activation, float leakyReluSlope, ConvTransposeStrategy? strategy, long parallelLimit)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        // No data yet: only the weight and bias lengths are checked here (the data's in Run).
        Check.Lengths(geometry, geometry.InputLength, geometry.InputLength, weight.Length, bias.Length, geometry.OutputChannels);
        if (threads < 0)
        {
            throw new ConvolutionArgumentException($"ConvTransposePlan: threads is {threads} but must be at least 0 (0 = one per processor)", nameof(threads));
        }

        if (!Enum.IsDefined(activation))
        {
            throw new ConvolutionArgumentException($"ConvTransposePlan: activation {(int)activation} is not a FusedActivation", nameof(activation));
        }

        if (strategy is { } s && !Enum.IsDefined(s))
        {
            throw new ConvolutionArgumentException($"ConvTransposePlan: strategy {(int)s} is not a ConvTransposeStrategy", nameof(strategy));
        }

        Geometry = geometry;
        _inputLength = geometry.InputLength;
        _outputLength = geometry.OutputLength;
        Threads = threads == 0 ? Environment.ProcessorCount : threads;
        _g = new Lifted(geometry);
        var weights = weight.ToArray();
        _bias = bias.IsEmpty ? new float[geometry.OutputChannels] : bias.ToArray();
        var simd = SimdSupport.Best;
        VectorWidth = (int)simd;

        strategy ??= geometry.MultiplyAdds <= DirectLimit ? ConvTransposeStrategy.Direct
            : _g.Cg == 1 && _g.Mg == 1 && _g.Layout == DataLayout.ChannelsFirst ? ConvTransposeStrategy.DepthwiseRows
            : PixelTilePath.Suits(_g, simd) ? ConvTransposeStrategy.PixelTiles
            : ConvTransposeStrategy.ChannelTiles;
        // Whether the work is split across threads, decided once: the pixel path's scratch depends on it.
        var parallel = Threads > 1 && geometry.MultiplyAdds >= parallelLimit;
        if (geometry.OutputLength > 0 && strategy != ConvTransposeStrategy.Direct && Simd.AllFinite(weights))
        {
            // Padding multiplies zeros by weights, which is exact only for finite weights.
            _path = strategy switch
            {
                ConvTransposeStrategy.PixelTiles => PixelTilePath.TryCreate(_g, weights, _bias, activation, leakyReluSlope, simd, threads: parallel ? Threads : 1),
                ConvTransposeStrategy.DepthwiseRows => DepthwiseTransposePath.TryCreate(_g, weights, _bias, activation, leakyReluSlope, simd),
                _ => ChannelTilePath.TryCreate(_g, weights, _bias, activation, leakyReluSlope, simd),
            };
        }

        if (_path is null)
        {
            Strategy = ConvTransposeStrategy.Direct;
            _direct = new DirectPath(_g, weights, _bias, activation, leakyReluSlope);
            return;
        }

        Strategy = strategy.Value;
        if (parallel && _path.ItemCount > 1)
        {
            _parallelBody = i => _path.RunItem(i, _runInput, _runOutput);
            // The input copy in a few parts per thread; the parts write disjoint rows.
            var rows = _path.ScratchRows;
            _fillParts = Math.Max(1, Math.Min(rows, 4 * Threads));
            _fillBody = part => _path.FillScratch(_runInput, (int)((long)rows * part / _fillParts), (int)((long)rows * (part + 1) / _fillParts) - (int)((long)rows * part / _fillParts));
        }
    }

    /// <summary>The geometry the plan computes.</summary>
    public ConvGeometry Geometry { get; }

    /// <summary>Threads the plan may use.</summary>
    public int Threads { get; }

    /// <summary>The strategy chosen at creation.</summary>
    public ConvTransposeStrategy Strategy { get; }

    /// <summary>Whether <see cref="Run(ReadOnlySpan{float}, Span{float})"/> splits the work across threads.</summary>
    public bool RunsInParallel => _parallelBody is not null;

    /// <summary>Floats the plan holds besides the geometry: weight (packed, or a copy for the direct path), bias and input scratch.</summary>
    public long ExtraFloats => (_direct?.ExtraFloats ?? 0) + _bias.Length + (_path?.ExtraFloats ?? 0);

    /// <summary>Last-axis phases the pixel path computes in one tile (1 for every other path), for tests.</summary>
    internal int MergedPhases => (_path as PixelTilePath)?.MergedPhaseCount ?? 1;

    /// <summary>Last-axis phases the pixel path computes in one work item (1 for every other path), for tests.</summary>
    internal int PixelPathInterleavedPhases => (_path as PixelTilePath)?.InterleavedPhaseCount ?? 1;

    /// <summary>Last-axis phases the channel path computes in one work item (1 for every other path), for tests.</summary>
    internal int ChannelPathInterleavedPhases => (_path as ChannelTilePath)?.InterleavedPhaseCount ?? 1;

    /// <summary>The pixel path's regions of rows that read the same taps, over all its phases (0 for every other path), for tests.</summary>
    internal int PixelPathRegions => (_path as PixelTilePath)?.RegionCount ?? 0;

    /// <summary>The channel path's regions of pixels that read the same taps, over all its phases (0 for every other path), for tests.</summary>
    internal int ChannelPathRegions => (_path as ChannelTilePath)?.RegionCount ?? 0;

    /// <summary>Whether the pixel path's work items are images, each copied into its scratch, for tests.</summary>
    internal bool CopiesImageByImage => (_path as PixelTilePath)?.CopiesImageByImage ?? false;

    /// <summary>Whether the pixel path's work items prefetch the next one's weight panel, for tests.</summary>
    internal bool PrefetchesPanels => (_path as PixelTilePath)?.PrefetchesPanels ?? false;

    /// <summary>SIMD lanes per vector of the fast paths on this machine (1 without SIMD).</summary>
    internal int VectorWidth { get; }

    /// <summary>Tests: whether the direct path runs in matrix form (see <see cref="DirectPath.UsesMatrix"/>).</summary>
    internal bool DirectUsesMatrix => _direct?.UsesMatrix ?? false;

    /// <summary>y = activation(conv_transpose(x, w) + bias); x: <see cref="ConvGeometry.InputShape"/>, y: <see cref="ConvGeometry.OutputShape"/>.</summary>
    /// <exception cref="ConvolutionArgumentException">x or y has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">Another thread is running this plan (fast paths only).</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a tiny case's first calls, too, at full speed (see DirectPath.Run)
    public void Run(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != _inputLength)
        {
            throw LengthError(nameof(x), x.Length, _inputLength);
        }

        if (y.Length != _outputLength)
        {
            throw LengthError(nameof(y), y.Length, _outputLength);
        }

        if (_path is null)
        {
            _direct!.Run(x, y);
            return;
        }

        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("ConvTransposePlan.Run is already running on another thread: a plan owns one scratch buffer, so give each thread its own plan");
        }

        try
        {
            RunPhases(x, y);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>Runs the plan into a new array.</summary>
    public float[] Run(ReadOnlySpan<float> x)
    {
        var y = new float[_outputLength];
        Run(x, y);
        return y;
    }

    private void RunPhases(ReadOnlySpan<float> x, Span<float> y)
    {
        var path = _path!;
        fixed (float* xp = x, yp = y)
        {
            if (_parallelBody is null)
            {
                path.FillScratch(xp, 0, path.ScratchRows);
                for (var i = 0; i < path.ItemCount; i++)
                {
                    path.RunItem(i, xp, yp);
                }
            }
            else
            {
                _runInput = xp;
                _runOutput = yp;
                try
                {
                    if (path.ScratchRows > 0)
                    {
                        WorkerPool.For(_fillParts, Threads, _fillBody!);
                    }

                    WorkerPool.ForRuns(path.ItemCount, Threads, _parallelBody);
                }
                finally
                {
                    _runInput = null;
                    _runOutput = null;
                }
            }
        }
    }

    /// <summary>The message is built here, not in <see cref="Run(ReadOnlySpan{float}, Span{float})"/>, whose every call would otherwise clear its stack space.</summary>
    private ConvolutionArgumentException LengthError(string name, int length, long needed) =>
        new($"{name} has {length} elements but the geometry {Geometry} needs {needed}", name);
}
