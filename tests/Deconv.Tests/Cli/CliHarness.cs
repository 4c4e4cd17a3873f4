using System.CommandLine;
using Deconv.Cli;
using Deconv.Cli.Commands;

namespace Deconv.Tests.Cli;

/// <summary>Runs the deconv command line in-process with captured stdout and stderr.</summary>
internal static class CliHarness
{
    public sealed record Outcome(int ExitCode, string Output, string Error)
    {
        /// <summary>The matrix rows printed (indented lines) with single spaces between numbers, e.g. "1 2 2 1".</summary>
        public string[] MatrixRows => [.. Output.Split('\n').Where(l => l.StartsWith("  ", StringComparison.Ordinal))
            .Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries)))];

        /// <summary>The slice headers printed, e.g. "[0, :, :, 0]".</summary>
        public string[] Headers => [.. Output.Split('\n').Where(l => l.StartsWith('[')).Select(l => l.Trim())];

        public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public static Outcome Run(params string[] args)
    {
        // The same commands Program.Main registers.
        var root = new RootCommand("deconv") { Subcommands = { ExamplesCommand.Create(), RunCommand.Create() } };
        var output = new StringWriter();
        var error = new StringWriter();
        var code = CommandRunner.Invoke(root, args, output, error);
        return new Outcome(code, output.ToString(), error.ToString());
    }

    /// <summary>Asserts a user error: exit code 2, nothing on stdout, exactly one line on stderr starting "deconv: " and containing every fragment.</summary>
    public static string AssertUserError(Outcome outcome, params string[] fragments)
    {
        Assert.True(outcome.ExitCode == 2, $"exit code {outcome.ExitCode}, stderr: {outcome.Error}, stdout: {outcome.Output}");
        Assert.Equal("", outcome.Output);
        var line = Assert.Single(outcome.ErrorLines);
        Assert.StartsWith("deconv: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Deconv", line, StringComparison.Ordinal);
        foreach (var fragment in fragments)
        {
            Assert.Contains(fragment, line, StringComparison.Ordinal);
        }

        return line;
    }
}
