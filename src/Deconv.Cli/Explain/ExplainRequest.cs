using System.Globalization;
using Deconv.Explain;

namespace Deconv.Cli.Explain;

/// <summary>
/// The parameters of <c>deconv explain</c> in one framework's terms, turned into a canonical geometry by that
/// framework's front end (so every rule and error message is the framework's own), plus the output-size rule.
/// </summary>
internal sealed record ExplainRequest
{
    public string Framework { get; init; } = "tf";

    public int[]? InputSize { get; init; }

    public int[]? Kernel { get; init; }

    public int[]? Stride { get; init; }

    public int[]? Dilation { get; init; }

    /// <summary>tf: VALID|SAME; torch: integers; onnx: auto_pad NOTSET|VALID|SAME_UPPER|SAME_LOWER.</summary>
    public string? Padding { get; init; }

    /// <summary>Explicit pads, begins then ends (onnx <c>pads</c>; tf explicit padding).</summary>
    public int[]? Pads { get; init; }

    public int[]? OutputPadding { get; init; }

    public int[]? OutputSize { get; init; }

    /// <summary>Batch size N (explain only; shape and convert use 1).</summary>
    public int Batch { get; init; } = 1;

    /// <summary>The batch item shown (<c>--pick-batch</c>).</summary>
    public int ShowBatch { get; init; }

    public int InChannels { get; init; } = 1;

    public int OutChannels { get; init; } = 1;

    public int Groups { get; init; } = 1;

    /// <summary>ones or range.</summary>
    public string Values { get; init; } = "ones";

    public bool Bias { get; init; }

    /// <summary>The (input channel, output channel) pair shown (<c>--pair</c>).</summary>
    public int[]? Pair { get; init; }

    /// <summary>The spatial rank asked for with <c>--dims</c>, or null.</summary>
    public int? Dims { get; init; }

    /// <summary>Spatial rank: <see cref="Dims"/>, else the longest per-axis list given, or 2 when every list has one value.</summary>
    public int Rank => Dims ?? (new[] { InputSize, Kernel, Stride, Dilation, OutputPadding, OutputSize }
        .Select(l => l?.Length ?? 0).Append(Pads is null ? 0 : Pads.Length / 2).Max() is var n && n > 1 ? n : 2);

    /// <summary>The canonical geometry (channels-first), the framework call it stands for, and the output-size rule.</summary>
    public (ConvGeometry Geometry, string Call, OutputSizeRule Rule) Resolve()
    {
        var operation = ResolveOperation();
        return (operation.Geometry, operation.Call, operation.Rule);
    }

