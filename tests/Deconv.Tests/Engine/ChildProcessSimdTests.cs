using System.ComponentModel;
using System.Diagnostics;
using Deconv.Engine;
using Xunit.Abstractions;

namespace Deconv.Tests.Engine;

/// <summary>
/// Re-runs engine checks in a child process with SIMD turned off by environment variables: all of it
/// (the scalar path), or only AVX-512 (the 256-bit path). Results must match the reference and, bit for
/// bit, this process's.
/// </summary>
public class ChildProcessSimdTests(ITestOutputHelper output)
{
    private const int Seed = 21;
    private const int Count = 150;

    [Theory]
    // .NET 10 reads DOTNET_EnableAVX512; DOTNET_EnableAVX512F is the older name, set too for older runtimes.
    [InlineData("no SIMD", "DOTNET_EnableAVX512F DOTNET_EnableAVX512 DOTNET_EnableAVX2 DOTNET_EnableHWIntrinsic", 1)]
    [InlineData("AVX2, no AVX-512", "DOTNET_EnableAVX512F DOTNET_EnableAVX512", 8)]
    public async Task Engine_with_less_SIMD_agrees_with_the_reference_and_bit_for_bit_with_this_process(string name, string disabled, int width)
    {
        if (width == 8 && !System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            output.WriteLine($"SKIPPED {name}: this processor has no AVX2");
            return;
        }

        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(typeof(EngineSelfCheck).Assembly.Location);
        start.ArgumentList.Add(EngineSelfCheck.Command);
        start.ArgumentList.Add(Seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
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
            // Only a launch failure is tolerated: say why, so the skipped check is visible.
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
            Assert.Equal(width.ToString(System.Globalization.CultureInfo.InvariantCulture), fields["width"]); // the narrower path really ran
            Assert.True(double.Parse(fields["worst"], System.Globalization.CultureInfo.InvariantCulture) <= 1e-5, line);
            var (_, hash, _) = EngineSelfCheck.Run(Seed, Count);
            output.WriteLine($"this process: width={new ConvTransposePlan(new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(1, 1, 1, 1, 0, 1)]), [1f]).VectorWidth} hash={hash}");
            Assert.Equal(hash.ToString(System.Globalization.CultureInfo.InvariantCulture), fields["hash"]);
        }
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host)
        {
            return host;
        }

        var self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}
