using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Deconv.Reference;

namespace Deconv.Engine;

/// <summary>
/// The phase path vectorised over output channels: scratch channels-last <c>[N, P0, P1, P2, C]</c>, its pixels
/// maybe spaced wider than C (see <see cref="PixelStride"/>); a tile is <see cref="TileKernels.Pixels"/> output
/// pixels of one phase (any pixels: each has its own input pointer) times one or two vectors of a group's output
/// channels; weight panels <c>[phase][group][block][tap][C/G][block lanes]</c>, zero past M/G. A work item is a
/// stretch of pixels of one phase, or of 2 or 8 last-axis phases together (see <see cref="InterleavedPhases"/>).
/// </summary>
internal sealed unsafe class ChannelTilePath : PhasePath
{
    /// <summary>
    /// Pixel tiles per work item (96 pixels: a multiple of 8, see <see cref="InterleavedPhases"/>). Items of 8 interleaved
    /// phases hold 48 KB of sums on the stack with AVX2, 96 KB with AVX-512. With 4 tiles (12 KB) each item of hifigan
    /// read its channel block's 512 KB of panels (8 phases), more than a 512 KB L2 keeps, for only 24 pixels: with 16,
    /// 1-2% faster at 1 thread and -0.5 to 7% at 2, dcgan2 0.4-0.8% (AVX2, in alternation, five and two runs; 32 tiles
    /// 0-1% more; on Zen 5 with AVX-512, 4 tiles had been as fast as 16).
    /// </summary>
    private const int ChunkTiles = 16;

    /// <summary>Pixels per work item.</summary>
    private const int Chunk = ChunkTiles * TileKernels.Pixels;

    private readonly int _width;
    private readonly int _blocks; // channel blocks (of two vectors, the last maybe one) per group
    private readonly Phase[] _phases;
    private readonly WorkItem[] _items;
    private readonly AlignedBuffer _packedArray, _scratchArray;
    private readonly float* _packed, _scratch;
    private readonly bool _readsInput; // x needs no padding and has the scratch's layout: read it directly
    private readonly int _pad0, _pad1, _pad2, _padded0, _padded1, _padded2;
    private readonly int _pixelStride; // floats from one scratch pixel to the next: see PixelStride
    private readonly int _interleaved; // last-axis phases each item computes together: see InterleavedPhases

