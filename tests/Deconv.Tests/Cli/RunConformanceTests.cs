using System.Text.Json;
using Deconv.Cli.Formats;
using static Deconv.Tests.Cli.CliHarness;

namespace Deconv.Tests.Cli;

/// <summary>
/// <c>deconv run</c> against outside truth: every TensorFlow case (TensorFlow.js 4.22) and every ONNX Runtime
/// ConvTranspose case in ../shared/conformance, passed to the command line as .npy files and framework-named
/// options, the result read back from <c>--output</c>.
/// </summary>
public sealed class RunConformanceTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("deconv-run-conformance").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    public static TheoryData<string> TfCases() => [.. Directory.GetFiles(SharedData.Path("conformance", "tf", "cases"), "*.json").Select(f => Path.GetFileName(f)).Order()];

    public static TheoryData<string> OrtCases() => [.. Directory.GetFiles(SharedData.Path("conformance", "ort"), "case_*.json").Select(f => Path.GetFileName(f)).Order()];

    [Theory]
    [MemberData(nameof(TfCases))]
    public void TensorFlow_case(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(SharedData.Path("conformance", "tf", "cases", file)));
        var root = json.RootElement;
        var op = root.GetProperty("op").GetString()!;
        var attrs = root.GetProperty("attrs");
        var inputs = root.GetProperty("inputs");
        List<string> args = ["run", "--framework", "tf", "--op", op];
        // TF's argument names to run's options (conv2d_backprop_input: out_backprop is the transposed conv's input).
        foreach (var (name, option) in new[] { ("input", "--input"), ("filters", "--weight"), ("filter", "--weight") })
        {
            if (inputs.TryGetProperty(name, out var tensor))
            {
                args.AddRange([option, Save(name, tensor)]);
            }
        }

        if (inputs.TryGetProperty("out_backprop", out var dy))
        {
            args.AddRange([op == "conv2d_backprop_input" ? "--input" : "--out-backprop", Save("out_backprop", dy)]);
        }

        foreach (var (name, option) in new[]
                 {
                     ("output_shape", "--output-shape"), ("input_sizes", "--output-shape"), ("filter_sizes", "--filter-sizes"),
                     ("strides", "--strides"), ("stride", "--strides"), ("padding", "--padding"), ("data_format", "--data-format"), ("dilations", "--dilations"),
                 })
        {
            if (attrs.TryGetProperty(name, out var value))
            {
                args.AddRange([option, value.ValueKind == JsonValueKind.String ? value.GetString()! : string.Join(",", Ints(value))]);
            }
        }

        AssertResult(args, root.GetProperty("expected"));
    }

    [Theory]
    [MemberData(nameof(OrtCases))]
    public void OnnxRuntime_ConvTranspose_case(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(SharedData.Path("conformance", "ort", file)));
        var root = json.RootElement;
        List<string> args = ["run", "--framework", "onnx", "--op", root.GetProperty("op_type").GetString()!,
            "--input", Save("x", root.GetProperty("x")), "--weight", Save("w", root.GetProperty("w"))];
        if (root.TryGetProperty("b", out var b))
        {
            args.AddRange(["--bias", Save("b", b)]);
        }

        foreach (var property in root.GetProperty("attributes").EnumerateObject())
        {
            args.AddRange(["--" + property.Name.Replace('_', '-'), property.Value.ValueKind == JsonValueKind.Array ? string.Join(",", Ints(property.Value)) : property.Value.GetRawText()]);
        }

        AssertResult(args, root.GetProperty("y"));
    }

    private void AssertResult(List<string> args, JsonElement expected)
    {
        var output = Path.Combine(directory, "y.npy");
        var outcome = Run([.. args, "--output", output]);
        Assert.True(outcome.ExitCode == 0, $"deconv {string.Join(' ', args)}\n{outcome.Error}");
        var y = Npy.Read(output);
        Assert.Equal(Ints(expected.GetProperty("shape")), y.Shape);
        var data = expected.GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var scale = Math.Max(1, data.Max(Math.Abs));
        Assert.Equal(data.Length, y.Values.Length);
        for (var i = 0; i < data.Length; i++)
        {
            Assert.True(Math.Abs(data[i] - y.Values[i]) <= 1e-5 * scale, $"element {i}: expected {data[i]}, got {y.Values[i]}");
        }
    }

    /// <summary>Writes a JSON tensor {shape, data} as a float32 .npy file and returns its path.</summary>
    private string Save(string name, JsonElement tensor)
    {
        var path = Path.Combine(directory, name + ".npy");
        var data = tensor.GetProperty("data").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        Npy.Write<float>(path, data, Ints(tensor.GetProperty("shape")));
        return path;
    }

    private static long[] Ints(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray().Select(e => e.GetInt64())] : [value.GetInt64()];
}
