using static Deconv.Tests.Cli.CliHarness;

namespace Deconv.Tests.Cli;

/// <summary>User errors in <c>deconv run</c>: exit code 2, one line on stderr naming the parameter, no stack trace.</summary>
public sealed class RunErrorTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("deconv-run-errors").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static readonly string[] TfExample = ["run", "--framework", "tf", "--input", "ones:1x3x3x1", "--weight", "ones:2x2x1x1"];
    private static readonly string[] TorchExample = ["run", "--framework", "torch", "--input", "ones:1x2x3x3", "--weight", "ones:2x1x2x2"];
    private static readonly string[] OnnxExample = ["run", "--framework", "onnx", "--input", "ones:1x2x3x3", "--weight", "ones:2x1x2x2"];

    [Theory]
    // TensorFlow parameters, checked by the library with TensorFlow's rules.
    [InlineData("tf", "--strides", "0", "strides")]
    [InlineData("tf", "--strides", "1,2,3", "strides")]
    [InlineData("tf", "--padding", "FULL", "padding")]
    [InlineData("tf", "--padding", "1,1,1", "--padding")]
    [InlineData("tf", "--padding", "-1,0,0,0", "padding")]
    [InlineData("tf", "--output-shape", "1,5,5,1", "output_shape")]
    [InlineData("tf", "--output-shape", "1,4,4", "output_shape")]
    [InlineData("tf", "--data-format", "HWCN", "data_format")]
    [InlineData("tf", "--dilations", "0", "dilations")]
    [InlineData("tf", "--strides", "two", "--strides")]
    // PyTorch parameters.
    [InlineData("torch", "--stride", "0", "stride")]
    [InlineData("torch", "--groups", "0", "groups")]
    [InlineData("torch", "--groups", "3", "groups")]
    [InlineData("torch", "--output-padding", "1", "output_padding")]
    [InlineData("torch", "--padding", "same", "padding")]
    [InlineData("torch", "--padding", "5", "padding")]
    [InlineData("torch", "--dilation", "1,1,1", "dilation")]
    [InlineData("torch", "--output-size", "9,9", "output_size")]
    [InlineData("torch", "--bias", "ones:3", "bias")]
    // ONNX attributes.
    [InlineData("onnx", "--auto-pad", "SAME", "auto_pad")]
    [InlineData("onnx", "--pads", "1", "pads")]
    [InlineData("onnx", "--pads", "-1,0,0,0", "pads")]
    [InlineData("onnx", "--group", "3", "group")]
    [InlineData("onnx", "--output-padding", "2,2", "output_padding")]
    [InlineData("onnx", "--kernel-shape", "3,3", "kernel_shape")]
    [InlineData("onnx", "--strides", "1,1,1", "strides")]
    [InlineData("onnx", "--bias", "ones:2", "B")]
    public void Invalid_framework_parameter_gives_exit_2_and_one_line_naming_it(string framework, string option, string value, string parameter)
    {
        string[] example = framework switch { "tf" => TfExample, "torch" => TorchExample, _ => OnnxExample };
        var line = AssertUserError(Run([.. example, option, value]), parameter);
        // The line also names the command-line option to change.
        Assert.Contains(option, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--framework", "jax")]
    [InlineData("--op", "conv4d")]
    [InlineData("--dtype", "float16")]
    [InlineData("--output", "result.txt")]
    [InlineData("--stride", "2")] // a torch option given to tf
    [InlineData("--bias", "ones:1")] // TensorFlow's ops take no bias
    [InlineData("--kernel", "2x2")] // both --weight and --kernel
    public void Invalid_command_options_give_exit_2_and_name_the_option(string option, string value) =>
        AssertUserError(Run([.. TfExample, option, value]), option);

    [Theory]
    [InlineData("onez:1x3x3x1")]
    [InlineData("ones:1x3xx1")]
    [InlineData("ones:")]
    [InlineData("ones:1x3x3x1:5")]
    [InlineData("range:1x3x3x1:abc")]
    [InlineData("random:1x3x3x1")]
    [InlineData("random:1x3x3x1:-4")]
    [InlineData("1,2,3:2x2")]
    [InlineData("1,two:2")]
    [InlineData("ones:100000x100000x100000")]
    [InlineData("ones:9223372036854775807x2")]
    public void Malformed_tensor_specs_give_exit_2_and_name_the_option(string spec) =>
        AssertUserError(Run("run", "--input", spec, "--weight", "ones:2x2x1x1"), "--input");

    [Fact]
    public void Missing_tensors_and_files_are_user_errors()
    {
        AssertUserError(Run("run", "--weight", "ones:2x2x1x1"), "--input");
        AssertUserError(Run("run", "--input", "ones:1x3x3x1"), "--weight", "--kernel");
        AssertUserError(Run("run", "--input", Path.Combine(directory, "absent.npy"), "--kernel", "2x2"), "--input", "absent.npy");
        AssertUserError(Run("run", "--input", "ones:1x3x3x1", "--kernel", "2"), "--kernel");
        AssertUserError(Run("run", "--op", "conv2d_backprop_filter", "--input", "ones:1x3x3x1", "--out-backprop", "ones:1x2x2x1"), "--filter-sizes");
        AssertUserError(Run("run", "--op", "conv2d_backprop_filter", "--input", "ones:1x3x3x1", "--out-backprop", "ones:1x3x3x1", "--filter-sizes", "2,2,1,1"), "out_backprop");
    }

    [Fact]
    public void Malformed_npy_file_is_a_user_error_naming_the_file()
    {
        var path = Path.Combine(directory, "broken.npy");
        File.WriteAllBytes(path, "\x93NUMPY not really"u8.ToArray());
        AssertUserError(Run("run", "--input", path, "--kernel", "2x2"), "broken.npy");
    }

    [Fact]
    public void Unwritable_output_is_a_user_error()
    {
        var path = Path.Combine(directory, "no-such-dir", "y.npy");
        AssertUserError(Run([.. TfExample, "--output", path]), "y.npy");
    }

    [Fact]
    public void A_result_too_large_to_hold_is_refused_before_computing()
    {
        // Valid for TensorFlow (VALID, stride 10000: sizes 10001 to 20000) but 4e8 elements.
        AssertUserError(Run("run", "--input", "ones:1x2x2x1", "--weight", "ones:1x1x1x1", "--strides", "10000", "--output-shape", "1,20000,20000,1"), "400000000 elements", "at most");
        // Beyond what an array can hold: the library's own check, attributed to the option that asked for it.
        AssertUserError(Run("run", "--input", "ones:1x2x2x1", "--weight", "ones:1x1x1x1", "--strides", "40000", "--output-shape", "1,80000,80000,1"), "--output-shape");
        AssertUserError(Run("run", "--framework", "torch", "--input", "ones:1x1x2x2", "--weight", "ones:1x1x1x1", "--stride", "40000", "--output-size", "80000,80000"), "--output-size");
    }

    [Fact]
    public void Unknown_option_is_a_parse_error_with_exit_2() =>
        AssertUserError(Run([.. TfExample, "--bogus", "1"]), "--bogus");
}
