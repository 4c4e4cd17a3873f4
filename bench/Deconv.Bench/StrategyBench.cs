using Deconv.Engine;

namespace Deconv.Bench;

/// <summary>
/// <c>--strategies</c>: each case on the two implicit-GEMM strategies of <see cref="ConvTransposePlan"/>, vectors over
/// output channels and vectors over output pixels, timed in alternation in one process, so that the rules choosing
/// between them can be checked on this machine. A ratio above 1 means the pixel path is faster.
/// </summary>
internal static class StrategyBench
{
    public static void Run(BenchOptions options)
    {
        Console.WriteLine($"{"case",-10} {"thr",3} {"channel ms",11} {"pixel ms",9} {"ratio",6}  chosen");
        foreach (var c in BenchCase.Load(options.Suite).Where(c => options.Case is null || c.Name == options.Case))
        {
            var random = new Random(1);
            var geometry = c.Geometry();
            var x = Program.Random(random, geometry.InputLength);
            var w = Program.Random(random, geometry.WeightLength);
            var bias = Program.Random(random, geometry.OutputChannels);
            foreach (var threads in options.Threads)
            {
                var channels = Plan(geometry, w, bias, threads, ConvTransposeStrategy.ChannelTiles);
                var pixels = Plan(geometry, w, bias, threads, ConvTransposeStrategy.PixelTiles);
                if (channels.Strategy != ConvTransposeStrategy.ChannelTiles || pixels.Strategy != ConvTransposeStrategy.PixelTiles)
                {
                    Console.WriteLine($"{c.Name,-10} {threads,3} (the fast paths cannot run it)");
                    continue;
                }

                var (yc, yp) = (new float[geometry.OutputLength], new float[geometry.OutputLength]);
                var medians = Program.Medians(options, () => channels.Run(x, yc), () => pixels.Run(x, yp));
                var chosen = new ConvTransposePlan(geometry, w, bias, threads).Strategy;
                Console.WriteLine($"{c.Name,-10} {threads,3} {medians[0],11:G4} {medians[1],9:G4} {medians[0] / medians[1],6:F2}  {chosen}");
            }
        }
    }

    private static ConvTransposePlan Plan(Deconv.ConvGeometry geometry, float[] w, float[] bias, int threads, ConvTransposeStrategy strategy) =>
        new(geometry, w, bias, threads, FusedActivation.None, 0.01f, strategy, ConvTransposePlan.ParallelLimit);
}
