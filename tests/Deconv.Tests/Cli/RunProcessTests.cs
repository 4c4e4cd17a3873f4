using System.Diagnostics;

namespace Deconv.Tests.Cli;

/// <summary>The real <c>deconv</c> process (Program.Main): run is registered, exit codes and stderr are as promised.</summary>
public class RunProcessTests
{
    private static (int ExitCode, string Output, string Error) Deconv(params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "Deconv.Cli.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(cli);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public void Example_1_from_the_process()
    {
        var (code, output, error) = Deconv("run", "--framework", "tf", "--op", "conv2d_transpose", "--input", "ones:1x3x3x1", "--weight", "ones:2x2x1x1",
            "--output-shape", "1,4,4,1", "--strides", "1", "--padding", "VALID");
        Assert.Equal("", error);
        Assert.Equal(0, code);
        Assert.Contains("[0, :, :, 0]\n  1 2 2 1\n  2 4 4 2\n  2 4 4 2\n  1 2 2 1\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_parameter_exits_2_with_one_line_on_stderr()
    {
        var (code, output, error) = Deconv("run", "--input", "ones:1x3x3x1", "--weight", "ones:2x2x1x1", "--strides", "0");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("deconv: --strides (strides): ", line, StringComparison.Ordinal);
    }
}
