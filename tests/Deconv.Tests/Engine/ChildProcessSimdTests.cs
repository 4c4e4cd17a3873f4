using Deconv.Engine;
using Xunit.Abstractions;

namespace Deconv.Tests.Engine;

/// <summary>
/// Re-runs engine checks in a child process with SIMD turned off by environment variables: all of it
/// (the scalar path), AVX-512 (the 256-bit path), or AVX2 too (the 128-bit path). Results must match the reference and, bit for
/// bit, this process's.
/// </summary>
public class ChildProcessSimdTests(ITestOutputHelper output)
{
    private const int Seed = 21;
    private const int Count = 150;

    [Theory]
    [MemberData(nameof(SelfCheckChild.Widths), MemberType = typeof(SelfCheckChild))]
    public async Task Engine_with_less_SIMD_agrees_with_the_reference_and_bit_for_bit_with_this_process(string name, string disabled, int width)
    {
        var seed = Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var count = Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (await SelfCheckChild.Run(output, name, disabled, width, EngineSelfCheck.Command, seed, count) is not { } fields)
        {
            return;
        }

        var (_, hash, _) = EngineSelfCheck.Run(Seed, Count);
        output.WriteLine($"this process: width={new ConvTransposePlan(new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(1, 1, 1, 1, 0, 1)]), [1f]).VectorWidth} hash={hash}");
        Assert.Equal(hash.ToString(System.Globalization.CultureInfo.InvariantCulture), fields["hash"]);
    }
}
