using System.CommandLine;
using System.Text;
using Deconv.Cli.Explain;

namespace Deconv.Cli.Commands;

/// <summary>
/// <c>deconv convert --from F --to G</c>: the same transposed convolution in another framework's parameters, with the
/// weight and data layout changes, a workaround where the target cannot express it, and a check on random data.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var operation = new OperationOptions("--from");
        var to = new Option<string>("--to") { Description = "The framework to translate to: tf, torch or onnx.", Required = true };
        to.AcceptOnlyFromAmong("tf", "torch", "onnx");
        var seed = new Option<int>("--seed") { Description = "Seed of the random data the check runs both parameter sets on.", DefaultValueFactory = _ => 1 };
        var command = new Command("convert",
            "Translate a transposed convolution from one framework's parameters (same options as explain, with --from) into another's, " +
            "including the weight-layout change; where the target cannot express it, give the exact workaround. Both parameter sets are " +
            "run through the library on random data and compared.");
        foreach (var option in operation.All.Append(to).Append(seed))
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var (text, passed) = Convert(operation.Read(parse), parse.GetValue(to)!, parse.GetValue(seed));
            parse.InvocationConfiguration.Output.Write(text);
            return passed ? 0 : 1;
        });
        return command;
    }

    internal static (string Text, bool Passed) Convert(ExplainRequest request, string to, int seed)
    {
        request.ResolveWithAdvice(); // user errors with the nearest valid choices
        var source = request.ResolveOperation();
        var g = source.Geometry;
        var (target, notes, slice) = Target(request, g, to);
        var translated = target.ResolveOperation();

        // Data in multiples of 1/64 keep every product and sum exact, so both runs must agree bit for bit.
        var random = new Random(seed);
        float[] Data(long n) => [.. Enumerable.Range(0, (int)n).Select(_ => random.Next(-64, 65) / 64f)];
        var (x, w) = (Data(g.InputLength), Data(g.WeightLength));
        var expected = source.Run(x, w);
        var actual = translated.Run(x, w);
        if (slice)
        {
            actual = Slice(actual, translated.Geometry, g);
        }

        var difference = expected.Length == actual.Length ? expected.Zip(actual, (a, b) => Math.Abs(a - b)).DefaultIfEmpty(0).Max() : float.PositiveInfinity;
        var passed = difference == 0;
        var text = new StringBuilder();
        text.Append($"from {request.Framework}: {source.Call}\n");
        text.Append($"to {to}:   {translated.Call}\n");
        if (slice)
        {
            var keep = string.Join(", ", g.Axes.Select(a => $"[{a.CropBegin}, {a.CropBegin + a.Output})"));
            text.Append($"         then keep positions {keep} of the spatial axes (zeros past the full length)\n");
        }

        foreach (var note in notes)
        {
            text.Append($"  {note}\n");
        }

        text.Append($"  weight: {WeightLayout(request.Framework, to, g.Rank)}\n");
        text.Append($"  data:   {DataLayout(request.Framework, to, g.Rank)}\n");
        text.Append($"check: both parameter sets run through the library on random data (seed {seed}, {expected.Length} outputs): " +
                    $"{(passed ? "identical results" : $"DIFFERENT, largest difference {difference}")}\n");
        return (text.ToString(), passed);
    }

    /// <summary>The target framework's request for geometry <paramref name="g"/>, notes on what it cannot express, and whether the result must be sliced.</summary>
    private static (ExplainRequest Target, List<string> Notes, bool Slice) Target(ExplainRequest request, ConvGeometry g, string to)
    {
        var axes = g.Axes;
        var notes = new List<string>();
        var common = request with { Framework = to, Padding = null, Pads = null, OutputPadding = null, OutputSize = null, Dims = g.Rank };
        int[] Outputs() => [.. axes.Select(a => a.Output)];
        int[] Full() => [.. axes.Select(a => (int)a.FullLength)];
        switch (to)
        {
            case "torch":
            {
                var t = axes.Select(Translation.ToTorch).ToArray();
                if (t.All(a => a.Expressible))
                {
                    return (common with { Padding = string.Join(",", t.Select(a => a.Parameters.Padding)), OutputPadding = [.. t.Select(a => a.Parameters.OutputPadding)] }, notes, false);
                }

                notes.AddRange(t.Select((a, i) => (a, i)).Where(p => !p.a.Expressible).Select(p => $"axis {p.i}: not expressible in PyTorch: {p.a.Workaround}"));
                return (common with { Padding = "0" }, notes, true);
            }

            case "onnx":
            {
                var t = axes.Select(Translation.ToOnnx).ToArray();
                if (t.All(a => a.Expressible && a.Parameters.OutputShape is null))
                {
                    return (common with
                    {
                        Pads = [.. t.Select(a => a.Parameters.PadBegin), .. t.Select(a => a.Parameters.PadEnd)],
                        OutputPadding = [.. t.Select(a => a.Parameters.OutputPadding)],
                    }, notes, false);
                }

                // output_shape with a non-positive total crop starts at 0 and extends at the end (ONNX Runtime's rule).
                if (axes.All(a => a.CropBegin == 0 && a.CropEnd <= 0))
                {
                    return (common with { OutputSize = Outputs() }, notes, false);
                }

                notes.Add("not expressible in ONNX with one set of attributes: " + string.Join("; ", t.Select((a, i) => $"axis {i}: {a.Workaround ?? a.Parameters.ToString()}")));
                return (common with { Pads = new int[2 * axes.Count] }, notes, true);
            }

            default:
            {
                var t = axes.Select(Translation.ToTensorFlow).ToArray();
                if (t.All(a => a.Expressible) && t.Select(a => a.Parameters.Padding).Distinct().Count() == 1 && t[0].Parameters.Padding != "EXPLICIT")
                {
                    return (common with { Padding = t[0].Parameters.Padding, OutputSize = Outputs() }, notes, false);
                }

                // Mixed kinds: explicit padding [crop_begin, max(0, crop_end)] on every axis, where TensorFlow accepts it.
                var explicitValid = axes.All(a =>
                {
                    var padded = a.Output + a.CropBegin + Math.Max(0, a.CropEnd);
                    return padded >= a.FullLength && padded <= a.FullLength + a.Stride - 1;
                });
                if (explicitValid)
                {
                    return (common with { Pads = [.. axes.Select(a => a.CropBegin), .. axes.Select(a => (int)Math.Max(0, a.CropEnd))], OutputSize = Outputs() }, notes, false);
                }

                notes.AddRange(t.Select((a, i) => (a, i)).Where(p => !p.a.Expressible).Select(p => $"axis {p.i}: not expressible in TensorFlow: {p.a.Workaround}"));
                return (common with { Padding = "VALID", OutputSize = Full() }, notes, true);
            }
        }
    }

    /// <summary>Keeps positions <c>[crop, crop + O)</c> of the uncropped result <c>[1, M, F...]</c>, zero past <c>F</c>.</summary>
    private static float[] Slice(float[] full, ConvGeometry uncropped, ConvGeometry wanted)
    {
        var f = uncropped.Axes.Select(a => a.Output).ToArray();
        var o = wanted.Axes.Select(a => a.Output).ToArray();
        var crop = wanted.Axes.Select(a => a.CropBegin).ToArray();
        var rank = f.Length;
        var result = new float[wanted.OutputLength];
        var perChannelOut = o.Aggregate(1L, (p, v) => p * v);
        var perChannelFull = f.Aggregate(1L, (p, v) => p * v);
        var index = new int[rank];
        for (var m = 0; m < wanted.OutputChannels; m++)
        for (var flat = 0L; flat < perChannelOut; flat++)
        {
            // Position in the wanted output, outermost axis first; its source is crop + position in the full result.
            var rest = flat;
            var source = 0L;
            var inside = true;
            for (var a = rank - 1; a >= 0; a--)
            {
                index[a] = (int)(rest % o[a]);
                rest /= o[a];
            }

            for (var a = 0; a < rank; a++)
            {
                var p = index[a] + crop[a];
                inside &= p < f[a];
                source = (source * f[a]) + p;
            }

            result[(m * perChannelOut) + flat] = inside ? full[(m * perChannelFull) + source] : 0f;
        }

        return result;
    }

    private static string WeightLayout(string from, string to, int rank)
    {
        var spatial = string.Join(", ", "dhw"[(3 - rank)..].Select(c => "k" + c));
        var tf = $"[{spatial}, M/G, C]";
        var nc = $"[C, M/G, {spatial}]";
        var toNc = string.Join(", ", Enumerable.Range(0, rank).Prepend(rank).Prepend(rank + 1));
        var toTf = string.Join(", ", Enumerable.Range(2, rank).Append(1).Append(0));
        return (from == "tf", to == "tf") switch
        {
            (true, false) => $"tf filters {tf} -> {to} weight {nc}: permute axes ({toNc})",
            (false, true) => $"{from} weight {nc} -> tf filters {tf}: permute axes ({toTf})",
            _ => $"the same tensor ({(to == "tf" ? tf : nc)})",
        };
    }

    private static string DataLayout(string from, string to, int rank)
    {
        var last = rank switch { 1 => "NWC", 2 => "NHWC", _ => "NDHWC" };
        var first = rank switch { 1 => "NCW", 2 => "NCHW", _ => "NCDHW" };
        var toFirst = string.Join(", ", Enumerable.Range(1, rank).Prepend(rank + 1).Prepend(0));
        var toLast = string.Join(", ", Enumerable.Range(2, rank).Prepend(0).Append(1));
        return (from == "tf", to == "tf") switch
        {
            (true, false) => $"tf {last} -> {first}: permute axes ({toFirst}) (or pass data_format=\"{first}\" to TensorFlow)",
            (false, true) => $"{first} -> tf {last}: permute axes ({toLast}) (or pass data_format=\"{first}\" to TensorFlow)",
            _ => $"unchanged ({(to == "tf" ? last : first)})",
        };
    }
}
