using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Deconv.Reference;

namespace Deconv.Engine;

/// <summary>
/// The phase path vectorised over output pixels, for few output channels per group (depthwise, or a
/// final layer to 3 channels) or long channels-first rows: scratch <c>[N, P0, P1, C, P2]</c> (rows of 256 floats or
/// more spaced an odd number of cache lines apart); a tile is a few output rows of one phase (each row:
/// fixed n, u0, u1) times two (or four) vectors of consecutive u2 times 1, 3, 4, 6 or 12 output channels; weight panels
/// <c>[phase][group][block][tap][C/G][1, 3, 4, 6 or 12]</c>, zero past M/G.
/// </summary>
internal sealed unsafe class PixelTilePath : PhasePath
{
    /// <summary>Rows per work item (a multiple of every kernel's row count: 1, 2 or 4), or half as many: see the constructor.</summary>
    private const int ChunkRows = 8;

    /// <summary>Largest input of a stretch of rows (all channels, all pixels) that takes <see cref="ChunkRows"/> rows per item.</summary>
    private const long StretchBytes = 256 * 1024;

    /// <summary>Pixel tiles along a row per work item.</summary>
    private const int ChunkTiles = 8;

    private readonly int _width, _tilePixels, _blockChannels, _tileRows, _blocks; // the tile shape of all blocks but maybe the last
    private readonly (int Channels, int Rows, int Pixels)[] _shapes; // each block's tile shape
    private readonly Phase[] _phases;
    private readonly WorkItem[] _items;
    private readonly AlignedBuffer _packedArray, _scratchArray;
    private readonly float* _packed, _scratch;
    private readonly bool _prefetchPanels; // the packed weights are much larger than L2: see PrefetchPanels
    private readonly int _pad0, _pad1, _pad2, _padded0, _padded1, _rowStride; // _rowStride: see RowStride
    private readonly long _stride0, _stride1, _channelStride, _imageStride; // element strides of the input read: see the constructor
    private readonly Vector512<int>[]? _spreadIndices; // see Spread
    private readonly int _wideChannels; // see WideChannels
    private readonly int _interleaved; // last-axis phases each item computes together: see InterleavedPhases
    private readonly int _merged; // last-axis phases that share one tile's lanes: see MergedPhases
    private readonly bool _imageScratch; // work items are images, each copied into the scratch: see the constructor
    private readonly int[] _freeSlots; // image by image: the slots of the scratch that no work item holds (see TakeSlot)
    private int _freeCount;

    [ThreadStatic]
    private static int t_lastSlot; // the slot this thread took last (of any plan: only a hint)

    /// <summary>
    /// Largest padded input image (floats) copied and computed as one work item: 640 KB, so that it stays in a 1 MB
    /// L2 cache with the weights while the image's tiles read it. With Zen 3's 512 KB L2, which dcgan4's 578 KB image
    /// overflows, it still pays: the whole batch copied first, dcgan4 was 23-27% slower at 1 thread and 12-17% at 2
    /// (dcgan3 1%; call by call in alternation). The copy is dcgan4's largest cost beside the kernels (left out, 20-27%
    /// of the time at 1 and 2 threads); copying and computing each image in two halves of rows, whose rows fit L2, was
    /// 7-9% slower (both halves in the same 348 KB of the slot: 9% at 1 thread, 3% at 2), and prefetching the copy's
    /// source or target rows no faster.
    /// </summary>
    private const long ImageScratchLimit = 160 * 1024;

    /// <summary>Packed weights from which each work item first asks for the next one's panel (see <see cref="PrefetchPanels"/>).</summary>
    private const long PrefetchPanelsFrom = 4 << 20;

