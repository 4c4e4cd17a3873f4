using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Deconv.Reference;

namespace Deconv.Engine;

/// <summary>
/// The float32 weight gradient of a geometry prepared once, then run many times:
/// <c>dw[c, j, k] = sum_{n, i} large[n, g*M/G + j, i*S + k*D - crop_begin] * small[n, c, i]</c>, with
/// <c>large</c> of <see cref="ConvGeometry.OutputShape"/>, <c>small</c> of <see cref="ConvGeometry.InputShape"/>
/// and <c>dw</c> <c>[C, M/G, k...]</c>. It is the weight gradient of the transposed convolution and of the
/// forward convolution alike.
/// </summary>
/// <remarks>
/// <para>Per tap it is a matrix product over the pixels p = (n, i): <c>dw_k[c, j] = sum_p small[c, p] * large_k[p, j]</c>.
/// Each run copies <c>large</c> channels-last into a zero-padded buffer (<see cref="PaddedLargeSide"/>) and
/// <c>small</c> into <c>[C][pixels]</c>; a work item (taps, group, block of j, block of c) takes the pixels
/// <see cref="PixelChunk"/> at a time and, for each of its taps, packs the chunk's shifted <c>large</c> rows into
/// a panel and runs <see cref="TileKernels"/> with SIMD vectors over j and six values of c per tile. When a group
/// has fewer j than a vector has lanes, the tiles turn round: vectors over c (small copied in lane blocks
/// <c>[pixel][lane]</c>) and six (tap, j) per tile. Depthwise (one c and one j per group), vectors run over the
/// channels and tiles over six taps (<see cref="DepthwiseKernels"/>).</para>
/// <para>Every dw value is the sum of its chunk sums in ascending order, each chunk summed over ascending
/// pixels with fused multiply-adds; threads split only taps and channel blocks, never the pixels, so the
/// result is bit-identical for every thread count. The direct path (tiny problems, non-finite
/// <c>small</c> data, sizes that cannot be padded) sums all pixels in one chain.</para>
/// </remarks>
public sealed unsafe class WeightGradientPlan
{
    /// <summary>
    /// Pixels of the reduction packed and summed at a time (a fixed constant: it fixes the summation order). A chunk's
    /// panel of large, 256 x 32 floats, is 32 KB and stays in L1 while the item's tiles read it; 128 spent twice the
    /// share of the time on the tiles' set-up and additions (dcgan1-3, unet and hifigan 2-10% slower).
    /// </summary>
    internal const int PixelChunk = 256;

    /// <summary>
    /// Most sums (floats) of a work item with lanes over j: its taps x c x two vectors, borrowed per item. Its taps are
    /// as many as fit: 17 with 288 c and 512-bit vectors (all 16 of dcgan's); with few c many more, so that an
    /// item's taps read whole rows of large in turn rather than one value in each of its rows (fcn, 21 channels,
    /// k=64 s=32: 21.5 ms with 16 taps per item, 20.6 with 243).
    /// </summary>
    private const int ItemSums = 160 * 1024;

    /// <summary>
    /// How many taps ahead the packing of large prefetches the rows it will read. A tap's rows lie one per pixel,
    /// far apart (fcn: 256 rows of 21 floats, 2.7 KB apart), and the hardware does not follow so many streams: the
    /// packing waited on memory (fcn 24.5 to 15.0 ms, hifigan 47 to 43, dcgan2 21.6 to 20.6).
    /// </summary>
    private const int PrefetchTaps = 2;

    /// <summary>Shortest last axis for which depthwise channels-first runs channel by channel.</summary>
    private const int RowPathMinimum = 8;

    /// <summary>Most j per group with lanes over c (tile rows over (tap, j) then stay a few per tap).</summary>
    private const int MaxRowsPerGroup = 32;

    /// <summary>With lanes over c, most lane blocks per work item (they share one gather of large's rows).</summary>
    private const int LaneBlocksPerItem = 8;

    /// <summary>
    /// With lanes over c, the tile rows (tap, j) of a work item: its taps are as many as fill them, so that a tile's six
    /// rows hold several taps when a group has few j (dcgan4: 3 j, 16 taps; one tap per item left half of each tile empty).
    /// </summary>
    private const int RowsPerItem = 48;

    /// <summary>
    /// Most values of c per work item (a multiple of the tile's six). Each chunk of large packed for a tap serves
    /// this many c; with 96 the packing of hifigan's large rows, which come from L3 at 8 KB strides, took a third
    /// of its time (hifigan 45-47 ms with 288, 58 with 96; dcgan2-3, unet and unet3d 4-12% faster with 288). The
    /// item's sums, taps x c x two vectors (<see cref="ItemSums"/>), and a chunk of its rows of small (288 KB) share L2.
    /// </summary>
    private const int ChannelBlock = 48 * TileKernels.Pixels;

