using System.CommandLine;

namespace Deconv.Cli;

/// <summary>Runs a command line and turns user errors into one line on stderr and exit code 2.</summary>
internal static class CommandRunner
{
    public static int Invoke(RootCommand root, string[] args, TextWriter? error = null) => Invoke(root, args, Console.Out, error ?? Console.Error);

    /// <summary>Runs a command line writing to <paramref name="output"/> and <paramref name="error"/> (commands write to the parse result's output).</summary>
    public static int Invoke(RootCommand root, string[] args, TextWriter output, TextWriter error)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line, even for messages that list choices on separate lines.
            error.WriteLine("deconv: " + string.Join(" ", parse.Errors[0].Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
            return 2;
        }

        try
        {
            // Without the default handler, exceptions reach the filter below instead of printing a stack trace.
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (UserError.Describe(e) is { } message)
        {
            error.WriteLine("deconv: " + message);
            return 2;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug, not a user error: keep the stack trace, as the default handler would.
            error.WriteLine("deconv: internal error: " + e);
            return 1;
        }
    }
}

/// <summary>Errors caused by what the user typed or gave: reported in one line, never as a stack trace.</summary>
internal static class UserError
{
    public static string? Describe(Exception e) => e switch
    {
        ConvolutionArgumentException c => c.Reason,
        ArgumentException a => a.Message,
        FormatException f => f.Message,
        InvalidDataException d => d.Message,
        FileNotFoundException f => f.Message,
        DirectoryNotFoundException d => d.Message,
        IOException io => io.Message,
        UnauthorizedAccessException u => u.Message,
        _ => null,
    };
}
