using System.Globalization;
using Deconv.Engine;

namespace Deconv.Tests.Engine;

/// <summary>
/// A subset of the engine tests that can also run in a child process (see <see cref="Program"/>), so they
/// can be repeated with SIMD turned off by environment variables.
/// </summary>
internal static class EngineSelfCheck
{
    public const string Command = "engine-self-check";

    /// <summary>Runs random cases through the phase path; returns the worst error and a hash of every result bit.</summary>
    public static (double WorstError, ulong Hash, int Cases) Run(int seed, int count)
    {
        var random = new Random(seed);
        var worst = 0.0;
        var hash = 14695981039346656037UL;
        for (var i = 0; i < count; i++)
        {
            var c = EngineCases.Random(random);
            var depthwise = EngineCases.RandomDepthwise(random);
            foreach (var (data, strategy) in new[] { (c, ConvTransposeStrategy.ChannelTiles), (c, ConvTransposeStrategy.PixelTiles), (depthwise, ConvTransposeStrategy.DepthwiseRows) })
            {
                var y = data.RunEngine(2, strategy, parallelLimit: 0);
                worst = Math.Max(worst, EngineCases.MaxRelativeError(y, data.Reference()));
                foreach (var v in y)
                {
                    hash = (hash ^ BitConverter.SingleToUInt32Bits(v)) * 1099511628211UL;
                }
            }
        }

        return (worst, hash, count);
    }

    /// <summary>The line the child prints: vector width, worst error, hash, case count.</summary>
    public static string Report(int seed, int count)
    {
        var (worst, hash, cases) = Run(seed, count);
        var width = new ConvTransposePlan(new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(1, 1, 1, 1, 0, 1)]), [1f]).VectorWidth;
        return string.Create(CultureInfo.InvariantCulture, $"width={width} worst={worst:R} hash={hash} cases={cases}");
    }
}

/// <summary>Entry point of the test assembly when run as a program (<c>dotnet Deconv.Tests.dll engine-self-check seed count</c>).</summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 3 && args[0] == EngineSelfCheck.Command)
        {
            Console.WriteLine(EngineSelfCheck.Report(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture)));
            return 0;
        }

        if (args.Length == 3 && args[0] == BackwardSelfCheck.Command)
        {
            Console.WriteLine(BackwardSelfCheck.Report(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture)));
            return 0;
        }

        if (args.Length == 1 && args[0] == SimdSelfCheck.Command)
        {
            Console.WriteLine(SimdSelfCheck.Report());
            return 0;
        }

        Console.Error.WriteLine($"usage: Deconv.Tests {EngineSelfCheck.Command}|{BackwardSelfCheck.Command} SEED COUNT, or {SimdSelfCheck.Command}");
        return 2;
    }
}