    private PixelTilePath(Lifted g, float[] weight, float[] bias, FusedActivation activation, float slope, SimdWidth simd, int threads,
        bool shuffles, (int Before, long Length)[] padding, long scratchLength, long packedLength)
        : base(g, bias, activation, slope, simd)
    {
        _width = (int)simd;
        _wideChannels = WideChannels(simd);
        (_blockChannels, _tileRows, _tilePixels) = TileShape(g, simd);
        _merged = MergedPhases(g, Phases[2], simd, shuffles, _blockChannels);
        // A merged tile's 12 (or 6) lanes are 12 / merged channels times the merged phases.
        _blockChannels /= _merged;
        _blocks = (g.Mg + _blockChannels - 1) / _blockChannels;
        // 1-4 channels left over after blocks of 12 take the 4-channel kernel, two rows of the same pixels, rather than
        // a 12-channel tile of mostly zero weights (unet and hifigan, 256 = 21 x 12 + 4: 2-3% faster); with 256-bit
        // vectors, 1-3 left over after blocks of 6 take the 3-channel kernel (whose 12 accumulators fit AVX2's registers).
        var tailChannels = simd == SimdWidth.V512 ? 4 : 3;
        var tail = _merged == 1 && _blockChannels == WideChannels(simd) && (_tileRows, _tilePixels) == (1, 2 * _width)
            && g.Mg % _blockChannels is var left && left >= 1 && left <= tailChannels;
        _shapes = [.. Enumerable.Range(0, _blocks).Select(b => tail && b == _blocks - 1 ? (tailChannels, 2, _tilePixels) : (_blockChannels * _merged, _tileRows, _tilePixels))];
        (_pad0, _pad1, _pad2) = (padding[0].Before, padding[1].Before, padding[2].Before);
        (_padded0, _padded1, _rowStride) = ((int)padding[0].Length, (int)padding[1].Length, (int)RowStride(padding[2].Length));
        _spreadIndices = _blockChannels == 12 && _merged == 1 ? SpreadIndices(g, simd, _tilePixels) : null;
        _interleaved = _merged > 1 ? 1 : InterleavedPhases(g, Phases[2], simd, shuffles, _tilePixels);
        // Several images that need padding and fit L2: each work item is one image, which it first copies into the
        // scratch and then computes from L2 (dcgan4: copying all 16 images into one scratch of 9.5 MB and reading them
        // back from L3 took 15% of the time; 5-8% faster at 1 thread, dcgan3 2-3%). The scratch has a slot per thread
        // (see TakeSlot), when there are images enough to share out: 4 per thread. Else the scratch holds the whole
        // batch, filled before the work items run.
        var image = scratchLength / g.N;
        _imageScratch = g.N > 1 && image <= ImageScratchLimit && (threads == 1 || g.N >= 4 * threads);
        var slots = _imageScratch ? Math.Min(threads, g.N) : 0;
        _freeSlots = [.. Enumerable.Range(0, slots).Reverse()];
        _freeCount = slots;
        _scratchArray = PinnedArray(_imageScratch ? slots * image : scratchLength, out _scratch);
        // The scratch is [N, P0, P1, C, P2]: a tap's sweep over the channels reads a tile's few rows of every channel,
        // which are then neighbours in memory, so the next tap finds them in L1 (dcgan4 15-22% faster than with
        // [N, C, P0, P1, P2]; dcgan3 and fcn the same). The input is copied even when it needs no padding: read in
        // place, [N, C, I0, I1, I2], a sweep steps by whole channel planes, which share a few cache sets when they
        // are multiples of 4 KB (unet's 4 KB planes, unet3d's 16 KB: 2-3x slower on Zen 3's 32 KB 8-way L1).
        _channelStride = _rowStride;
        _stride1 = (long)g.C * _rowStride;
        _stride0 = _stride1 * _padded1;
        _imageStride = _stride0 * _padded0;
        _packedArray = PinnedArray(packedLength, out _packed);
        _prefetchPanels = packedLength * sizeof(float) >= PrefetchPanelsFrom && Sse.IsSupported;

        var phases = new List<Phase>();
        var items = new List<WorkItem>();
        long panelOffset = 0;
        var chunkPixels = ChunkTiles * _tilePixels;
        // Merged phases: only the last axis's first (by output) stands for them all.
        foreach (var (p0, p1, p2) in OutputPhases().Where(p => _merged == 1 || p.P2.FirstOutput == 0))
        {
            var phase = new Phase(p0, p1, p2, (int)((_imageScratch ? 1L : g.N) * p0.Count * p1.Count),
                TapOffsets(p0, p1, p2, _stride0, _stride1, 1), new long[g.G * _blocks], RowRegions(g, p0, p1, p2, _imageScratch ? 1 : g.N));
            for (var group = 0; group < g.G; group++)
            for (var block = 0; block < _blocks; block++)
            {
                phase.PanelOffsets[group * _blocks + block] = panelOffset;
                panelOffset += (long)phase.TapOffsets.Length * g.Cg * _shapes[block].Channels;
            }

            phases.Add(phase);
        }

        if (_merged == 1)
        {
            PackPanels(weight, _packed, [.. phases.Select(p => (p.A0, p.A1, p.A2, p.PanelOffsets))], _blocks, block => (block * _blockChannels, _shapes[block].Channels));
        }
        else
        {
            PackMergedPanels(weight, phases);
        }

        // A stretch of rows outermost, then every channel block and every phase of it in turn: the stretch's
        // inputs (ChunkRows rows of every channel) stay in L2 while all blocks read them, and the outputs the phases
        // interleave are written close together in time. (Blocks outermost, the inputs came from L3 for each block:
        // unet and dcgan3 1-2% slower; 16-row stretches, unet 12% slower, on Zen 5's 1 MB L2.) Stretches larger than
        // half of a 512 KB L2 take half as many rows (unet: 8 rows of 512 channels are 512 KB).
        var chunkRows = (long)ChunkRows * g.Cg * _rowStride * sizeof(float) > StretchBytes ? ChunkRows / 2 : ChunkRows; // an item reads its group's channels
        var maxRows = phases.Count == 0 ? 0 : phases.Max(p => p.Rows);
        var maxPixels = phases.Count == 0 ? 0 : phases.Max(p => p.A2.Count);
        for (var group = 0; group < g.G; group++)
        for (var row = 0; row < maxRows; row += chunkRows)
        for (var u = 0; u < maxPixels; u += chunkPixels)
        for (var block = 0; block < _blocks; block++)
        for (var p = 0; p < phases.Count; p++)
        {
            // An item of interleaved phases starts at the first of them (they are consecutive: the last axis's phase varies fastest).
            if (row < phases[p].Rows && u < phases[p].A2.Count && p % _interleaved == 0)
            {
                items.Add(new WorkItem(p, group, block, row, Math.Min(chunkRows, phases[p].Rows - row), u, Math.Min(chunkPixels, phases[p].A2.Count - u)));
            }
        }

        _phases = [.. phases];
        _items = [.. items];
    }

    public override int ItemCount => _imageScratch ? G.N : _items.Length;

    /// <summary>Last-axis phases that share each tile (1: none merged); see <see cref="MergedPhases"/>.</summary>
    public int MergedPhaseCount => _merged;

    /// <summary>Last-axis phases each work item computes together (1: none); see <see cref="InterleavedPhases"/>.</summary>
    public int InterleavedPhaseCount => _interleaved;

    /// <summary>Whether each work item is one image, which it copies into a slot of the scratch (one per thread).</summary>
    public bool CopiesImageByImage => _imageScratch;

    /// <summary>The row regions of every phase (see <see cref="RowRegions"/>): as many as phases when no row reads the padding.</summary>
    public int RegionCount => _phases.Sum(p => p.Regions.Length);

    /// <summary>Whether each work item prefetches the next one's weight panel.</summary>
    public bool PrefetchesPanels => _prefetchPanels;

    public override long ExtraFloats => _packedArray.Length + _scratchArray.Length;

    /// <summary>
    /// Whether this path suits the geometry better than vectors over channels (measured on Zen 5):
    /// <list type="bullet">
    /// <item>at most half a vector of output channels per group and phase rows at least a vector long,
    /// with 256- or 512-bit vectors (depthwise 7x, three output channels 2.8x faster with 256-bit);</item>
    /// <item>channels-first output, 512-bit vectors, at least 12 output channels per group, and phase rows
    /// at least a vector long that fill the tiles well (fcn 1.5x, dcgan3 and unet about 10% faster,
    /// unet3d the same; with shorter rows, or channels-last output, vectors over channels are faster); or
    /// 256-bit vectors, at least 6 channels and rows of two vectors or more (measured on Zen 3 with AVX2, timed in
    /// alternation against vectors over channels: fcn 1.6-1.9x, unet3d 1.5x, dcgan3 4-14%, unet 8-26% faster).</item>
    /// </list>
    /// </summary>
    public static bool Suits(Lifted g, SimdWidth simd)
    {
        var width = (int)simd;
        var rows = PhaseRowLength(g);
        var tile = TileShape(g, simd).Pixels;
        var fewChannels = simd >= SimdWidth.V256 && g.Mg <= width / 2 && rows >= width;
        // With 256-bit vectors (Zen 3, the two plans timed in alternation), vectors over channels were faster for
        // outputs stored value by value 8 apart: a last-axis stride of 5-15, whose phases are neither merged nor
        // interleaved (hifigan, stride 8: 12-16% at 1 and 2 threads, in three runs).
        var scattered = simd == SimdWidth.V256 && g.A2.Stride is > 4 and < 16;
        // Phase rows of 16 outputs or more: a vector with AVX-512, two with AVX2. Rows of one 256-bit vector (dcgan2's 8)
        // were 5-7% faster at 1 thread and 1-2% at 2 over channels (in alternation, twice, once the channel path's
        // scratch pixels were spaced: see CacheSpacing).
        var longRows = WideChannels(simd) > 0 && g.Layout == DataLayout.ChannelsFirst && g.Mg >= WideChannels(simd) && !scattered
            && rows >= 16 && rows * 100L >= 85L * ((rows + tile - 1) / tile * tile);
        return fewChannels || longRows;
    }