    /// <summary>
    /// <see cref="Resolve"/>, plus a function that runs these parameters through the framework's public API: it takes x
    /// <c>[N, C, I...]</c> (channels-first) and the canonical weight <c>[C, M/G, k...]</c> and returns y <c>[N, M, O...]</c>.
    /// </summary>
    public ResolvedOperation ResolveOperation()
    {
        var rank = Rank;
        if (rank is < 1 or > 3)
        {
            throw new ArgumentException($"{rank} spatial axes given but explain supports 1, 2 or 3 (--dims 1, 2 or 3)");
        }

        var input = PerAxis(InputSize, 3, rank, "--input-size");
        var kernel = PerAxis(Kernel, 2, rank, "--kernel");
        var stride = PerAxis(Stride, 1, rank, "--stride");
        var dilation = PerAxis(Dilation, 1, rank, "--dilation");
        Positive(Batch, "--batch");
        Positive(InChannels, "--in-channels");
        Positive(OutChannels, "--out-channels");
        Positive(Groups, "--groups");
        if (OutChannels % Groups != 0 || InChannels % Groups != 0)
        {
            throw new ConvolutionArgumentException($"--groups {Groups} must divide both --in-channels {InChannels} and --out-channels {OutChannels}; valid group counts: {string.Join(", ", CommonDivisors(InChannels, OutChannels))}", "groups");
        }

        long[] L(IEnumerable<int> v) => [.. v.Select(i => (long)i)];
        var outPerGroup = OutChannels / Groups;
        switch (Framework)
        {
            case "tf":
            {
                if (OutputPadding is not null)
                {
                    throw new ArgumentException("tf.nn.conv*_transpose has no output_padding: choose the output size with --output-size (valid sizes are listed when it is wrong)");
                }

                var op = $"conv{rank}d_transpose";
                var kind = (Padding ?? (Pads is null ? "VALID" : "EXPLICIT")).ToUpperInvariant();
                if (kind is not ("VALID" or "SAME" or "EXPLICIT") || (kind == "EXPLICIT" && Pads is null))
                {
                    throw new ConvolutionArgumentException($"{op}: --padding must be VALID or SAME (or give --pads for explicit padding), but got '{Padding}'", "padding");
                }

                if (Pads is not null && kind != "EXPLICIT")
                {
                    throw new ConvolutionArgumentException($"{op}: --pads gives explicit padding, which cannot be combined with --padding {kind}: drop one of them", "padding");
                }

                var pairs = Pads is null ? null : PadPairs(Pads, rank);
                TfPadding padding = kind == "EXPLICIT" ? TfPadding.Explicit(pairs!) : TfPadding.Parse(kind);
                var ranges = Enumerable.Range(0, rank).Select(a =>
                    TensorFlow.TransposeValidSizes(input[a], kernel[a], stride[a], dilation[a], padding.Kind, pairs is null ? 0 : pairs[a][0] + pairs[a][1])).ToArray();
                // Without --output-size: the smallest valid size for VALID/explicit, I*S for SAME (what Keras chooses).
                var output = OutputSize is null
                    ? Enumerable.Range(0, rank).Select(a => padding.Kind == "SAME" ? ranges[a].Last : Math.Max(0, ranges[a].First)).ToArray()
                    : L(PerAxis(OutputSize, 0, rank, "--output-size"));
                string format = rank switch { 1 => "NWC", 2 => "NHWC", _ => "NDHWC" };
                long[] inputShape = [Batch, .. L(input), InChannels];
                long[] filterShape = [.. L(kernel), outPerGroup, InChannels];
                long[] outputShape = [Batch, .. output, OutChannels];
                var g = TensorFlow.TransposeGeometry(op, rank, inputShape, filterShape, outputShape, L(stride), padding, format, L(dilation));
                var call = $"tf.nn.{op}(input {Shapes(inputShape)}, filters {Shapes(filterShape)}, output_shape={Shapes(outputShape)}, strides={Shapes(stride)}, padding={(padding.Pairs is null ? "\"" + padding.Kind + "\"" : padding.ToString())}, data_format=\"{format}\", dilations={Shapes(dilation)})";
                var rule = padding.Kind switch
                {
                    "VALID" => "tf VALID: O in [F, F+S-1]",
                    "SAME" => "tf SAME: O in [S*(I-1)+1, S*I]",
                    _ => "tf explicit: O + pad_before + pad_after in [F, F+S-1]",
                };
                var taps = kernel.Aggregate(1, (p, k) => p * k);
                float[] Run(float[] x, float[] w)
                {
                    var xt = Layouts.ToChannelsLast(x, [Batch, InChannels, .. L(input)]).ToTensor(inputShape);
                    var f = FrontEnd.CanonicalToFilter(w, InChannels, outPerGroup, taps).ToTensor(filterShape);
                    var y = rank switch
                    {
                        1 => TensorFlow.Conv1DTranspose(xt, f, outputShape, L(stride), padding, format, L(dilation)),
                        2 => TensorFlow.Conv2DTranspose(xt, f, outputShape, L(stride), padding, format, L(dilation)),
                        _ => TensorFlow.Conv3DTranspose(xt, f, outputShape, L(stride), padding, format, L(dilation)),
                    };
                    return Layouts.ToChannelsFirst(y.ToArray(), outputShape);
                }

                return new(g.WithLayout(DataLayout.ChannelsFirst), call, new OutputSizeRule(rule, ranges), Run);
            }

