using System.CommandLine;
using Deconv.Cli.Commands;

namespace Deconv.Cli;

/// <summary>Entry point of the <c>deconv</c> tool.</summary>
public static class Program
{
    /// <summary>Runs the tool; exit code 0 on success, 1 on a failed check, 2 on a user error.</summary>
    public static int Main(string[] args)
    {
        var root = new RootCommand("deconv: transposed convolution with the exact semantics of TensorFlow, PyTorch and ONNX.\n" +
                                   "With no command, prints the three worked examples.");
        root.Subcommands.Add(ExamplesCommand.Create());
        root.Subcommands.Add(OverlapCommand.Create());
        root.Subcommands.Add(UpsampleCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ConformanceCommand.Create());
        root.Subcommands.Add(ExplainCommand.Create());
        root.Subcommands.Add(ShapeCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.SetAction(_ => ExamplesCommand.Print(Console.Out));
        return CommandRunner.Invoke(root, args);
    }
}
