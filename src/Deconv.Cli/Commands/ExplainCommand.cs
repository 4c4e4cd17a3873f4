using System.CommandLine;
using Deconv.Cli.Explain;
using Deconv.Explain;

namespace Deconv.Cli.Commands;

/// <summary><c>deconv explain</c>: a transposed convolution shown step by step, as text, SVG or an interactive HTML page.</summary>
internal static class ExplainCommand
{
    /// <summary>The command; it writes to <paramref name="stdout"/> (default: the console, with colour when that is a terminal).</summary>
    public static Command Create(TextWriter? stdout = null)
    {
        var framework = new Option<string>("--framework") { Description = "Whose parameters: tf, torch or onnx.", DefaultValueFactory = _ => "tf" };
        framework.AcceptOnlyFromAmong("tf", "torch", "onnx");
        var inputSize = new Option<string?>("--input-size") { Description = "Input length per spatial axis, e.g. 3 or 3,3 (default 3 per axis). The longest per-axis list sets the rank (1-3); with single values it is 2-D." };
        var kernel = new Option<string?>("--kernel") { Description = "Kernel taps per axis (default 2)." };
        var stride = new Option<string?>("--stride") { Description = "Stride per axis (default 1)." };
        var dilation = new Option<string?>("--dilation") { Description = "Dilation per axis (default 1)." };
        var padding = new Option<string?>("--padding") { Description = "tf: VALID (default) or SAME; torch: padding N per axis (default 0); onnx: auto_pad NOTSET (default), VALID, SAME_UPPER or SAME_LOWER." };
        var pads = new Option<string?>("--pads") { Description = "Explicit pads, begins then ends (onnx pads; tf explicit padding), e.g. 1,0,1,0." };
        var outputPadding = new Option<string?>("--output-padding") { Description = "torch/onnx output_padding per axis." };
        var outputSize = new Option<string?>("--output-size") { Description = "tf output_shape, torch output_size, onnx output_shape (spatial sizes). tf default: the smallest valid size (SAME: input*stride)." };
        var dims = new Option<int?>("--dims") { Description = "Spatial axes (1, 2 or 3); default: the longest per-axis list, or 2." };
        var inChannels = new Option<int>("--in-channels") { Description = "Input channels C.", DefaultValueFactory = _ => 1 };
        var outChannels = new Option<int>("--out-channels") { Description = "Output channels M.", DefaultValueFactory = _ => 1 };
        var groups = new Option<int>("--groups") { Description = "Channel groups G (divides C and M).", DefaultValueFactory = _ => 1 };
        var pair = new Option<string?>("--pair") { Description = "The input channel and output channel shown, e.g. 1,0 (default 0,0); the other channels are summarised." };
        var values = new Option<string>("--values") { Description = "ones, or range (x and w = 1, 2, 3, ...: makes the kernel flip visible).", DefaultValueFactory = _ => "ones" };
        values.AcceptOnlyFromAmong("ones", "range");
        var bias = new Option<bool>("--bias") { Description = "Add a bias (0.5 for output channel 0, 1 for channel 1, ...)." };
        var at = new Option<string?>("--at") { Description = "One output position to show, e.g. 1,2 (text: only its sum and the stamps that reach it; svg/html: the first position shown)." };
        var format = new Option<string>("--format") { Description = "text, svg or html (a self-contained page to step through the positions).", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "svg", "html");
        var output = new Option<string?>("--output") { Description = "Write to this file instead of standard output." };
        var command = new Command("explain",
            "Show a transposed convolution step by step: geometry, gather view (zero insertion, padding, flipped kernel), scatter view, " +
            "matrix view, phase view, gradient view, the result and a check that all agree. Default: tf conv2d_transpose of a 3x3 all-ones input " +
            "with a 2x2 all-ones kernel, VALID, stride 1. Try --values range to see the kernel flip.");
        foreach (var option in new Option[] { framework, dims, inputSize, kernel, stride, dilation, padding, pads, outputPadding, outputSize, inChannels, outChannels, groups, pair, values, bias, at, format, output })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var request = new ExplainRequest
            {
                Framework = parse.GetValue(framework)!,
                Dims = parse.GetValue(dims),
                InputSize = ExplainRequest.ParseInts(parse.GetValue(inputSize), "--input-size"),
                Kernel = ExplainRequest.ParseInts(parse.GetValue(kernel), "--kernel"),
                Stride = ExplainRequest.ParseInts(parse.GetValue(stride), "--stride"),
                Dilation = ExplainRequest.ParseInts(parse.GetValue(dilation), "--dilation"),
                Padding = parse.GetValue(padding),
                Pads = ExplainRequest.ParseInts(parse.GetValue(pads), "--pads"),
                OutputPadding = ExplainRequest.ParseInts(parse.GetValue(outputPadding), "--output-padding"),
                OutputSize = ExplainRequest.ParseInts(parse.GetValue(outputSize), "--output-size"),
                InChannels = parse.GetValue(inChannels),
                OutChannels = parse.GetValue(outChannels),
                Groups = parse.GetValue(groups),
                Pair = ExplainRequest.ParseInts(parse.GetValue(pair), "--pair"),
                Values = parse.GetValue(values)!,
                Bias = parse.GetValue(bias),
            };
            var file = parse.GetValue(output);
            return Run(request, ExplainRequest.ParseInts(parse.GetValue(at), "--at"), parse.GetValue(format)!, file, stdout ?? Console.Out,
                colour: stdout is null && file is null && !Console.IsOutputRedirected);
        });
        return command;
    }

    /// <summary>Explains <paramref name="request"/> and writes it in <paramref name="format"/>; 0 when every check passed, 1 otherwise.</summary>
    public static int Run(ExplainRequest request, int[]? at, string format, string? file, TextWriter stdout, bool colour)
    {
        var (explanation, call) = Explain(request, at);
        var text = format switch
        {
            "text" => TextRenderer.Render(explanation, call, request.Values, at, colour),
            "svg" => SvgRenderer.Render(explanation, call, at),
            "html" => HtmlRenderer.Render(explanation, call, request.Values, at),
            _ => throw new ArgumentException($"--format must be text, svg or html, but got '{format}'"),
        };
        if (file is null)
        {
            stdout.Write(text);
        }
        else
        {
            File.WriteAllText(file, text);
            stdout.WriteLine($"wrote {file} ({format}, {text.Length} characters); check {(explanation.AllChecksPassed ? "passed" : "FAILED")}");
        }

        return explanation.AllChecksPassed ? 0 : 1;
    }

    /// <summary>The explanation and the framework call it stands for; user errors name the broken rule and the nearest valid choices.</summary>
    public static (Explanation Explanation, string Call) Explain(ExplainRequest request, int[]? at)
    {
        ArgumentNullException.ThrowIfNull(request);
        ConvGeometry geometry;
        string call;
        OutputSizeRule rule;
        try
        {
            (geometry, call, rule) = request.Resolve();
        }
        catch (ConvolutionArgumentException e) when (Advice(e, request) is { } advice)
        {
            throw new ConvolutionArgumentException(e.Reason + "; " + advice, e.ParamName ?? "");
        }

        if (at is not null)
        {
            var output = geometry.Axes.Select(a => a.Output).ToArray();
            if (at.Length != output.Length || at.Where((p, i) => p < 0 || p >= output[i]).Any())
            {
                throw new ArgumentException($"--at {string.Join(",", at)} is not an output position of the {string.Join("x", output)} output: give {output.Length} indices, each from 0 to the axis length - 1 (e.g. {string.Join(",", output.Select(o => o / 2))})");
            }
        }

        var channels = request.Pair ?? [0, 0];
        if (channels.Length != 2)
        {
            throw new ArgumentException($"--pair takes two numbers, input channel and output channel (e.g. 0,0), but got {channels.Length}");
        }

        var (x, w, bias) = request.Data(geometry);
        try
        {
            return (Explanation.Create(geometry, x, w, bias, 0, channels[0], channels[1], rule), call);
        }
        catch (ConvolutionArgumentException e) when (e.ParamName is "inChannel" or "outChannel")
        {
            throw new ConvolutionArgumentException("--pair: " + e.Reason, "pair");
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
}
