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
    /// <summary>
    /// The flops the layer needs: 2 for each product of an input value and a tap that lands inside the output. The suite's
    /// flops, 2 * N * (C_in/G) * C_out * prod(kernel) * prod(input), also count the products whose output the padding
    /// crops away (a quarter of dcgan1's: 4 x 4 inputs, kernel 4, stride 2, padding 1). GFLOP/s and % of peak count these.
    /// </summary>
    public double NeededFlops
    {
        get
        {
            var flops = 2.0 * N * (CIn / Groups) * COut;
            foreach (var axis in Geometry().Axes)
            {
                long inside = 0;
                for (var i = 0; i < axis.Input; i++)
                for (var k = 0; k < axis.Kernel; k++)
                {
                    var o = (long)i * axis.Stride + (long)k * axis.Dilation - axis.CropBegin;
                    inside += o >= 0 && o < axis.Output ? 1 : 0;
                }

                flops *= inside;
            }

            return flops;
        }
    }

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
