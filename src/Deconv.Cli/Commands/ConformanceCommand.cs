using System.CommandLine;
using Deconv.Cli.Conformance;

namespace Deconv.Cli.Commands;

/// <summary><c>deconv conformance PATH...</c>: runs every conformance case found under the paths through the library.</summary>
internal static class ConformanceCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Case files (.json), ONNX node-test folders (model.onnx + test_data_set_*) or folders searched recursively.",
            Arity = ArgumentArity.OneOrMore,
        };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also print every passing case." };
        var command = new Command("conformance", "Run conformance cases (TensorFlow, ONNX Runtime and ONNX node-test formats) and report failures; exit 1 if any fails.");
        command.Arguments.Add(paths);
        command.Options.Add(verbose);
        command.SetAction(parseResult => Run(parseResult.GetValue(paths) ?? [], parseResult.GetValue(verbose), Console.Out));
        return command;
    }

    /// <summary>Runs the cases; exit 0 when all pass, 1 when any fails. A missing path throws <see cref="FileNotFoundException"/> (exit 2).</summary>
    public static int Run(IReadOnlyList<string> paths, bool verbose, TextWriter output)
    {
        var cases = ConformanceSuite.Discover(paths);
        if (cases.Count == 0)
        {
            throw new FileNotFoundException($"no conformance cases found in {string.Join(", ", paths)}");
        }

        int passed = 0, failed = 0;
        foreach (var c in cases)
        {
            var result = c.Run();
            if (result.Passed)
            {
                passed++;
                if (verbose)
                {
                    output.WriteLine($"pass {result.Id}: {result.Message}");
                }
            }
            else
            {
                failed++;
                output.WriteLine($"FAIL {result.Id} ({result.Source}): largest difference {FormatDifference(result.LargestDifference)}: {result.Message}");
            }
        }

        output.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    private static string FormatDifference(double d) => double.IsNaN(d) ? "n/a" : d.ToString("G4");
}
