using System.CommandLine;

namespace Deconv.Cli;

/// <summary>Runs a command line and turns user errors into one line on stderr and exit code 2.</summary>
internal static class CommandRunner
{
    public static int Invoke(RootCommand root, string[] args, TextWriter? error = null)
    {
        error ??= Console.Error;
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line, even for messages that list choices on separate lines.
            error.WriteLine("deconv: " + string.Join(" ", parse.Errors[0].Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
            return 2;
        }

        try
        {
            // The default handler would print a stack trace and return 1; user errors are caught below instead.
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (UserError.Describe(e) is { } message)
        {
            error.WriteLine("deconv: " + message);
            return 2;
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