    /// <summary>
    /// The path, or null when its scratch or panels would not fit an array; <paramref name="threads"/>: the threads the plan
    /// runs on. <paramref name="shufflesInSoftware"/> (tests): zip and unzip vectors (merged and interleaved phases) even
    /// where the hardware has no fast shuffles for <paramref name="simd"/>, which gives the same results more slowly.
    /// </summary>
    public static PixelTilePath? TryCreate(Lifted g, float[] weight, float[] bias, FusedActivation activation, float slope, SimdWidth simd, int threads,
        bool shufflesInSoftware = false)
    {
        var padding = new[]
        {
            Padding(g.A0, AxisPhase.Decompose(g.A0), tile: 1),
            Padding(g.A1, AxisPhase.Decompose(g.A1), tile: 1),
            Padding(g.A2, AxisPhase.Decompose(g.A2), tile: TileShape(g, simd).Pixels),
        };
        var scratch = Shapes.TryProduct([g.N, g.C, padding[0].Length, padding[1].Length, RowStride(padding[2].Length)]);
        var blockChannels = TileShape(g, simd).Channels;
        var packed = Shapes.TryProduct([g.C, (g.Mg + blockChannels - 1) / blockChannels * blockChannels, g.A0.Kernel, g.A1.Kernel, g.A2.Kernel]);
        return scratch is null || packed is null || scratch > Array.MaxLength || packed > Array.MaxLength
            ? null
            : new PixelTilePath(g, weight, bias, activation, slope, simd, threads, shufflesInSoftware || SimdSupport.Shuffles(simd), padding, scratch.Value, packed.Value);
    }

    public override int ScratchRows => _imageScratch ? 0 : G.N * G.C * G.A0.Input * G.A1.Input;

    /// <summary>
    /// Floats between the scratch rows of neighbouring channels for padded rows of <paramref name="padded"/> floats:
    /// short rows back to back; rows of 256 floats or more rounded up to an odd number of 64-byte lines, so that a
    /// sweep over the channels spreads over all cache sets (hifigan's rows of over 2048 floats, about 8 KB apart, fell
    /// into the same few sets of L1: on the pixel path with AVX2, 155 ms at 1 thread, spaced 119 ms).
    /// </summary>
    private static long RowStride(long padded) => CacheSpacing.Stride(padded, from: 256);

    public override void FillScratch(float* x, int first, int count) => CopyRows(x, first, count, _scratch, 0);

    /// <summary>
    /// Copies input rows [first, first + count) (all spatial axes but the last, with batch and channel) into
    /// their places in <paramref name="scratch"/>, a padded copy of the batch from image <paramref name="firstImage"/> on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CopyRows(float* x, int first, int count, float* scratch, int firstImage)
    {
        if (count == 0)
        {
            return;
        }

        var (i0, i1, i2, channels) = (G.A0.Input, G.A1.Input, G.A2.Input, G.C);
        // Row r = ((n*C + c)*I0 + a)*I1 + b, stepped without division: a run of rows of one (n, c, a) at a time, whose
        // sources follow each other (channels-first) and whose targets are _stride1 apart (stepped row by row, dcgan4's
        // rows of 32 floats took 5-6% longer at 1 thread and 3-8% at 2, in alternation, three runs; dcgan3 the same).
        var (n, c, a, b) = (first / i1 / i0 / channels, first / i1 / i0 % channels, first / i1 % i0, first % i1);
        for (var r = first; r < first + count;)
        {
            var run = Math.Min(first + count - r, i1 - b);
            var row = scratch + (long)(n - firstImage) * _imageStride + c * _channelStride + (a + _pad0) * _stride0 + (b + _pad1) * _stride1 + _pad2;
            if (G.Layout == DataLayout.ChannelsFirst)
            {
                // x: [N, C, I0, I1, I2]: row r is contiguous at r*I2.
                var source = x + (long)r * i2;
                for (var k = 0; k < run; k++)
                {
                    Simd.CopyFloats(source + (long)k * i2, row + k * _stride1, i2);
                }
            }
            else
            {
                // x: [N, I0, I1, I2, C]
                var source = x + (((long)n * i0 + a) * i1 + b) * i2 * channels + c;
                for (var k = 0; k < run; k++)
                for (var e = 0; e < i2; e++)
                {
                    row[k * _stride1 + e] = source[((long)k * i2 + e) * channels];
                }
            }

            r += run;
            b = 0;
            if (++a == i0)
            {
                a = 0;
                if (++c == channels)
                {
                    c = 0;
                    n++;
                }
            }
        }
    }

    /// <summary>
    /// The tile: output channels per block, rows, and pixels per row. For many channels 12 with 512-bit
    /// vectors (32 registers hold the 24 accumulators) or 6 with 256-bit ones, in one row of two vectors or,
    /// when phase rows are at most a vector long, two rows of one; else 3 when they divide M/G (RGB outputs),
    /// in one row of four vectors when phase rows are that long, else two rows of two; else 1 (4 rows) or 4
    /// (2 rows), of two vectors. The last block is padded with zero weights.
    /// </summary>
    private static (int Channels, int Rows, int Pixels) TileShape(Lifted g, SimdWidth simd)
    {
        var width = (int)simd;
        var wide = WideChannels(simd);
        if (wide > 0 && g.Mg >= wide)
        {
            return PhaseRowLength(g) <= width ? (wide, 2, width) : (wide, 1, 2 * width);
        }

        if (g.Mg % 3 == 0 && PhaseRowLength(g) >= 4 * width)
        {
            // Whole rows of four vectors: a tap's sweep over the channels then reads each input line once, and the
            // next tap, shifted along the row, finds them in L1 (dcgan4 with 256-bit vectors: the kernel alone 83 to
            // 97 GFLOP/s; not measured with 512-bit vectors, whose rows of 64 dcgan4 does not have).
            return (3, 1, 4 * width);
        }

        return g.Mg == 1 ? (1, 4, 2 * width) : g.Mg % 3 == 0 ? (3, 2, 2 * width) : (4, 2, 2 * width);
    }

