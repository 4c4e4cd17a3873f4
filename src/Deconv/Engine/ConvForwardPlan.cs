using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Deconv.Reference;

namespace Deconv.Engine;

/// <summary>
/// A float32 forward convolution (the adjoint of a geometry's transposed convolution, and so its input
/// gradient) prepared once for a geometry and weight, then run many times:
/// x <see cref="ConvGeometry.OutputShape"/> (M channels) to y <see cref="ConvGeometry.InputShape"/> (C channels),
/// <c>y[n, c, i] = bias[c] + sum_{k, j} x[n, g*M/G + j, i*S + k*D - crop_begin] * w[c, j, k]</c>.
/// </summary>
/// <remarks>
/// <para>The fast path copies x into a channels-last zero-padded buffer (<see cref="PaddedLargeSide"/>), each row
/// when a work item first reads it (see <see cref="PlanFills"/>), and computes tiles of <see cref="TileKernels.Pixels"/> output pixels
/// times one or two SIMD vectors of output channels with <see cref="TileKernels"/>, the weight packed in
/// panels <c>[group][block][tap][M/G][block lanes]</c>. Depthwise (one channel in and out per group) the
/// vectors run over neighbouring channels instead (<see cref="DepthwiseKernels"/>), and channels-first with
/// rows of at least half a vector, plane by plane along the rows without the channels-last copy
/// (<see cref="DepthwiseRowPath"/>). Threads split the output tiles (or planes) only.</para>
/// <para>Each output value is one sum over (tap ascending, then channel j ascending) with fused
/// multiply-adds from zero, then the bias is added; so the result is bit-identical for every thread
/// count, and the direct path (tiny problems, non-finite weights) gives the same bits but for the sign of
/// an all-zero sum. The tile path owns a scratch buffer: a <c>Run</c> started while another is running
/// on the same plan throws <see cref="InvalidOperationException"/> (the row and direct paths keep no
/// data between runs: each plane of the row path takes a padded plane of its own); give each thread its own plan.</para>
/// </remarks>
public sealed unsafe class ConvForwardPlan
{
    /// <summary>Bytes of a weight panel above which it is run in blocks of taps (each reused by a whole chunk of tiles while in cache).</summary>
    private const int PanelBlockBytes = 256 * 1024;

    /// <summary>Bytes of packed weights above which channels-first work goes block by block (see <see cref="Items"/>).</summary>
    private const long BlockByBlockAbove = 4 << 20;

    /// <summary>Most output pixel tiles per work item.</summary>
    private const int ChunkTiles = 16;

    private readonly Lifted _g;
    private readonly long _largeLength, _smallLength, _plane;
    private readonly float[] _weight; // [C, M/G, k...], as given
    private readonly float[] _bias; // [C], zeros when no bias was given
    private readonly PaddedLargeSide? _scratch;
    private readonly DepthwiseRowPath? _rows; // depthwise channels-first with rows of at least half a vector
    private readonly MatrixForm? _matrix; // the direct path's sums in matrix form: see DirectUsesMatrix
    private readonly AlignedBuffer? _packedArray;
    private readonly long[]? _panelOffsets; // [group * blocks + block]
    private readonly int[]? _tapOffsets, _windowOffsets; // _tapOffsets: each kernel tap's (see _tapChannels); _windowOffsets: in the tiles' order
    private readonly int[]? _pixelOrder; // [pixel in the tiles' order]: the pixel of x; null when that is the natural order
    private readonly Region[]? _regions; // the tiles' pixels in regions that read the same taps: see Regions
    private readonly int _tapChannels; // values of the large side a kernel tap reads: see MergesLastAxisTaps
    private readonly WorkItem[]? _items;
    private readonly int[]? _fillRuns; // run r: items [_fillRuns[r], _fillRuns[r + 1]), each copying the rows only it reads: see PlanFills
    private readonly (int First, int End)[]? _sharedRows; // rows of the copy that several runs read, copied before them
    private readonly bool[]? _isShared; // [row of the copy]: read by several runs
    private readonly bool[]? _copied; // [row of the copy]: copied in this run already (rows that one run reads)
    private readonly (int First, int End)[]? _rowsRead; // item i reads rows of the copy in _rowsRead[_firstRowsRead[i].._firstRowsRead[i + 1]]
    private readonly int[]? _firstRowsRead;
    private readonly int _width, _blocks;
    private int _tapBlock; // taps per block of a panel
    private readonly bool _depthwise; // one channel in and out per group: lanes run over groups
    private readonly int _laneChannels, _laneGroups; // channels the lanes run over, and how many such sets
    private readonly SimdWidth _simd;
    private readonly bool _parallel; // runs split across threads (WorkerPool)
    private readonly int _fillParts;
    private float* _runOutput;
    private float* _runInput;
    private int _running;

