using System.ComponentModel;
using System.Diagnostics;
using Deconv.Engine;
using Xunit.Abstractions;

namespace Deconv.Tests.Engine;

/// <summary>Re-runs engine checks in a child process with AVX-512, AVX2 and all hardware intrinsics turned off.</summary>
public class NoSimdChildProcessTests(ITestOutputHelper output)
{
    private const int Seed = 21;
    private const int Count = 150;

    [Fact]
    public async Task Engine_without_SIMD_agrees_with_the_reference_and_bit_for_bit_with_this_process()
    {
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
        start.Environment["DOTNET_EnableAVX512F"] = "0";
        start.Environment["DOTNET_EnableAVX2"] = "0";
        start.Environment["DOTNET_EnableHWIntrinsic"] = "0";

        Process child;
        try
        {
            child = Process.Start(start) ?? throw new Win32Exception("no process");
        }
        catch (Win32Exception e)
        {
            // Only a launch failure is tolerated: say why, so the skipped check is visible.
            output.WriteLine($"SKIPPED: could not launch '{start.FileName}' for the no-SIMD child process: {e.Message}");
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
            Assert.Equal("1", fields["width"]); // the scalar path really ran
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
