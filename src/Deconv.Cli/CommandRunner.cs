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
            error.WriteLine("deconv: " + parse.Errors[0].Message);
            return 2;
        }

        try
        {
            // Without this, System.CommandLine catches the exception itself and prints a stack trace (exit 1).
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
