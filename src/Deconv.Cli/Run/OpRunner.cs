using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;

namespace Deconv.Cli.Run;

/// <summary>What <c>deconv run</c> was asked: the framework, the op, tensor specifications and the framework-named options as typed.</summary>
/// <param name="Framework"><c>tf</c>, <c>torch</c> or <c>onnx</c>.</param>
/// <param name="Op">The op in that framework's spelling, or null for its transposed 2-D op.</param>
/// <param name="Tensors">Tensor specifications by option (<c>--input</c>, <c>--weight</c>, <c>--bias</c>, <c>--out-backprop</c>).</param>
/// <param name="Options">The other framework options given, by option name (<c>--strides</c> to <c>"2"</c>).</param>
internal sealed record RunRequest(string Framework, string? Op, IReadOnlyDictionary<string, string> Tensors, IReadOnlyDictionary<string, string> Options);

/// <summary>The result of <c>deconv run</c>: values in C order, shape, and the axes to print as matrices.</summary>
internal sealed record RunResult<T>(string Call, T[] Values, long[] Shape, int RowAxis, int ColumnAxis);

/// <summary>Evaluates one TensorFlow, PyTorch or ONNX convolution op given in that framework's own terms.</summary>
internal static class OpRunner
{
    /// <summary>The largest result (elements) run computes, so that a typo gives an error rather than an out-of-memory crash.</summary>
    public const long MaxResultElements = TensorSpec.MaxElements;

    private const string TensorOptions = "--input --weight --kernel";

    /// <summary>Every op by framework, with the options it takes besides --input, --weight/--kernel, --dtype and --output.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Ops = new Dictionary<string, IReadOnlyDictionary<string, string>>
    {
        ["tf"] = new Dictionary<string, string>
        {
            ["conv2d_transpose"] = $"{TensorOptions} --output-shape --strides --padding --data-format --dilations",
            ["conv1d_transpose"] = $"{TensorOptions} --output-shape --strides --padding --data-format --dilations",
            ["conv3d_transpose"] = $"{TensorOptions} --output-shape --strides --padding --data-format --dilations",
            ["conv2d_backprop_input"] = $"{TensorOptions} --output-shape --strides --padding --data-format --dilations",
            ["conv3d_backprop_input_v2"] = $"{TensorOptions} --output-shape --strides --padding --data-format --dilations",
            ["conv1d"] = $"{TensorOptions} --strides --padding --data-format --dilations",
            ["conv2d"] = $"{TensorOptions} --strides --padding --data-format --dilations",
            ["conv3d"] = $"{TensorOptions} --strides --padding --data-format --dilations",
            ["depthwise_conv2d"] = $"{TensorOptions} --strides --padding --data-format --dilations",
            ["conv2d_backprop_filter"] = "--input --out-backprop --filter-sizes --strides --padding --data-format --dilations",
            ["conv3d_backprop_filter_v2"] = "--input --out-backprop --filter-sizes --strides --padding --data-format --dilations",
        },
        ["torch"] = new Dictionary<string, string>
        {
            ["conv_transpose2d"] = $"{TensorOptions} --bias --stride --padding --output-padding --groups --dilation --output-size",
            ["conv_transpose1d"] = $"{TensorOptions} --bias --stride --padding --output-padding --groups --dilation --output-size",
            ["conv_transpose3d"] = $"{TensorOptions} --bias --stride --padding --output-padding --groups --dilation --output-size",
            ["conv1d"] = $"{TensorOptions} --bias --stride --padding --groups --dilation",
            ["conv2d"] = $"{TensorOptions} --bias --stride --padding --groups --dilation",
            ["conv3d"] = $"{TensorOptions} --bias --stride --padding --groups --dilation",
        },
        ["onnx"] = new Dictionary<string, string>
        {
            ["ConvTranspose"] = $"{TensorOptions} --bias --auto-pad --pads --strides --dilations --group --output-padding --output-shape --kernel-shape",
            ["Conv"] = $"{TensorOptions} --bias --auto-pad --pads --strides --dilations --group --kernel-shape",
        },
    };

    /// <summary>The op run uses when --op is not given: the framework's transposed 2-D convolution.</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultOps = new Dictionary<string, string>
    {
        ["tf"] = "conv2d_transpose",
        ["torch"] = "conv_transpose2d",
        ["onnx"] = "ConvTranspose",
    };