    private ChannelTilePath(Lifted g, float[] weight, float[] bias, FusedActivation activation, float slope, SimdWidth simd,
        (int Before, long Length)[] padding, long scratchLength, long packedLength)
        : base(g, bias, activation, slope, simd)
    {
        _width = (int)simd;
        _blocks = (g.Mg + 2 * _width - 1) / (2 * _width);
        (_pad0, _pad1, _pad2) = (padding[0].Before, padding[1].Before, padding[2].Before);
        (_padded0, _padded1, _padded2) = ((int)padding[0].Length, (int)padding[1].Length, (int)padding[2].Length);
        _pixelStride = PixelStride(g.C);
        _interleaved = InterleavedPhases(g, Phases[2]);
        // Without padding the scratch would be a plain copy of x (unet: k = s = 2 needs none).
        _readsInput = g.Layout == DataLayout.ChannelsLast && (_pad0, _pad1, _pad2) == (0, 0, 0) && _pixelStride == g.C
            && (_padded0, _padded1, _padded2) == (g.A0.Input, g.A1.Input, g.A2.Input);
        _scratchArray = PinnedArray(_readsInput ? 0 : scratchLength, out _scratch);
        _packedArray = PinnedArray(packedLength, out _packed);

        var phases = new List<Phase>();
        var items = new List<WorkItem>();
        long panelOffset = 0;
        foreach (var (p0, p1, p2) in OutputPhases())
        {
            var phase = new Phase(p0, p1, p2, (int)((long)g.N * p0.Count * p1.Count * p2.Count),
                TapOffsets(p0, p1, p2, (long)_padded1 * _padded2 * _pixelStride, (long)_padded2 * _pixelStride, _pixelStride), new long[g.G * _blocks],
                Regions(g, p0, p1, p2, _interleaved > 1));
            for (var group = 0; group < g.G; group++)
            for (var block = 0; block < _blocks; block++)
            {
                phase.PanelOffsets[group * _blocks + block] = panelOffset;
                panelOffset += (long)phase.TapOffsets.Length * g.Cg * BlockWidth(block);
            }

            phases.Add(phase);
        }

        PackPanels(weight, _packed, [.. phases.Select(p => (p.A0, p.A1, p.A2, p.PanelOffsets))], _blocks, block => (block * 2 * _width, BlockWidth(block)));

        // Channels-last, a pixel's channels are neighbours: the same stretch of pixels of every phase in turn, all
        // blocks innermost, so the outputs the phases interleave are written close together in time. Channels-first,
        // a channel block's outputs are whole planes: blocks outermost, then phases, each phase's panel staying in L2
        // across its stretches (1-3% faster for dcgan2 and hifigan with AVX2 than stretches before phases, in
        // alternation, twice; dcgan1 the same).
        var maxPixels = phases.Count == 0 ? 0 : phases.Max(p => p.Pixels);
        var blocks = Enumerable.Range(0, g.G * _blocks);
        var stretchStarts = Enumerable.Range(0, (maxPixels + Chunk - 1) / Chunk).Select(s => s * Chunk);
        var phaseIndices = Enumerable.Range(0, phases.Count).Where(p => p % _interleaved == 0); // interleaved: the first of each group
        var order = g.Layout == DataLayout.ChannelsFirst
            ? blocks.SelectMany(b => phaseIndices.SelectMany(p => stretchStarts.Select(first => (Block: b, First: first, Phase: p))))
            : stretchStarts.SelectMany(first => phaseIndices.SelectMany(p => blocks.Select(b => (Block: b, First: first, Phase: p))));
        foreach (var (block, first, p) in order)
        {
            if (first < phases[p].Pixels)
            {
                items.Add(new WorkItem(p, block / _blocks, block % _blocks, first, Math.Min(Chunk, phases[p].Pixels - first)));
            }
        }

        _phases = [.. phases];
        _items = [.. items];
    }

    public override int ItemCount => _items.Length;

    /// <summary>Last-axis phases each work item computes together (1: none); see <see cref="InterleavedPhases"/>.</summary>
    public int InterleavedPhaseCount => _interleaved;

    /// <summary>The regions of every phase (see <see cref="Regions"/>): as many as phases when no output reads the padding.</summary>
    public int RegionCount => _phases.Sum(p => p.Regions.Length);

    public override long ExtraFloats => _packedArray.Length + _scratchArray.Length;

    /// <summary>The path, or null when its scratch or panels would not fit an array.</summary>
    public static ChannelTilePath? TryCreate(Lifted g, float[] weight, float[] bias, FusedActivation activation, float slope, SimdWidth simd)
    {
        var width = (int)simd;
        var axes = new[] { g.A0, g.A1, g.A2 };
        var padding = axes.Select(a => Padding(a, AxisPhase.Decompose(a), tile: 1)).ToArray();
        var scratch = Shapes.TryProduct([g.N, padding[0].Length, padding[1].Length, padding[2].Length, PixelStride(g.C)]);
        var blocks = (g.Mg + 2L * width - 1) / (2 * width);
        var packed = Shapes.TryProduct([g.C, blocks * 2 * width, g.A0.Kernel, g.A1.Kernel, g.A2.Kernel]);
        return scratch is null || packed is null || scratch > Array.MaxLength || packed > Array.MaxLength
            ? null
            : new ChannelTilePath(g, weight, bias, activation, slope, simd, padding, scratch.Value, packed.Value);
    }

