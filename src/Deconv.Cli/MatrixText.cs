using System.Globalization;
using System.Text;

namespace Deconv.Cli;

/// <summary>Formats numbers as a right-aligned matrix.</summary>
internal static class MatrixText
{
    public static string Format<T>(IReadOnlyList<T> values, int rows, int columns, string indent = "  ")
        where T : IFormattable
    {
        var cells = values.Select(v => Number(v)).ToArray();
        var width = cells.Length == 0 ? 1 : cells.Max(c => c.Length);
        var text = new StringBuilder();
        for (var r = 0; r < rows; r++)
        {
            text.Append(indent);
            for (var c = 0; c < columns; c++)
            {
                text.Append(c == 0 ? "" : " ").Append(cells[(r * columns) + c].PadLeft(width));
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The shortest text that reads back as the same value ("R" style), in invariant culture.</summary>
    public static string Number<T>(T value)
        where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);
}
