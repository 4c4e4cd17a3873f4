using Deconv.Cli.Run;
using static Deconv.Tests.Cli.CliHarness;

namespace Deconv.Tests.Cli;

public class TensorTextTests
{
    private static string Write(double[] values, long[] shape, int row, int column)
    {
        var output = new StringWriter();
        TensorText.Write(output, values, shape, row, column);
        return output.ToString();
    }

    [Fact]
    public void Channels_first_4d_prints_one_matrix_per_batch_and_channel()
    {
        // [N=1, C=2, H=2, W=3] = 0..11: channel 0 is 0..5, channel 1 is 6..11.
        var text = Write([.. Enumerable.Range(0, 12).Select(i => (double)i)], [1, 2, 2, 3], 2, 3);
        Assert.Equal("[0, 0, :, :]\n  0 1 2\n  3 4 5\n[0, 1, :, :]\n   6  7  8\n   9 10 11\n", text);
    }

    [Fact]
    public void Channels_last_picks_strided_elements()
    {
        // [N=1, H=2, W=2, C=2] = 0..7: channel 0 holds the even values.
        var text = Write([.. Enumerable.Range(0, 8).Select(i => (double)i)], [1, 2, 2, 2], 1, 2);
        Assert.Equal("[0, :, :, 0]\n  0 2\n  4 6\n[0, :, :, 1]\n  1 3\n  5 7\n", text);
    }

    [Fact]
    public void Scalars_vectors_and_empty_tensors()
    {
        Assert.Equal("[]\n  2.5\n", Write([2.5], [], -1, 0));
        Assert.Equal("[:]\n   1 -2\n", Write([1, -2], [2], -1, 0));
        Assert.Equal("(no elements)\n", Write([], [1, 0, 3], 1, 2));
    }

    [Fact]
    public void Run_help_lists_every_op_and_framework_option()
    {
        var outcome = Run("run", "--help");
        Assert.Equal(0, outcome.ExitCode);
        foreach (var (framework, ops) in OpRunner.Ops)
        {
            foreach (var (op, options) in ops)
            {
                Assert.Contains(op, outcome.Output, StringComparison.Ordinal);
                Assert.All(options.Split(' '), option => Assert.Contains(option, outcome.Output, StringComparison.Ordinal));
            }
        }
    }
}