    public override int ScratchRows => _readsInput ? 0 : G.N * G.A0.Input * G.A1.Input;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void FillScratch(float* x, int first, int count)
    {
        if (count == 0)
        {
            return;
        }

        var (i0, i1, i2, channels) = (G.A0.Input, G.A1.Input, G.A2.Input, G.C);
        // Row r = (n*I0 + a)*I1 + b, stepped without division.
        var (n, a, b) = (first / i1 / i0, first / i1 % i0, first % i1);
        for (var r = first; r < first + count; r++)
        {
            var row = _scratch + ((((long)n * _padded0 + a + _pad0) * _padded1 + b + _pad1) * _padded2 + _pad2) * _pixelStride;
            if (G.Layout == DataLayout.ChannelsLast)
            {
                // x: [N, I0, I1, I2, C]: row r of I2*C is contiguous at r*I2*C.
                Simd.CopyPixels(x + (long)r * i2 * channels, channels, i2, row, _pixelStride);
            }
            else
            {
                // x: [N, C, I0, I1, I2]: the row's C x I2 block transposed.
                var source = x + (((long)n * channels * i0 + a) * i1 + b) * i2;
                TransposedStore.ToChannelsLast(source, (long)i0 * i1 * i2, channels, i2, row, _pixelStride);
            }

            if (++b == i1)
            {
                b = 0;
                if (++a == i0)
                {
                    a = 0;
                    n++;
                }
            }
        }
    }

    /// <summary>
    /// Floats from one scratch pixel to the next. A tile's pixels are read at the same channel together; with
    /// strides a multiple of 4 KB (dcgan1's 1024 channels) they all fall in one set of the 8-way L1 together with
    /// the streaming weights, so pixels of 64 floats or more are spaced (dcgan1 14-17% faster at 1 and 2 threads
    /// with AVX2, measured in alternation; dcgan2 1-3%, hifigan the same).
    /// </summary>
    private static int PixelStride(int channels) => (int)CacheSpacing.Stride(channels, from: 64);

    /// <summary>
    /// Last-axis phases each work item computes together (1: none), for channels-first output whose last-axis phases
    /// have the same number of outputs (they then fill the axis, their first outputs 0 to S-1, and pixel p of one is
    /// pixel p of each, 1 to S-1 outputs further along the row), so that their sums, transposed, are stored as runs of
    /// neighbouring outputs instead of one value every S:
    /// <list type="bullet">
    /// <item>stride 8 (hifigan): each pixel's 8 phases (each value alone, the stores took a tenth of hifigan's time;
    /// together, hifigan 10% faster at 1 thread and 6-13% at 2 with AVX2, in alternation, twice);</item>
    /// <item>stride 2 with phase rows a multiple of 8 (dcgan2's 8): 8 pixels of a row, which with work items of a multiple
    /// of 8 pixels always start at a multiple of 8 (dcgan2 1.5-2.5% faster at 1 thread, 1-5% at 2, three runs).</item>
    /// </list>
    /// </summary>
    private static int InterleavedPhases(Lifted g, AxisPhase[] lastAxis)
    {
        var regular = g.Layout == DataLayout.ChannelsFirst && Avx.IsSupported && lastAxis.All(p => p.Count > 0 && p.Count == lastAxis[0].Count);
        return regular && (lastAxis.Length == 8 || (lastAxis.Length == 2 && lastAxis[0].Count % 8 == 0)) ? lastAxis.Length : 1;
    }

    /// <summary>
    /// A phase's pixels in regions whose outputs read the same taps (<see cref="PhasePath.InsideBoxes"/>),
    /// numbered region after region, each region's pixels in order (n, u0, u1, u2): a tile then multiplies only the
    /// inputs inside the image, not the padding's zeros beside it (dcgan1, 4 x 4 inputs, kernel 4, stride 2, padding 1:
    /// nearly a quarter of its products fell on the padding; 20% faster). With interleaved phases, which store pixel p of each phase
    /// together, only axes 0 and 1 are split, the same for every phase of the last axis.
    /// </summary>
    private static Region[] Regions(Lifted g, AxisPhase p0, AxisPhase p1, AxisPhase p2, bool interleaved)
    {
        var regions = new List<Region>();
        var first = 0;
        foreach (var (a0, a1, a2, tapRuns) in InsideBoxes(g, p0, p1, p2, cutLastAxis: !interleaved))
        {
            var pixels = g.N * a0.Count * a1.Count * a2.Count;
            regions.Add(new Region(first, pixels, a0.First, a0.Count, a1.First, a1.Count, a2.First, a2.Count, tapRuns));
            first += pixels;
        }

        return [.. regions];
    }