    /// <summary>Runs the request in dtype <typeparamref name="T"/>.</summary>
    /// <exception cref="ArgumentException">An option or tensor breaks a rule; the message starts with the option.</exception>
    public static RunResult<T> Run<T>(RunRequest request)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(request);
        var framework = request.Framework.ToLowerInvariant();
        if (!Ops.TryGetValue(framework, out var ops))
        {
            throw new ArgumentException($"--framework: '{request.Framework}' is not a framework; use tf, torch or onnx");
        }

        var op = request.Op ?? DefaultOps[framework];
        // ONNX op types are CamelCase, the others snake_case; accept any case.
        op = ops.Keys.FirstOrDefault(k => string.Equals(k, op, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"--op: {framework} has no op '{op}'; {framework} ops: {string.Join(", ", ops.Keys)}");
        var allowed = ops[op].Split(' ');
        foreach (var given in request.Tensors.Keys.Concat(request.Options.Keys))
        {
            if (!allowed.Contains(given))
            {
                throw new ArgumentException($"{given}: {framework} {op} has no such option; it takes {string.Join(" ", allowed)}");
            }
        }

        var context = new Context<T>(framework, op, request);
        try
        {
            return framework switch
            {
                "tf" => RunTensorFlow(context),
                "torch" => RunTorch(context),
                _ => RunOnnx(context),
            };
        }
        catch (ConvolutionArgumentException e)
        {
            throw new ArgumentException($"{context.OptionFor(e.ParamName)}: {e.Reason}", e);
        }
    }

    private static RunResult<T> RunTensorFlow<T>(Context<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var op = c.Op;
        var rank = op.Contains('1', StringComparison.Ordinal) ? 1 : op.Contains('3', StringComparison.Ordinal) ? 3 : 2;
        var format = c.Text("--data-format") ?? (rank == 1 ? "NWC" : rank == 2 ? "NHWC" : "NDHWC");
        var channelsFirst = format.StartsWith("NC", StringComparison.Ordinal);
        var strides = c.Ints("--strides");
        var dilations = c.Ints("--dilations");
        var padding = TfPaddingOption(c.Text("--padding") ?? "VALID");
        var x = c.Tensor("--input");
        int[] spatial = channelsFirst ? [.. Enumerable.Range(2, rank)] : [.. Enumerable.Range(1, rank)];
        switch (op)
        {
            case "conv2d_backprop_filter" or "conv3d_backprop_filter_v2":
            {
                var dy = c.Tensor("--out-backprop");
                var filterSizes = c.Ints("--filter-sizes") ?? throw new ArgumentException($"--filter-sizes: {op} needs filter_sizes, the shape of the filter [k..., in/groups, out]");
                Guard(TensorFlow.ForwardGeometry(op, rank, x.Shape(), filterSizes, strides, padding, format, dilations).WeightLength);
                var dw = rank == 2
                    ? TensorFlow.Conv2DBackpropFilter(x, filterSizes, dy, strides, padding, format, dilations)
                    : TensorFlow.Conv3DBackpropFilterV2(x, filterSizes, dy, strides, padding, format, dilations);
                return Result($"tf.raw_ops.{Camel(op)}", dw, [.. Enumerable.Range(0, rank)]);
            }

            case "conv1d" or "conv2d" or "conv3d" or "depthwise_conv2d":
            {
                var depthwise = op == "depthwise_conv2d";
                var w = c.Weight("--input", x, (channels, kernel) => [.. kernel, channels, depthwise ? 1 : channels], rank, channelsFirst ? 1 : -1);
                Guard(TensorFlow.ForwardGeometry(op, rank, x.Shape(), w.Shape(), strides, padding, format, dilations, depthwise).InputLength);
                var y = op switch
                {
                    "conv1d" => TensorFlow.Conv1D(x, w, strides, padding, format, dilations),
                    "conv2d" => TensorFlow.Conv2D(x, w, strides, padding, format, dilations),
                    "conv3d" => TensorFlow.Conv3D(x, w, strides, padding, format, dilations),
                    _ => TensorFlow.DepthwiseConv2D(x, w, strides, padding, format, dilations),
                };
                return Result($"tf.nn.{op}", y, spatial);
            }

            default:
            {
                var w = c.Weight("--input", x, (channels, kernel) => [.. kernel, channels, channels], rank, channelsFirst ? 1 : -1);
                var outputShape = c.Ints("--output-shape") ?? DefaultTfOutputShape(rank, x.Shape(), w.Shape(), strides, padding, dilations, channelsFirst);
                var name = op.StartsWith("conv3d_backprop", StringComparison.Ordinal) ? "Conv3DBackpropInputV2" : op.StartsWith("conv2d_backprop", StringComparison.Ordinal) ? "Conv2DBackpropInput" : op;
                Guard(TensorFlow.TransposeGeometry(name, rank, x.Shape(), w.Shape(), outputShape, strides, padding, format, dilations).OutputLength);
                var y = op switch
                {
                    "conv1d_transpose" => TensorFlow.Conv1DTranspose(x, w, outputShape, strides, padding, format, dilations),
                    "conv2d_transpose" => TensorFlow.Conv2DTranspose(x, w, outputShape, strides, padding, format, dilations),
                    "conv3d_transpose" => TensorFlow.Conv3DTranspose(x, w, outputShape, strides, padding, format, dilations),
                    "conv2d_backprop_input" => TensorFlow.Conv2DBackpropInput(outputShape, w, x, strides, padding, format, dilations),
                    _ => TensorFlow.Conv3DBackpropInputV2(outputShape, w, x, strides, padding, format, dilations),
                };
                return Result(name == op ? $"tf.nn.{op}" : $"tf.raw_ops.{name}", y, spatial);
            }
        }
    }