            case "torch":
            {
                var op = $"conv_transpose{rank}d";
                if (Pads is not null)
                {
                    throw new ArgumentException($"{op} has no asymmetric pads: use --padding N (cropped at both ends) and --output-padding N");
                }

                var padding = Padding is null ? new int[rank] : PerAxis(ParseInts(Padding, "--padding"), 0, rank, "--padding");
                var outputPadding = OutputPadding is null ? null : L(PerAxis(OutputPadding, 0, rank, "--output-padding"));
                var outputSize = OutputSize is null ? null : L(PerAxis(OutputSize, 0, rank, "--output-size"));
                long[] inputShape = [Batch, InChannels, .. L(input)];
                long[] weightShape = [InChannels, outPerGroup, .. L(kernel)];
                var g = Torch.TransposeGeometry(op, rank, inputShape, weightShape, L(stride), L(padding), outputPadding, Groups, L(dilation), outputSize);
                var call = $"F.{op}(input {Shapes(inputShape)}, weight {Shapes(weightShape)}, stride={Shapes(stride)}, padding={Shapes(padding)}, output_padding={Shapes(outputPadding ?? new long[rank])}, groups={Groups}, dilation={Shapes(dilation)})"
                    + (outputSize is null ? "" : $" with output_size={Shapes(outputSize)}");
                // output_padding < max(S, D); through output_size only [min, min+S-1].
                var ranges = Enumerable.Range(0, rank).Select(a =>
                {
                    var min = (long)stride[a] * (input[a] - 1) - 2L * padding[a] + (long)dilation[a] * (kernel[a] - 1) + 1;
                    return (min, min + (outputSize is null ? Math.Max(stride[a], dilation[a]) : stride[a]) - 1);
                }).ToArray();
                var rule = outputSize is null
                    ? "torch: O = S*(I-1) - 2*padding + D*(K-1) + 1 + output_padding, output_padding in [0, max(S,D)-1]"
                    : "torch output_size: O in [S*(I-1) - 2*padding + D*(K-1) + 1, that + S-1]";
                float[] Run(float[] x, float[] w)
                {
                    var (xt, wt) = (x.ToTensor(inputShape), w.ToTensor(weightShape));
                    var y = rank switch
                    {
                        1 => Torch.ConvTranspose1d(xt, wt, null, L(stride), L(padding), outputPadding, Groups, L(dilation), outputSize),
                        2 => Torch.ConvTranspose2d(xt, wt, null, L(stride), L(padding), outputPadding, Groups, L(dilation), outputSize),
                        _ => Torch.ConvTranspose3d(xt, wt, null, L(stride), L(padding), outputPadding, Groups, L(dilation), outputSize),
                    };
                    return y.ToArray();
                }

                return new(g, call, new OutputSizeRule(rule, ranges), Run);
            }

