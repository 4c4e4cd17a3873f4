namespace Deconv.Tests;

/// <summary>Finds <c>../shared</c> (conformance data, bench suite) beside the repository root, as CI lays it out.</summary>
internal static class SharedData
{
    public static string Root { get; } = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string Find()
    {
        if (Environment.GetEnvironmentVariable("DECONV_SHARED") is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Deconv.slnx")))
            {
                var shared = System.IO.Path.Combine(dir.Parent?.FullName ?? dir.FullName, "shared");
                if (Directory.Exists(shared))
                {
                    return shared;
                }

                throw new DirectoryNotFoundException($"shared data not found at {shared} (beside the repository); set DECONV_SHARED");
            }
        }

        throw new DirectoryNotFoundException("repository root (Deconv.slnx) not found above " + AppContext.BaseDirectory);
    }
}
