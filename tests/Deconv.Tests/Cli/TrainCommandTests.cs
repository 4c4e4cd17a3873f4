using Deconv.Cli;
using Deconv.Cli.Commands;

namespace Deconv.Tests.Cli;

[Collection(ProcessWideState.Name)]
public class TrainCommandTests
{
    [Fact]
    public void Training_the_upsampling_kernel_cuts_the_loss_more_than_tenfold_in_few_steps()
    {
        var output = new StringWriter();
        var (initial, final) = TrainCommand.Run(output, steps: 60, seed: 1, learningRate: 0.05f);
        Assert.True(final < initial / 10, $"loss {initial} -> {final}");
        var text = output.ToString();
        Assert.Contains("step     0", text, StringComparison.Ordinal);
        Assert.Contains("step    60", text, StringComparison.Ordinal);
        // The bilinear kernel is printed beside the learned one.
        Assert.Contains(" 0.0625  0.1875  0.1875  0.0625", text, StringComparison.Ordinal);
        Assert.Contains(" 0.1875  0.5625  0.5625  0.1875", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Printed_losses_fall_and_the_run_is_deterministic()
    {
        var first = new StringWriter();
        var second = new StringWriter();
        TrainCommand.Run(first, steps: 40, seed: 7, learningRate: 0.05f);
        TrainCommand.Run(second, steps: 40, seed: 7, learningRate: 0.05f);
        Assert.Equal(first.ToString(), second.ToString());
        var losses = first.ToString().Split('\n').Where(l => l.TrimStart().StartsWith("step", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.IndexOf("loss", StringComparison.Ordinal) + 4)..], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(11, losses.Length);
        Assert.True(losses[^1] < losses[0] / 10, string.Join(", ", losses));
    }

    [Fact]
    public void The_bilinear_kernel_is_the_outer_product_of_its_taps()
    {
        var k = TrainCommand.BilinearKernel();
        Assert.Equal(16, k.Length);
        Assert.Equal(0.25f * 0.25f, k[0]);
        Assert.Equal(0.75f * 0.75f, k[5]);
        Assert.Equal(0.25f * 0.75f, k[1]);
        Assert.Equal(4f, k.Sum());
    }

    [Fact]
    public void Downsampling_averages_2x2_blocks()
    {
        float[] image = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        Assert.Equal([3.5f, 5.5f, 11.5f, 13.5f], TrainCommand.Downsample(image, 1, 4));
    }

    [Theory]
    [InlineData("--steps", "0")]
    [InlineData("--lr", "-1")]
    [InlineData("--lr", "NaN")]
    public void Bad_options_are_user_errors(string option, string value)
    {
        Assert.Equal(2, Program.Main(["train", option, value]));
    }

    [Fact]
    public void A_bad_option_names_itself()
    {
        var e = Assert.Throws<ArgumentException>(() => TrainCommand.Run(TextWriter.Null, 0, 1, 0.05f));
        Assert.Contains("--steps", e.Message, StringComparison.Ordinal);
    }
}
