namespace Deconv.Tests.Explain;

/// <summary>
/// Exact comparison with a stored file under <c>Explain/Snapshots/</c> (copied to the output). Set
/// DECONV_UPDATE_SNAPSHOTS=1 to (re)write the files in the source tree, then review the diff.
/// </summary>
internal static class Snapshot
{
    public static void Match(string name, string actual)
    {
        if (Environment.GetEnvironmentVariable("DECONV_UPDATE_SNAPSHOTS") == "1")
        {
            File.WriteAllText(Path.Combine(SourceDirectory(), name), actual);
            return;
        }

        var path = Path.Combine(AppContext.BaseDirectory, "Explain", "Snapshots", name);
        Assert.True(File.Exists(path), $"snapshot {name} is missing; run the tests with DECONV_UPDATE_SNAPSHOTS=1 to create it, then review it");
        var expected = File.ReadAllText(path);
        if (expected == actual)
        {
            return;
        }

        File.WriteAllText(path + ".received", actual);
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        var line = Enumerable.Range(0, Math.Min(expectedLines.Length, actualLines.Length)).FirstOrDefault(i => expectedLines[i] != actualLines[i], Math.Min(expectedLines.Length, actualLines.Length));
        Assert.Fail($"{name} differs from its snapshot at line {line + 1}:\n expected: {At(expectedLines, line)}\n   actual: {At(actualLines, line)}\n(actual output written to {path}.received)");
    }

    private static string At(string[] lines, int i) => i < lines.Length ? lines[i] : "(end of text)";

    private static string SourceDirectory()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Deconv.Tests.csproj")))
        {
            dir = dir.Parent;
        }

        return dir is null
            ? throw new DirectoryNotFoundException("tests/Deconv.Tests not found above " + AppContext.BaseDirectory)
            : Path.Combine(dir.FullName, "Explain", "Snapshots");
    }
}