    private static RunResult<T> RunTorch<T>(Context<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var op = c.Op;
        var rank = op[^2] - '0';
        var x = c.Tensor("--input");
        // Unbatched input (C, L...) has its channels first.
        var w = c.Weight("--input", x, (channels, kernel) => [channels, channels / Math.Max(1, c.Long("--groups", 1)), .. kernel], rank, x.Rank == rank + 1 ? 0 : 1);
        var b = c.OptionalTensor("--bias");
        var stride = c.Ints("--stride");
        var dilation = c.Ints("--dilation");
        var groups = c.Long("--groups", 1);
        var biasLength = b is null ? -1 : b.Rank == 1 ? (int)b.FlattenedLength : -2;
        ConvGeometry geometry;
        Tensor<T> y;
        if (op.StartsWith("conv_transpose", StringComparison.Ordinal))
        {
            var padding = c.Text("--padding") is { } text && !IsIntList(text)
                ? throw new ArgumentException($"--padding: {op} takes integer padding (one, or one per axis), not '{text}'")
                : c.Ints("--padding");
            var outputPadding = c.Ints("--output-padding");
            var outputSize = c.Ints("--output-size");
            geometry = Torch.TransposeGeometry(op, rank, x.Shape(), w.Shape(), stride, padding, outputPadding, groups, dilation, outputSize, Math.Max(biasLength, -1));
            Guard(geometry.OutputLength);
            y = rank switch
            {
                1 => Torch.ConvTranspose1d(x, w, b, stride, padding, outputPadding, groups, dilation, outputSize),
                2 => Torch.ConvTranspose2d(x, w, b, stride, padding, outputPadding, groups, dilation, outputSize),
                _ => Torch.ConvTranspose3d(x, w, b, stride, padding, outputPadding, groups, dilation, outputSize),
            };
        }
        else
        {
            var text = c.Text("--padding");
            TorchPadding? padding = text is null ? null : IsIntList(text) ? TorchPadding.Of(c.Ints("--padding")!) : TorchPadding.Parse(text);
            geometry = Torch.ForwardGeometry(op, rank, x.Shape(), w.Shape(), stride, padding, dilation, groups, Math.Max(biasLength, -1));
            Guard(geometry.InputLength);
            y = rank switch
            {
                1 => Torch.Conv1d(x, w, b, stride, padding, dilation, groups),
                2 => Torch.Conv2d(x, w, b, stride, padding, dilation, groups),
                _ => Torch.Conv3d(x, w, b, stride, padding, dilation, groups),
            };
        }

        return Result($"torch.nn.functional.{op}", y, [.. Enumerable.Range(y.Rank - rank, rank)]);
    }

    private static RunResult<T> RunOnnx<T>(Context<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = c.Tensor("--input");
        var rank = (int)x.Rank - 2;
        var attributes = new OnnxConvAttributes
        {
            AutoPad = c.Text("--auto-pad") ?? "NOTSET",
            Pads = c.Ints("--pads"),
            Strides = c.Ints("--strides"),
            Dilations = c.Ints("--dilations"),
            Group = c.Long("--group", 1),
            OutputPadding = c.Ints("--output-padding"),
            OutputShape = c.Ints("--output-shape"),
            KernelShape = c.Ints("--kernel-shape"),
        };
        var w = c.Weight("--input", x, (channels, kernel) => [channels, channels / Math.Max(1, attributes.Group), .. kernel], rank, 1);
        var b = c.OptionalTensor("--bias");
        var biasLength = b is null ? -1 : b.Rank == 1 ? (int)b.FlattenedLength : -1;
        Tensor<T> y;
        if (c.Op == "ConvTranspose")
        {
            Guard(Onnx.ConvTransposeGeometry(x.Shape(), w.Shape(), attributes, biasLength).OutputLength);
            y = Onnx.ConvTranspose(x, w, b, attributes);
        }
        else
        {
            Guard(Onnx.ConvGeometry(x.Shape(), w.Shape(), attributes, biasLength).InputLength);
            y = Onnx.Conv(x, w, b, attributes);
        }

        return Result($"onnx {c.Op}", y, [.. Enumerable.Range(2, Math.Max(0, rank))]);
    }

