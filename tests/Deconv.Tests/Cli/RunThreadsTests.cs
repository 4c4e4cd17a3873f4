using Deconv.Cli.Formats;

namespace Deconv.Tests.Cli;

[Collection(ProcessWideState.Name)]
public sealed class RunThreadsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("deconv-threads-").FullName;

    public void Dispose()
    {
        ConvOps.Threads = 0;
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Any_thread_count_gives_the_same_bits()
    {
        byte[] Run(string threads)
        {
            var file = Path.Combine(_dir, $"y{threads}.npy");
            var outcome = CliHarness.Run("run", "--input", "random:2x16x16x32:1", "--weight", "random:4x4x24x32:2", "--output-shape", "2,32,32,24",
                "--strides", "2", "--padding", "SAME", "--threads", threads, "--output", file);
            Assert.True(outcome.ExitCode == 0, outcome.Error);
            return File.ReadAllBytes(file);
        }

        var one = Run("1");
        Assert.Equal(one, Run("2"));
        Assert.Equal(one, Run("3"));
        Assert.Equal(2 * 32 * 32 * 24, Npy.Parse(one, "y1.npy").Values.Length);
    }

    [Fact]
    public void A_negative_thread_count_is_a_user_error() =>
        CliHarness.AssertUserError(CliHarness.Run("run", "--input", "ones:1x3x3x1", "--kernel", "2x2", "--threads", "-1"), "--threads", "-1");
}
