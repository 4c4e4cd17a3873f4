using Deconv.Cli;
using Deconv.Cli.Commands;

namespace Deconv.Tests.Cli;

[Collection(ProcessWideState.Name)]
public class ExamplesCommandTests
{
    [Fact]
    public void Prints_the_three_worked_examples_as_4x4_matrices()
    {
        var output = new StringWriter();
        Assert.Equal(0, ExamplesCommand.Print(output));
        var text = output.ToString();
        var matrices = text.Split('\n').Where(l => l.StartsWith("  ", StringComparison.Ordinal) && !l.TrimStart().StartsWith("tf.", StringComparison.Ordinal))
            .Select(l => l.Trim()).ToArray();
        Assert.Equal(
        [
            "1 2 2 1", "2 4 4 2", "2 4 4 2", "1 2 2 1",
            "1 1 1 1", "1 1 1 1", "1 1 1 1", "1 1 1 1",
            "1 2 2 2", "2 4 4 4", "2 4 4 4", "2 4 4 4",
        ], matrices);
    }

    [Fact]
    public void No_arguments_runs_the_examples()
    {
        var output = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            Assert.Equal(0, Program.Main([]));
        }
        finally
        {
            Console.SetOut(output);
        }

        Assert.Contains("2 4 4 4", captured.ToString(), StringComparison.Ordinal);
    }
}
