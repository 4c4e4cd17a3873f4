using System.ComponentModel;
using System.Diagnostics;
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
    [InlineData("no SIMD", "DOTNET_EnableAVX512F DOTNET_EnableAVX512 DOTNET_EnableAVX2 DOTNET_EnableHWIntrinsic", 1)]
    [InlineData("AVX2, no AVX-512", "DOTNET_EnableAVX512F DOTNET_EnableAVX512", 8)]
    public async Task Plans_with_less_SIMD_agree_with_the_reference_and_bit_for_bit_with_this_process(string name, string disabled, int width)
    {
        if (width == 8 && !System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            output.WriteLine($"SKIPPED {name}: this processor has no AVX2");
            return;
        }

        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path
            : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "exec", typeof(BackwardSelfCheck).Assembly.Location, BackwardSelfCheck.Command, $"{Seed}", $"{Count}" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var variable in disabled.Split(' '))
        {
            start.Environment[variable] = "0";
        }

        Process child;
        try
        {
            child = Process.Start(start) ?? throw new Win32Exception("no process");
        }
        catch (Win32Exception e)
        {
            output.WriteLine($"SKIPPED {name}: could not launch '{start.FileName}' for the child process: {e.Message}");
            return;
        }

        using (child)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            var stdout = child.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = child.StandardError.ReadToEndAsync(timeout.Token);
            await child.WaitForExitAsync(timeout.Token);
            Assert.True(child.ExitCode == 0, $"child exit {child.ExitCode}: {await stderr}");
            var line = (await stdout).Trim();
            output.WriteLine("child: " + line);
            var fields = line.Split(' ').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1]);
            Assert.Equal(width.ToString(CultureInfo.InvariantCulture), fields["width"]);
            Assert.True(double.Parse(fields["worst"], CultureInfo.InvariantCulture) <= 1e-5, line);
            var (_, hash) = BackwardSelfCheck.Run(Seed, Count);
            Assert.Equal(hash.ToString(CultureInfo.InvariantCulture), fields["hash"]);
        }
    }
}