            case "onnx":
            {
                var autoPad = (Padding ?? "NOTSET").ToUpperInvariant();
                var attributes = new OnnxConvAttributes
                {
                    AutoPad = autoPad,
                    Strides = L(stride),
                    Dilations = L(dilation),
                    Group = Groups,
                    Pads = Pads is null ? null : L(Pads),
                    OutputPadding = OutputPadding is null ? null : L(PerAxis(OutputPadding, 0, rank, "--output-padding")),
                    OutputShape = OutputSize is null ? null : L(PerAxis(OutputSize, 0, rank, "--output-size")),
                };
                long[] xShape = [Batch, InChannels, .. L(input)];
                long[] wShape = [InChannels, outPerGroup, .. L(kernel)];
                var g = Onnx.ConvTransposeGeometry(xShape, wShape, attributes);
                var call = $"ConvTranspose(X {Shapes(xShape)}, W {Shapes(wShape)}, auto_pad=\"{autoPad}\", strides={Shapes(stride)}, dilations={Shapes(dilation)}, group={Groups}"
                    + (Pads is null ? "" : $", pads={Shapes(Pads)}")
                    + (attributes.OutputPadding is null ? "" : $", output_padding={Shapes(attributes.OutputPadding)}")
                    + (attributes.OutputShape is null ? "" : $", output_shape={Shapes(attributes.OutputShape)}") + ")";
                float[] Run(float[] x, float[] w) => Onnx.ConvTranspose(x.ToTensor(xShape), w.ToTensor(wShape), null, attributes).ToArray();
                if (attributes.OutputShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
                {
                    // output_shape: any positive size (the total crop is clamped at 0, extending the output with zeros).
                    return new(g, call, new OutputSizeRule("onnx output_shape: any O >= 1", [.. Enumerable.Repeat((1L, long.MaxValue), rank)]), Run);
                }

                var ranges = Enumerable.Range(0, rank).Select(a =>
                {
                    var full = (long)stride[a] * (input[a] - 1) + (long)dilation[a] * (kernel[a] - 1) + 1;
                    var pads = autoPad == "VALID" || Pads is null ? 0 : (long)Pads[a] + Pads[a + rank];
                    return (full - pads, full - pads + Math.Max(stride[a], dilation[a]) - 1);
                }).ToArray();
                return new(g, call, new OutputSizeRule("onnx: O = F - pads_begin - pads_end + output_padding, output_padding in [0, max(S,D)-1]", ranges), Run);
            }

            default:
                throw new ArgumentException($"--framework must be tf, torch or onnx, but got '{Framework}'");
        }
    }

    /// <summary><see cref="Resolve"/>, with the nearest valid choices added to errors whose framework message does not list them.</summary>
    public (ConvGeometry Geometry, string Call, OutputSizeRule Rule) ResolveWithAdvice()
    {
        try
        {
            return Resolve();
        }
        catch (ConvolutionArgumentException e) when (Advice(e, this) is { } advice)
        {
            throw new ConvolutionArgumentException(e.Reason + "; " + advice, e.ParamName ?? "");
        }
    }

    /// <summary>The nearest valid choices for the rules whose framework message does not already list them.</summary>
    private static string? Advice(ConvolutionArgumentException e, ExplainRequest r)
    {
        int At(int[]? values, int axis, int fallback) => values is null ? fallback : values.Length == 1 ? values[0] : axis < values.Length ? values[axis] : fallback;
        var rank = r.Rank;
        switch (e.ParamName)
        {
            case "output_padding":
                return "valid --output-padding per axis: " + string.Join(", ", Enumerable.Range(0, rank).Select(a =>
                    $"0 to {Math.Max(At(r.Stride, a, 1), At(r.Dilation, a, 1)) - 1}"));
            case "padding" when r.Framework == "torch":
            case "pads" when r.Framework == "onnx":
                // O = F - pads + output_padding must stay >= 1.
                var limits = Enumerable.Range(0, rank).Select(a =>
                {
                    var full = (long)At(r.Stride, a, 1) * (At(r.InputSize, a, 3) - 1) + (long)At(r.Dilation, a, 1) * (At(r.Kernel, a, 2) - 1) + 1 + At(r.OutputPadding, a, 0);
                    return r.Framework == "torch" ? $"--padding 0 to {(full - 1) / 2}" : $"pads_begin + pads_end 0 to {full - 1}";
                });
                return "valid per axis: " + string.Join(", ", limits);
            default:
                return null;
        }
    }

    /// <summary>x, w and bias for <see cref="Values"/>: ones, or 1, 2, 3, ... in flat order (which makes the kernel flip visible).</summary>
    public (float[] X, float[] W, float[]? Bias) Data(ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(g);
        Func<long, float[]> fill = Values switch
        {
            "ones" => n => [.. Enumerable.Repeat(1f, (int)n)],
            "range" => n => [.. Enumerable.Range(1, (int)n).Select(i => (float)i)],
            _ => throw new ArgumentException($"--values must be ones or range, but got '{Values}'"),
        };
        return (fill(g.InputLength), fill(g.WeightLength), Bias ? [.. Enumerable.Range(0, g.OutputChannels).Select(m => 0.5f * (m + 1))] : null);
    }

    /// <summary>Parses <c>3</c> or <c>3,4</c>.</summary>
    public static int[]? ParseInts(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return [.. text.Split(',', 'x').Select(part => int.TryParse(part.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"{option}: '{text}' is not a list of integers such as 3 or 3,4"))];
    }

    private static int[] PerAxis(int[]? values, int fallback, int rank, string option)
    {
        if (values is null)
        {
            return [.. Enumerable.Repeat(fallback, rank)];
        }

        return values.Length == 1 ? [.. Enumerable.Repeat(values[0], rank)]
            : values.Length == rank ? values
            : throw new ArgumentException($"{option} has {values.Length} values but the explanation has {rank} spatial axes: give 1 or {rank}");
    }

    private static long[][] PadPairs(int[] pads, int rank) => pads.Length == 2 * rank
        ? [.. Enumerable.Range(0, rank).Select(a => new long[] { pads[a], pads[a + rank] })]
        : throw new ArgumentException($"--pads must have {2 * rank} values (begins, then ends) for {rank} spatial axes, but got {pads.Length}");

    private static void Positive(int value, string option)
    {
        if (value < 1)
        {
            throw new ArgumentException($"{option} is {value} but must be at least 1");
        }
    }

    private static IEnumerable<int> CommonDivisors(int a, int b) => Enumerable.Range(1, Math.Min(a, b)).Where(d => a % d == 0 && b % d == 0);

    private static string Shapes<T>(IEnumerable<T> values) => "[" + string.Join(", ", values) + "]";
}

/// <summary>A resolved operation: geometry, the framework call, its output-size rule, and a runner through the framework's API.</summary>
internal sealed record ResolvedOperation(ConvGeometry Geometry, string Call, OutputSizeRule Rule, Func<float[], float[], float[]> Run);
