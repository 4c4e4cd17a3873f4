using Deconv.Reference;

namespace Deconv.Explain;

/// <summary>
/// A transposed convolution made visible: for one batch item and one (input channel, output channel) pair,
/// the geometry, the gather, scatter, matrix, phase and gradient views with every number, the result of
/// <see cref="ConvOps.Transpose{T}"/>, and a check that every view's numbers equal that result. Other
/// input channels of the group and the bias are summarised per output position. Data only: renderers print it.
/// </summary>
/// <remarks>
/// With finite values every view agrees with the result up to rounding (exactly for small integers). With NaN or
/// infinite values the views that multiply structural zeros (the gather view's inserted and padding zeros, the
/// zeros of the matrix, the unit vectors of the gradient view) can produce NaN where the scatter definition does
/// not (<c>0 * inf = NaN</c>); <see cref="Checks"/> then reports which views differ.
/// </remarks>
public sealed class Explanation
{
    /// <summary>Largest number of (input position, output position) pairs explained: the scatter view keeps one output grid per input position.</summary>
    public const long MaxPairs = 1 << 20;

    /// <summary>Largest convolution matrix (entries) for which the matrix view is built.</summary>
    public const long MaxMatrixEntries = 4096;

    /// <summary>Largest work (output positions x input positions x taps) for which the gradient view is computed.</summary>
    public const long MaxGradientWork = 1 << 24;

    private Explanation(ConvGeometry geometry, int batch, int inChannel, int outChannel)
    {
        Geometry = geometry;
        Batch = batch;
        InChannel = inChannel;
        OutChannel = outChannel;
    }

    /// <summary>The explained geometry.</summary>
    public ConvGeometry Geometry { get; }

    /// <summary>The batch item shown.</summary>
    public int Batch { get; }

    /// <summary>The input channel shown.</summary>
    public int InChannel { get; }

    /// <summary>The output channel shown.</summary>
    public int OutChannel { get; }

    /// <summary>Per spatial axis: lengths, crops, the output-size formula's numbers and the valid output sizes.</summary>
    public IReadOnlyList<AxisFacts> Axes { get; private set; } = [];

    /// <summary>The rule that chose the output size, when given.</summary>
    public OutputSizeRule? OutputSizeRule { get; private set; }

    /// <summary>x[batch, inChannel, ...]: <c>I</c> per axis.</summary>
    public Grid<float> Input { get; private set; } = null!;

    /// <summary>w[inChannel, outChannel within its group, ...]: <c>K</c> per axis.</summary>
    public Grid<float> Kernel { get; private set; } = null!;

    /// <summary>The gather view.</summary>
    public GatherViewData Gather { get; private set; } = null!;

    /// <summary>The scatter view.</summary>
    public ScatterViewData Scatter { get; private set; } = null!;

    /// <summary>The matrix view, or null when the matrix would exceed <see cref="MaxMatrixEntries"/>.</summary>
    public MatrixViewData? Matrix { get; private set; }

    /// <summary>The phases (<c>prod S</c> of them), or empty when every stride is 1.</summary>
    public IReadOnlyList<Phase> Phases { get; private set; } = [];

    /// <summary>The gradient view, or null when it would exceed <see cref="MaxGradientWork"/>.</summary>
    public GradientViewData? Gradient { get; private set; }

    /// <summary>This channel pair's contribution, from <see cref="ConvOps.Transpose{T}"/> on the pair alone.</summary>
    public Grid<float> PairResult { get; private set; } = null!;

    /// <summary>The contribution of the other input channels of the group, per output position (zero when there are none).</summary>
    public Grid<float> OtherChannels { get; private set; } = null!;

    /// <summary>Input channels of the group other than <see cref="InChannel"/>.</summary>
    public IReadOnlyList<int> OtherChannelIndices { get; private set; } = [];

    /// <summary>bias[outChannel], or 0 without bias.</summary>
    public float Bias { get; private set; }

    /// <summary>Whether a bias was given.</summary>
    public bool HasBias { get; private set; }

    /// <summary>y[batch, outChannel, ...] from <see cref="ConvOps.Transpose{T}"/> on the whole geometry.</summary>
    public Grid<float> Result { get; private set; } = null!;

    /// <summary>Every view compared with <see cref="PairResult"/>, and pair + other channels + bias compared with <see cref="Result"/>.</summary>
    public IReadOnlyList<ViewCheck> Checks { get; private set; } = [];

    /// <summary>Whether every check passed.</summary>
    public bool AllChecksPassed => Checks.All(c => c.Passed);

