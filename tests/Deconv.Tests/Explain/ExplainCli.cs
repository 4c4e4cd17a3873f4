using System.CommandLine;
using Deconv.Cli;
using Deconv.Cli.Commands;

namespace Deconv.Tests.Explain;

/// <summary>Runs <c>deconv explain ARGS</c> in-process with captured output.</summary>
internal static class ExplainCli
{
    public static (int Exit, string Out, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var root = new RootCommand("test");
        root.Subcommands.Add(ExplainCommand.Create(output));
        var exit = CommandRunner.Invoke(root, ["explain", .. args], error);
        return (exit, output.ToString(), error.ToString());
    }
}
