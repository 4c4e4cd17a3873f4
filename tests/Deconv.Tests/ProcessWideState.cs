namespace Deconv.Tests;

/// <summary>
/// Tests that use state shared by the whole process (the console, through <c>Program.Main</c> or by swapping
/// <see cref="Console.Out"/>; the engine's plan cache): they run alone, after the parallel tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideState
{
    public const string Name = "Process-wide state";
}
