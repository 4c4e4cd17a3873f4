using System.CommandLine;
using System.Numerics;
using Deconv.Cli.Formats;
using Deconv.Cli.Run;

namespace Deconv.Cli.Commands;

/// <summary><c>deconv run</c>: evaluates one convolution op in TensorFlow, PyTorch or ONNX terms and prints or saves the result.</summary>
internal static class RunCommand
{
    private const string Description = """
        Evaluate one convolution op in the terms of one framework and print the result as matrices
        (one 2-D spatial slice per batch/channel index, headed like [0, :, :, 0]) or save it with --output.

        Ops (default: the transposed 2-D op of the framework):
          tf:    conv2d_transpose, conv1d_transpose, conv3d_transpose, conv2d_backprop_input,
                 conv3d_backprop_input_v2, conv1d, conv2d, conv3d, depthwise_conv2d,
                 conv2d_backprop_filter, conv3d_backprop_filter_v2
          torch: conv_transpose2d, conv_transpose1d, conv_transpose3d, conv1d, conv2d, conv3d
          onnx:  ConvTranspose, Conv

        Options are named as in the framework:
          tf:    --output-shape (default: smallest valid size; for conv2d_backprop_input it is input_sizes),
                 --strides, --padding VALID|SAME|explicit pairs like 1,1,2,2 (default VALID),
                 --data-format NHWC|NCHW|..., --dilations;
                 conv*_backprop_filter: --input, --out-backprop, --filter-sizes
          torch: --stride, --padding (ints; same/valid for conv), --output-padding, --groups,
                 --dilation, --output-size, --bias
          onnx:  --auto-pad, --pads, --strides, --dilations, --group, --output-padding,
                 --output-shape, --kernel-shape, --bias
        Integer lists: 1,2 or 1x2 or [1, 2]; one value applies to every axis where the framework allows it.

        Tensors (--input, --weight, --bias, --out-backprop):
          ones:1x3x3x1  zeros:SHAPE  range:SHAPE[:START]  random:SHAPE:SEED (uniform in [-1, 1))
          1,2,3,4:2x2 (values in C order)  or a path to a .npy file (<f4, <f8, <i4, <i8).
        Instead of --weight, --kernel 2x2 gives an all-ones weight with as many output channels as input channels.

        Example: deconv run --framework tf --op conv2d_transpose --input ones:1x3x3x1 --weight ones:2x2x1x1
                   --output-shape 1,4,4,1 --strides 1 --padding VALID
        """;

    /// <summary>The tensor options, by name, with their descriptions.</summary>
    private static readonly (string Name, string Help)[] TensorOptions =
    [
        ("--input", "the input tensor (tf conv2d_backprop_input: out_backprop)"),
        ("--weight", "the weight/filters tensor in the framework's layout"),
        ("--bias", "torch/onnx: the bias tensor [C_out]"),
        ("--out-backprop", "tf conv*_backprop_filter: the gradient of the convolution's output"),
    ];

    /// <summary>The framework options, by name, with their descriptions; their values are checked by the framework's rules.</summary>
    private static readonly (string Name, string Help)[] FrameworkOptions =
    [
        ("--kernel", "kernel sizes for an all-ones weight, like 2x2 (instead of --weight)"),
        ("--output-shape", "tf: output_shape (N,spatial...,C or spatial only); onnx: output_shape"),
        ("--strides", "tf/onnx: strides"),
        ("--padding", "tf: VALID, SAME or explicit pairs like 1,1,2,2; torch: padding ints (conv: also same/valid)"),
        ("--data-format", "tf: data_format, e.g. NHWC (default) or NCHW"),
        ("--dilations", "tf/onnx: dilations"),
        ("--filter-sizes", "tf conv*_backprop_filter: filter_sizes"),
        ("--stride", "torch: stride"),
        ("--output-padding", "torch/onnx: output_padding"),
        ("--groups", "torch: groups"),
        ("--dilation", "torch: dilation"),
        ("--output-size", "torch conv_transpose: output_size"),
        ("--auto-pad", "onnx: auto_pad NOTSET, SAME_UPPER, SAME_LOWER or VALID"),
        ("--pads", "onnx: pads [x1_begin, x2_begin, ..., x1_end, x2_end, ...]"),
        ("--group", "onnx: group"),
        ("--kernel-shape", "onnx: kernel_shape"),
    ];

    public static Command Create()
    {
        var command = new Command("run", Description);
        var framework = new Option<string>("--framework") { Description = "tf, torch or onnx", DefaultValueFactory = _ => "tf" };
        var op = new Option<string?>("--op") { Description = "the op, spelled as in the framework" };
        var dtype = new Option<string>("--dtype") { Description = "float32 or float64", DefaultValueFactory = _ => "float32" };
        var output = new Option<string?>("--output") { Description = "write the result to this .npy file instead of printing it" };
        var threads = new Option<int>("--threads") { Description = "threads for the fast engine (0 = one per processor); the result is bit-identical for any count", DefaultValueFactory = _ => 0 };
        var tensors = TensorOptions.Select(o => new Option<string?>(o.Name) { Description = o.Help }).ToArray();
        var options = FrameworkOptions.Select(o => new Option<string?>(o.Name) { Description = o.Help }).ToArray();
        command.Options.Add(framework);
        command.Options.Add(op);
        foreach (var option in tensors.Concat(options))
        {
            command.Options.Add(option);
        }

        command.Options.Add(dtype);
        command.Options.Add(output);
        command.Options.Add(threads);
        command.SetAction(parse =>
        {
            var request = new RunRequest(
                parse.GetValue(framework)!,
                parse.GetValue(op),
                Given(parse, tensors),
                Given(parse, options));
            var writer = parse.InvocationConfiguration.Output;
            var count = parse.GetValue(threads);
            ConvOps.Threads = count >= 0 ? count : throw new ArgumentException($"--threads: {count} is not a thread count; use 0 (one per processor) or more");
            return parse.GetValue(dtype) switch
            {
                "float32" => Execute<float>(request, parse.GetValue(output), "float32", writer),
                "float64" => Execute<double>(request, parse.GetValue(output), "float64", writer),
                var other => throw new ArgumentException($"--dtype: '{other}' is not supported; use float32 or float64"),
            };
        });
        return command;
    }

    private static Dictionary<string, string> Given(ParseResult parse, Option<string?>[] options) =>
        options.Select(o => (o.Name, Value: parse.GetValue(o))).Where(o => o.Value is not null).ToDictionary(o => o.Name, o => o.Value!);

    private static int Execute<T>(RunRequest request, string? outputPath, string dtype, TextWriter output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (outputPath is not null && !outputPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--output: '{outputPath}' must be a .npy file name");
        }

        var result = OpRunner.Run<T>(request);
        var description = $"{result.Call} -> {Shapes.Format(result.Shape)} {dtype}";
        if (outputPath is not null)
        {
            Npy.Write<T>(outputPath, result.Values, result.Shape);
            output.WriteLine($"{description} written to {outputPath}");
            return 0;
        }

        output.WriteLine(description);
        TensorText.Write(output, result.Values, result.Shape, result.RowAxis, result.ColumnAxis);
        return 0;
    }
}