    /// <summary>Spatial shape of the input (<c>I</c> per axis).</summary>
    public int[] InputShape => [.. Geometry.Axes.Select(a => a.Input)];

    /// <summary>Spatial shape of the output (<c>O</c> per axis).</summary>
    public int[] OutputShape => [.. Geometry.Axes.Select(a => a.Output)];

    /// <summary>Spatial shape of the kernel (<c>K</c> per axis).</summary>
    public int[] KernelShape => [.. Geometry.Axes.Select(a => a.Kernel)];

    /// <summary>
    /// Explains <c>y = ConvOps.Transpose(g, x, w, bias)</c> for batch item <paramref name="batch"/>, input channel
    /// <paramref name="inChannel"/> and output channel <paramref name="outChannel"/> (which must be in the same group).
    /// x: <see cref="ConvGeometry.InputShape"/>; w: <c>[C, M/G, k...]</c>; bias: <c>[M]</c> or null.
    /// </summary>
    /// <exception cref="ConvolutionArgumentException">Lengths do not match the geometry, a channel or batch index is out of range,
    /// the channels are not connected, or the sizes are too large to explain.</exception>
    public static Explanation Create(ConvGeometry g, float[] x, float[] w, float[]? bias, int batch = 0, int inChannel = 0, int outChannel = 0) =>
        Create(g, x, w, bias, batch, inChannel, outChannel, null);

    /// <summary>As <see cref="Create(ConvGeometry, float[], float[], float[], int, int, int)"/>, recording the framework's output-size rule.</summary>
    public static Explanation Create(ConvGeometry g, float[] x, float[] w, float[]? bias, int batch, int inChannel, int outChannel, OutputSizeRule? rule)
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(w);
        bias ??= [];
        Check.Lengths(g, x.Length, g.InputLength, w.Length, bias.Length, g.OutputChannels);
        Index(batch, g.Batch, "batch", "batch items");
        Index(inChannel, g.InputChannels, "inChannel", "input channels");
        Index(outChannel, g.OutputChannels, "outChannel", "output channels");
        var group = inChannel / g.InputChannelsPerGroup;
        if (outChannel / g.OutputChannelsPerGroup != group)
        {
            var first = group * g.OutputChannelsPerGroup;
            throw new ConvolutionArgumentException(
                $"output channel {outChannel} is not connected to input channel {inChannel}: with {g.Groups} groups, input channel {inChannel} feeds output channels {first} to {first + g.OutputChannelsPerGroup - 1}", nameof(outChannel));
        }

        if (rule is not null && rule.PerAxis.Count != g.Rank)
        {
            throw new ArgumentException($"the output-size rule has {rule.PerAxis.Count} axes but the geometry has {g.Rank}", nameof(rule));
        }

        var e = new Explanation(g, batch, inChannel, outChannel) { OutputSizeRule = rule };
        var inputCount = GridIndex.Count(e.InputShape);
        var outputCount = GridIndex.Count(e.OutputShape);
        if (inputCount * outputCount > MaxPairs)
        {
            throw new ConvolutionArgumentException(
                $"{inputCount} input positions x {outputCount} output positions = {inputCount * outputCount} exceeds the {MaxPairs} that an explanation shows; choose smaller sizes", "input");
        }