    /// <summary>
    /// Output channels of the tiles for many channels: 12 with 512-bit vectors (24 accumulators of 32 registers), 6 with
    /// 256-bit ones (12 of AVX2's 16); 0 for narrower vectors, which have no such tile. These tiles are
    /// <c>[channel][vector]</c>, the others <c>[row][channel][pixel]</c>.
    /// </summary>
    private static int WideChannels(SimdWidth simd) => simd switch { SimdWidth.V512 => 12, SimdWidth.V256 => 6, _ => 0 };

    /// <summary>The longest phase row: outputs of the last axis in one phase.</summary>
    private static int PhaseRowLength(Lifted g) => (g.A2.Output + g.A2.Stride - 1) / g.A2.Stride;

    /// <summary>
    /// Work item <paramref name="index"/>: image by image, image <paramref name="index"/>, copied into a slot of the
    /// scratch, then every piece of it; else one piece, reading the input from the scratch.
    /// </summary>
    protected override void RunItem<TV, TS>(int index, float* x, float* y)
    {
        if (!_imageScratch)
        {
            RunPiece<TV, TS>(index, _scratch, y);
            return;
        }

        var rows = G.C * G.A0.Input * G.A1.Input;
        var slot = TakeSlot();
        try
        {
            var scratch = _scratch + slot * _imageStride;
            CopyRows(x, index * rows, rows, scratch, index);
            var output = y + (long)index * G.M * OutputPlane;
            for (var piece = 0; piece < _items.Length; piece++)
            {
                RunPiece<TV, TS>(piece, scratch, output);
            }
        }
        finally
        {
            ReturnSlot(slot);
        }
    }

    /// <summary>
    /// A slot of the image scratch for one work item: there are as many as threads, and no more items run at once.
    /// A thread gets back the slot it had last when that is free, so its padded image stays in its own cache (a slot
    /// per image, dcgan3 at 2 threads was 3-6% slower, in alternation, and held 7.5 MB instead of 0.9; dcgan4 the same
    /// speed, 9.5 MB instead of 1.2).
    /// </summary>
    private int TakeSlot()
    {
        lock (_freeSlots)
        {
            for (var i = 0; i < _freeCount - 1; i++)
            {
                if (_freeSlots[i] == t_lastSlot)
                {
                    (_freeSlots[i], _freeSlots[_freeCount - 1]) = (_freeSlots[_freeCount - 1], _freeSlots[i]);
                    break;
                }
            }

            return t_lastSlot = _freeSlots[--_freeCount];
        }
    }

    private void ReturnSlot(int slot)
    {
        lock (_freeSlots)
        {
            _freeSlots[_freeCount++] = slot;
        }
    }

    /// <summary>Piece <paramref name="index"/> of the work (some rows of one phase and channel block), reading the padded input at <paramref name="source"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunPiece<TV, TS>(int index, float* source, float* y)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        if (_prefetchPanels && index + 1 < _items.Length)
        {
            PrefetchPanels(_items[index + 1], _items[index]);
        }

        if (_interleaved > 1)
        {
            RunInterleaved<TV, TS>(index, source, y);
            return;
        }