    private readonly Lifted _g;
    private readonly long _largeLength, _smallLength, _weightLength, _plane;
    private readonly PaddedLargeSide? _large;
    private readonly AlignedBuffer? _smallArray; // [C][pixels]; depthwise [pixels][C] and slack
    private readonly bool _depthwise; // one channel in and out per group: lanes run over channels, tiles over taps
    private readonly bool _channelLanes; // lanes over c and tile rows over (tap, j) (few j per group), rather than the other way round
    private readonly DepthwiseRowPath? _rows; // depthwise channels-first with rows of at least RowPathMinimum
    private readonly int[]? _tapOffsets, _windowOffsets;
    private readonly WorkItem[]? _items;
    private readonly int _width, _jBlocks, _pixels;
    private readonly int _mergedTaps; // lanes over j: last-axis taps each kernel tap stands for (see MergesLastAxisTaps)
    private readonly int _laneValues; // lanes over j: the values a kernel tap's lanes run over, _mergedTaps x M/G
    private readonly int _smallRowStride; // floats between rows c of small [C][pixels]: pixels rounded up, off multiples of 4 KiB
    private readonly int _cLanesPerGroup; // with lanes over c: the lanes of a group's blocks of c, zero past C/G
    private readonly int _smallParts; // independent parts of the copy of small: channels, or with lanes over c, lane blocks
    private readonly SimdWidth _simd;
    private readonly bool _parallel; // runs split across threads (WorkerPool)
    private readonly int _fillParts;
    private float* _runLarge, _runSmall, _runWeight;
    private int _running;
    private int _smallNonFinite; // set by the copies of small when a value is not finite: see CheckFinite

    /// <summary>Validates and prepares the buffers.</summary>
    /// <param name="geometry">The geometry.</param>
    /// <param name="threads">Threads to use; 0 means one per processor.</param>
    /// <exception cref="ConvolutionArgumentException">The thread count is invalid.</exception>
    public WeightGradientPlan(ConvGeometry geometry, int threads = 0)
        : this(geometry, threads, direct: null, ConvTransposePlan.ParallelLimit, channelLanes: null)
    {
    }

    /// <summary>
    /// Tests' constructor: <paramref name="direct"/> forces a path, <paramref name="parallelLimit"/> the size
    /// from which work is split, <paramref name="channelLanes"/> the orientation of the (non-depthwise) tiles,
    /// <paramref name="simd"/> the vector width (wider than the hardware's runs in software).
    /// </summary>
    internal WeightGradientPlan(ConvGeometry geometry, int threads, bool? direct, long parallelLimit, bool? channelLanes, SimdWidth? simd = null)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        if (threads < 0)
        {
            throw new ConvolutionArgumentException($"WeightGradientPlan: threads is {threads} but must be at least 0 (0 = one per processor)", nameof(threads));
        }

        Geometry = geometry;
        Threads = threads == 0 ? Environment.ProcessorCount : threads;
        _g = new Lifted(geometry);
        _largeLength = geometry.OutputLength;
        _smallLength = geometry.InputLength;
        _weightLength = geometry.WeightLength;
        _plane = (long)_g.A0.Input * _g.A1.Input * _g.A2.Input;
        _simd = simd ?? SimdSupport.Best;
        _width = (int)_simd;

        var useDirect = direct ?? geometry.MultiplyAdds <= ConvTransposePlan.DirectLimit;
        if (useDirect || geometry.InputLength == 0)
        {
            return;
        }

        // Chosen by the row length alone, not the vector width: the two depthwise paths sum in different orders.
        if (_g.Cg == 1 && _g.Mg == 1 && geometry.Layout == DataLayout.ChannelsFirst && _g.A2.Input >= RowPathMinimum)
        {
            var rows = new DepthwiseRowPath(_g, [], [], _simd);
            if (rows.Fits)
            {
                _rows = rows;
                if (Threads > 1 && geometry.MultiplyAdds >= parallelLimit && _g.C > 1)
                {
                    _parallel = true;
                }

                return;
            }
        }

        _large = PaddedLargeSide.TryCreate(_g);
        if (_large is null)
        {
            return;
        }

        _windowOffsets = _large.WindowOffsets();
        _pixels = _windowOffsets.Length;
        _depthwise = _g.Cg == 1 && _g.Mg == 1;
        // Vectors over j waste most lanes when a group has fewer j than a vector has lanes.
        _channelLanes = !_depthwise && _g.Mg <= MaxRowsPerGroup && (channelLanes ?? (_g.Mg < _width && _g.Cg > _g.Mg));
        _mergedTaps = _channelLanes || _depthwise ? 1 : _large.ContiguousTapRun; // see MergesLastAxisTaps
        _tapOffsets = _large.TapOffsets(_mergedTaps);
        _laneValues = _mergedTaps * _g.Mg;
        _jBlocks = (_laneValues + 2 * _width - 1) / (2 * _width);
        var cLaneBlocks = (_g.Cg + 2 * _width - 1) / (2 * _width);
        _cLanesPerGroup = (cLaneBlocks - 1) * 2 * _width + CBlockWidth(cLaneBlocks - 1);
        // Rows a multiple of 4 KiB apart would all fall in the same cache sets as the tile reads six of them.
        _smallRowStride = (_pixels + 15) / 16 * 16 + 16;
        var smallLength = _channelLanes ? (long)_g.G * _cLanesPerGroup * _pixels
            : _depthwise ? geometry.InputLength
            : (long)_g.C * _smallRowStride;
        if (smallLength > Array.MaxLength - PaddedLargeSide.Slack)
        {
            _large = null;
            return;
        }