    /// <summary>
    /// TensorFlow requires output_shape; when it is not given, run picks the smallest size TensorFlow accepts
    /// per axis (VALID and explicit: <c>(in-1)*stride + dilated kernel - pads</c>; SAME: <c>in*stride</c>).
    /// </summary>
    private static long[] DefaultTfOutputShape(int rank, long[] input, long[] filter, long[]? strides, TfPadding padding, long[]? dilations, bool channelsFirst)
    {
        var channelAxis = channelsFirst ? 1 : rank + 1;
        var stride = PerAxisOrNull(strides, rank, channelAxis);
        var dilation = PerAxisOrNull(dilations, rank, channelAxis);
        if (input.Length != rank + 2 || filter.Length != rank + 2 || stride is null || dilation is null)
        {
            return new long[rank]; // Wrong shapes: let TensorFlow's own checks report them.
        }

        var explicitPads = padding.Pairs is { } pairs && pairs.Count == rank && pairs.All(p => p.Length == 2) ? pairs : null;
        var shape = new long[rank];
        for (var a = 0; a < rank; a++)
        {
            var i = input[channelsFirst ? a + 2 : a + 1];
            if (i is < 1 or > int.MaxValue || filter[a] is < 1 or > int.MaxValue || stride[a] is < 1 or > int.MaxValue || dilation[a] is < 1 or > int.MaxValue)
            {
                return new long[rank];
            }

            var total = explicitPads is null ? 0 : explicitPads[a][0] + explicitPads[a][1];
            shape[a] = padding.Kind == "SAME" ? i * stride[a]
                : TensorFlow.TransposeValidSizes((int)i, (int)filter[a], (int)stride[a], (int)dilation[a], padding.Kind, total).First;
        }

        return shape;
    }

    private static long[]? PerAxisOrNull(long[]? values, int rank, int channelAxis) => values switch
    {
        null or [] => [.. Enumerable.Repeat(1L, rank)],
        [var v] => [.. Enumerable.Repeat(v, rank)],
        _ when values.Length == rank => values,
        _ when values.Length == rank + 2 => [.. values.Where((_, i) => i != 0 && i != channelAxis)],
        _ => null,
    };

    /// <summary>TensorFlow's padding: VALID, SAME, or explicit numbers taken as (before, after) pairs.</summary>
    private static TfPadding TfPaddingOption(string text)
    {
        if (!IsIntList(text))
        {
            return TfPadding.Parse(text);
        }

        var values = ParseInts(text, "--padding");
        if (values.Length % 2 != 0)
        {
            throw new ArgumentException($"--padding: explicit padding '{text}' must be (before, after) pairs, one per spatial axis or per dimension, but has {values.Length} numbers");
        }

        return TfPadding.Explicit([.. values.Chunk(2)]);
    }

    private static bool IsIntList(string text) => text.Any(char.IsAsciiDigit);

