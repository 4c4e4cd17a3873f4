using CsCheck;
using Deconv.Cli.Commands;
using Deconv.Cli.Explain;

namespace Deconv.Tests.Cli;

[Collection(ProcessWideState.Name)]
public class ShapeAndConvertCommandTests
{
    /// <summary>Random valid requests in each framework's terms (rank 1-2, channels, groups, strides, dilations, crops).</summary>
    private static readonly Gen<ExplainRequest> Requests =
        from framework in Gen.Int[0, 2].Select(i => new[] { "tf", "torch", "onnx" }[i])
        from rank in Gen.Int[1, 2]
        from input in Gen.Int[1, 4].Array[rank]
        from kernel in Gen.Int[1, 4].Array[rank]
        from stride in Gen.Int[1, 3].Array[rank]
        from dilation in Gen.Int[1, 2].Array[rank]
        from groups in Gen.Int[1, 2]
        from inPerGroup in Gen.Int[1, 2]
        from outPerGroup in Gen.Int[1, 2]
        from mode in Gen.Int[0, 3]
        from extra in Gen.Int[0, 2].Array[rank]
        select Build(framework, input, kernel, stride, dilation, groups * inPerGroup, groups * outPerGroup, groups, mode, extra);

    private static ExplainRequest Build(string framework, int[] input, int[] kernel, int[] stride, int[] dilation, int c, int m, int groups, int mode, int[] extra)
    {
        var rank = input.Length;
        var full = Enumerable.Range(0, rank).Select(a => stride[a] * (input[a] - 1) + dilation[a] * (kernel[a] - 1) + 1).ToArray();
        var request = new ExplainRequest { Framework = framework, Dims = rank, InputSize = input, Kernel = kernel, Stride = stride, Dilation = dilation, InChannels = c, OutChannels = m, Groups = groups };
        return (framework, mode) switch
        {
            ("tf", 0) => request with { Padding = "SAME", OutputSize = [.. Enumerable.Range(0, rank).Select(a => (input[a] - 1) * stride[a] + 1 + (extra[a] % stride[a]))] },
            ("tf", 1) => request with { Padding = "VALID", OutputSize = [.. Enumerable.Range(0, rank).Select(a => full[a] + (extra[a] % stride[a]))] },
            ("tf", _) => request with { Pads = [.. extra.Select(e => Math.Min(e, 1)), .. extra.Select(e => e / 2)], OutputSize = [.. Enumerable.Range(0, rank).Select(a => Math.Max(1, full[a] - Math.Min(extra[a], 1) - extra[a] / 2))] },
            ("torch", _) => request with
            {
                Padding = string.Join(",", Enumerable.Range(0, rank).Select(a => Math.Min(mode % 2 * extra[a], (full[a] - 1) / 2))),
                OutputPadding = [.. Enumerable.Range(0, rank).Select(a => extra[a] % Math.Max(stride[a], dilation[a]))],
            },
            (_, 0) => request with { Padding = "SAME_UPPER" },
            (_, 1) => request with { Padding = "SAME_LOWER", OutputSize = [.. Enumerable.Range(0, rank).Select(a => input[a] * stride[a] + extra[a] - 1)] },
            (_, 2) => request with { OutputSize = [.. Enumerable.Range(0, rank).Select(a => full[a] + extra[a] - 1 + mode)] },
            _ => request with { Pads = [.. extra.Select(e => Math.Min(e, full[0] - 1)), .. new int[rank]], OutputPadding = [.. Enumerable.Range(0, rank).Select(a => extra[a] % Math.Max(stride[a], dilation[a]))] },
        };
    }

    [Fact]
    public void Every_translation_gives_identical_results_on_random_data() =>
        Requests.Sample(request =>
        {
            try
            {
                request.Resolve();
            }
            catch (ArgumentException)
            {
                return; // A generated request the source framework itself rejects.
            }

            foreach (var to in new[] { "tf", "torch", "onnx" })
            {
                var (text, passed) = ConvertCommand.Convert(request, to, seed: 3);
                Assert.True(passed, text);
            }
        }, iter: 400);

    [Fact]
    public void Tf_same_kernel_3_stride_2_to_torch_gives_the_slice_workaround()
    {
        var (exit, output, _) = ConsoleCapture.Run("convert", "--from", "tf", "--to", "torch", "--kernel", "3", "--stride", "2", "--input-size", "4", "--padding", "SAME");
        Assert.Equal(0, exit);
        Assert.Contains("F.conv_transpose2d(input [1, 1, 4, 4], weight [1, 1, 3, 3], stride=[2, 2], padding=[0, 0], output_padding=[0, 0]", output, StringComparison.Ordinal);
        Assert.Contains("then keep positions [0, 8), [0, 8)", output, StringComparison.Ordinal);
        Assert.Contains("permute axes (3, 2, 0, 1)", output, StringComparison.Ordinal);
        Assert.Contains("check: both parameter sets run through the library on random data (seed 1, 64 outputs): identical results", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Torch_padding_1_kernel_4_stride_2_is_tf_same()
    {
        var (exit, output, _) = ConsoleCapture.Run("convert", "--from", "torch", "--to", "tf", "--kernel", "4", "--stride", "2", "--padding", "1", "--in-channels", "2", "--out-channels", "3");
        Assert.Equal(0, exit);
        Assert.Contains("output_shape=[1, 6, 6, 3], strides=[2, 2], padding=\"SAME\"", output, StringComparison.Ordinal);
        Assert.Contains("permute axes (2, 3, 1, 0)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Shape_lists_every_framework_and_the_wanted_size_settings()
    {
        var (exit, output, _) = ConsoleCapture.Run("shape", "--kernel", "3", "--stride", "2", "--input-size", "4", "--padding", "SAME", "--dims", "1", "--want", "8");
        Assert.Equal(0, exit);
        Assert.Contains("= 2*(4-1) + 1*(3-1) + 1 - 0 - 1 = 8", output, StringComparison.Ordinal);
        Assert.Contains("valid output sizes (tf SAME: O in [S*(I-1)+1, S*I]): 7 to 8", output, StringComparison.Ordinal);
        Assert.Contains("onnx:  pads=[0, 1]", output, StringComparison.Ordinal);
        Assert.Contains("torch: not expressible", output, StringComparison.Ordinal);
        Assert.Contains("padding=1, output_padding=1 (or output_size=8)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_parameters_are_one_line_and_exit_2()
    {
        var (exit, _, error) = ConsoleCapture.Run("shape", "--kernel", "2", "--input-size", "3", "--output-size", "5");
        Assert.Equal(2, exit);
        Assert.Contains("valid sizes: 4", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
        (exit, _, error) = ConsoleCapture.Run("convert", "--from", "torch", "--to", "onnx", "--stride", "0");
        Assert.Equal(2, exit);
        Assert.Contains("stride", error, StringComparison.Ordinal);
    }
}
