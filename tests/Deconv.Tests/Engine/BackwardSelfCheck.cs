using System.Globalization;
using Deconv.Engine;
using Xunit.Abstractions;

namespace Deconv.Tests.Engine;

/// <summary>
/// Random cases through <see cref="ConvForwardPlan"/> and <see cref="WeightGradientPlan"/> that can also run
/// in a child process (command <see cref="Command"/> of the test assembly's <see cref="Program"/>), so they
/// can be repeated with SIMD turned off.
/// </summary>
internal static class BackwardSelfCheck
{
    public const string Command = "backward-self-check";

    /// <summary>The worst error against the reference and a hash of every result bit.</summary>
    public static (double WorstError, ulong Hash) Run(int seed, int count)
    {
        var random = new Random(seed);
        var worst = 0.0;
        var hash = 14695981039346656037UL;
        for (var i = 0; i < count; i++)
        {
            var c = BackwardCases.Random(random);
            var y = new ConvForwardPlan(c.Geometry, c.W, c.Bias, 2, direct: false, parallelLimit: 0).Run(c.Large);
            var dw = new WeightGradientPlan(c.Geometry, 2, direct: false, parallelLimit: 0, channelLanes: null).Run(c.Large, c.Small);
            worst = Math.Max(worst, EngineCases.MaxRelativeError(y, c.ForwardReference()));
            worst = Math.Max(worst, EngineCases.MaxRelativeError(dw, c.WeightGradientReference()));
            foreach (var v in y.Concat(dw))
            {
                hash = (hash ^ BitConverter.SingleToUInt32Bits(v)) * 1099511628211UL;
            }
        }

        return (worst, hash);
    }

    /// <summary>The line the child prints: vector width, worst error, hash.</summary>
    public static string Report(int seed, int count)
    {
        var (worst, hash) = Run(seed, count);
        return string.Create(CultureInfo.InvariantCulture, $"width={(int)SimdSupport.Best} worst={worst:R} hash={hash}");
    }
}

/// <summary>
/// The forward convolution and weight gradient plans in a child process with all SIMD, or only AVX-512,
/// turned off: they must match the reference and, bit for bit, this process's results.
/// </summary>
public class BackwardChildProcessSimdTests(ITestOutputHelper output)
{
    private const int Seed = 31;
    private const int Count = 150;

    [Theory]
    [MemberData(nameof(SelfCheckChild.Widths), MemberType = typeof(SelfCheckChild))]
    public async Task Plans_with_less_SIMD_agree_with_the_reference_and_bit_for_bit_with_this_process(string name, string disabled, int width)
    {
        if (await SelfCheckChild.Run(output, name, disabled, width, BackwardSelfCheck.Command, $"{Seed}", $"{Count}") is not { } fields)
        {
            return;
        }

        var (_, hash) = BackwardSelfCheck.Run(Seed, Count);
        Assert.Equal(hash.ToString(CultureInfo.InvariantCulture), fields["hash"]);
    }
}