        e.Build(x, w, bias);
        return e;
    }

    private static void Index(int value, int count, string name, string what)
    {
        if ((uint)value >= (uint)count)
        {
            throw new ConvolutionArgumentException($"{name} is {value} but the geometry has {count} {what} (0 to {count - 1})", name);
        }
    }

    private void Build(float[] x, float[] w, float[] bias)
    {
        var g = Geometry;
        var lifted = new Lifted(g);
        var group = InChannel / g.InputChannelsPerGroup;
        var j = OutChannel - group * g.OutputChannelsPerGroup;
        Axes = [.. g.Axes.Select((a, i) => new AxisFacts(i, a.Input, a.Kernel, a.Stride, a.Dilation, a.CropBegin, a.CropEnd, a.Output, OutputSizeRule?.PerAxis[i]))];
        Input = ChannelOf(lifted, x, InChannel);
        Kernel = KernelOf(lifted, w, InChannel, j);
        HasBias = bias.Length > 0;
        Bias = HasBias ? bias[OutChannel] : 0f;

        // The channel pair alone: one input channel, one output channel, same axes.
        var pair = new ConvGeometry(1, 1, 1, 1, g.Axes, DataLayout.ChannelsFirst);
        PairResult = new Grid<float>(OutputShape, ConvOps.Transpose<float>(pair, Input.Values, Kernel.Values, []));
        var magnitude = ConvOps.Transpose<float>(pair, Abs(Input.Values), Abs(Kernel.Values), []);

        var others = new float[PairResult.Values.Length];
        var otherMagnitude = new float[others.Length];
        var otherChannels = new List<int>();
        for (var c = group * g.InputChannelsPerGroup; c < (group + 1) * g.InputChannelsPerGroup; c++)
        {
            if (c == InChannel)
            {
                continue;
            }

            otherChannels.Add(c);
            var xc = ChannelOf(lifted, x, c).Values;
            var wc = KernelOf(lifted, w, c, j).Values;
            Add(others, ConvOps.Transpose<float>(pair, xc, wc, []));
            Add(otherMagnitude, ConvOps.Transpose<float>(pair, Abs(xc), Abs(wc), []));
        }

        OtherChannels = new Grid<float>(OutputShape, others);
        OtherChannelIndices = otherChannels;
        Result = ResultOf(lifted, ConvOps.Transpose<float>(g, x, w, bias));

        Gather = BuildGather(lifted, x);
        Scatter = BuildScatter();
        Matrix = BuildMatrix(pair);
        Phases = g.Axes.Any(a => a.Stride > 1) ? BuildPhases() : [];
        Gradient = BuildGradient(pair);

        // Rounding allowance from the finite magnitudes only: an infinite or NaN result must match exactly.
        var pairTolerance = 1e-5 * FiniteMax(magnitude);
        var checks = new List<ViewCheck>
        {
            Compare("gather", [.. Gather.Steps.Select(s => s.Sum)], pairTolerance),
            Compare("scatter", Scatter.Sum.Values, pairTolerance),
        };
        if (Matrix is not null)
        {
            checks.Add(Compare("matrix", Matrix.Y, pairTolerance));
        }

        if (Phases.Count > 0)
        {
            var phased = new float[PairResult.Values.Length];
            foreach (var output in Phases.SelectMany(p => p.Outputs))
            {
                phased[PairResult.Offset(output.Output)] = output.Value;
            }

            checks.Add(Compare("phase", phased, pairTolerance));
        }

        if (Gradient is not null)
        {
            checks.Add(Compare("gradient", Gradient.Gradient.Values, pairTolerance));
        }

        // The whole output channel: this pair + the other input channels of the group + bias.
        var assembled = new float[Result.Values.Length];
        var assembledMagnitude = new float[assembled.Length];
        for (var o = 0; o < assembled.Length; o++)
        {
            assembled[o] = Bias + PairResult.Values[o] + others[o];
            assembledMagnitude[o] = Math.Abs(Bias) + magnitude[o] + otherMagnitude[o];
        }

        checks.Add(new ViewCheck("channels + bias", assembled.Length, MaxDifference(assembled, Result.Values), 1e-5 * FiniteMax(assembledMagnitude)));
        Checks = checks;
    }

    private ViewCheck Compare(string view, float[] values, double tolerance) =>
        new(view, values.Length, MaxDifference(values, PairResult.Values), tolerance);

    private static double FiniteMax(float[] values) => values.Where(float.IsFinite).Select(v => (double)v).DefaultIfEmpty(0).Max();

    private static double MaxDifference(float[] a, float[] b)
    {
        var max = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            // Equal values (NaN and infinities included) differ by 0; a NaN on one side only fails.
            if (!a[i].Equals(b[i]))
            {
                var d = Math.Abs((double)a[i] - b[i]);
                max = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(max, d);
            }
        }

        return max;
    }

    private GatherViewData BuildGather(Lifted lifted, float[] x)
    {
        var axes = Axes;
        // The padded grid comes from the reference gather view itself.
        var padded = GatherView.PaddedGrid<float>(lifted, x, Batch, InChannel, out _, out _);
        int[] paddedShape = [.. axes.Select(a => (int)a.PaddedLength)];
        var paddedKinds = new Grid<CellKind>(paddedShape, [.. GridIndex.Positions(paddedShape).Select(t => KindAt(t, padded: true))]);
        int[] insertedShape = [.. axes.Select(a => (int)a.ZeroInsertedLength)];
        var insertedValues = new float[GridIndex.Count(insertedShape)];
        var insertedKinds = new CellKind[insertedValues.Length];
        var n = 0;
        foreach (var u in GridIndex.Positions(insertedShape))
        {
            insertedKinds[n] = KindAt(u, padded: false);
            insertedValues[n] = insertedKinds[n] == CellKind.Input ? Input[SourceOf(u, padded: false)!] : 0f;
            n++;
        }

        var flipped = new Grid<float>(KernelShape, [.. Kernel.Positions().Select(k => Kernel[Flip(k)])]);
        var paddedGrid = new Grid<float>(paddedShape, padded);
        var steps = new List<GatherStep>();
        foreach (var o in GridIndex.Positions(OutputShape))
        {
            var terms = new List<GatherTerm>();
            var sum = 0f;
            foreach (var k in flipped.Positions())
            {
                int[] t = [.. o.Select((oa, a) => oa + k[a] * axes[a].Dilation)];
                var value = paddedGrid[t];
                var weight = flipped[k];
                var product = value * weight;
                sum += product;
                terms.Add(new GatherTerm(k, t, paddedKinds[t], SourceOf(t, padded: true), value, weight, product));
            }

            steps.Add(new GatherStep(o, terms, sum));
        }

        return new GatherViewData(new Grid<float>(insertedShape, insertedValues), new Grid<CellKind>(insertedShape, insertedKinds),
            paddedGrid, paddedKinds, flipped, steps);
    }

    private int[] Flip(int[] k) => [.. k.Select((ka, a) => Axes[a].Kernel - 1 - ka)];

    /// <summary>
    /// The input position held by cell t of the zero-inserted grid (or of the padded grid, which starts
    /// <c>EK-1-crop_begin</c> earlier), or null for a zero.
    /// </summary>
    private int[]? SourceOf(int[] t, bool padded)
    {
        var i = new int[t.Length];
        for (var a = 0; a < t.Length; a++)
        {
            var u = t[a] - (padded ? Axes[a].PadBegin : 0);
            if (u < 0 || u % Axes[a].Stride != 0 || u / Axes[a].Stride >= Axes[a].Input)
            {
                return null;
            }

            i[a] = (int)(u / Axes[a].Stride);
        }

        return i;
    }

    private CellKind KindAt(int[] t, bool padded)
    {
        var inserted = false;
        for (var a = 0; a < t.Length; a++)
        {
            var u = t[a] - (padded ? Axes[a].PadBegin : 0);
            if (u < 0 || u >= Axes[a].ZeroInsertedLength)
            {
                return CellKind.Padding;
            }

            inserted |= u % Axes[a].Stride != 0;
        }

        return inserted ? CellKind.InsertedZero : CellKind.Input;
    }

    private ScatterViewData BuildScatter()
    {
        var running = new float[PairResult.Values.Length];
        var overlap = new int[running.Length];
        var stamps = new List<ScatterStamp>();
        foreach (var i in Input.Positions())
        {
            var value = Input[i];
            var products = new List<ScatterProduct>();
            foreach (var k in Kernel.Positions())
            {
                int[] o = [.. i.Select((ia, a) => ia * Axes[a].Stride + k[a] * Axes[a].Dilation - Axes[a].CropBegin)];
                var inside = o.Select((oa, a) => oa >= 0 && oa < Axes[a].Output).All(b => b);
                var weight = Kernel[k];
                var product = value * weight;
                if (inside)
                {
                    var offset = GridIndex.Offset(OutputShape, o);
                    running[offset] += product;
                    overlap[offset]++;
                }

                products.Add(new ScatterProduct(k, o, inside, weight, product));
            }

            stamps.Add(new ScatterStamp(i, value, products, new Grid<float>(OutputShape, [.. running])));
        }

        return new ScatterViewData(stamps, new Grid<int>(OutputShape, overlap), new Grid<float>(OutputShape, running));
    }

    private MatrixViewData? BuildMatrix(ConvGeometry pair)
    {
        if (pair.InputLength * pair.OutputLength > MaxMatrixEntries)
        {
            return null;
        }

        // C from the reference matrix view: rows are input positions, columns output positions.
        var c = MatrixView.ConvolutionMatrix<float>(pair, Kernel.Values);
        var rows = c.GetLength(0);
        var columns = c.GetLength(1);
        var y = new float[columns];
        for (var col = 0; col < columns; col++)
        {
            var sum = 0f;
            for (var row = 0; row < rows; row++)
            {
                sum += c[row, col] * Input.Values[row];
            }

            y[col] = sum;
        }

        return new MatrixViewData(c, [.. Input.Positions()], [.. GridIndex.Positions(OutputShape)], [.. Input.Values], y);
    }

    private List<Phase> BuildPhases()
    {
        var axes = Axes;
        var phases = new List<Phase>();
        foreach (var r in GridIndex.Positions([.. axes.Select(a => a.Stride)]))
        {
            // Output o receives tap k exactly when o + crop_begin = i*S + k*D, i.e. k*D = o + crop_begin (mod S).
            int[][] taps = [.. axes.Select((a, ax) => Enumerable.Range(0, a.Kernel).Where(k => (long)k * a.Dilation % a.Stride == r[ax]).ToArray())];
            int[][] outputs = [.. axes.Select((a, ax) => Enumerable.Range(0, a.Output).Where(o => ((long)o + a.CropBegin) % a.Stride == r[ax]).ToArray())];
            int[] tapShape = [.. taps.Select(t => t.Length)];
            var subKernel = new Grid<float>(tapShape, [.. GridIndex.Positions(tapShape).Select(p => Kernel[Select(taps, p)])]);
            var values = new List<PhaseOutput>();
            foreach (var op in GridIndex.Positions([.. outputs.Select(o => o.Length)]))
            {
                var o = Select(outputs, op);
                var sum = 0f;
                foreach (var tp in GridIndex.Positions(tapShape))
                {
                    var k = Select(taps, tp);
                    // Exact division: the phase guarantees o + crop_begin - k*D is a multiple of S.
                    int[] i = [.. o.Select((oa, a) => (int)(((long)oa + axes[a].CropBegin - (long)k[a] * axes[a].Dilation) / axes[a].Stride))];
                    if (i.Select((ia, a) => ia >= 0 && ia < axes[a].Input && ((long)o[a] + axes[a].CropBegin - (long)k[a] * axes[a].Dilation) >= 0).All(b => b))
                    {
                        sum += Input[i] * Kernel[k];
                    }
                }

                values.Add(new PhaseOutput(o, sum));
            }

            phases.Add(new Phase(r, taps, subKernel, values));
        }

        return phases;
    }

    private static int[] Select(int[][] lists, int[] position) => [.. position.Select((p, a) => lists[a][p])];

    private GradientViewData? BuildGradient(ConvGeometry pair)
    {
        var taps = GridIndex.Count(KernelShape);
        if (pair.OutputLength * pair.InputLength * taps > MaxGradientWork)
        {
            return null;
        }

        // L(z) = <conv(z), x> is linear in z, so dL/dz[o] = <conv(e_o), x>: one forward convolution per unit vector.
        var gradient = new float[pair.OutputLength];
        var unit = new float[pair.OutputLength];
        for (var o = 0; o < unit.Length; o++)
        {
            unit[o] = 1f;
            var conv = ConvOps.Forward<float>(pair, unit, Kernel.Values, []);
            unit[o] = 0f;
            var sum = 0f;
            for (var i = 0; i < conv.Length; i++)
            {
                sum += conv[i] * Input.Values[i];
            }

            gradient[o] = sum;
        }

        return new GradientViewData(new Grid<float>(OutputShape, gradient));
    }

    private Grid<float> ChannelOf(Lifted lifted, float[] x, int c) =>
        new(InputShape, [.. GridIndex.Positions(InputShape).Select(p =>
        {
            var (p0, p1, p2) = Lift(p);
            return x[lifted.InputIndex(Batch, c, p0, p1, p2)];
        })]);

    private Grid<float> KernelOf(Lifted lifted, float[] w, int c, int j) =>
        new(KernelShape, [.. GridIndex.Positions(KernelShape).Select(k =>
        {
            var (k0, k1, k2) = Lift(k);
            return w[lifted.WeightIndex(c, j, k0, k1, k2)];
        })]);

    private Grid<float> ResultOf(Lifted lifted, float[] y) =>
        new(OutputShape, [.. GridIndex.Positions(OutputShape).Select(o =>
        {
            var (o0, o1, o2) = Lift(o);
            return y[lifted.OutputIndex(Batch, OutChannel, o0, o1, o2)];
        })]);

    /// <summary>A rank-1..3 position as the three lifted indices (missing outer axes are 0).</summary>
    private static (int, int, int) Lift(int[] p) => p.Length switch
    {
        1 => (0, 0, p[0]),
        2 => (0, p[0], p[1]),
        _ => (p[0], p[1], p[2]),
    };

    private static float[] Abs(float[] values) => [.. values.Select(MathF.Abs)];

    private static void Add(float[] target, float[] values)
    {
        for (var i = 0; i < target.Length; i++)
        {
            target[i] += values[i];
        }
    }
}
