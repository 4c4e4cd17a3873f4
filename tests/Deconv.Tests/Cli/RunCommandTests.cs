using System.Buffers.Binary;
using System.Text;
using Deconv.Cli.Formats;
using static Deconv.Tests.Cli.CliHarness;

namespace Deconv.Tests.Cli;

/// <summary><c>deconv run</c> end to end, in-process: the worked examples in each framework's terms, every tensor form, .npy in and out.</summary>
public sealed class RunCommandTests : IDisposable
{
    private static readonly string[] Example1 = ["1 2 2 1", "2 4 4 2", "2 4 4 2", "1 2 2 1"];
    private static readonly string[] Example2 = ["1 1 1 1", "1 1 1 1", "1 1 1 1", "1 1 1 1"];
    private static readonly string[] Example3 = ["1 2 2 2", "2 4 4 4", "2 4 4 4", "2 4 4 4"];

    private readonly string directory = Directory.CreateTempSubdirectory("deconv-run-tests").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Tf_example_1_prints_the_matrix_under_a_slice_header()
    {
        var outcome = Run("run", "--framework", "tf", "--op", "conv2d_transpose", "--input", "ones:1x3x3x1", "--weight", "ones:2x2x1x1",
            "--output-shape", "1,4,4,1", "--strides", "1", "--padding", "VALID");
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal("", outcome.Error);
        Assert.Equal(["[0, :, :, 0]"], outcome.Headers);
        Assert.Equal(Example1, outcome.MatrixRows);
        Assert.StartsWith("tf.nn.conv2d_transpose -> [1, 4, 4, 1] float32", outcome.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ones:1x2x2x1", "2", "VALID", 2)]
    [InlineData("ones:1x4x4x1", "1", "SAME", 3)]
    [InlineData("ones:1x4x4x1", "1", "0,0,0,1,0,1,0,0", 3)] // SAME as explicit padding of the conv: 0 before, 1 after
    [InlineData("ones:1x4x4x1", "1", "0,1,0,1", 3)]
    public void Tf_examples_2_and_3(string input, string strides, string padding, int example)
    {
        var outcome = Run("run", "--framework", "tf", "--input", input, "--weight", "ones:2x2x1x1",
            "--output-shape", "1,4,4,1", "--strides", strides, "--padding", padding);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(example == 2 ? Example2 : Example3, outcome.MatrixRows);
    }

    [Theory]
    [InlineData("ones:1x1x3x3", "1", 1)]
    [InlineData("ones:1x1x2x2", "2", 2)]
    public void Torch_examples_1_and_2(string input, string stride, int example)
    {
        var outcome = Run("run", "--framework", "torch", "--op", "conv_transpose2d", "--input", input, "--weight", "ones:1x1x2x2", "--stride", stride);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(["[0, 0, :, :]"], outcome.Headers);
        Assert.Equal(example == 1 ? Example1 : Example2, outcome.MatrixRows);
    }

    [Fact]
    public void Torch_example_3_is_the_top_left_of_the_uncropped_result()
    {
        // PyTorch pads symmetrically, so TF's SAME crop (1 at the end) is not one conv_transpose2d call;
        // the full 5x5 result is, and its top-left 4x4 block is the SAME result.
        var outcome = Run("run", "--framework", "torch", "--input", "ones:1x1x4x4", "--weight", "ones:1x1x2x2");
        Assert.Equal(0, outcome.ExitCode);
        var rows = outcome.MatrixRows;
        Assert.Equal(5, rows.Length);
        Assert.Equal(Example3, rows.Take(4).Select(r => string.Join(' ', r.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(4))));
        Assert.Equal("1 2 2 2 1", rows[4]);
    }

    [Theory]
    [InlineData("ones:1x1x3x3", new[] { "--strides", "1,1" }, 1)]
    [InlineData("ones:1x1x2x2", new[] { "--strides", "2,2" }, 2)]
    [InlineData("ones:1x1x4x4", new[] { "--pads", "0,0,1,1" }, 3)]
    [InlineData("ones:1x1x4x4", new[] { "--auto-pad", "SAME_UPPER" }, 3)]
    [InlineData("ones:1x1x4x4", new[] { "--output-shape", "4,4", "--auto-pad", "SAME_UPPER" }, 3)]
    public void Onnx_examples(string input, string[] attributes, int example)
    {
        var outcome = Run(["run", "--framework", "onnx", "--op", "ConvTranspose", "--input", input, "--weight", "ones:1x1x2x2", .. attributes]);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(example switch { 1 => Example1, 2 => Example2, _ => Example3 }, outcome.MatrixRows);
    }

    [Fact]
    public void Default_op_is_the_transposed_2d_op_and_kernel_gives_an_all_ones_weight()
    {
        Assert.Equal(Example1, Run("run", "--input", "ones:1x3x3x1", "--kernel", "2x2").MatrixRows);
        Assert.Equal(Example3, Run("run", "--input", "ones:1x4x4x1", "--kernel", "2x2", "--padding", "SAME").MatrixRows);
        Assert.Equal(Example1, Run("run", "--framework", "torch", "--input", "ones:1x1x3x3", "--kernel", "2x2").MatrixRows);
        Assert.Equal(Example1, Run("run", "--framework", "onnx", "--input", "ones:1x1x3x3", "--kernel", "2,2").MatrixRows);
    }

    [Fact]
    public void Tf_output_shape_defaults_to_the_smallest_valid_size()
    {
        // VALID stride 2, input 2, kernel 3: sizes 5 and 6 are valid; the default is 5.
        var outcome = Run("run", "--input", "ones:1x2x1x1", "--weight", "ones:3x1x1x1", "--strides", "2");
        Assert.Equal(0, outcome.ExitCode);
        Assert.StartsWith("tf.nn.conv2d_transpose -> [1, 5, 1, 1]", outcome.Output, StringComparison.Ordinal);
        Assert.Equal(["1", "1", "2", "1", "1"], outcome.MatrixRows);
    }

    [Fact]
    public void Literal_and_range_tensors_give_hand_computed_values()
    {
        // y[o] = sum_i x[i] w[o - i] for x = 0,1,2 and w = 1,10: [0, 1, 12, 20].
        var transposed = Run("run", "--framework", "torch", "--op", "conv_transpose1d", "--input", "range:1x1x3", "--weight", "1,10:1x1x2");
        Assert.Equal(["[0, 0, :]"], transposed.Headers);
        Assert.Equal(["0 1 12 20"], transposed.MatrixRows);

        // range with a start, a bias: x = 5,6,7, w = 1 (1x1 kernel), bias 0.5.
        var biased = Run("run", "--framework", "onnx", "--op", "Conv", "--input", "range:1x1x3:5", "--weight", "1:1x1x1", "--bias", "0.5:1");
        Assert.Equal(["5.5 6.5 7.5"], biased.MatrixRows);

        // conv2d (cross-correlation): 1*1 + 2*0 + 3*0 + 4*(-1) = -3.
        var forward = Run("run", "--framework", "torch", "--op", "conv2d", "--input", "1,2,3,4:1x1x2x2", "--weight", "1,0,0,-1:1x1x2x2");
        Assert.Equal(["-3"], forward.MatrixRows);

        // zeros input gives zeros; a literal without a shape is 1-D (here the bias).
        var zeros = Run("run", "--framework", "torch", "--input", "zeros:1x1x2x2", "--kernel", "2x2", "--bias", "7");
        Assert.Equal(["7 7 7", "7 7 7", "7 7 7"], zeros.MatrixRows);
    }

    [Fact]
    public void Random_tensors_are_reproducible_and_depend_on_the_seed()
    {
        string[] Values(string spec, string dtype) => Run("run", "--framework", "torch", "--op", "conv2d", "--input", spec, "--kernel", "1x1", "--dtype", dtype).MatrixRows;
        var first = Values("random:1x1x3x4:42", "float32");
        Assert.Equal(first, Values("random:1x1x3x4:42", "float32"));
        Assert.NotEqual(first, Values("random:1x1x3x4:43", "float32"));
        // The values are multiples of 2^-23, exact in both dtypes, so float64 gives the same numbers.
        static double[] Numbers(string[] rows, bool single) => [.. rows.SelectMany(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(s => single ? float.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : double.Parse(s, System.Globalization.CultureInfo.InvariantCulture))];
        var numbers = Numbers(first, single: true);
        Assert.Equal(numbers, Numbers(Values("random:1x1x3x4:42", "float64"), single: false));
        Assert.All(numbers, v => Assert.Equal(v, Math.Round(v * (1 << 23)) / (1 << 23)));
        Assert.Equal(12, numbers.Length);
        Assert.All(numbers, v => Assert.InRange(v, -1.0, 1.0 - 1e-9));
        Assert.True(numbers.Distinct().Count() > 10);
    }

    [Fact]
    public void Three_d_results_print_one_slice_per_leading_index()
    {
        // NDHWC [1, 2, 2, 2, 2] from a 1x1x1 input and a 2x2x2 kernel with 2 output channels: every value 1.
        var outcome = Run("run", "--op", "conv3d_transpose", "--input", "ones:1x1x1x1x1", "--weight", "ones:2x2x2x2x1", "--output-shape", "1,2,2,2,2");
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(["[0, 0, :, :, 0]", "[0, 0, :, :, 1]", "[0, 1, :, :, 0]", "[0, 1, :, :, 1]"], outcome.Headers);
        Assert.Equal(8, outcome.MatrixRows.Length);
        Assert.All(outcome.MatrixRows, r => Assert.Equal("1 1", r));
    }

    [Fact]
    public void Backprop_filter_takes_input_out_backprop_and_filter_sizes()
    {
        // dW[kh, kw] = sum over outputs of x[oh + kh, ow + kw] * dy[oh, ow]; with x = 0..8 (3x3) and dy = ones (2x2):
        // dW[0,0] = 0+1+3+4 = 8, dW[0,1] = 1+2+4+5 = 12, dW[1,0] = 3+4+6+7 = 20, dW[1,1] = 4+5+7+8 = 24.
        var outcome = Run("run", "--op", "conv2d_backprop_filter", "--input", "range:1x3x3x1", "--out-backprop", "ones:1x2x2x1", "--filter-sizes", "2,2,1,1");
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(["[:, :, 0, 0]"], outcome.Headers);
        Assert.Equal(["8 12", "20 24"], outcome.MatrixRows);
    }

    [Fact]
    public void Backprop_input_and_depthwise_run()
    {
        Assert.Equal(Example1, Run("run", "--op", "conv2d_backprop_input", "--input", "ones:1x3x3x1", "--weight", "ones:2x2x1x1", "--output-shape", "1,4,4,1").MatrixRows);
        // depthwise 2x2 VALID over ones 3x3 with 2 channels, multiplier 1: each channel gives 4 everywhere.
        var outcome = Run("run", "--op", "depthwise_conv2d", "--input", "ones:1x3x3x2", "--weight", "ones:2x2x2x1");
        Assert.Equal(["[0, :, :, 0]", "[0, :, :, 1]"], outcome.Headers);
        Assert.All(outcome.MatrixRows, r => Assert.Equal("4 4", r));
    }

    [Fact]
    public void Npy_input_written_per_the_format_spec_and_npy_output_round_trip()
    {
        // A float64 input 3x3 of ones in NCHW, hand-encoded.
        var input = Path.Combine(directory, "x.npy");
        File.WriteAllBytes(input, HandEncodedF8([1, 1, 3, 3], [.. Enumerable.Repeat(1.0, 9)]));
        var output = Path.Combine(directory, "y.npy");
        var outcome = Run("run", "--framework", "onnx", "--input", input, "--weight", "ones:1x1x2x2", "--dtype", "float64", "--output", output);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("written to", outcome.Output, StringComparison.Ordinal);
        var y = Npy.Read(output);
        Assert.Equal("<f8", y.Descr);
        Assert.Equal([1L, 1, 4, 4], y.Shape);
        Assert.Equal([1.0, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1], y.Values);

        // The written file reads back through run as an input.
        var again = Run("run", "--framework", "onnx", "--op", "Conv", "--input", output, "--kernel", "1x1");
        Assert.Equal(Example1, again.MatrixRows);
    }

    [Fact]
    public void Float32_output_file_has_dtype_f4()
    {
        var output = Path.Combine(directory, "y32.npy");
        Assert.Equal(0, Run("run", "--input", "ones:1x2x2x1", "--kernel", "2x2", "--strides", "2", "--output", output).ExitCode);
        var y = Npy.Read(output);
        Assert.Equal("<f4", y.Descr);
        Assert.Equal([1L, 4, 4, 1], y.Shape);
        Assert.All(y.Values, v => Assert.Equal(1.0, v));
    }

    private static byte[] HandEncodedF8(long[] shape, double[] values)
    {
        var dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + string.Join(", ", shape) + "), }";
        // Spaces then a newline so that the data starts at a multiple of 64 bytes.
        var total = (10 + dict.Length + 1 + 63) / 64 * 64;
        var header = dict.PadRight(total - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.AddRange([1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8)]);
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        foreach (var v in values)
        {
            var item = new byte[8];
            BinaryPrimitives.WriteDoubleLittleEndian(item, v);
            bytes.AddRange(item);
        }

        return [.. bytes];
    }
}