    /// <summary>Validates and packs the weight.</summary>
    /// <param name="geometry">The geometry; the plan computes its forward convolution.</param>
    /// <param name="weight"><c>[C, M/G, k...]</c>, flat (the ONNX/PyTorch Conv weight).</param>
    /// <param name="bias"><c>[C]</c> or empty.</param>
    /// <param name="threads">Threads to use; 0 means one per processor.</param>
    /// <exception cref="ConvolutionArgumentException">A length or the thread count is invalid.</exception>
    public ConvForwardPlan(ConvGeometry geometry, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias = default, int threads = 0)
        : this(geometry, weight, bias, threads, direct: null, ConvTransposePlan.ParallelLimit)
    {
    }

    /// <summary>
    /// Tests' constructor: <paramref name="direct"/> forces a path (the fast one still needs finite weights), <paramref name="parallelLimit"/>
    /// the size from which work is split, <paramref name="simd"/> the vector width (wider than the hardware's runs in software),
    /// <paramref name="matrix"/> whether the direct path runs in matrix form (see <see cref="DirectUsesMatrix"/>).
    /// </summary>
    internal ConvForwardPlan(ConvGeometry geometry, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int threads, bool? direct, long parallelLimit,
        SimdWidth? simd = null, bool? matrix = null)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        Check.Lengths(geometry, geometry.OutputLength, geometry.OutputLength, weight.Length, bias.Length, geometry.InputChannels);
        if (threads < 0)
        {
            throw new ConvolutionArgumentException($"ConvForwardPlan: threads is {threads} but must be at least 0 (0 = one per processor)", nameof(threads));
        }

        Geometry = geometry;
        Threads = threads == 0 ? Environment.ProcessorCount : threads;
        _g = new Lifted(geometry);
        _largeLength = geometry.OutputLength;
        _smallLength = geometry.InputLength;
        _plane = (long)_g.A0.Input * _g.A1.Input * _g.A2.Input;
        _weight = weight.ToArray();
        _bias = bias.IsEmpty ? new float[geometry.InputChannels] : bias.ToArray();
        _simd = simd ?? SimdSupport.Best;
        _width = (int)_simd;
        _depthwise = _g.Cg == 1 && _g.Mg == 1;
        (_laneChannels, _laneGroups) = _depthwise ? (_g.C, 1) : (_g.Cg, _g.G);
        _blocks = (_laneChannels + 2 * _width - 1) / (2 * _width);

        var useDirect = direct ?? geometry.MultiplyAdds <= ConvTransposePlan.DirectLimit;
        if (useDirect || geometry.InputLength == 0 || !Simd.AllFinite(_weight))
        {
            var (rows, outputs) = ((long)_g.M * _g.A0.Output * _g.A1.Output * _g.A2.Output, (long)_g.C * _plane);
            if (matrix ?? MatrixForm.Suits(rows, outputs, products: geometry.MultiplyAdds / Math.Max(1, _g.N), _simd))
            {
                _matrix = BuildMatrix();
            }

            return;
        }

        if (_depthwise && geometry.Layout == DataLayout.ChannelsFirst && 2 * _g.A2.Input >= _width)
        {
            var rows = new DepthwiseRowPath(_g, _weight, _bias, _simd);
            if (rows.Fits)
            {
                _rows = rows;
                if (Threads > 1 && geometry.MultiplyAdds >= parallelLimit && rows.Planes > 1)
                {
                    _parallel = true;
                }

                return;
            }
        }

        var packedLength = Shapes.TryProduct([_laneGroups, _blocks * 2L * _width, _g.Mg, _g.A0.Kernel, _g.A1.Kernel, _g.A2.Kernel]);
        _scratch = packedLength is null || packedLength > Array.MaxLength ? null : PaddedLargeSide.TryCreate(_g);
        if (_scratch is null)
        {
            return;
        }

        var run = _depthwise ? 1 : _scratch.ContiguousTapRun; // see MergesLastAxisTaps
        _tapOffsets = _scratch.TapOffsets(run);
        _tapChannels = run * _g.Mg;

        (_regions, _pixelOrder) = Regions();
        var windows = _scratch.WindowOffsets();
        _windowOffsets = _pixelOrder is null ? windows : [.. _pixelOrder.Select(q => windows[q])];
        _packedArray = new AlignedBuffer(packedLength!.Value);
        _panelOffsets = new long[_laneGroups * _blocks];
        _tapBlock = (int)Math.Clamp(PanelBlockBytes / ((long)_tapChannels * 2 * _width * sizeof(float)), 1, _tapOffsets.Length);
        Pack();
        var parallel = Threads > 1 && geometry.MultiplyAdds >= parallelLimit;
        _items = Items(parallel ? Threads : 1);
        if (parallel && _items.Length > 1)
        {
            _parallel = true;
            _fillParts = 4 * Threads;
        }

        var rowsRead = new List<(int First, int End)>();
        _firstRowsRead = new int[_items.Length + 1];
        for (var i = 0; i < _items.Length; i++)
        {
            rowsRead.AddRange(RowsRead(_items[i]));
            _firstRowsRead[i + 1] = rowsRead.Count;
        }