    private int BlockWidth(int block) => G.Mg - block * 2 * _width > _width ? 2 * _width : _width;

    /// <summary>
    /// Work item <paramref name="index"/>, reading the input from the scratch, or from x when it has the scratch's layout
    /// (channels-last, no padding, fewer than 64 channels): the
    /// sums of its phase (or of its <see cref="_interleaved"/> phases), <c>[phase by first output][pixel][lane]</c>,
    /// stored once at the end, so that channels-first output is written channel by channel rather than jumping
    /// between channel planes for every pixel.
    /// </summary>
    [SkipLocalsInit] // the sums are written before they are read (clearing them: 12-48 KB per work item with AVX2)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void RunItem<TV, TS>(int index, float* x, float* y)
    {
        var source = _readsInput ? x : _scratch;
        var item = _items[index];
        var blockWidth = BlockWidth(item.Block);
        var firstChannel = item.Group * G.Mg + item.Block * 2 * _width;
        var lanes = Math.Min(blockWidth, G.Mg - item.Block * 2 * _width);
        var phaseFloats = (Chunk + TileKernels.Pixels) * blockWidth; // a region's partial last tile may start anywhere in the chunk
        var sums = stackalloc float[_interleaved * phaseFloats];
        var outBase = stackalloc long[2 * Chunk]; // each pixel's output at channel 0 (interleaved: of the phase whose first output is 0)
        var otherOutBase = _interleaved > 1 ? outBase + Chunk : outBase;
        for (var k = 0; k < _interleaved; k++)
        {
            var phase = _phases[item.Phase + k];
            var first = _interleaved > 1 ? phase.A2.FirstOutput : 0;
            RunTiles<TV, TS>(item, phase, source, blockWidth, sums + first * phaseFloats, first == 0 ? outBase : otherOutBase);
        }

        fixed (float* bias = Bias)
        {
            if (G.Layout == DataLayout.ChannelsLast)
            {
                for (var p = 0; p < item.PixelCount; p++)
                {
                    Store(sums + p * blockWidth, bias + firstChannel, 1, lanes, y + outBase[p] + firstChannel, 1);
                }

                return;
            }

            // Interleaved, 8 phases' sums of a pixel for 8 lanes are 8 outputs in a row of each lane's channel; 2 phases'
            // sums of 8 pixels from a multiple of 8 (neighbours in one row: see InterleavedPhases), 16.
            var transposed = _interleaved > 1 && Activation == FusedActivation.None ? lanes / 8 * 8 : 0;
            var pixelsPerStore = _interleaved == 8 ? 1 : 8; // interleaved phases are 2 or 8
            for (var lane = 0; lane < transposed; lane += 8)
            {
                var target = y + (firstChannel + lane) * OutputPlane;
                var laneSums = sums + lane;
                var laneBias = bias + firstChannel + lane;
                for (var p = 0; p < item.PixelCount; p += pixelsPerStore)
                {
                    if (_interleaved == 8)
                    {
                        TransposedStore.EightPhases(laneSums + p * blockWidth, phaseFloats, laneBias, target + outBase[p], OutputPlane);
                    }
                    else
                    {
                        TransposedStore.TwoPhaseRows(laneSums + p * blockWidth, blockWidth, phaseFloats, laneBias, target + outBase[p], OutputPlane);
                    }
                }
            }

            for (var lane = transposed; lane < lanes; lane++)
            {
                var channel = y + (firstChannel + lane) * OutputPlane;
                var laneBias = bias[firstChannel + lane];
                for (var k = 0; k < _interleaved; k++)
                {
                    // Interleaved, phase k's first output is k.
                    StoreLane(sums + k * phaseFloats + lane, blockWidth, outBase, item.PixelCount, laneBias, channel + k);
                }
            }
        }
    }

