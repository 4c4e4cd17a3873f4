using Deconv.Cli.Explain;
using Deconv.Cli.Formats;

namespace Deconv.Tests.Explain;

/// <summary>The PNG is the same picture as the SVG: decode it and look at the pixels of known cells.</summary>
public sealed class PngTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("deconv-png-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Example_1_png_has_the_highlighted_window_the_padding_and_readable_numbers()
    {
        var path = Path.Combine(_dir, "example1.png");
        var (exit, output, error) = ExplainCli.Run("--format", "png", "--output", path);
        Assert.True(exit == 0, error);
        Assert.Contains("check passed", output, StringComparison.Ordinal);

        var image = Png.Read(path);
        var picture = DefaultPicture();
        Assert.Equal((picture.Width * PngRenderer.Scale, picture.Height * PngRenderer.Scale), (image.Width, image.Height));
        var cells = picture.Shapes.OfType<Cell>().ToDictionary(c => c.Id);

        // Gather: the output shown first is y[1,1] (offset 5 of the 4x4 output), highlighted orange.
        Assert.Equal((0xff, 0xd2, 0x7f), Colour(image, cells["go-5"]));
        // Its window covers padded-grid cells (1,1), (1,2), (2,1), (2,2) of the 5x5 grid; (0,0) is padding, grey.
        Assert.Equal((0xff, 0xd2, 0x7f), Colour(image, cells["gp-6"]));
        Assert.Equal((0xc8, 0xc8, 0xc8), Colour(image, cells["gp-0"]));
        // An input cell that is not highlighted is white.
        Assert.Equal((0xff, 0xff, 0xff), Colour(image, cells["si-4"]));

        // Every cell shows its number: dark pixels inside the cell, none in an empty 30x30 area of the margin.
        foreach (var cell in cells.Values.Where(c => c.Id.StartsWith("re-", StringComparison.Ordinal)))
        {
            Assert.True(DarkPixels(image, cell.X + 4, cell.Y + 4, cell.Size - 8) > 10, $"no glyph drawn in {cell.Id} ({cell.Text})");
        }

        Assert.Equal(0, DarkPixels(image, picture.Width - 40, 60, 30));
    }

    [Fact]
    public void Png_needs_an_output_file()
    {
        var (exit, _, error) = ExplainCli.Run("--format", "png");
        Assert.Equal(2, exit);
        Assert.Contains("--output", error, StringComparison.Ordinal);
    }

    /// <summary>The picture of the default explanation (worked example 1), as the PNG was drawn from it.</summary>
    private static Picture DefaultPicture()
    {
        var (e, call) = Deconv.Cli.Commands.ExplainCommand.Explain(new ExplainRequest(), at: null);
        var (gather, scatter) = SvgRenderer.Selection(e, null);
        return SvgRenderer.Draw(e, call, gather, scatter);
    }

    /// <summary>The colour near the top-left corner of a cell, away from its border and its number.</summary>
    private static (int R, int G, int B) Colour(PlanarImage image, Cell cell)
    {
        var (x, y) = ((cell.X + 4) * PngRenderer.Scale, (cell.Y + 4) * PngRenderer.Scale);
        int Channel(int c) => (int)MathF.Round(image.Planes[c][(y * image.Width) + x] * 255);
        return (Channel(0), Channel(1), Channel(2));
    }

    private static int DarkPixels(PlanarImage image, int x0, int y0, int size)
    {
        var count = 0;
        for (var y = y0 * PngRenderer.Scale; y < (y0 + size) * PngRenderer.Scale; y++)
        for (var x = x0 * PngRenderer.Scale; x < (x0 + size) * PngRenderer.Scale; x++)
        {
            if (image.Planes[0][(y * image.Width) + x] < 0.4f)
            {
                count++;
            }
        }

        return count;
    }
}