    /// <summary>Integers separated by commas, spaces or 'x'; brackets and parentheses are ignored, so "[1, 4, 4, 1]" and "1x4x4x1" both work.</summary>
    public static long[] ParseInts(string text, string option)
    {
        var items = text.Split([',', ' ', 'x', '[', ']', '(', ')'], StringSplitOptions.RemoveEmptyEntries);
        var values = new long[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            if (!long.TryParse(items[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out values[i]))
            {
                throw new ArgumentException($"{option}: '{text}' is not a list of integers like 1,2");
            }
        }

        return values;
    }

    /// <summary>Refuses a result too large to hold, before computing it.</summary>
    public static void Guard(long elements)
    {
        if (elements > MaxResultElements)
        {
            throw new ArgumentException($"the result would have {elements} elements; deconv run computes at most {MaxResultElements}");
        }
    }

    public static RunResult<T> Result<T>(string call, Tensor<T> y, int[] spatialAxes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (row, column) = TensorText.SpatialAxes(spatialAxes);
        return new RunResult<T>(call, y.ToArray(), y.Shape(), row, column);
    }

    private static string Camel(string op) => op switch
    {
        "conv2d_backprop_filter" => "Conv2DBackpropFilter",
        _ => "Conv3DBackpropFilterV2",
    };

    /// <summary>The request for one op: typed access to its options and tensors, in dtype <typeparamref name="T"/>.</summary>
    private sealed class Context<T>(string framework, string op, RunRequest request)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public string Op => op;

        public string? Text(string option) => request.Options.GetValueOrDefault(option);

        public long[]? Ints(string option) => Text(option) is { } text ? ParseInts(text, option) : null;

        public long Long(string option, long fallback) => Ints(option) switch
        {
            null => fallback,
            [var v] => v,
            _ => throw new ArgumentException($"{option}: expected one integer, but got '{Text(option)}'"),
        };

        public Tensor<T> Tensor(string option) =>
            OptionalTensor(option) ?? throw new ArgumentException($"{option}: {framework} {op} needs {option} (a tensor: {TensorSpec.Forms})");

        public Tensor<T>? OptionalTensor(string option)
        {
            if (!request.Tensors.TryGetValue(option, out var spec))
            {
                return null;
            }

            var host = TensorSpec.Parse(spec, option);
            return host.Values.Select(T.CreateChecked).ToArray().ToTensor(host.Shape);
        }

        /// <summary>
        /// --weight, or else ones of shape <paramref name="shape"/>(channels, --kernel sizes) where channels is
        /// the input's channel count (axis <paramref name="channelAxis"/>, -1 for the last axis).
        /// </summary>
        public Tensor<T> Weight(string inputOption, Tensor<T> input, Func<long, long[], long[]> shape, int rank, int channelAxis)
        {
            if (request.Tensors.ContainsKey("--weight"))
            {
                return request.Options.ContainsKey("--kernel")
                    ? throw new ArgumentException("--kernel: give either --weight or --kernel, not both")
                    : Tensor("--weight");
            }

            var kernel = Ints("--kernel") ?? throw new ArgumentException($"--weight: {framework} {op} needs --weight (a tensor: {TensorSpec.Forms}) or --kernel SIZES for an all-ones weight");
            if (kernel.Length != rank || kernel.Any(k => k < 1))
            {
                throw new ArgumentException($"--kernel: '{Text("--kernel")}' must be {rank} positive kernel sizes, like {string.Join("x", Enumerable.Repeat(3, rank))}");
            }

            var inputShape = input.Shape();
            if (rank < 1)
            {
                throw new ArgumentException($"{inputOption}: shape {Shapes.Format(inputShape)} is not [N, C, spatial...] with 1 to 3 spatial axes");
            }

            var axis = channelAxis < 0 ? inputShape.Length - 1 : channelAxis;
            if (axis >= inputShape.Length)
            {
                throw new ArgumentException($"{inputOption}: shape {Shapes.Format(inputShape)} has no channel axis for --kernel to size the weight");
            }

            var weightShape = shape(inputShape[axis], kernel);
            var count = Shapes.TryProduct(weightShape);
            if (count is null or > TensorSpec.MaxElements)
            {
                throw new ArgumentException($"--kernel: the all-ones weight {Shapes.Format(weightShape)} would be too large");
            }

            var ones = new T[count.Value];
            Array.Fill(ones, T.One);
            return ones.ToTensor(weightShape);
        }

        /// <summary>The command-line option for a parameter name of the framework (output_shape: --output-shape, W: --weight).</summary>
        public string OptionFor(string? parameter) => OptionName(parameter) + (parameter is null ? "" : $" ({parameter})");

        private string OptionName(string? parameter) => (framework, parameter) switch
        {
            (_, null or "axes") => "--input",
            ("onnx", "X") => "--input",
            ("onnx", "W") => "--weight",
            ("onnx", "B") => "--bias",
            ("tf", "filters" or "filter") => op.Contains("backprop_filter", StringComparison.Ordinal) ? "--filter-sizes" : "--weight",
            ("tf", "out_backprop") => op.Contains("backprop_filter", StringComparison.Ordinal) ? "--out-backprop" : "--input",
            ("tf", "input_sizes") => "--output-shape",
            ("tf", "groups") => "--weight",
            ("tf" or "onnx", "output") => "--output-shape",
            ("torch", "output") => "--output-size",
            ("onnx", "groups") => "--group",
            _ => "--" + parameter.Replace('_', '-'),
        };
    }
}