    /// <summary>
    /// One output channel of a work item: <c>target[outBase[p]] = activation(sums[p * sumStep] + bias)</c> for p &lt; count.
    /// A loop of its own: inside <see cref="RunItem{TV, TS}"/> the loop kept its values on the stack and read the
    /// activation for every value (dcgan1, channels-first without interleaved phases: 2% faster at 1 and 2 threads).
    /// </summary>
    private void StoreLane(float* sums, int sumStep, long* outBase, int count, float bias, float* target)
    {
        if (Activation == FusedActivation.None)
        {
            for (var p = 0; p < count; p++, sums += sumStep)
            {
                target[outBase[p]] = *sums + bias;
            }

            return;
        }

        var (activation, slope) = (Activation, Slope);
        for (var p = 0; p < count; p++, sums += sumStep)
        {
            target[outBase[p]] = Activations.Apply(*sums + bias, activation, slope);
        }
    }

    /// <summary>
    /// The item's tiles of <paramref name="phase"/>, region by region: sums into <paramref name="sums"/> (<c>[pixel][lane]</c>),
    /// each pixel's output offset at channel 0 into <paramref name="outBase"/>. A tile runs over its region's inside taps,
    /// one kernel call per run of consecutive taps, each continuing the sums of the one before: the bits of one call
    /// over all taps, less the products with the padding's zeros.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RunTiles<TV, TS>(WorkItem item, Phase phase, float* source, int blockWidth, float* sums, long* outBase)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        const int tilePixels = TileKernels.Pixels;
        var panel = _packed + phase.PanelOffsets[item.Group * _blocks + item.Block];
        var tapFloats = (long)G.Cg * blockWidth; // one tap's part of the panel
        var input = source + (long)item.Group * G.Cg;
        var pixelInput = stackalloc float*[tilePixels]; // each pixel of the tile: its input at shift 0
        // Along a phase row the next pixel is one scratch pixel and one output position of the phase further on: stepped,
        // not located anew (hifigan's 1-D rows of 2048 pixels: 2-3% faster at 1 thread, 1-2% at 2; dcgan1-2 0-1%).
        var (inStep, outStep) = ((long)_pixelStride, G.A2.Stride * OutputPositionStride);
        var end = item.FirstPixel + item.PixelCount;
        fixed (int* tapOffsets = phase.TapOffsets)
        {
            foreach (var region in phase.Regions)
            {
                var (from, to) = (Math.Max(item.FirstPixel, region.FirstPixel), Math.Min(end, region.FirstPixel + region.Pixels));
                if (from >= to)
                {
                    continue;
                }

                var cursor = new PixelCursor(region, from - region.FirstPixel);
                var (inOffset, outOffset) = Locate(phase, cursor);
                for (var first = from - item.FirstPixel; first < to - item.FirstPixel; first += tilePixels)
                {
                    var valid = Math.Min(tilePixels, to - item.FirstPixel - first);
                    for (var p = 0; p < tilePixels; p++)
                    {
                        if (p < valid)
                        {
                            pixelInput[p] = input + inOffset;
                            outBase[first + p] = outOffset;
                            (inOffset, outOffset) = cursor.Advance() ? (inOffset + inStep, outOffset + outStep) : Locate(phase, cursor);
                        }
                        else
                        {
                            // A partial tile repeats its last pixel; the copies are not stored (the next region's tiles,
                            // or none, use their sums' places).
                            pixelInput[p] = pixelInput[valid - 1];
                        }
                    }

                    var tile = sums + first * blockWidth;
                    var runs = region.TapRuns;
                    if (runs.Length == 0)
                    {
                        // No input reaches these outputs: their sums are zero.
                        new Span<float>(tile, tilePixels * blockWidth).Clear();
                    }

                    for (var k = 0; k < runs.Length; k++)
                    {
                        var (start, length) = runs[k];
                        if (blockWidth == 2 * _width)
                        {
                            TileKernels.TwoVectors<TV, TS>(panel + start * tapFloats, tapOffsets + start, length, G.Cg, pixelInput[0], pixelInput[1], pixelInput[2],
                                pixelInput[3], pixelInput[4], pixelInput[5], tile, continuing: k > 0);
                        }
                        else
                        {
                            TileKernels.OneVector<TV, TS>(panel + start * tapFloats, tapOffsets + start, length, G.Cg, pixelInput[0], pixelInput[1], pixelInput[2],
                                pixelInput[3], pixelInput[4], pixelInput[5], tile, continuing: k > 0);
                        }
                    }
                }
            }
        }
    }

    /// <summary>The pixel at <paramref name="at"/>: its offset in the padded scratch at shift 0, and its offset in y at channel 0.</summary>
    private (long Input, long Output) Locate(Phase phase, in PixelCursor at)
    {
        var (n, u0, u1, u2) = (at.N, at.U0, at.U1, at.U2);
        var input = ((((long)n * _padded0 + phase.A0.FirstQ + u0 + _pad0) * _padded1 + phase.A1.FirstQ + u1 + _pad1) * _padded2
            + phase.A2.FirstQ + u2 + _pad2) * _pixelStride;
        var output = OutputOffset(n, phase.A0.FirstOutput + (long)G.A0.Stride * u0, phase.A1.FirstOutput + (long)G.A1.Stride * u1,
            phase.A2.FirstOutput + (long)G.A2.Stride * u2);
        return (input, output);
    }

    /// <summary>A pixel of a region as (n, u0, u1, u2) (positions in the phase), stepped in that order without division.</summary>
    private struct PixelCursor
    {
        public int N, U0, U1, U2;
        private readonly Region _region;
        private readonly int _end2;

        public PixelCursor(Region region, int pixel)
        {
            _region = region;
            _end2 = region.First2 + region.Count2;
            U2 = region.First2 + pixel % region.Count2;
            pixel /= region.Count2;
            U1 = region.First1 + pixel % region.Count1;
            pixel /= region.Count1;
            U0 = region.First0 + pixel % region.Count0;
            N = pixel / region.Count0;
        }

        /// <summary>
        /// Steps to the next pixel; whether it is the next along the same phase row (u2 + 1). Inlined, the rest apart
        /// (hifigan's rows of 2048 pixels 1% faster at 1 and 2 threads than one call a pixel).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Advance()
        {
            if (++U2 < _end2)
            {
                return true;
            }

            return Wrap();
        }

        /// <summary>Past the end of a row: the first pixel of the next.</summary>
        private bool Wrap()
        {
            U2 = _region.First2;
            if (++U1 < _region.First1 + _region.Count1)
            {
                return false;
            }

            U1 = _region.First1;
            if (++U0 < _region.First0 + _region.Count0)
            {
                return false;
            }

            U0 = _region.First0;
            N++;
            return false;
        }
    }

    /// <summary>One output phase over all spatial axes (the product of three axis phases); its pixels numbered region by region.</summary>
    private sealed record Phase(AxisPhase A0, AxisPhase A1, AxisPhase A2, int Pixels, int[] TapOffsets, long[] PanelOffsets, Region[] Regions);

    /// <summary>
    /// Pixels FirstPixel to FirstPixel + Pixels - 1 of a phase: every n, and phase positions [First, First + Count) along
    /// each axis, whose outputs read the inside taps <see cref="TapRuns"/> (runs of tap numbers: Start, Length).
    /// </summary>
    private sealed record Region(int FirstPixel, int Pixels, int First0, int Count0, int First1, int Count1, int First2, int Count2, (int Start, int Length)[] TapRuns);

    /// <summary>A chunk of one phase's pixels (interleaved: of <see cref="Phase"/> and the phases after it) for one channel block of one group.</summary>
    private readonly record struct WorkItem(int Phase, int Group, int Block, int FirstPixel, int PixelCount);
}
