using Deconv.Tests.Explain;

namespace Deconv.Tests.Cli;

public class ExplainBatchTests
{
    [Fact]
    public void A_batch_item_can_be_picked_and_its_numbers_are_shown()
    {
        var (exit, output, error) = ExplainCli.Run("--batch", "2", "--pick-batch", "1", "--values", "range", "--input-size", "2");
        Assert.True(exit == 0, error);
        Assert.Contains("input [2, 2, 2, 1]", output, StringComparison.Ordinal);
        Assert.Contains("shown: batch 1, input channel 0 -> output channel 0", output, StringComparison.Ordinal);
        // Batch item 1 of range data holds 5..8; its first output is 5 * 1.
        Assert.Contains("     5  6\n     7  8\n", output, StringComparison.Ordinal);
        Assert.Contains("y[0,0] = 0*4 + 0*3 + 0*2 + 5*1 = 5", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_item_out_of_range_is_one_line_and_exit_2()
    {
        var (exit, _, error) = ExplainCli.Run("--batch", "2", "--pick-batch", "2");
        Assert.Equal(2, exit);
        Assert.Contains("--pick-batch: batch is 2 but the geometry has 2 batch items (0 to 1)", error, StringComparison.Ordinal);
    }
}
