using Deconv.Cli.Run;
using static Deconv.Tests.Cli.CliHarness;

namespace Deconv.Tests.Cli;

/// <summary>
/// Random command lines for <c>deconv run</c>: whatever the options, the command either succeeds (exit 0) or
/// reports a user error in one line (exit 2); never an internal error or a stack trace.
/// </summary>
public class RunFuzzTests
{
    private static readonly string[] Tensors =
    [
        "ones:1x3x3x1", "ones:1x1x3x3", "range:1x2x3x3", "random:1x3x3x2:1", "ones:2x2x1x1", "ones:1x1x2x2", "ones:2x1x2x2",
        "ones:2x2x2x1", "zeros:0x1x2x2", "ones:1x3", "ones:3x3", "1,2:2", "ones:1x1x1x1x1", "ones:1x2x2x2x1", "ones:1x0x3x1",
        "ones:2x2x0x1", "ones:1x1x4", "ones:2", "ones:1", "range:1x4x4x1:-3", "ones:1x1x1x1", "ones:3x1x1x1",
    ];

    private static readonly string[] Values =
    [
        "0", "1", "2", "3", "-1", "1,2", "2,1", "1,1,1", "0,0,1,1", "1,1,1,1", "[1,2,2,1]", "1,4,4,1", "4,4", "1,5,5,1", "5,5",
        "99999999999", "2147483648", "x", "", "same", "valid", "SAME", "VALID", "SAME_UPPER", "SAME_LOWER", "NOTSET", "NCHW", "NHWC",
        "NWC", "NDHWC", "2x2", "1x1", "3", "0,1,0,1", "1,1,2,2", "0,0,0,1,0,1,0,0",
    ];

    private static readonly string[] Options =
    [
        "--output-shape", "--strides", "--padding", "--data-format", "--dilations", "--stride", "--output-padding", "--groups",
        "--dilation", "--output-size", "--auto-pad", "--pads", "--group", "--kernel-shape", "--kernel", "--filter-sizes",
    ];

    [Fact]
    public void Random_command_lines_succeed_or_give_one_user_error_line()
    {
        var random = new Random(424242);
        var frameworks = OpRunner.Ops.Keys.ToArray();
        var succeeded = 0;
        for (var iteration = 0; iteration < 1500; iteration++)
        {
            var framework = frameworks[random.Next(frameworks.Length)];
            var ops = OpRunner.Ops[framework];
            var op = ops.Keys.ElementAt(random.Next(ops.Count));
            List<string> args = ["run", "--framework", framework, "--op", op];
            if (random.Next(2) == 0)
            {
                // A valid call to start from, so that the random options often give valid calls too.
                args.AddRange(ValidTensors(framework, op));
            }
            else
            {
                args.AddRange(["--input", Pick(Tensors, random)]);
                if (random.Next(4) > 0)
                {
                    args.AddRange(["--weight", Pick(Tensors, random)]);
                }
            }

            foreach (var tensor in new[] { "--bias", "--out-backprop" })
            {
                if (random.Next(3) == 0 && !args.Contains(tensor))
                {
                    args.AddRange([tensor, Pick(Tensors, random)]);
                }
            }

            // Mostly the op's own options, sometimes any option.
            var own = ops[op].Split(' ').Where(o => Options.Contains(o)).ToArray();
            for (var n = random.Next(4); n > 0; n--)
            {
                var option = random.Next(5) == 0 || own.Length == 0 ? Pick(Options, random) : Pick(own, random);
                if (!args.Contains(option))
                {
                    args.AddRange([option + "=" + Pick(Values, random)]);
                }
            }

            if (random.Next(4) == 0)
            {
                args.AddRange(["--dtype", "float64"]);
            }

            var outcome = Run([.. args]);
            var line = $"deconv {string.Join(' ', args)}\nexit {outcome.ExitCode}\n{outcome.Error}";
            Assert.True(outcome.ExitCode is 0 or 2, line);
            if (outcome.ExitCode == 2)
            {
                Assert.True(outcome.ErrorLines.Length == 1 && outcome.ErrorLines[0].StartsWith("deconv: ", StringComparison.Ordinal), line);
            }
            else
            {
                succeeded++;
                Assert.Equal("", outcome.Error);
            }
        }

        Assert.True(succeeded is >= 10 and <= 1490, $"{succeeded} succeeded");
    }

    /// <summary>Ones of size 3 per spatial axis and a kernel of 2 per axis, one channel, in the op's layouts.</summary>
    private static string[] ValidTensors(string framework, string op)
    {
        var rank = framework == "onnx" ? 2 : op.Contains('1', StringComparison.Ordinal) ? 1 : op.Contains('3', StringComparison.Ordinal) ? 3 : 2;
        string Spatial(int size) => string.Join("x", Enumerable.Repeat(size, rank));
        if (framework != "tf")
        {
            return ["--input", $"ones:1x1x{Spatial(3)}", "--weight", $"ones:1x1x{Spatial(2)}"];
        }

        if (op.Contains("backprop_filter", StringComparison.Ordinal))
        {
            return ["--input", $"ones:1x{Spatial(3)}x1", "--out-backprop", $"ones:1x{Spatial(2)}x1", "--filter-sizes", $"{Spatial(2)}x1x1"];
        }

        return ["--input", $"ones:1x{Spatial(3)}x1", "--weight", $"ones:{Spatial(2)}x1x1"];
    }

    private static string Pick(string[] items, Random random) => items[random.Next(items.Length)];
}
