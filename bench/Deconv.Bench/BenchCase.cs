using System.Text.Json;
using System.Text.Json.Serialization;

namespace Deconv.Bench;

/// <summary>One entry of suite.json: a ConvTranspose layer in ONNX terms (NCHW, weight [C_in, C_out/groups, k...]).</summary>
internal sealed record BenchCase(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("n")] int N,
    [property: JsonPropertyName("c_in")] int CIn,
    [property: JsonPropertyName("c_out")] int COut,
    [property: JsonPropertyName("input")] int[] Input,
    [property: JsonPropertyName("kernel")] int[] Kernel,
    [property: JsonPropertyName("stride")] int[] Stride,
    [property: JsonPropertyName("pads")] int[] Pads,
    [property: JsonPropertyName("output_padding")] int[] OutputPadding,
    [property: JsonPropertyName("dilation")] int[] Dilation,
    [property: JsonPropertyName("groups")] int Groups)
{
    /// <summary>2 * N * (C_in/G) * C_out * prod(kernel) * prod(input), as the suite defines it.</summary>
    public double Flops => 2.0 * N * (CIn / Groups) * COut * Kernel.Aggregate(1.0, (p, k) => p * k) * Input.Aggregate(1.0, (p, i) => p * i);

    public ConvGeometry Geometry() => Onnx.ConvTransposeGeometry(
        [N, CIn, .. Input.Select(i => (long)i)],
        [CIn, COut / Groups, .. Kernel.Select(k => (long)k)],
        new OnnxConvAttributes
        {
            Strides = [.. Stride.Select(s => (long)s)],
            Pads = [.. Pads.Select(p => (long)p)],
            OutputPadding = [.. OutputPadding.Select(p => (long)p)],
            Dilations = [.. Dilation.Select(d => (long)d)],
            Group = Groups,
        },
        COut);

    public static IReadOnlyList<BenchCase> Load(string path)
    {
        using var stream = File.OpenRead(path);
        var suite = JsonSerializer.Deserialize<Suite>(stream) ?? throw new InvalidDataException($"{path}: empty suite");
        return suite.Cases ?? throw new InvalidDataException($"{path}: no \"cases\" list");
    }

    private sealed record Suite([property: JsonPropertyName("cases")] List<BenchCase>? Cases);
}
