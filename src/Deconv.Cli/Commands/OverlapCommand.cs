using System.CommandLine;
using System.Text;
using Deconv.Cli.Formats;

namespace Deconv.Cli.Commands;

/// <summary><c>deconv overlap</c>: the checkerboard map of a kernel size and stride.</summary>
internal static class OverlapCommand
{
    public static Command Create()
    {
        var kernel = new Option<int>("--kernel") { Description = "Kernel size K (taps per axis).", DefaultValueFactory = _ => 3 };
        var stride = new Option<int>("--stride") { Description = "Stride S.", DefaultValueFactory = _ => 2 };
        var input = new Option<int>("--input") { Description = "Input size per axis.", DefaultValueFactory = _ => 4 };
        var png = new Option<string?>("--png") { Description = "Also write the map as a PNG heat map (white = most taps) to this file." };
        var command = new Command("overlap",
            "How many kernel taps reach each output position of a 2-D transposed convolution of the given kernel size and stride " +
            "(the full result, no crop). Uneven counts are the checkerboard artifacts; they vanish when K is a multiple of S.")
        { kernel, stride, input, png };
        command.SetAction(parse =>
        {
            var (k, s, n) = (parse.GetValue(kernel), parse.GetValue(stride), parse.GetValue(input));
            var counts = Upsampling.OverlapCounts(k, s, n);
            var output = parse.InvocationConfiguration.Output;
            output.Write(Describe(k, s, n, counts));
            if (parse.GetValue(png) is { } path)
            {
                Png.Write(path, HeatMap(counts));
                output.WriteLine($"wrote {path}");
            }

            return 0;
        });
        return command;
    }

    internal static string Describe(int kernel, int stride, int input, int[] counts)
    {
        var text = new StringBuilder();
        text.Append($"overlap map: kernel {kernel}x{kernel}, stride {stride}, input {input}x{input}, full output {counts.Length}x{counts.Length}\n");
        text.Append("taps reaching each output position (row count x column count):\n");
        var grid = counts.SelectMany(r => counts.Select(c => r * c)).ToArray();
        text.Append(MatrixText.Format(grid, counts.Length, counts.Length));
        var interior = counts.Skip(kernel).Take(Math.Max(0, counts.Length - 2 * kernel)).Distinct().Order().ToArray();
        if (interior.Length == 0)
        {
            interior = [.. counts.Distinct().Order()];
        }

        text.Append(kernel % stride == 0
            ? $"K = {kernel} is a multiple of S = {stride}: away from the borders every position gets the same number of taps.\n"
            : $"K = {kernel} is not a multiple of S = {stride}: positions alternate between {string.Join(" and ", interior)} taps per axis (checkerboard).\n");
        return text.ToString();
    }

    /// <summary>One 16x16 grey cell per output position, brightness proportional to its tap count.</summary>
    internal static PlanarImage HeatMap(int[] counts, int cell = 16)
    {
        var n = counts.Length;
        var max = counts.Max() * counts.Max();
        var size = n * cell;
        var plane = new float[size * size];
        for (var y = 0; y < size; y++)
        for (var x = 0; x < size; x++)
        {
            plane[y * size + x] = (float)(counts[y / cell] * counts[x / cell]) / max;
        }

        return new PlanarImage(size, size, [plane]);
    }
}
