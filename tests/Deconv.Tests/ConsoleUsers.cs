namespace Deconv.Tests;

/// <summary>
/// Tests that run the CLI through <c>Program.Main</c> or swap <see cref="Console.Out"/>: the console is one per
/// process, so they run alone, after the parallel tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleUsers
{
    public const string Name = "Console";
}
