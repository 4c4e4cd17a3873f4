using Deconv.Cli.Formats;

namespace Deconv.Tests.Cli;

[Collection(ProcessWideState.Name)]
public sealed class UpsampleAndOverlapCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("deconv-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Overlap_prints_the_checkerboard_and_writes_a_png_heat_map()
    {
        var png = Path.Combine(_dir, "overlap.png");
        var (exit, output, _) = ConsoleCapture.Run("overlap", "--kernel", "3", "--stride", "2", "--input", "4", "--png", png);
        Assert.Equal(0, exit);
        Assert.Contains("1 1 2 1 2 1 2 1 1", output, StringComparison.Ordinal);
        Assert.Contains("alternate between 1 and 2 taps", output, StringComparison.Ordinal);

        var image = Png.Read(png);
        Assert.Equal((9 * 16, 9 * 16), (image.Width, image.Height));
        // Cell (2, 2) has 2 x 2 = 4 taps (the maximum): white; cell (0, 0) has 1: a quarter grey.
        Assert.Equal(1f, image.Planes[0][(2 * 16 + 8) * image.Width + (2 * 16 + 8)]);
        Assert.Equal(64 / 255f, image.Planes[0][8 * image.Width + 8], 1e-6f);
        Assert.Equal(128 / 255f, image.Planes[0][8 * image.Width + (2 * 16 + 8)], 1e-6f);
    }

    [Fact]
    public void Upsample_doubles_a_real_image_and_reports_the_darkened_border()
    {
        var input = Path.Combine(_dir, "in.png");
        var output = Path.Combine(_dir, "out.png");
        var plane = Enumerable.Repeat(200 / 255f, 5 * 4).ToArray();
        Png.Write(input, new PlanarImage(5, 4, [plane, plane, plane]));

        var (exit, text, _) = ConsoleCapture.Run("upsample", input, output, "--factor", "2", "--kernel", "bilinear");
        Assert.Equal(0, exit);
        Assert.Contains("corner 0.5625, edge 0.75, interior 1", text, StringComparison.Ordinal);
        var image = Png.Read(output);
        Assert.Equal((10, 8, 3), (image.Width, image.Height, image.Planes.Length));
        Assert.Equal(200 / 255f, image.Planes[1][(3 * 10) + 4], 1e-6f);
        Assert.Equal(MathF.Round(200 * 0.5625f) / 255f, image.Planes[0][0], 1e-6f);
    }

    [Fact]
    public void Unreadable_image_is_one_line_and_exit_2()
    {
        var bad = Path.Combine(_dir, "bad.png");
        File.WriteAllText(bad, "not a png");
        var (exit, _, error) = ConsoleCapture.Run("upsample", bad, Path.Combine(_dir, "o.png"));
        Assert.Equal(2, exit);
        Assert.Contains("bad.png: not a readable image", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }
}
