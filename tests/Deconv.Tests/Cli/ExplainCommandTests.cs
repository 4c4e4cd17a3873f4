using Deconv.Cli;
using Deconv.Cli.Commands;
using Deconv.Cli.Explain;
using Deconv.Tests.Explain;

namespace Deconv.Tests.Cli;

[Collection(ProcessWideState.Name)]
public class ExplainCommandTests
{
    [Fact]
    public void Default_is_the_first_worked_example_ending_with_result_and_check()
    {
        var (exit, output, error) = ExplainCli.Run();
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.StartsWith("deconv explain: tf.nn.conv2d_transpose(input [1, 3, 3, 1], filters [2, 2, 1, 1], output_shape=[1, 4, 4, 1]", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("check: gather, scatter, matrix, gradient equal ConvOps.Transpose", lines[^1], StringComparison.Ordinal);
        var result = Array.FindIndex(lines, l => l.StartsWith("8. Result", StringComparison.Ordinal));
        Assert.Equal(["1 2 2 1", "2 4 4 2", "2 4 4 2", "1 2 2 1"], lines.Skip(result + 1).Take(4).Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))));
        Assert.DoesNotContain("\u001b[", output, StringComparison.Ordinal);
        Assert.Contains("try --values range to see the kernel flip", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Steps_appear_in_order()
    {
        var (_, output, _) = ExplainCli.Run("--stride", "2", "--input-size", "2");
        var headings = new[] { "1. Geometry", "2. Input", "3. Gather view", "4. Scatter view", "5. Matrix view", "6. Phase view", "7. Gradient view", "8. Result", "check:" };
        var positions = headings.Select(h => output.IndexOf(h, StringComparison.Ordinal)).ToList();
        Assert.All(positions, p => Assert.True(p >= 0));
        Assert.Equal(positions.Order(), positions);
        Assert.Contains("phase r = (1,0): taps k0 in {1}, k1 in {0}", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Colour_only_when_asked()
    {
        var request = new ExplainRequest();
        var coloured = new StringWriter();
        Assert.Equal(0, ExplainCommand.Run(request, null, "text", null, coloured, colour: true));
        Assert.Contains("\u001b[1m1. Geometry", coloured.ToString(), StringComparison.Ordinal);
        Assert.Contains("\u001b[32mcheck:", coloured.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void At_shows_one_position_and_the_stamps_that_reach_it()
    {
        var (exit, output, _) = ExplainCli.Run("--at", "0,0", "--values", "range");
        Assert.Equal(0, exit);
        Assert.Contains("    y[0,0] = 0*4 + 0*3 + 0*2 + 1*1 = 1\n", output, StringComparison.Ordinal);
        Assert.DoesNotContain("y[0,1] = ", output, StringComparison.Ordinal);
        // Only x[0,0] reaches y[0,0].
        Assert.Contains("  x[0,0] = 1: ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("  x[0,1] = 2: ", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tf output size", new[] { "--output-size", "5" }, "output_shape[1] = 5 is not a valid output size", "valid sizes: 4")]
    [InlineData("tf SAME output size", new[] { "--padding", "SAME", "--stride", "2", "--output-size", "9" }, "not a valid output size", "valid sizes: 5 to 6")]
    [InlineData("torch output_padding", new[] { "--framework", "torch", "--stride", "2", "--output-padding", "2" }, "output padding must be smaller than either stride or dilation", "valid --output-padding per axis: 0 to 1, 0 to 1")]
    [InlineData("torch output_size", new[] { "--framework", "torch", "--stride", "2", "--output-size", "9" }, "requested an output size of [9, 9]", "valid sizes range from 6 to 7")]
    [InlineData("torch padding", new[] { "--framework", "torch", "--padding", "3" }, "too small", "--padding 0 to 1")]
    [InlineData("onnx pads", new[] { "--framework", "onnx", "--pads", "2,2,2,2" }, "is not positive", "pads_begin + pads_end 0 to 3")]
    [InlineData("onnx output_padding", new[] { "--framework", "onnx", "--output-padding", "1" }, "must be less than max(stride, dilation)", "valid --output-padding per axis: 0 to 0")]
    [InlineData("at", new[] { "--at", "4,0" }, "--at 4,0 is not an output position of the 4x4 output", "e.g. 2,2")]
    [InlineData("groups", new[] { "--in-channels", "4", "--out-channels", "2", "--groups", "3" }, "must divide both", "valid group counts: 1, 2")]
    [InlineData("pair", new[] { "--in-channels", "2", "--out-channels", "2", "--groups", "2", "--pair", "0,1" }, "output channel 1 is not connected to input channel 0", "feeds output channels 0 to 0")]
    [InlineData("tf padding", new[] { "--padding", "FULL" }, "--padding must be VALID or SAME", "--pads")]
    [InlineData("tf pads and SAME", new[] { "--pads", "1,0,1,0", "--padding", "SAME" }, "cannot be combined with --padding SAME", "drop one of them")]
    [InlineData("tf explicit output size", new[] { "--pads", "1,0,1,0", "--stride", "2", "--kernel", "3", "--output-size", "4,7" }, "not a valid output size", "valid sizes: 5 to 6")]
    [InlineData("tf output_padding", new[] { "--output-padding", "1" }, "has no output_padding", "--output-size")]
    [InlineData("list length", new[] { "--kernel", "2,2,2", "--input-size", "3,3" }, "--input-size has 2 values but the explanation has 3 spatial axes", "give 1 or 3")]
    [InlineData("not a number", new[] { "--kernel", "two" }, "--kernel: 'two' is not a list of integers", "3,4")]
    [InlineData("framework", new[] { "--framework", "caffe" }, "caffe", "tf")]
    public void Invalid_parameters_name_the_rule_and_the_valid_choices_and_exit_2(string what, string[] args, string rule, string choices)
    {
        var (exit, output, error) = ExplainCli.Run(args);
        Assert.True(exit == 2, what);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("deconv: ", error, StringComparison.Ordinal);
        Assert.Contains(rule, error, StringComparison.Ordinal);
        Assert.Contains(choices, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Writes_svg_and_html_files()
    {
        var dir = Directory.CreateTempSubdirectory("deconv-explain-");
        try
        {
            var svg = Path.Combine(dir.FullName, "a.svg");
            var html = Path.Combine(dir.FullName, "a.html");
            var (exit, output, _) = ExplainCli.Run("--format", "svg", "--output", svg);
            Assert.Equal(0, exit);
            Assert.Contains("wrote " + svg, output, StringComparison.Ordinal);
            Assert.StartsWith("<?xml", File.ReadAllText(svg), StringComparison.Ordinal);
            Assert.Equal(0, ExplainCli.Run("--format", "html", "--output", html).Exit);
            Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(html), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Program_registers_explain()
    {
        var file = Path.Combine(Path.GetTempPath(), $"deconv-explain-{Guid.NewGuid():N}.svg");
        try
        {
            Assert.Equal(0, Program.Main(["explain", "--format", "svg", "--output", file]));
            Assert.Contains("<svg ", File.ReadAllText(file), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
