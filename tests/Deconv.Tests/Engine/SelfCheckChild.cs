using System.ComponentModel;
using System.Diagnostics;
using Xunit.Abstractions;

namespace Deconv.Tests.Engine;

/// <summary>
/// Runs a self-check of this test assembly (its own <c>Main</c>) in a child process with some SIMD switched off,
/// and reads the child's one line of <c>key=value</c> fields (width, worst, hash).
/// </summary>
internal static class SelfCheckChild
{
    /// <summary>The three ways the engine tests switch vectors off, with the vector width the child must then use.</summary>
    public static TheoryData<string, string, int> Widths => new()
    {
        // .NET 10 reads DOTNET_EnableAVX512; DOTNET_EnableAVX512F is the older name, set too for older runtimes.
        { "no SIMD", "DOTNET_EnableAVX512F DOTNET_EnableAVX512 DOTNET_EnableAVX2 DOTNET_EnableHWIntrinsic", 1 },
        { "AVX2, no AVX-512", "DOTNET_EnableAVX512F DOTNET_EnableAVX512", 8 },
        { "128-bit vectors, no AVX2", "DOTNET_EnableAVX512F DOTNET_EnableAVX512 DOTNET_EnableAVX2", 4 },
    };

    /// <summary>
    /// The child's fields, or null when this machine lacks those vectors or the child cannot be launched (the reason is
    /// written to <paramref name="output"/>, so a skipped check is visible). A child that fails fails the test.
    /// </summary>
    public static async Task<Dictionary<string, string>?> Run(ITestOutputHelper output, string name, string disabled, int width, params string[] arguments)
    {
        if ((width == 8 && !System.Runtime.Intrinsics.X86.Avx2.IsSupported) || (width == 4 && !System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated))
        {
            output.WriteLine($"SKIPPED {name}: this processor has no such vectors");
            return null;
        }

        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path
            : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "exec", typeof(SelfCheckChild).Assembly.Location }.Concat(arguments))
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
            return null;
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
            return fields;
        }
    }
}