        _smallArray = new AlignedBuffer(smallLength + PaddedLargeSide.Slack);
        _smallParts = _channelLanes ? _g.G * cLaneBlocks : _g.C;
        var cBlocks = (_g.Cg + ChannelBlock - 1) / ChannelBlock;
        var parallel = Threads > 1 && geometry.MultiplyAdds >= parallelLimit;
        // Fewer taps per item when that gives each of several threads a few items (the sums do not change).
        // Merged taps, an item takes every block of lanes (see RunItem).
        var (jItems, laneSums) = _mergedTaps > 1 ? (1, _jBlocks * 2 * _width) : (_jBlocks, 2 * _width);
        var itemsPerTapBlock = (long)_g.G * cBlocks * jItems;
        var tapBlocksWanted = parallel ? (4 * Threads + itemsPerTapBlock - 1) / itemsPerTapBlock : 1;
        var tapsPerItem = (int)Math.Clamp(_tapOffsets.Length / tapBlocksWanted, 1, ItemSums / (Math.Min(ChannelBlock, _g.Cg) * laneSums));
        // With lanes over c, tile rows run over (tap, j): as many taps as make RowsPerItem rows, fewer when that
        // gives each of several threads a few items.
        var laneGroups = (cLaneBlocks + LaneBlocksPerItem - 1) / LaneBlocksPerItem;
        var laneTapsPerItem = Math.Clamp(RowsPerItem / _g.Mg, 1, _tapOffsets.Length);
        if (parallel)
        {
            laneTapsPerItem = (int)Math.Clamp((long)_tapOffsets.Length * _g.G * laneGroups / (4 * Threads), 1, laneTapsPerItem);
        }
        _items = _depthwise
            ? [.. Enumerable.Range(0, (_g.C + _width - 1) / _width).Select(b => new WorkItem(0, 0, 0, b * _width, Math.Min(_width, _g.C - b * _width)))]
            : _channelLanes
            ? [.. from g in Enumerable.Range(0, _g.G)
                  from cb in Enumerable.Range(0, laneGroups).Select(i => i * LaneBlocksPerItem * 2 * _width)
                  from firstTap in Enumerable.Range(0, (_tapOffsets.Length + laneTapsPerItem - 1) / laneTapsPerItem).Select(i => i * laneTapsPerItem)
                  select new WorkItem(firstTap, g, 0, cb, Math.Min(LaneBlocksPerItem * 2 * _width, _g.Cg - cb), Math.Min(laneTapsPerItem, _tapOffsets.Length - firstTap))]
            // A block of c's small rows (ChannelBlock x pixels) is reused by every (tap, j block) while it is
            // in cache; an item covers several taps, so it writes whole runs of dw[c, j, taps].
            : [.. from g in Enumerable.Range(0, _g.G)
                     from cb in Enumerable.Range(0, cBlocks)
                     from firstTap in Enumerable.Range(0, (_tapOffsets.Length + tapsPerItem - 1) / tapsPerItem).Select(i => i * tapsPerItem)
                     from jb in Enumerable.Range(0, jItems)
                     select new WorkItem(firstTap, g, jb, cb * ChannelBlock, Math.Min(ChannelBlock, _g.Cg - cb * ChannelBlock),
                         Math.Min(tapsPerItem, _tapOffsets.Length - firstTap))];
        if (parallel && _items.Length > 1)
        {
            _parallel = true;
            _fillParts = 4 * Threads;
        }
    }

    /// <summary>The geometry.</summary>
    public ConvGeometry Geometry { get; }

    /// <summary>Threads the plan may use.</summary>
    public int Threads { get; }

    /// <summary>Whether the plan always computes with the scalar direct loop (tiny problems, sizes that cannot be padded).</summary>
    public bool IsDirect => _large is null && _rows is null;

    /// <summary>Whether the plan computes depthwise channels-first channel by channel (<see cref="DepthwiseRowPath"/>).</summary>
    internal bool UsesRowPath => _rows is not null;

    /// <summary>Whether <see cref="Run(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> splits the work across threads.</summary>
    public bool RunsInParallel => _parallel;

    /// <summary>Floats the plan holds: the two data copies (depthwise rows: a padded plane per thread that ran it).</summary>
    public long ExtraFloats => (_large?.Length ?? 0) + (_smallArray?.Length ?? 0) + (_rows?.PlaneFloats ?? 0);

    /// <summary>dw from large (<see cref="ConvGeometry.OutputShape"/>) and small (<see cref="ConvGeometry.InputShape"/>); dw: <c>[C, M/G, k...]</c>.</summary>
    /// <exception cref="ConvolutionArgumentException">A length is wrong.</exception>
    /// <exception cref="InvalidOperationException">Another thread is running this plan.</exception>
    public void Run(ReadOnlySpan<float> large, ReadOnlySpan<float> small, Span<float> dw)
    {
        if (large.Length != _largeLength)
        {
            throw new ConvolutionArgumentException($"large has {large.Length} elements but the geometry {Geometry} needs {_largeLength}", nameof(large));
        }

        if (small.Length != _smallLength)
        {
            throw new ConvolutionArgumentException($"small has {small.Length} elements but the geometry {Geometry} needs {_smallLength}", nameof(small));
        }

        if (dw.Length != _weightLength)
        {
            throw new ConvolutionArgumentException($"dw has {dw.Length} elements but the geometry {Geometry} needs {_weightLength}", nameof(dw));
        }

        if (_rows is not null)
        {
            RunRows(large, small, dw);
            return;
        }

        if (_large is null)
        {
            RunDirect(large, small, dw);
            return;
        }

        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("WeightGradientPlan.Run is already running on another thread: a plan owns its scratch buffers, so give each thread its own plan");
        }

        try
        {
            fixed (float* lp = large, sp = small, wp = dw)
            {
                _smallNonFinite = 0;
                if (!_parallel)
                {
                    _large.Fill(lp, 0, _large.Rows, 0, 1);
                    FillSmall(sp, 0, _smallParts);
                    if (_smallNonFinite != 0)
                    {
                        RunDirect(large, small, dw);
                        return;
                    }

                    for (var i = 0; i < _items!.Length; i++)
                    {
                        RunItem(i, wp);
                    }
                }
                else
                {
                    _runLarge = lp;
                    _runSmall = sp;
                    _runWeight = wp;
                    try
                    {
                        WorkerPool.For(_fillParts + _smallParts, Threads, part =>
                        {
                            if (part >= _fillParts)
                            {
                                FillSmall(_runSmall, part - _fillParts, 1);
                                return;
                            }

                            _large.Fill(_runLarge, 0, _large.Rows, part, _fillParts);
                        });
                        if (_smallNonFinite != 0)
                        {
                            RunDirect(large, small, dw);
                            return;
                        }

                        WorkerPool.For(_items!.Length, Threads, i => RunItem(i, _runWeight));
                    }
                    finally
                    {
                        _runLarge = null;
                        _runSmall = null;
                        _runWeight = null;
                    }
                }
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>The row path, channel by channel; the direct path instead when a channel reads a value that is not finite.</summary>
    private void RunRows(ReadOnlySpan<float> large, ReadOnlySpan<float> small, Span<float> dw)
    {
        var nonFinite = 0;
        fixed (float* lp = large, sp = small, wp = dw)
        {
            if (!_parallel)
            {
                for (var c = 0; c < _g.C && nonFinite == 0; c++)
                {
                    nonFinite = RowsChannel(c, lp, sp, wp) ? 0 : 1;
                }
            }
            else
            {
                // Each channel borrows its own buffers and writes its own dw values.
                var (l, s, w) = ((nint)lp, (nint)sp, (nint)wp);
                WorkerPool.For(_g.C, Threads, c =>
                {
                    if (!RowsChannel(c, (float*)l, (float*)s, (float*)w))
                    {
                        Volatile.Write(ref nonFinite, 1);
                    }
                });
            }
        }

        if (nonFinite != 0)
        {
            RunDirect(large, small, dw);
        }
    }

    /// <summary>
    /// Channel c by the row path, or false when the values it reads are not all finite: its small planes, whose padding
    /// it multiplies by zeros, and its large planes when the vector tails read past rows. Checked here, on the thread
    /// that then reads them from cache (scanning all of large before the channels took a fifth of depthwise's time, all of
    /// small a tenth).
    /// </summary>
    private bool RowsChannel(int c, float* large, float* small, float* dw)
    {
        var largePlane = (long)_g.A0.Output * _g.A1.Output * _g.A2.Output;
        for (var n = 0; n < _g.N; n++)
        {
            var smallPlane = new ReadOnlySpan<float>(small + ((long)n * _g.C + c) * _plane, checked((int)_plane));
            var largeRead = new ReadOnlySpan<float>(large + ((long)n * _g.M + c) * largePlane, checked((int)largePlane));
            if (!Simd.AllFinite(smallPlane) || (_rows!.WeightGradientReadsPastRows && !Simd.AllFinite(largeRead)))
            {
                return false;
            }
        }

        _rows!.WeightGradientChannel(c, large, small, dw);
        return true;
    }

    /// <summary>Runs the plan into a new array.</summary>
    public float[] Run(ReadOnlySpan<float> large, ReadOnlySpan<float> small)
    {
        var dw = new float[_weightLength];
        Run(large, small, dw);
        return dw;
    }

    /// <summary>
    /// Copies parts [first, first + count) of small: channels into <c>[C][pixels]</c> (depthwise:
    /// <c>[pixels][C]</c>), or with lanes over c, lane blocks.
    /// </summary>
    private void FillSmall(float* small, int first, int count)
    {
        var target = _smallArray!.Data;
        if (_channelLanes)
        {
            FillSmallLaneBlocks(small, target, first, count);
            return;
        }

        if (_depthwise)
        {
            FillSmallChannelsLast(small, target, first, count);
            return;
        }

        for (var c = first; c < first + count; c++)
        {
            var row = target + (long)c * _smallRowStride;
            if (_g.Layout == DataLayout.ChannelsFirst)
            {
                // small: [N, C, I...]: one contiguous plane per n.
                var bytes = _plane * sizeof(float);
                for (var n = 0; n < _g.N; n++)
                {
                    Buffer.MemoryCopy(small + ((long)n * _g.C + c) * _plane, row + n * _plane, bytes, bytes);
                }
            }
            else
            {
                // small: [N, I..., C].
                for (var p = 0; p < _pixels; p++)
                {
                    row[p] = small[(long)p * _g.C + c];
                }
            }

            CheckFinite(row, _pixels);
        }
    }

    /// <summary>
    /// Lane blocks [first, first + count) (group-major) of small as <c>[G][block of c][pixel][lane]</c>, a
    /// block two vectors wide (the last maybe one), zero past C/G.
    /// </summary>
    private void FillSmallLaneBlocks(float* small, float* target, int first, int count)
    {
        var blocks = (_g.Cg + 2 * _width - 1) / (2 * _width);
        for (var b = first; b < first + count; b++)
        {
            var (group, block) = Math.DivRem(b, blocks);
            var blockWidth = CBlockWidth(block);
            var firstC = group * _g.Cg + block * 2 * _width;
            var lanes = Math.Min(blockWidth, _g.Cg - block * 2 * _width);
            var to = target + ((long)group * _cLanesPerGroup + block * 2 * _width) * _pixels;
            if (_g.Layout == DataLayout.ChannelsLast)
            {
                // small: [N, I..., C]: each pixel's lanes are contiguous.
                for (var p = 0; p < _pixels; p++)
                {
                    new ReadOnlySpan<float>(small + (long)p * _g.C + firstC, lanes).CopyTo(new Span<float>(to + (long)p * blockWidth, lanes));
                }

                CheckFinite(to, _pixels * blockWidth); // lanes past C/G are zeros
            }
            else
            {
                // small: [N, C, I...]: one contiguous stream per lane, interleaved (lanes past C/G stay zero).
                for (var n = 0; n < _g.N; n++)
                {
                    var source = small + ((long)n * _g.C + firstC) * _plane;
                    TransposedStore.ToChannelsLast(source, _plane, lanes, (int)_plane, to + n * _plane * blockWidth, blockWidth);
                    CheckFinite(source, lanes * _plane); // the lanes' planes, neighbours in small, just read
                }
            }
        }
    }

    private int CBlockWidth(int block) => _g.Cg - block * 2 * _width > _width ? 2 * _width : _width;

    private void FillSmallChannelsLast(float* small, float* target, int first, int count)
    {
        for (var c = first; c < first + count; c++)
        {
            if (_g.Layout == DataLayout.ChannelsLast)
            {
                // small: [N, I..., C], already the order wanted: one part copies it all.
                if (c == 0)
                {
                    var bytes = _smallLength * sizeof(float);
                    Buffer.MemoryCopy(small, target, bytes, bytes);
                    CheckFinite(target, _smallLength);
                }
            }
            else
            {
                // small: [N, C, I...].
                for (var n = 0; n < _g.N; n++)
                {
                    var plane = small + ((long)n * _g.C + c) * _plane;
                    var column = target + (long)n * _plane * _g.C + c;
                    for (var i = 0; i < _plane; i++)
                    {
                        column[i * _g.C] = plane[i];
                    }

                    CheckFinite(plane, _plane);
                }
            }
        }
    }

    /// <summary>
    /// Marks the run for the direct path when <paramref name="count"/> values of small at <paramref name="values"/>
    /// (just copied, so in cache) are not all finite: the padding multiplies zeros by small values, which is exact only
    /// for finite ones. (Scanning all of small before the copies, on one thread, took 12% of dcgan4's weight gradient
    /// at 1 thread and 16% at 2.)
    /// </summary>
    private void CheckFinite(float* values, long count)
    {
        if (!Simd.AllFinite(new ReadOnlySpan<float>(values, checked((int)count))))
        {
            Volatile.Write(ref _smallNonFinite, 1);
        }
    }

    /// <summary>
    /// Whether, with lanes over j, each run of K2 taps along the last axis is one kernel tap whose lanes run over its K2 x
    /// M/G values (tap, then j): with dilation 1 and pixels of the copy M/G floats apart (fewer than 64 channels, one
    /// group) they are neighbours in the copy. The same products, summed in the same order, and the lanes are filled
    /// (fcn: 21 j took a block of 16 and one of 8, 5 of them used; 64 x 21 fill 84 blocks). Each work item then takes
    /// every block of lanes, so that each (c, j, kernel tap)'s K2 sums go to dw as one run (one block per item wrote
    /// them value by value across all of dw: 12% slower than not merging). fcn's weight gradient: 19-20% faster at 1
    /// thread, 15% at 2 (in alternation, call by call, twice).
    /// </summary>
    internal bool MergesLastAxisTaps => _mergedTaps > 1;

    private int BlockWidth(int block) => _laneValues - block * 2 * _width > _width ? 2 * _width : _width;

    private void RunItem(int index, float* dw)
    {
        switch (_simd)
        {
            case SimdWidth.V512:
                RunItem<Vector512<float>, Simd512>(index, dw);
                break;
            case SimdWidth.V256:
                RunItem<Vector256<float>, Simd256>(index, dw);
                break;
            case SimdWidth.V128:
                RunItem<Vector128<float>, Simd128>(index, dw);
                break;
            default:
                RunItem<float, SimdScalar>(index, dw);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunItem<TV, TS>(int index, float* dw)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        if (_depthwise)
        {
            RunDepthwiseItem<TV, TS>(_items![index], dw);
            return;
        }

        if (_channelLanes)
        {
            RunChannelLanesItem<TV, TS>(_items![index], dw);
            return;
        }

        const int tileRows = TileKernels.Pixels;
        var item = _items![index];
        // Merged taps: every block of lanes, so that each (c, j, kernel tap)'s K2 sums are written as one run of dw.
        var (firstBlock, endBlock) = _mergedTaps > 1 ? (0, _jBlocks) : (item.JBlock, item.JBlock + 1);
        var tapSums = _mergedTaps > 1 ? _jBlocks * 2 * _width : BlockWidth(item.JBlock); // sums of one c and tap
        var panel = stackalloc float[PixelChunk * 2 * _width]; // [pixel][lane] of large at this tap
        var tile = stackalloc float[tileRows * 2 * _width];
        var rows = stackalloc float*[tileRows];
        var zeroOffset = 0;
        var channelSums = item.TapCount * tapSums;
        var sumsArray = ArrayPool<float>.Shared.Rent(item.CCount * channelSums); // [c][tap][lane]
        var firstC = item.Group * _g.Cg + item.FirstC;
        var small = _smallArray!.Data;
        fixed (float* allSums = sumsArray)
        fixed (int* windows = _windowOffsets)
        {
            new Span<float>(allSums, item.CCount * channelSums).Clear();
            // Chunks outermost: a chunk's rows of small (the item's c) stay in L2 while every tap reads them.
            for (var firstPixel = 0; firstPixel < _pixels; firstPixel += PixelChunk)
            for (var t = 0; t < item.TapCount; t++)
            for (var block = firstBlock; block < endBlock; block++)
            {
                var blockWidth = BlockWidth(block);
                var firstJ = block * 2 * _width;
                var lanes = Math.Min(blockWidth, _laneValues - firstJ);
                var count = Math.Min(PixelChunk, _pixels - firstPixel);
                var source = _large!.Data + _tapOffsets![item.Tap + t] + (long)item.Group * _g.Mg + firstJ;
                var ahead = _large!.Data + _tapOffsets![item.Tap + Math.Min(t + PrefetchTaps, item.TapCount - 1)] + (long)item.Group * _g.Mg + firstJ;
                for (var p = 0; p < count; p++)
                {
                    // Inline copies: a call per pixel row took about a third of the item's time (dcgan2). The packing
                    // is 7-11% of the time (dcgan1, unet: left out), yet the kernel reading the rows of large in place,
                    // through the window offsets, was 21-22% slower for dcgan1, 19-20% for dcgan2 and 4-7% for unet:
                    // the chunk's 256 rows lie 2 KB or more apart, two to a 4 KB page, and every tile re-read them
                    // there instead of from one contiguous panel.
                    var to = panel + p * blockWidth;
                    if (Sse.IsSupported)
                    {
                        // The same pixel's row PrefetchTaps taps on: its first, middle and last cache line.
                        var next = ahead + windows[firstPixel + p];
                        Sse.Prefetch0(next);
                        Sse.Prefetch0(next + lanes / 2);
                        Sse.Prefetch0(next + lanes - 1);
                    }

                    Simd.CopyFloats(source + windows[firstPixel + p], to, lanes);
                    for (var lane = lanes; lane < blockWidth; lane++)
                    {
                        to[lane] = 0;
                    }
                }

                var blockSums = allSums + t * tapSums + (block - firstBlock) * 2 * _width;
                for (var c = 0; c < item.CCount; c += tileRows)
                {
                    var valid = Math.Min(tileRows, item.CCount - c);
                    for (var r = 0; r < tileRows; r++)
                    {
                        // A partial tile repeats its last row; the copies are not kept.
                        rows[r] = small + (long)(firstC + c + Math.Min(r, valid - 1)) * _smallRowStride + firstPixel;
                    }

                    if (blockWidth == 2 * _width)
                    {
                        TileKernels.TwoVectors<TV, TS>(panel, &zeroOffset, 1, count, rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], tile);
                    }
                    else
                    {
                        TileKernels.OneVector<TV, TS>(panel, &zeroOffset, 1, count, rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], tile);
                    }

                    // The chunk's sums added to the running sums of (c + r, tap t).
                    for (var r = 0; r < valid; r++)
                    {
                        var row = blockSums + (c + r) * channelSums;
                        for (var v = 0; v < blockWidth; v += _width)
                        {
                            TS.Store(row + v, TS.Add(TS.Load(row + v), TS.Load(tile + r * blockWidth + v)));
                        }
                    }
                }
            }

            var taps = _tapOffsets!.Length * _mergedTaps;
            if (_mergedTaps > 1)
            {
                // Lane k2*M/G + j of kernel tap t is (j, last-axis tap k2) of tap (item.Tap + t)*K2 + k2: dw[c, j, taps].
                for (var c = 0; c < item.CCount; c++)
                for (var t = 0; t < item.TapCount; t++)
                for (var j = 0; j < _g.Mg; j++)
                {
                    var sums = allSums + c * channelSums + t * tapSums + j;
                    var target = dw + ((long)(firstC + c) * _g.Mg + j) * taps + (long)(item.Tap + t) * _mergedTaps;
                    for (var k2 = 0; k2 < _mergedTaps; k2++)
                    {
                        target[k2] = sums[k2 * _g.Mg];
                    }
                }
            }
            else
            {
                // dw[c, j, tap]: [C, M/G, taps]; the item's taps of one (c, j) are neighbours, so each c's [tap][lane]
                // sums are written transposed. (Value by value from [tap][c][lane] sums, this took a fifth of dcgan1's
                // time.) Adding zero keeps every sum's bits: they start from +0, so none is -0.
                var zeros = stackalloc float[2 * _width];
                new Span<float>(zeros, 2 * _width).Clear();
                var firstJ = item.JBlock * 2 * _width;
                var lanes = Math.Min(tapSums, _laneValues - firstJ);
                for (var c = 0; c < item.CCount; c++)
                {
                    TransposedStore.ChannelsFirst(allSums + c * channelSums, tapSums, item.TapCount, lanes, zeros,
                        dw + ((long)(firstC + c) * _g.Mg + firstJ) * taps + item.Tap, taps);
                }
            }
        }

        ArrayPool<float>.Shared.Return(sumsArray);
    }

    /// <summary>
    /// An item with lanes over c (<c>item.FirstC</c>, up to <see cref="LaneBlocksPerItem"/> blocks of two
    /// vectors) and tile rows over the (tap, j) of its taps and every j of the group. A block's panel is small's
    /// lane block <c>[pixel][lane]</c> (arranged so by the run's copy); per chunk of pixels the shifted large is
    /// gathered transposed, <c>[tap][j][pixel]</c>, once for all blocks. Each value is the same chunk sums, in the
    /// same order, as with lanes over j.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunChannelLanesItem<TV, TS>(WorkItem item, float* dw)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        const int tileRows = TileKernels.Pixels;
        var mg = _g.Mg; // at most MaxRowsPerGroup
        var rowCount = item.TapCount * mg; // tile rows: (tap, j)
        var firstBlock = item.FirstC / (2 * _width);
        var blocks = (item.CCount + 2 * _width - 1) / (2 * _width);
        var blockSums = rowCount * 2 * _width;
        var rowsArray = ArrayPool<float>.Shared.Rent(rowCount * PixelChunk); // [tap][j][pixel] of large
        var sumsArray = ArrayPool<float>.Shared.Rent(blocks * blockSums); // [block][tap][j][lane], a block's rows blockWidth apart
        var tile = stackalloc float[tileRows * 2 * _width];
        var rows = stackalloc float*[tileRows];
        var zeroOffset = 0;
        var small = _smallArray!.Data;
        fixed (float* largeRows = rowsArray, sums = sumsArray)
        fixed (int* windows = _windowOffsets)
        {
            new Span<float>(sums, blocks * blockSums).Clear();
            for (var firstPixel = 0; firstPixel < _pixels; firstPixel += PixelChunk)
            {
                var count = Math.Min(PixelChunk, _pixels - firstPixel);
                for (var t = 0; t < item.TapCount; t++)
                {
                    var source = _large!.Data + _tapOffsets![item.Tap + t] + (long)item.Group * mg;
                    var tapRows = largeRows + t * mg * PixelChunk;
                    for (var p = 0; p < count; p++)
                    {
                        var from = source + windows[firstPixel + p];
                        for (var j = 0; j < mg; j++)
                        {
                            tapRows[j * PixelChunk + p] = from[j];
                        }
                    }
                }

                for (var b = 0; b < blocks; b++)
                {
                    var block = firstBlock + b;
                    var blockWidth = CBlockWidth(block);
                    var panel = small + ((long)item.Group * _cLanesPerGroup + block * 2 * _width) * _pixels + (long)firstPixel * blockWidth;
                    for (var row = 0; row < rowCount; row += tileRows)
                    {
                        var valid = Math.Min(tileRows, rowCount - row);
                        for (var r = 0; r < tileRows; r++)
                        {
                            // A partial tile repeats its last row; the copies are not kept.
                            rows[r] = largeRows + (row + Math.Min(r, valid - 1)) * PixelChunk;
                        }

                        if (blockWidth == 2 * _width)
                        {
                            TileKernels.TwoVectors<TV, TS>(panel, &zeroOffset, 1, count, rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], tile);
                        }
                        else
                        {
                            TileKernels.OneVector<TV, TS>(panel, &zeroOffset, 1, count, rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], tile);
                        }

                        var target = sums + b * blockSums + row * blockWidth;
                        for (var v = 0; v < valid * blockWidth; v += _width)
                        {
                            TS.Store(target + v, TS.Add(TS.Load(target + v), TS.Load(tile + v)));
                        }
                    }
                }
            }

            // dw[c, j, tap]: [C, M/G, taps].
            var taps = _tapOffsets!.Length;
            for (var b = 0; b < blocks; b++)
            {
                var block = firstBlock + b;
                var blockWidth = CBlockWidth(block);
                var firstC = item.Group * _g.Cg + block * 2 * _width;
                var lanes = Math.Min(blockWidth, _g.Cg - block * 2 * _width);
                for (var t = 0; t < item.TapCount; t++)
                for (var j = 0; j < mg; j++)
                for (var lane = 0; lane < lanes; lane++)
                {
                    dw[((long)(firstC + lane) * mg + j) * taps + item.Tap + t] = sums[b * blockSums + (t * mg + j) * blockWidth + lane];
                }
            }
        }

        ArrayPool<float>.Shared.Return(rowsArray);
        ArrayPool<float>.Shared.Return(sumsArray);
    }

    /// <summary>
    /// Depthwise item: dw[c, 0, tap] for one vector of channels c (<c>item.FirstC</c>, <c>item.CCount</c>) and
    /// every tap, summed like the general path: per chunk of pixels from zero, chunk sums added in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunDepthwiseItem<TV, TS>(WorkItem item, float* dw)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        const int tileTaps = DepthwiseKernels.Tile;
        var taps = _tapOffsets!.Length;
        var sums = new float[taps * _width]; // [tap][lane]
        var tile = stackalloc float[tileTaps * _width];
        var o = stackalloc int[tileTaps];
        var small = _smallArray!.Data;
        fixed (float* sum = sums)
        fixed (int* windows = _windowOffsets)
        {
            var large = _large!.Data + item.FirstC;
            for (var firstPixel = 0; firstPixel < _pixels; firstPixel += PixelChunk)
            {
                var count = Math.Min(PixelChunk, _pixels - firstPixel);
                for (var t = 0; t < taps; t += tileTaps)
                {
                    var valid = Math.Min(tileTaps, taps - t);
                    for (var r = 0; r < tileTaps; r++)
                    {
                        // A partial tile repeats its last tap; the copies are not kept.
                        o[r] = _tapOffsets[t + Math.Min(r, valid - 1)];
                    }

                    DepthwiseKernels.Taps<TV, TS>(large, windows + firstPixel, count, small + (long)firstPixel * _g.C + item.FirstC, _g.C,
                        o[0], o[1], o[2], o[3], o[4], o[5], tile);
                    var target = new Span<float>(sum + t * _width, valid * _width);
                    TensorPrimitives.Add(target, new ReadOnlySpan<float>(tile, target.Length), target);
                }
            }

            // dw[c, 0, tap]: [C, 1, taps].
            for (var lane = 0; lane < item.CCount; lane++)
            for (var t = 0; t < taps; t++)
            {
                dw[(long)(item.FirstC + lane) * taps + t] = sum[t * _width + lane];
            }
        }
    }

    /// <summary>One fused multiply-add chain per value over (n, i) ascending, skipping positions outside large.</summary>
    private void RunDirect(ReadOnlySpan<float> large, ReadOnlySpan<float> small, Span<float> dw)
    {
        var g = _g;
        for (var c = 0; c < g.C; c++)
        for (var j = 0; j < g.Mg; j++)
        for (var k0 = 0; k0 < g.A0.Kernel; k0++)
        for (var k1 = 0; k1 < g.A1.Kernel; k1++)
        for (var k2 = 0; k2 < g.A2.Kernel; k2++)
        {
            var sum = 0f;
            var m = c / g.Cg * g.Mg + j;
            for (var n = 0; n < g.N; n++)
            for (var i0 = 0; i0 < g.A0.Input; i0++)
            for (var i1 = 0; i1 < g.A1.Input; i1++)
            for (var i2 = 0; i2 < g.A2.Input; i2++)
            {
                if (g.Reaches(i0, i1, i2, k0, k1, k2, out var p0, out var p1, out var p2))
                {
                    sum = MathF.FusedMultiplyAdd(large[(int)g.OutputIndex(n, m, p0, p1, p2)], small[(int)g.InputIndex(n, c, i0, i1, i2)], sum);
                }
            }

            dw[(int)g.WeightIndex(c, j, k0, k1, k2)] = sum;
        }
    }

    /// <summary>
    /// Work: a group, a block of c (up to <see cref="ChannelBlock"/>, or with lanes over c up to
    /// <see cref="LaneBlocksPerItem"/> lane blocks, or depthwise one vector), with lanes over j a block of j, and
    /// taps <c>Tap .. Tap + TapCount - 1</c> (depthwise: all taps).
    /// </summary>
    private readonly record struct WorkItem(int Tap, int Group, int JBlock, int FirstC, int CCount, int TapCount = 1);
}