        var item = _items[index];
        var phase = _phases[item.Phase];
        var shape = _shapes[item.Block];
        var firstChannel = item.Group * G.Mg + item.Block * _blockChannels;
        var channels = Math.Min(_blockChannels, G.Mg - item.Block * _blockChannels);
        var panel = _packed + phase.PanelOffsets[item.Group * _blocks + item.Block];
        var input = source + (long)item.Group * G.Cg * _channelStride;
        var inputChannelStride = _channelStride;
        var outputChannelStride = OutputChannelStride;
        var positionStride = G.A2.Stride * OutputPositionStride; // between neighbouring outputs of a phase row
        var tile = stackalloc float[12 * 2 * _width]; // the largest tile: rows x channels x pixels is at most 12 x 2W
        var rowInput = stackalloc float*[4];
        var rowOutput = stackalloc long[4];
        fixed (float* bias = Bias)
        {
            var rowEnd = item.FirstRow + item.RowCount;
            var pixelEnd = item.FirstPixel + item.PixelCount;
            var pairsInKernel = _merged == 2 && shape is (6, 1, _) && channels == 3 && Activation == FusedActivation.None;
            var cursor = new RowCursor(phase.Regions, item.FirstRow);
            for (var first = item.FirstRow; first < rowEnd;)
            {
                // A tile's rows are of one region, and read its taps.
                var region = cursor.Region;
                var validRows = Math.Min(shape.Rows, Math.Min(rowEnd, region.FirstRow + region.Rows) - first);
                var (tapStart, tapCount) = (region.TapStart, region.TapCount);
                var tapPanel = panel + (long)tapStart * G.Cg * shape.Channels;
                for (var r = 0; r < shape.Rows; r++)
                {
                    if (r < validRows)
                    {
                        var (inOffset, outOffset) = Locate(phase, cursor);
                        rowInput[r] = input + inOffset;
                        rowOutput[r] = outOffset;
                        cursor.Advance();
                    }
                    else
                    {
                        // A partial tile repeats its last row; the copies are not stored.
                        rowInput[r] = rowInput[validRows - 1];
                        rowOutput[r] = rowOutput[validRows - 1];
                    }
                }

                for (var u = item.FirstPixel; u < pixelEnd; u += shape.Pixels)
                {
                    if (pairsInKernel && pixelEnd - u >= shape.Pixels)
                    {
                        // 3 channels x 2 merged phases, one row of two vectors, whole: the kernel writes them itself (unet3d
                        // 5-15% faster at 1 thread than through the tile and StoreMerged, unet -7 to +3% (noisy); at 2
                        // threads unet3d -4 to +18%, unet -2 to +9%; in alternation, six runs).
                        fixed (int* tapOffsets = phase.TapOffsets)
                        {
                            PixelKernels.SixChannels<TV, TS>(tapPanel, tapOffsets + tapStart, tapCount, G.Cg, inputChannelStride, rowInput[0] + u, rowInput[0] + u + _width,
                                tile, y + rowOutput[0] + firstChannel * OutputPlane + (long)u * 2, OutputPlane, bias + firstChannel);
                        }

                        continue;
                    }

                    RunTile<TV, TS>(shape, tapPanel, phase.TapOffsets, tapStart, tapCount, inputChannelStride, rowInput, u, tile);

                    var pixels = Math.Min(shape.Pixels, pixelEnd - u);
                    if (_merged > 1)
                    {
                        StoreMerged<TV, TS>(tile, shape.Pixels, pixels, validRows, rowOutput, firstChannel, channels, u, y, bias);
                        continue;
                    }

                    for (var r = 0; r < validRows; r++)
                    for (var j = 0; j < channels; j++)
                    {
                        var channel = firstChannel + j;
                        var target = y + rowOutput[r] + channel * outputChannelStride + u * positionStride;
                        // Tiles are [row][channel][pixel], but the wide kernels' [channel][vector]: their rows are their vectors.
                        var sums = shape.Channels == _wideChannels ? tile + j * 2 * _width + r * shape.Pixels : tile + (r * shape.Channels + j) * shape.Pixels;
                        if (_spreadIndices is not null && shape.Channels == 12 && pixels == shape.Pixels && Activation == FusedActivation.None)
                        {
                            Spread(sums, bias[channel], target);
                        }
                        else
                        {
                            Store(sums, bias + channel, 0, pixels, target, positionStride);
                        }
                    }
                }

                first += validRows;
            }
        }
    }

    /// <summary>
    /// Asks for the weight panels of the work item <paramref name="next"/> (one per phase it computes) to be brought into
    /// L2 while this item runs.
    /// With weights far larger than L2 (hifigan: 8 MB, 176 panels of 48 KB per stretch of pixels) each item's panel
    /// came from L3 while its first tile waited on it: hifigan 5-6% faster at 1 thread, 1% at 2. With weights that
    /// stay in cache (unet, dcgan3: 2 MB) it cost 1-2%.
    /// </summary>
    private void PrefetchPanels(WorkItem next, WorkItem current)
    {
        for (var k = 0; k < _interleaved; k++) // an item's phases: 1, or the interleaved ones
        {
            var phase = _phases[next.Phase + k];
            var nextPanel = _packed + phase.PanelOffsets[next.Group * _blocks + next.Block];
            if (nextPanel == _packed + _phases[current.Phase + k].PanelOffsets[current.Group * _blocks + current.Block])
            {
                continue;
            }

            var floats = (long)phase.TapOffsets.Length * G.Cg * _shapes[next.Block].Channels;
            for (long f = 0; f < floats; f += 16)
            {
                Sse.Prefetch1(nextPanel + f);
            }
        }
    }

    /// <summary>
    /// How many phases of the last axis share each 12-lane (or 6-lane) tile: the stride, when every phase of the axis reads the
    /// same inputs (same first input and shifts, as with kernel = stride and no padding: unet), the output is
    /// channels-first, AVX-512 computes 12-channel tiles and the stride is 2 or 4 (or AVX2 6-channel tiles and the stride
    /// is 2); else 1. A tile of 12 / stride
    /// channels then holds all the phases of a row, whose outputs alternate along it, so it writes them as whole
    /// vectors (<see cref="Interleave"/>) from the same loads (unet: k = s = 2; the phases' one tap each reads the
    /// same input). <paramref name="shuffles"/>: whether the vectors zip in a few instructions (<see cref="SimdSupport.Shuffles"/>),
    /// or a test asks for these paths anyway.
    /// </summary>
    private static int MergedPhases(Lifted g, AxisPhase[] lastAxis, SimdWidth simd, bool shuffles, int blockChannels)
    {
        var stride = lastAxis.Length;
        var first = lastAxis[0];
        var shared = lastAxis.All(p => p.Count > 0 && p.Count == first.Count && p.FirstQ == first.FirstQ && p.Shifts.SequenceEqual(first.Shifts));
        return blockChannels == WideChannels(simd) && blockChannels % stride == 0 && g.Layout == DataLayout.ChannelsFirst && shuffles
            && stride is 2 or 4 && shared ? stride : 1;
    }

    /// <summary>
    /// <see cref="PhasePath.PackPanels"/> for merged phases: lane <c>l</c> of block <c>b</c> is output channel
    /// <c>b*blockChannels + l / merged</c> of the last-axis phase whose first output is <c>l % merged</c>.
    /// </summary>
    private void PackMergedPanels(float[] weight, List<Phase> phases)
    {
        var lastAxis = Phases[2].OrderBy(p => p.FirstOutput).ToArray();
        for (var group = 0; group < G.G; group++)
        for (var c = 0; c < G.Cg; c++)
        {
            var channel = group * G.Cg + c;
            foreach (var phase in phases)
            for (var block = 0; block < _blocks; block++)
            {
                var panel = _packed + phase.PanelOffsets[group * _blocks + block];
                var t = 0;
                foreach (var k0 in phase.A0.Taps)
                foreach (var k1 in phase.A1.Taps)
                for (var i2 = 0; i2 < phase.A2.Taps.Length; i2++)
                {
                    var target = panel + ((long)t++ * G.Cg + c) * _wideChannels;
                    for (var lane = 0; lane < _wideChannels; lane++)
                    {
                        var j = block * _blockChannels + lane / _merged;
                        target[lane] = j < G.Mg ? weight[G.WeightIndex(channel, j, k0, k1, lastAxis[lane % _merged].Taps[i2])] : 0f;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Writes a merged tile (<c>[channel][phase][rows or vectors]</c>, 2W floats per lane): each channel's phases
    /// interleaved into whole output vectors, or value by value for a partial tile or an activation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StoreMerged<TV, TS>(float* tile, int tilePixels, int pixels, int validRows, long* rowOutput, int firstChannel, int channels, int u, float* y, float* bias)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var buffer = stackalloc float[2 * _merged * TS.Width];
        var laneFloats = 2 * _width;
        for (var r = 0; r < validRows; r++)
        for (var j = 0; j < channels; j++)
        {
            var channel = firstChannel + j;
            var sums = tile + j * _merged * laneFloats + r * tilePixels;
            var target = y + rowOutput[r] + channel * OutputPlane + (long)u * _merged;
            if (pixels == tilePixels && Activation == FusedActivation.None)
            {
                for (var part = 0; part < pixels; part += TS.Width)
                {
                    Interleave<TV, TS>(sums + part, laneFloats, _merged, buffer, bias[channel], target + (long)part * _merged);
                }

                continue;
            }

            for (var k = 0; k < _merged; k++)
            {
                Store(sums + k * laneFloats, bias + channel, 0, pixels, target + k, _merged);
            }
        }
    }

    /// <summary>
    /// How many phases of the last axis each work item computes together, so that it can write their outputs,
    /// which alternate along the output rows, as whole vectors (<see cref="Interleave"/>): the stride, for
    /// channels-first output with AVX-512 or AVX2 when the stride is a power of two from 16 to 64 and every phase of the
    /// axis has the same number of outputs, or with AVX2 when it is 2; else 1 (and 1 for merged phases, which
    /// share their tiles instead). With strides of 16-64 each value stored alone touched its own cache line (fcn,
    /// k=64 s=32, spent more time storing than computing). With stride 2 and AVX2 (dcgan3, dcgan4: outputs stored
    /// value by value two apart), together 1-3% faster in four alternating runs, one of them 6-9%; with AVX-512 on
    /// Zen 5, strides 2 and 8 were slower together (unet, since merged, and hifigan: their weight panels no longer
    /// stayed in L1 across tiles).
    /// <paramref name="shuffles"/>: as for <see cref="MergedPhases"/>.
    /// </summary>
    private static int InterleavedPhases(Lifted g, AxisPhase[] lastAxis, SimdWidth simd, bool shuffles, int tilePixels)
    {
        var stride = lastAxis.Length;
        var regular = g.Layout == DataLayout.ChannelsFirst && shuffles && tilePixels % (int)simd == 0
            && (stride is 16 or 32 or 64 || (stride == 2 && simd == SimdWidth.V256)) && lastAxis.All(p => p.Count > 0 && p.Count == lastAxis[0].Count);
        return regular ? stride : 1;
    }

    /// <summary>
    /// A work item of <see cref="_interleaved"/> phases (the last axis's, in order of their first output): each tile
    /// is computed for every phase, then written row by row as whole vectors.
    /// </summary>
    [SkipLocalsInit] // the tiles are written before they are read (clearing them: 24 KB per work item for fcn, 1% of its time)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunInterleaved<TV, TS>(int index, float* source, float* y)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var item = _items[index];
        var stride = _interleaved;
        var shape = _shapes[item.Block];
        var firstChannel = item.Group * G.Mg + item.Block * _blockChannels;
        var channels = Math.Min(shape.Channels, G.Mg - item.Block * _blockChannels);
        var input = source + (long)item.Group * G.Cg * _channelStride;
        var inputChannelStride = _channelStride;
        var tileFloats = 12 * 2 * _width; // the largest tile
        var tiles = stackalloc float[stride * tileFloats]; // [phase by first output][tile]
        var rowInput = stackalloc float*[stride * 4]; // [phase][row]
        var rowStart = stackalloc long[4]; // each tile row's output offset at channel 0, o2 = 0
        var tapStarts = stackalloc int[stride]; // each phase's first and number of taps for the current rows
        var tapCounts = stackalloc int[stride];
        var buffer = stackalloc float[2 * stride * TS.Width];
        var rowEnd = item.FirstRow + item.RowCount;
        var pixelEnd = item.FirstPixel + item.PixelCount;
        fixed (float* bias = Bias)
        {
            // The phases differ only along the last axis, which no region cuts: their rows are in the same regions.
            var firstPhase = _phases[item.Phase];
            var cursor = new RowCursor(firstPhase.Regions, item.FirstRow);
            for (var first = item.FirstRow; first < rowEnd;)
            {
                var regionIndex = cursor.Index;
                var region = firstPhase.Regions[regionIndex];
                var validRows = Math.Min(shape.Rows, Math.Min(rowEnd, region.FirstRow + region.Rows) - first);
                for (var r = 0; r < shape.Rows; r++)
                {
                    // A partial tile repeats its last row; the copies are not stored. The phases differ only along the
                    // last axis, where the scratch's stride is 1: each phase's row starts FirstQ further along.
                    if (r < validRows)
                    {
                        var (inOffset, outOffset) = Locate(firstPhase, cursor);
                        cursor.Advance();
                        rowStart[r] = outOffset - firstPhase.A2.FirstOutput;
                        for (var k = 0; k < stride; k++)
                        {
                            rowInput[k * 4 + r] = input + inOffset + _phases[item.Phase + k].A2.FirstQ - firstPhase.A2.FirstQ;
                        }
                    }
                    else
                    {
                        rowStart[r] = rowStart[validRows - 1];
                        for (var k = 0; k < stride; k++)
                        {
                            rowInput[k * 4 + r] = rowInput[k * 4 + validRows - 1];
                        }
                    }
                }

                for (var k = 0; k < stride; k++)
                {
                    // The phase's own region of these rows: its taps along the last axis are its own. Found once for the rows,
                    // not for every tile along them (fcn's 32 phases: 3% faster at 1 and 2 threads).
                    var own = _phases[item.Phase + k].Regions[regionIndex];
                    (tapStarts[k], tapCounts[k]) = (own.TapStart, own.TapCount);
                }

                for (var u = item.FirstPixel; u < pixelEnd; u += shape.Pixels)
                {
                    var runFloats = (long)Math.Min(shape.Pixels, pixelEnd - u) * stride; // outputs of one tile row and channel
                    for (var k = 0; k < stride; k++)
                    {
                        // With strides of 16 or more, each phase asks for its share of the tile's output lines, so that the
                        // stores after the last phase find them in L2 (fcn writes 22 MB: with the stores into L1 instead it
                        // ran 22% faster; asked for, 0-14% faster at 1 thread in eight alternating runs, one 35%, -4 to +12%
                        // at 2). With stride 2 it was no clearer than the noise (dcgan3 1-4% faster at 1 thread, dcgan4 2%
                        // faster to 23% slower, three runs), nor for unet's and unet3d's merged tiles (five runs).
                        if (stride >= 16)
                        {
                            PrefetchOutputs(y + (long)u * stride + firstChannel * OutputPlane, rowStart, validRows, channels, runFloats, 16 * k, 16 * stride);
                        }

                        var phase = _phases[item.Phase + k];
                        var (tapStart, tapCount) = (tapStarts[k], tapCounts[k]);
                        RunTile<TV, TS>(shape, _packed + phase.PanelOffsets[item.Group * _blocks + item.Block] + (long)tapStart * G.Cg * shape.Channels,
                            phase.TapOffsets, tapStart, tapCount, inputChannelStride, rowInput + k * 4, u, tiles + phase.A2.FirstOutput * tileFloats);
                    }

                    var pixels = Math.Min(shape.Pixels, pixelEnd - u);
                    for (var r = 0; r < validRows; r++)
                    for (var j = 0; j < channels; j++)
                    {
                        var channel = firstChannel + j;
                        var sums = shape.Channels == _wideChannels ? j * 2 * _width + r * shape.Pixels : (r * shape.Channels + j) * shape.Pixels;
                        var target = y + rowStart[r] + channel * OutputPlane + (long)u * stride;
                        if (pixels == shape.Pixels && Activation == FusedActivation.None)
                        {
                            for (var part = 0; part < pixels; part += TS.Width)
                            {
                                Interleave<TV, TS>(tiles + sums + part, tileFloats, stride, buffer, bias[channel], target + (long)part * stride);
                            }

                            continue;
                        }

                        for (var k = 0; k < stride; k++)
                        {
                            Store(tiles + k * tileFloats + sums, bias + channel, 0, pixels, target + k, stride);
                        }
                    }
                }

                first += validRows;
            }
        }
    }

    /// <summary>
    /// Asks for the cache lines at floats <paramref name="from"/>, from + step, ... of each of a tile's output runs
    /// (<paramref name="runFloats"/> from <paramref name="y"/> + rowStart[r] + j * OutputPlane) to be brought into L2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchOutputs(float* y, long* rowStart, int rows, int channels, long runFloats, long from, long step)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        for (var r = 0; r < rows; r++)
        for (var j = 0; j < channels; j++)
        {
            var run = y + rowStart[r] + j * OutputPlane;
            for (var f = from; f < runFloats; f += step)
            {
                Sse.Prefetch1(run + f);
            }
        }
    }

    /// <summary>
    /// <c>target[count*i + k] = phases[k*phaseStep + i] + bias</c> for a vector of values i of each of <paramref name="count"/>
    /// (a power of two) phases: a <c>count x width</c> transpose. Each stage zips vector i with vector i + count/2, which
    /// moves the top bit of the vector number to the bottom of the lane number; log2(count) stages move all of them
    /// (with 256-bit vectors and 8 phases or more, <see cref="TransposedStore.PhaseRuns"/> instead).
    /// <paramref name="buffer"/> holds <c>2 * count</c> vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave<TV, TS>(float* phases, int phaseStep, int count, float* buffer, float bias, float* target)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        var biasVector = TS.Broadcast(bias);
        if (count == 2)
        {
            // The one stage in registers: through the buffer, unet3d's tiles took 11% longer and unet's 3.5% (AVX-512).
            var (low, high) = TS.Zip(TS.Load(phases), TS.Load(phases + phaseStep));
            TS.Store(target, TS.Add(low, biasVector));
            TS.Store(target + width, TS.Add(high, biasVector));
            return;
        }

        if (width == 8 && count % 8 == 0 && Avx.IsSupported)
        {
            // 256-bit vectors: 8 x 8 blocks transposed in registers, 3 shuffles a vector instead of 2 per stage and the
            // buffer's loads and stores (fcn, 32 phases: 16-21% faster at 1 and 2 threads, in alternation, twice).
            TransposedStore.PhaseRuns(phases, phaseStep, count, bias, target);
            return;
        }

        var from = buffer;
        var to = buffer + count * width;
        for (var k = 0; k < count; k++)
        {
            TS.Store(from + k * width, TS.Load(phases + k * phaseStep));
        }

        for (var stage = count; stage > 1; stage /= 2)
        {
            for (var i = 0; i < count / 2; i++)
            {
                var (low, high) = TS.Zip(TS.Load(from + i * width), TS.Load(from + (i + count / 2) * width));
                TS.Store(to + 2 * i * width, low);
                TS.Store(to + (2 * i + 1) * width, high);
            }

            var swap = from;
            from = to;
            to = swap;
        }

        for (var v = 0; v < count; v++)
        {
            TS.Store(target + v * width, TS.Add(TS.Load(from + v * width), biasVector));
        }
    }

    /// <summary>
    /// One tile of one phase: the rows at <paramref name="rows"/>, pixels from <paramref name="u"/>, into <paramref name="tile"/>,
    /// over <paramref name="taps"/> taps from <paramref name="tapStart"/> (<paramref name="panel"/> is that tap's part of the panel).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RunTile<TV, TS>((int Channels, int Rows, int Pixels) shape, float* panel, int[] tapOffsetArray, int tapStart, int taps, long inputChannelStride,
        float** rows, int u, float* tile)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        fixed (int* allTapOffsets = tapOffsetArray)
        {
            var tapOffsets = allTapOffsets + tapStart;
            if (shape.Channels == 12)
            {
                var second = shape.Rows == 2 ? rows[1] + u : rows[0] + u + _width;
                PixelKernels.TwelveChannels<TV, TS>(panel, tapOffsets, taps, G.Cg, inputChannelStride, rows[0] + u, second, tile);
            }
            else if (shape.Channels == 6)
            {
                var second = shape.Rows == 2 ? rows[1] + u : rows[0] + u + _width;
                PixelKernels.SixChannels<TV, TS>(panel, tapOffsets, taps, G.Cg, inputChannelStride, rows[0] + u, second, tile);
            }
            else if (shape.Channels == 1)
            {
                PixelKernels.OneChannel<TV, TS>(panel, tapOffsets, taps, G.Cg, inputChannelStride, rows[0] + u, rows[1] + u, rows[2] + u, rows[3] + u, tile);
            }
            else if (shape.Channels == 3)
            {
                // Two rows of two vectors, [row][channel][pixel], or one row of four, [channel][pixel].
                var oneRow = shape.Rows == 1;
                PixelKernels.ThreeChannels<TV, TS>(panel, tapOffsets, taps, G.Cg, inputChannelStride, rows[0] + u, oneRow ? rows[0] + u + 2 * _width : rows[1] + u,
                    tile, oneRow ? 2 * _width : 6 * _width, oneRow ? 4 * _width : 2 * _width);
            }
            else
            {
                PixelKernels.FourChannels<TV, TS>(panel, tapOffsets, taps, G.Cg, inputChannelStride, rows[0] + u, rows[1] + u, tile);
            }
        }
    }

    /// <summary>
    /// For channels-first output with AVX-512 and a last-axis stride of 2, the lane shuffles of <see cref="Spread"/>
    /// (one per output vector modulo the stride); else null, and tiles are stored one value at a time. A phase's
    /// neighbouring outputs are a stride apart: with stride 2, storing values one at a time cost dcgan3 and unet
    /// 2-4% of their time. (Measured slower, so not used: stride 8, hifigan, 10%, with masked stores of 2 values
    /// each; and the kernels of few output channels, dcgan4's 3, 18%.)
    /// </summary>
    private static Vector512<int>[]? SpreadIndices(Lifted g, SimdWidth simd, int tilePixels)
    {
        var stride = g.A2.Stride;
        if (g.Layout != DataLayout.ChannelsFirst || simd != SimdWidth.V512 || !Avx512F.IsSupported || stride != 2
            || tilePixels % 16 != 0)
        {
            return null;
        }

        // Output vector v holds the phase's values 16v/stride + lane/stride (every stride-th lane), all from one source vector.
        var indices = new Vector512<int>[stride];
        for (var v = 0; v < stride; v++)
        {
            var lanes = new int[16];
            for (var lane = 0; lane < 16; lane++)
            {
                lanes[lane] = (16 * v / stride + lane / stride) % 16;
            }

            indices[v] = Vector512.Create(lanes);
        }

        return indices;
    }

    /// <summary>
    /// <c>target[i*stride] = sums[i] + bias</c> for a whole tile row (<see cref="_tilePixels"/> values): each output
    /// vector gets its values by one lane shuffle and a masked store that leaves the other phases' lanes alone.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Spread(float* sums, float bias, float* target)
    {
        var stride = G.A2.Stride;
        var biasVector = Vector512.Create(bias);
        // Lanes that are multiples of the stride: the sign bit selects a lane of the masked store.
        var mask = Vector512.Equals(Vector512<int>.Indices & Vector512.Create(stride - 1), Vector512<int>.Zero).AsSingle();
        for (var v = 0; v < _tilePixels * stride / 16; v++)
        {
            var source = Vector512.Load(sums + v / stride * 16);
            var values = Avx512F.PermuteVar16x32(source, _spreadIndices![v % stride]) + biasVector;
            Avx512F.MaskStore(target + 16 * v, mask, values);
        }
    }

    /// <summary>
    /// The row of a phase at <paramref name="at"/>: its offset in the padded scratch at shift 0, channel 0 of the group
    /// and u2 = 0, and its offset in y at channel 0 and u2 = 0.
    /// </summary>
    private (long Input, long Output) Locate(Phase phase, in RowCursor at)
    {
        var (n, u0, u1) = (at.N, at.U0, at.U1);
        var input = n * _imageStride + (phase.A0.FirstQ + u0 + _pad0) * _stride0 + (phase.A1.FirstQ + u1 + _pad1) * _stride1
            + phase.A2.FirstQ + _pad2;
        var output = OutputOffset(n, phase.A0.FirstOutput + (long)G.A0.Stride * u0, phase.A1.FirstOutput + (long)G.A1.Stride * u1,
            phase.A2.FirstOutput);
        return (input, output);
    }

    /// <summary>
    /// A phase's rows in order from one on: the region that holds the row, and the row as (n, u0, u1), stepped without
    /// division.
    /// </summary>
    private struct RowCursor
    {
        public int N, U0, U1;
        private readonly RowRegion[] _regions;
        private int _index, _left; // the region, and its rows from this one on

        public RowCursor(RowRegion[] regions, int row)
        {
            _regions = regions;
            _index = regions.Length - 1;
            while (regions[_index].FirstRow > row)
            {
                _index--;
            }

            var region = regions[_index];
            row -= region.FirstRow;
            _left = region.Rows - row;
            U1 = region.First1 + row % region.Count1;
            row /= region.Count1;
            U0 = region.First0 + row % region.Count0;
            N = row / region.Count0;
        }

        public readonly RowRegion Region => _regions[_index];

        /// <summary>The number of <see cref="Region"/> among the phase's regions.</summary>
        public readonly int Index => _index;

        /// <summary>Steps to the next row, the first of the next region after a region's last.</summary>
        public void Advance()
        {
            var region = _regions[_index];
            if (--_left == 0 && _index + 1 < _regions.Length)
            {
                region = _regions[++_index];
                (_left, N, U0, U1) = (region.Rows, 0, region.First0, region.First1);
            }
            else if (++U1 == region.First1 + region.Count1)
            {
                U1 = region.First1;
                if (++U0 == region.First0 + region.Count0)
                {
                    U0 = region.First0;
                    N++;
                }
            }
        }
    }

    /// <summary>
    /// A phase's rows in regions whose rows read the same taps along axes 0 and 1 (<see cref="PhasePath.InsideBoxes"/>),
    /// numbered region after region, each region's rows in order (n, u0, u1) over <paramref name="images"/> images: a tile's
    /// rows then multiply only the input rows inside the image, not the padding's rows of zeros (dcgan3, 16 x 16 inputs,
    /// kernel 4, stride 2, padding 1: one product in 32). Along the last axis a tile's vectors hold both, and read all taps.
    /// </summary>
    private static RowRegion[] RowRegions(Lifted g, AxisPhase p0, AxisPhase p1, AxisPhase p2, int images)
    {
        var regions = new List<RowRegion>();
        var first = 0;
        foreach (var (a0, a1, _, runs) in InsideBoxes(g, p0, p1, p2, cutLastAxis: false))
        {
            // One kernel call runs over one run of taps: inside taps that are no one run (a corner of a 3-D phase with two
            // taps or more along axis 1) are all the taps, the padding's zeros included.
            var (tapStart, tapCount) = runs.Length switch { 0 => (0, 0), 1 => runs[0], _ => (0, p0.Taps.Length * p1.Taps.Length * p2.Taps.Length) };
            var rows = images * a0.Count * a1.Count;
            regions.Add(new RowRegion(first, rows, a0.First, a0.Count, a1.First, a1.Count, tapStart, tapCount));
            first += rows;
        }

        return [.. regions];
    }

    /// <summary>One output phase over all spatial axes; <see cref="Rows"/> counts (n, u0, u1), numbered region by region.</summary>
    private sealed record Phase(AxisPhase A0, AxisPhase A1, AxisPhase A2, int Rows, int[] TapOffsets, long[] PanelOffsets, RowRegion[] Regions);

    /// <summary>
    /// Rows FirstRow to FirstRow + Rows - 1 of a phase: every image, and phase positions [First, First + Count) along axes 0
    /// and 1, whose rows read the phase's taps TapStart to TapStart + TapCount - 1 (the others read only the padding).
    /// </summary>
    private sealed record RowRegion(int FirstRow, int Rows, int First0, int Count0, int First1, int Count1, int TapStart, int TapCount);

    /// <summary>Some rows of one phase, a stretch of u2 (whole tiles), one channel block of one group.</summary>
    private readonly record struct WorkItem(int Phase, int Group, int Block, int FirstRow, int RowCount, int FirstPixel, int PixelCount);
}
