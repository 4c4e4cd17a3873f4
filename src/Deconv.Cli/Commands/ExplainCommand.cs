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
        var operation = new OperationOptions("--framework");
        var batch = new Option<int>("--batch") { Description = "Batch size N (the other batch items are computed; one is shown).", DefaultValueFactory = _ => 1 };
        var pickBatch = new Option<int>("--pick-batch") { Description = "The batch item shown (default 0).", DefaultValueFactory = _ => 0 };
        var pair = new Option<string?>("--pair") { Description = "The input channel and output channel shown, e.g. 1,0 (default 0,0); the other channels are summarised." };
        var values = new Option<string>("--values") { Description = "ones, or range (x and w = 1, 2, 3, ...: makes the kernel flip visible).", DefaultValueFactory = _ => "ones" };
        values.AcceptOnlyFromAmong("ones", "range");
        var bias = new Option<bool>("--bias") { Description = "Add a bias (0.5 for output channel 0, 1 for channel 1, ...)." };
        var at = new Option<string?>("--at") { Description = "One output position to show, e.g. 1,2 (text: only its sum and the stamps that reach it; svg/html: the first position shown)." };
        var format = new Option<string>("--format") { Description = "text, svg, png (needs --output) or html (a self-contained page to step through the positions).", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "svg", "png", "html");
        var output = new Option<string?>("--output") { Description = "Write to this file instead of standard output." };
        var command = new Command("explain",
            "Show a transposed convolution step by step: geometry, gather view (zero insertion, padding, flipped kernel), scatter view, " +
            "matrix view, phase view, gradient view, the result and a check that all agree. Default: tf conv2d_transpose of a 3x3 all-ones input " +
            "with a 2x2 all-ones kernel, VALID, stride 1. Try --values range to see the kernel flip.");
        foreach (var option in operation.All.Concat(new Option[] { batch, pickBatch, pair, values, bias, at, format, output }))
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var request = operation.Read(parse) with
            {
                Batch = parse.GetValue(batch),
                ShowBatch = parse.GetValue(pickBatch),
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
        if (format == "png")
        {
            if (file is null)
            {
                throw new ArgumentException("--format png writes an image: give the file with --output FILE.png");
            }

            var png = PngRenderer.Render(explanation, call, at);
            File.WriteAllBytes(file, png);
            stdout.WriteLine($"wrote {file} (png, {png.Length} bytes); check {(explanation.AllChecksPassed ? "passed" : "FAILED")}");
            return explanation.AllChecksPassed ? 0 : 1;
        }

        var text = format switch
        {
            "text" => TextRenderer.Render(explanation, call, request.Values, at, colour),
            "svg" => SvgRenderer.Render(explanation, call, at),
            "html" => HtmlRenderer.Render(explanation, call, request.Values, at),
            _ => throw new ArgumentException($"--format must be text, svg, png or html, but got '{format}'"),
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
        var (geometry, call, rule) = request.ResolveWithAdvice();

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
            return (Explanation.Create(geometry, x, w, bias, request.ShowBatch, channels[0], channels[1], rule), call);
        }
        catch (ConvolutionArgumentException e) when (e.ParamName is "inChannel" or "outChannel" or "batch")
        {
            throw new ConvolutionArgumentException((e.ParamName == "batch" ? "--pick-batch: " : "--pair: ") + e.Reason, e.ParamName == "batch" ? "batch" : "pair");
        }
    }
}