        _rowsRead = [.. rowsRead];
        (_fillRuns, _sharedRows, _isShared) = PlanFills(_parallel ? Math.Min(_items.Length, 8 * Threads) : 1);
        _copied = new bool[_scratch.Rows];
    }

    /// <summary>The geometry whose forward convolution the plan computes.</summary>
    public ConvGeometry Geometry { get; }

    /// <summary>Threads the plan may use.</summary>
    public int Threads { get; }

    /// <summary>Whether the plan computes with the scalar direct loop (tiny problems, non-finite weights, sizes that cannot be padded).</summary>
    public bool IsDirect => _scratch is null && _rows is null;

    /// <summary>
    /// Whether the kernels take each run of K2 taps along the last axis as one tap of K2 x M/G values: with dilation 1 and
    /// pixels of the copy M/G floats apart (fewer than 64 channels, one group), the K2 taps' pixels are neighbours, so
    /// the tap's values (tap, then channel, the order of every sum) are one contiguous run. The inner loop then runs
    /// K2 times longer (dcgan4's input gradient, 3 channels x 4 taps: 2-3% faster at 1 and 2 threads; fcn's, 21 x 64:
    /// 9-16%; timed call by call in alternation on one plan).
    /// </summary>
    internal bool MergesLastAxisTaps => _tapOffsets is not null && _tapChannels != _g.Mg;

    /// <summary>Taps the kernels run over (a whole run along the last axis counting as one: see <see cref="MergesLastAxisTaps"/>).</summary>
    internal int KernelTaps => _tapOffsets?.Length ?? 0;

    /// <summary>Tests: kernel taps per block of a weight panel (all of them: one kernel call per tile).</summary>
    internal int TapBlock
    {
        get => _tapBlock;
        set => _tapBlock = Math.Clamp(value, 1, Math.Max(1, _tapOffsets?.Length ?? 1));
    }

    /// <summary>Tests: the regions of the tiles' pixels that read the same taps (see <see cref="Regions"/>); 0 without tiles.</summary>
    internal int RegionCount => _regions?.Length ?? 0;

    /// <summary>Tests: rows of the copy that several runs read, copied before the runs start (see <see cref="PlanFills"/>).</summary>
    internal int SharedCopyRows => _sharedRows?.Sum(r => r.End - r.First) ?? 0;

    /// <summary>Whether channels-first work items go block by block of output channels (see <see cref="Items"/>).</summary>
    internal bool GoesBlockByBlock => _g.Layout == DataLayout.ChannelsFirst && (_packedArray?.Length ?? 0) * sizeof(float) > BlockByBlockAbove;

    /// <summary>Whether the direct path's sums run in <see cref="MatrixForm"/> (when it suits, see <see cref="MatrixForm.Suits"/>).</summary>
    internal bool DirectUsesMatrix => _matrix is not null;

    /// <summary>Whether the plan computes depthwise channels-first plane by plane (<see cref="DepthwiseRowPath"/>).</summary>
    internal bool UsesRowPath => _rows is not null;

    /// <summary>Whether <see cref="Run(ReadOnlySpan{float}, Span{float})"/> splits the work across threads.</summary>
    public bool RunsInParallel => _parallel;

    /// <summary>Floats the plan holds besides the geometry: weight copy, packed panels, bias and input scratch (depthwise rows: a padded plane per thread that ran it).</summary>
    public long ExtraFloats => _weight.Length + _bias.Length + (_packedArray?.Length ?? 0) + (_scratch?.Length ?? 0) + (_matrix?.ExtraFloats ?? 0) + (_rows?.PlaneFloats ?? 0);

    /// <summary>y = conv(x, w) + bias; x: <see cref="ConvGeometry.OutputShape"/>, y: <see cref="ConvGeometry.InputShape"/>.</summary>
    /// <exception cref="ConvolutionArgumentException">x or y has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">Another thread is running this plan.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a tiny case's first calls, too, at full speed (see DirectPath.Run)
    public void Run(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != _largeLength)
        {
            throw new ConvolutionArgumentException($"x has {x.Length} elements but the forward convolution of {Geometry} needs {_largeLength}", nameof(x));
        }

        if (y.Length != _smallLength)
        {
            throw new ConvolutionArgumentException($"y has {y.Length} elements but the forward convolution of {Geometry} needs {_smallLength}", nameof(y));
        }

        if (_rows is not null)
        {
            RunRows(x, y);
            return;
        }

        if (_scratch is null)
        {
            // The matrix form multiplies every value of x by zeros too, which is exact only for finite ones.
            if (_matrix is null || !_matrix.Run(x, y, _g.N))
            {
                RunDirect(x, y);
            }

            return;
        }

        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("ConvForwardPlan.Run is already running on another thread: a plan owns one scratch buffer, so give each thread its own plan");
        }

        try
        {
            fixed (float* xp = x, yp = y)
            {
                Array.Clear(_copied!);
                if (!_parallel)
                {
                    FillShared(xp, 0, 1);
                    RunFillRun(0, xp, yp);
                }
                else
                {
                    _runInput = xp;
                    _runOutput = yp;
                    try
                    {
                        if (_sharedRows!.Length > 0)
                        {
                            WorkerPool.For(_fillParts, Threads, part => FillShared(_runInput, part, _fillParts));
                        }

                        // Neighbouring items share a weight panel (block by block) or inputs (see Items).
                        WorkerPool.For(_fillRuns!.Length - 1, Threads, run => RunFillRun(run, _runInput, _runOutput));
                    }
                    finally
                    {
                        _runInput = null;
                        _runOutput = null;
                    }
                }
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    private void RunRows(ReadOnlySpan<float> x, Span<float> y)
    {
        fixed (float* xp = x, yp = y)
        {
            if (!_parallel)
            {
                for (var plane = 0; plane < _rows!.Planes; plane++)
                {
                    _rows.RunPlane(plane, xp, yp);
                }

                return;
            }

            // The row path keeps no data between planes (each takes a padded plane no other holds), so runs may overlap.
            var (input, output) = ((nint)xp, (nint)yp);
            WorkerPool.For(_rows!.Planes, Threads, plane => _rows.RunPlane(plane, (float*)input, (float*)output));
        }
    }

    /// <summary>Runs the plan into a new array.</summary>
    public float[] Run(ReadOnlySpan<float> x)
    {
        var y = new float[_smallLength];
        Run(x, y);
        return y;
    }

    private int BlockWidth(int block) => _laneChannels - block * 2 * _width > _width ? 2 * _width : _width;

    /// <summary>
    /// Panel (group, block): <c>[tap][j][lane] = w[group*C/G + first + lane, j, tap]</c>, zero past C/G.
    /// Depthwise there is one group of lanes over all C channels (and j is 0).
    /// </summary>
    private void Pack()
    {
        var packed = _packedArray!.Data;
        long offset = 0;
        for (var group = 0; group < _laneGroups; group++)
        for (var block = 0; block < _blocks; block++)
        {
            _panelOffsets![group * _blocks + block] = offset;
            var width = BlockWidth(block);
            var t = 0;
            for (var k0 = 0; k0 < _g.A0.Kernel; k0++)
            for (var k1 = 0; k1 < _g.A1.Kernel; k1++)
            for (var k2 = 0; k2 < _g.A2.Kernel; k2++, t++)
            for (var j = 0; j < _g.Mg; j++)
            {
                var target = packed + offset + ((long)t * _g.Mg + j) * width;
                for (var lane = 0; lane < width; lane++)
                {
                    var c = block * 2 * _width + lane;
                    target[lane] = c < _laneChannels ? _weight[_g.WeightIndex(group * _g.Cg + c, j, k0, k1, k2)] : 0f;
                }
            }

            offset += (long)_tapOffsets!.Length * _tapChannels * width;
        }
    }

    /// <summary>
    /// Chunks of output pixels times channel blocks. Channels-last, a pixel's channels are neighbours, so blocks go
    /// innermost. Channels-first, a block's outputs are whole planes: with packed weights above
    /// <see cref="BlockByBlockAbove"/> blocks go outermost, each block's panel staying in L2 while the input streams
    /// past once per block; with less, blocks go innermost too, each stretch's input staying in L2 while the panels
    /// stream past from L3 (with AVX2, in alternation: dcgan3's input gradient, 2 MB of weights and a 10.6 MB padded
    /// input, 5-14% faster, dcgan4 9-12%, unet3d 1-40%, unet the same; dcgan1, 32 MB of weights, 3-5% slower).
    /// Chunks are shorter when that gives each of several threads a few items (each output is computed whole by one
    /// tile whatever the chunks, so they do not change the result).
    /// </summary>
    private WorkItem[] Items(int threads)
    {
        var pixels = _windowOffsets!.Length;
        var tiles = (pixels + TileKernels.Pixels - 1) / TileKernels.Pixels;
        var blockCount = (long)_laneGroups * _blocks;
        var stretchesWanted = threads == 1 ? 1 : (4 * threads + blockCount - 1) / blockCount;
        var chunk = (int)Math.Clamp(tiles / stretchesWanted, 1, ChunkTiles) * TileKernels.Pixels;
        var blocks = Enumerable.Range(0, _laneGroups * _blocks);
        var stretches = Enumerable.Range(0, (pixels + chunk - 1) / chunk).Select(s => s * chunk);
        var order = GoesBlockByBlock
            ? blocks.SelectMany(b => stretches.Select(first => (Block: b, First: first)))
            : stretches.SelectMany(first => blocks.Select(b => (Block: b, First: first)));
        return [.. order.Select(o => new WorkItem(o.Block / _blocks, o.Block % _blocks, o.First, Math.Min(chunk, pixels - o.First)))];
    }

    /// <summary>
    /// Splits the items into at most <paramref name="runCount"/> contiguous runs, which threads take whole (so that
    /// neighbouring items, which share a weight panel or inputs, run on one thread), and finds the rows of the copy
    /// (<see cref="PaddedLargeSide"/>) that several runs read: those are copied before any run starts (by all
    /// threads); each of the others, the one run that reads it copies when an item first needs it
    /// (<see cref="RunFillRun"/>), so its tiles read it from L2. (Copied all at once before the tiles, unet3d's 8 MB
    /// came back from L3: skipping the copy made its input gradient 20-25% faster; copied row by row, 4-13% at 1
    /// thread and 6-11% at 2, in alternation.)
    /// </summary>
    private (int[] Runs, (int First, int End)[] Shared, bool[] IsShared) PlanFills(int runCount)
    {
        var rows = _scratch!.Rows;
        var readers = new int[rows];
        var lastReader = new int[rows];
        Array.Fill(lastReader, -1);
        // Runs of whole stretches (all their blocks) when stretches go outermost: the rows a stretch reads then belong to one run.
        var unit = GoesBlockByBlock ? 1 : _laneGroups * _blocks;
        var units = _items!.Length / unit;
        runCount = Math.Min(runCount, units);
        var runs = Enumerable.Range(0, runCount + 1).Select(run => unit * (int)((long)units * run / runCount)).ToArray();
        for (var run = 0; run < runCount; run++)
        for (var i = runs[run]; i < runs[run + 1]; i++)
        for (var k = _firstRowsRead![i]; k < _firstRowsRead[i + 1]; k++)
        for (var r = _rowsRead![k].First; r < _rowsRead[k].End; r++)
        {
            if (lastReader[r] != run)
            {
                lastReader[r] = run;
                readers[r]++;
            }
        }

        var shared = new List<(int First, int End)>();
        for (var r = 0; r < rows; r++)
        {
            if (readers[r] >= 2)
            {
                if (shared.Count > 0 && shared[^1].End == r)
                {
                    shared[^1] = (shared[^1].First, r + 1);
                }
                else
                {
                    shared.Add((r, r + 1));
                }
            }
        }

        return (runs, [.. shared], [.. readers.Select(n => n >= 2)]);
    }

    /// <summary>
    /// The stretches of rows of the copy, r = (n*O0 + o0)*O1 + o1, that an item's windows may read (on each axis
    /// o = i*S + k*D - crop within [0, O) for its rows (n, i0, i1)), ascending and merged, so that rows neighbouring
    /// in x are copied together (unet3d: 12 rows of a plane at once instead of 2 at a time; see
    /// <see cref="PaddedLargeSide.Fill"/>).
    /// </summary>
    private List<(int First, int End)> RowsRead(WorkItem item)
    {
        var (a0, a1, a2) = (_g.A0, _g.A1, _g.A2);
        static (int First, int Last) Read(AxisGeometry a, int i) =>
            (Math.Max(0, i * a.Stride - a.CropBegin), Math.Min(a.Output - 1, i * a.Stride + (a.Kernel - 1) * a.Dilation - a.CropBegin));
        var stretches = new List<(int First, int End)>();
        var lastRow = -1;
        for (var p = item.FirstPixel; p < item.FirstPixel + item.PixelCount; p++)
        {
            // The rows of x the item's pixels lie on: row = (n*I0 + i0)*I1 + i1.
            var row = NaturalPixel(p) / a2.Input;
            if (row == lastRow)
            {
                continue;
            }

            lastRow = row;
            var (n, i0, i1) = (row / a1.Input / a0.Input, row / a1.Input % a0.Input, row % a1.Input);
            var (r0, r1) = (Read(a0, i0), Read(a1, i1));
            for (var o0 = r0.First; o0 <= r0.Last && r1.First <= r1.Last; o0++)
            {
                var plane = (n * a0.Output + o0) * a1.Output;
                stretches.Add((plane + r1.First, plane + r1.Last + 1));
            }
        }

        stretches.Sort();
        var merged = new List<(int First, int End)>();
        foreach (var (first, end) in stretches)
        {
            if (merged.Count > 0 && first <= merged[^1].End)
            {
                merged[^1] = (merged[^1].First, Math.Max(merged[^1].End, end));
            }
            else
            {
                merged.Add((first, end));
            }
        }

        return merged;
    }

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of the rows several runs read.</summary>
    private void FillShared(float* x, int part, int parts)
    {
        foreach (var (first, end) in _sharedRows!)
        {
            _scratch!.Fill(x, first, end, part, parts);
        }
    }

    /// <summary>The items of run <paramref name="run"/>, each after copying the rows that it reads first and no other run reads.</summary>
    private void RunFillRun(int run, float* x, float* y)
    {
        for (var i = _fillRuns![run]; i < _fillRuns[run + 1]; i++)
        {
            for (var k = _firstRowsRead![i]; k < _firstRowsRead[i + 1]; k++)
            {
                // Only this run reads or writes the flags of the rows it alone reads.
                var (r, end) = _rowsRead![k];
                while (r < end)
                {
                    if (_copied![r] || _isShared![r])
                    {
                        r++;
                        continue;
                    }

                    var stop = r + 1;
                    while (stop < end && !_copied[stop] && !_isShared[stop])
                    {
                        stop++;
                    }

                    _scratch!.Fill(x, r, stop, 0, 1);
                    _copied.AsSpan(r, stop - r).Fill(true);
                    r = stop;
                }
            }

            RunItem(i, y);
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

    [SkipLocalsInit] // the sums are written before they are read: clearing their 6 KB per work item made dcgan4's input gradient 6-8% slower at 2 threads
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunItem<TV, TS>(int index, float* y)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        const int tilePixels = TileKernels.Pixels;
        const int chunk = ChunkTiles * tilePixels;
        var item = _items![index];
        var blockWidth = BlockWidth(item.Block);
        var firstChannel = item.Group * _g.Cg + item.Block * 2 * _width;
        var lanes = Math.Min(blockWidth, _laneChannels - item.Block * 2 * _width);
        var sums = stackalloc float[chunk * 2 * _width]; // [pixel][lane], stored once at the end
        var spare = stackalloc float[tilePixels * 2 * _width]; // a partial tile: its pixels past the region's belong to the next region's tiles
        var x = stackalloc float*[tilePixels];
        // Depthwise, each lane reads its own channel; otherwise all lanes read the group's channels.
        var input = _scratch!.Data + (_depthwise ? firstChannel : (long)item.Group * _g.Mg);
        var packed = _packedArray!.Data;
        var taps = _tapOffsets!.Length;
        // A panel larger than the cache runs in blocks of taps, each block over all the item's tiles, continuing their sums
        // from zeroed tiles: the same chains as one call per tile.
        var blocked = _tapBlock < taps && !_depthwise;
        if (blocked)
        {
            new Span<float>(sums, item.PixelCount * blockWidth).Clear();
        }

        var end = item.FirstPixel + item.PixelCount;
        fixed (float* bias = _bias)
        fixed (int* tapOffsets = _tapOffsets, windows = _windowOffsets)
        {
            var panel = packed + _panelOffsets![item.Group * _blocks + item.Block];
            for (var firstTap = 0; firstTap < taps; firstTap += blocked ? _tapBlock : taps)
            {
                var tapEnd = blocked ? Math.Min(firstTap + _tapBlock, taps) : taps;
                foreach (var region in _regions!)
                {
                    // A tile's pixels are of one region, and read its taps.
                    var (from, to) = (Math.Max(item.FirstPixel, region.FirstPixel), Math.Min(end, region.FirstPixel + region.Pixels));
                    for (var first = from - item.FirstPixel; first < to - item.FirstPixel; first += tilePixels)
                    {
                        var valid = Math.Min(tilePixels, to - item.FirstPixel - first);
                        for (var p = 0; p < tilePixels; p++)
                        {
                            // A partial tile repeats its last pixel; the copies are not stored.
                            x[p] = input + windows[item.FirstPixel + first + Math.Min(p, valid - 1)];
                        }

                        var tile = valid == tilePixels ? sums + first * blockWidth : spare;
                        if (tile == spare)
                        {
                            new Span<float>(sums + first * blockWidth, valid * blockWidth).CopyTo(new Span<float>(spare, valid * blockWidth));
                        }

                        if (_depthwise)
                        {
                            for (var v = 0; v < blockWidth; v += _width)
                            {
                                DepthwiseKernels.Pixels<TV, TS>(panel + v, blockWidth, tapOffsets, taps,
                                    x[0] + v, x[1] + v, x[2] + v, x[3] + v, x[4] + v, x[5] + v, tile + v, blockWidth);
                            }
                        }
                        else
                        {
                            RunTaps<TV, TS>(region, firstTap, tapEnd, blocked, panel, tapOffsets, blockWidth, x, tile);
                        }

                        if (tile == spare)
                        {
                            new Span<float>(spare, valid * blockWidth).CopyTo(new Span<float>(sums + first * blockWidth, valid * blockWidth));
                        }
                    }
                }
            }

            if (_g.Layout == DataLayout.ChannelsLast)
            {
                // y: [N, I0, I1, I2, C]: pixel q's channels at q*C.
                for (var p = 0; p < item.PixelCount; p++)
                {
                    var target = y + NaturalPixel(item.FirstPixel + p) * (long)_g.C + firstChannel;
                    TensorPrimitives.Add(new ReadOnlySpan<float>(sums + p * blockWidth, lanes), new ReadOnlySpan<float>(bias + firstChannel, lanes), new Span<float>(target, lanes));
                }
            }
            else
            {
                // y: [N, C, I0, I1, I2]: pixel q = n*plane + s at n*C*plane + s; the pixels of one n are contiguous in each
                // channel, so the item is stored in runs of pixels that follow each other in x (whole images, or rows).
                for (var p = 0; p < item.PixelCount;)
                {
                    var q = NaturalPixel(item.FirstPixel + p);
                    var (n, s) = ((int)Math.DivRem(q, _plane, out var spatial), spatial);
                    var run = 1;
                    while (p + run < item.PixelCount && s + run < _plane && NaturalPixel(item.FirstPixel + p + run) == q + run)
                    {
                        run++;
                    }

                    TransposedStore.ChannelsFirst(sums + p * blockWidth, blockWidth, run, lanes, bias + firstChannel,
                        y + ((long)n * _g.C + firstChannel) * _plane + s, _plane);
                    p += run;
                }
            }
        }
    }

    /// <summary>
    /// The direct path's matrix form of one image: row (position p of x ascending, then channel j) holds, at output (c, i),
    /// the weight w[c, j - g*M/G, k] that carries x[j, p] to y[c, i] (g = c's group, p = i*S + k*D - crop_begin on every
    /// axis), and zero where no tap does. Rows in that order bring each output its products taps ascending, then j
    /// ascending, the order of <see cref="RunDirect"/>.
    /// </summary>
    private MatrixForm BuildMatrix()
    {
        var g = _g;
        var outPlane = g.A0.Output * g.A1.Output * g.A2.Output;
        var form = new MatrixForm(g.M * outPlane, g.C * (int)_plane, imageInputs: g.M * outPlane, _simd);
        for (var p0 = 0; p0 < g.A0.Output; p0++)
        for (var p1 = 0; p1 < g.A1.Output; p1++)
        for (var p2 = 0; p2 < g.A2.Output; p2++)
        for (var j = 0; j < g.M; j++)
        {
            form.SetInput(((p0 * g.A1.Output + p1) * g.A2.Output + p2) * g.M + j, (int)g.OutputIndex(0, j, p0, p1, p2));
        }

        for (var c = 0; c < g.C; c++)
        for (var i0 = 0; i0 < g.A0.Input; i0++)
        for (var i1 = 0; i1 < g.A1.Input; i1++)
        for (var i2 = 0; i2 < g.A2.Input; i2++)
        {
            var output = g.InputIndex(0, c, i0, i1, i2);
            form.SetBias(output, _bias[c]);
            for (var k0 = 0; k0 < g.A0.Kernel; k0++)
            for (var k1 = 0; k1 < g.A1.Kernel; k1++)
            for (var k2 = 0; k2 < g.A2.Kernel; k2++)
            {
                if (g.Reaches(i0, i1, i2, k0, k1, k2, out var p0, out var p1, out var p2))
                {
                    var firstRow = ((p0 * g.A1.Output + p1) * g.A2.Output + p2) * g.M + c / g.Cg * g.Mg;
                    for (var j = 0; j < g.Mg; j++)
                    {
                        form.Set(firstRow + j, output, _weight[g.WeightIndex(c, j, k0, k1, k2)]);
                    }
                }
            }
        }

        return form;
    }

    /// <summary>The same sums as the fast path, skipping positions outside x instead of reading padding.</summary>
    private void RunDirect(ReadOnlySpan<float> x, Span<float> y)
    {
        var g = _g;
        for (var n = 0; n < g.N; n++)
        for (var c = 0; c < g.C; c++)
        for (var i0 = 0; i0 < g.A0.Input; i0++)
        for (var i1 = 0; i1 < g.A1.Input; i1++)
        for (var i2 = 0; i2 < g.A2.Input; i2++)
        {
            var sum = 0f;
            var firstJ = c / g.Cg * g.Mg;
            for (var k0 = 0; k0 < g.A0.Kernel; k0++)
            for (var k1 = 0; k1 < g.A1.Kernel; k1++)
            for (var k2 = 0; k2 < g.A2.Kernel; k2++)
            {
                if (g.Reaches(i0, i1, i2, k0, k1, k2, out var p0, out var p1, out var p2))
                {
                    for (var j = 0; j < g.Mg; j++)
                    {
                        sum = MathF.FusedMultiplyAdd(x[(int)g.OutputIndex(n, firstJ + j, p0, p1, p2)], _weight[g.WeightIndex(c, j, k0, k1, k2)], sum);
                    }
                }
            }

            y[(int)g.InputIndex(n, c, i0, i1, i2)] = sum + _bias[c];
        }
    }

    /// <summary>A chunk of output pixels for one channel block of one group.</summary>
    private readonly record struct WorkItem(int Group, int Block, int FirstPixel, int PixelCount);

    /// <summary>
    /// One tile over the taps of <paramref name="region"/> from <paramref name="firstTap"/> to <paramref name="tapEnd"/> - 1:
    /// one kernel call per run of consecutive taps, each continuing the sums of the one before (and the first too when
    /// <paramref name="continuing"/>: a block of taps after others); a tile that no tap reaches gets zero sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RunTaps<TV, TS>(Region region, int firstTap, int tapEnd, bool continuing, float* panel, int* tapOffsets, int blockWidth, float** x, float* tile)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        foreach (var (start, length) in region.TapRuns)
        {
            var (low, high) = (Math.Max(start, firstTap), Math.Min(start + length, tapEnd));
            if (low >= high)
            {
                continue;
            }

            var runPanel = panel + (long)low * _tapChannels * blockWidth;
            if (blockWidth == 2 * _width)
            {
                TileKernels.TwoVectors<TV, TS>(runPanel, tapOffsets + low, high - low, _tapChannels, x[0], x[1], x[2], x[3], x[4], x[5], tile, continuing);
            }
            else
            {
                TileKernels.OneVector<TV, TS>(runPanel, tapOffsets + low, high - low, _tapChannels, x[0], x[1], x[2], x[3], x[4], x[5], tile, continuing);
            }

            continuing = true;
        }

        if (!continuing)
        {
            // No value of dy reaches these pixels: their sums are zero.
            new Span<float>(tile, TileKernels.Pixels * blockWidth).Clear();
        }
    }

    /// <summary>
    /// Pixels FirstPixel to FirstPixel + Pixels - 1 in the tiles' order: every image, and positions [First, First + Count) of
    /// x along each axis, which read kernel taps From to To - 1 of the axis (the others fall on the padding); their kernel
    /// taps as runs of tap numbers (Start, Length).
    /// </summary>
    private sealed record Region(int FirstPixel, int Pixels, (int Start, int Length)[] TapRuns);

    /// <summary>
    /// The pixels of x in regions that read the same kernel taps (<see cref="Inside"/> along each axis), numbered region
    /// after region, each region's pixels in order (n, i0, i1, i2), and the pixel of x of each (null when it is the natural
    /// order: one region). A tile's pixels then multiply only the values of dy inside it, not the padding's zeros (dcgan1's
    /// input gradient, 4 x 4 outputs of a kernel of 4 with stride 2 and padding 1: a quarter of its products). Depthwise every
    /// tap is read, and along the last axis when its taps are merged (see <see cref="MergesLastAxisTaps"/>) or fewer than a
    /// sixteenth of its reads fall on the padding.
    /// </summary>
    private (Region[] Regions, int[]? PixelOrder) Regions()
    {
        var (a0, a1, a2) = (_g.A0, _g.A1, _g.A2);
        var taps2 = _tapOffsets!.Length / (a0.Kernel * a1.Kernel); // kernel taps along the last axis (a merged run counting as one)
        (int First, int Count, int From, int To)[] All(AxisGeometry a, int taps) => [(0, a.Input, 0, taps)];
        var runs0 = _depthwise ? All(a0, a0.Kernel) : Inside(a0);
        var runs1 = _depthwise ? All(a1, a1.Kernel) : Inside(a1);
        // Along the last axis only where a sixteenth of its reads or more fall on the padding: its regions cut x's rows, and
        // each cut row is stored in pieces (dcgan1's input gradient, rows of 4, an eighth: 5% faster at 1 and 2 threads;
        // dcgan2's, rows of 8, a sixteenth: 3%; dcgan3's, rows of 16, a 32nd: 1.5-3% slower; in alternation).
        var inside2 = Inside(a2);
        var padded2 = (long)a2.Input * a2.Kernel - inside2.Sum(r => (long)r.Count * (r.To - r.From));
        var runs2 = _depthwise || taps2 != a2.Kernel || 16 * padded2 < (long)a2.Input * a2.Kernel ? All(a2, taps2) : inside2;
        var regions = new List<Region>();
        var order = new List<int>();
        foreach (var r0 in runs0)
        foreach (var r1 in runs1)
        foreach (var r2 in runs2)
        {
            var tapRuns = InsideTaps.Numbers((r0.From, r0.To), (r1.From, r1.To), (r2.From, r2.To), a1.Kernel, taps2);
            regions.Add(new Region(order.Count, _g.N * r0.Count * r1.Count * r2.Count, tapRuns));
            for (var n = 0; n < _g.N; n++)
            for (var i0 = r0.First; i0 < r0.First + r0.Count; i0++)
            for (var i1 = r1.First; i1 < r1.First + r1.Count; i1++)
            for (var i2 = r2.First; i2 < r2.First + r2.Count; i2++)
            {
                order.Add(((n * a0.Input + i0) * a1.Input + i1) * a2.Input + i2);
            }
        }

        return ([.. regions], regions.Count == 1 ? null : [.. order]);
    }

    /// <summary>
    /// Positions of x along an axis in runs that read the same kernel taps: [First, First + Count), whose taps From to
    /// To - 1 read dy inside the axis (<c>0 &lt;= i*Stride + k*Dilation - CropBegin &lt; Output</c>).
    /// </summary>
    private static (int First, int Count, int From, int To)[] Inside(AxisGeometry axis) =>
        InsideTaps.Runs(axis.Input, axis.Kernel, (i, k) => (long)i * axis.Stride + (long)k * axis.Dilation - axis.CropBegin is var o && o >= 0 && o < axis.Output);

    /// <summary>The pixel of x (in its natural order, n then i0, i1, i2) at position <paramref name="p"/> of the tiles' order.</summary>
    private int NaturalPixel(int p) => _pixelOrder?[p] ?? p;
}
