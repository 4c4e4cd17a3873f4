namespace Deconv.Cli.Conformance;

/// <summary>
/// The outcome of one conformance case. <see cref="LargestDifference"/> is the largest absolute difference
/// between the library's result and the expected one (NaN when no values were compared).
/// <see cref="Crashed"/> marks a failure by an unexpected exception type (a library bug, not a rule violation).
/// </summary>
internal sealed record CaseResult(string Id, string Source, bool Passed, double LargestDifference, string Message, bool Crashed = false)
{
    public static CaseResult Pass(string id, string source, double difference, string message) => new(id, source, true, difference, message);

    public static CaseResult Fail(string id, string source, double difference, string message) => new(id, source, false, difference, message);
}

/// <summary>One runnable case: an id, the file or folder it came from, and how to run it.</summary>
internal sealed class ConformanceCase
{
    private readonly Func<CaseResult> _run;

    public ConformanceCase(string id, string source, Func<CaseResult> run)
    {
        Id = id;
        Source = source;
        _run = run;
    }

    public string Id { get; }

    public string Source { get; }

    /// <summary>Runs the case; a malformed file or an unexpected exception becomes a failed result, never an escape.</summary>
    public CaseResult Run()
    {
        try
        {
            return _run();
        }
        catch (InvalidDataException e)
        {
            return CaseResult.Fail(Id, Source, double.NaN, e.Message);
        }
        catch (IOException e)
        {
            return CaseResult.Fail(Id, Source, double.NaN, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            return CaseResult.Fail(Id, Source, double.NaN, e.Message);
        }
#pragma warning disable CA1031 // A runner reports a crash of the library under test as that case's failure and goes on.
        catch (Exception e) when (e is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            return new CaseResult(Id, Source, false, double.NaN, $"unexpected {e.GetType().Name}: {e.Message}", Crashed: true);
        }
    }
}
