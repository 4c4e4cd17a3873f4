using Deconv.Explain;
using SkiaSharp;

namespace Deconv.Cli.Explain;

/// <summary>
/// Rasterises the same <see cref="Picture"/> the SVG is written from, with SkiaSharp, at <see cref="Scale"/> pixels per
/// SVG unit. The font is loaded from a file: SkiaSharp's default typeface has no glyphs here, so text would vanish.
/// </summary>
internal static class PngRenderer
{
    /// <summary>Pixels per SVG unit.</summary>
    public const int Scale = 2;

    private static readonly string[] FontFolders = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF"];

    /// <summary>The PNG bytes of the explanation with the output position <paramref name="at"/> (default: the middle one) highlighted.</summary>
    public static byte[] Render(Explanation e, string call, int[]? at)
    {
        ArgumentNullException.ThrowIfNull(e);
        var (gather, scatter) = SvgRenderer.Selection(e, at);
        return Rasterise(SvgRenderer.Draw(e, call, gather, scatter));
    }

    public static byte[] Rasterise(Picture picture)
    {
        ArgumentNullException.ThrowIfNull(picture);
        using var regular = LoadFont("DejaVuSansMono.ttf");
        using var bold = LoadFont("DejaVuSansMono-Bold.ttf");
        using var surface = SKSurface.Create(new SKImageInfo(picture.Width * Scale, picture.Height * Scale, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"cannot create a {picture.Width * Scale}x{picture.Height * Scale} image");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        canvas.Scale(Scale);
        using var fill = new SKPaint { Style = SKPaintStyle.Fill, IsAntialias = true };
        using var stroke = new SKPaint { Style = SKPaintStyle.Stroke, IsAntialias = true };
        using var ink = new SKPaint { Style = SKPaintStyle.Fill, IsAntialias = true };
        foreach (var shape in picture.Shapes)
        {
            switch (shape)
            {
                case Cell c:
                {
                    var (background, border, width) = CellColours(c.Classes);
                    var rect = new SKRect(c.X, c.Y, c.X + c.Size, c.Y + c.Size);
                    fill.Color = background;
                    canvas.DrawRect(rect, fill);
                    stroke.Color = border;
                    stroke.StrokeWidth = width;
                    canvas.DrawRect(rect, stroke);
                    using var font = new SKFont(regular, 12);
                    ink.Color = new SKColor(0x22, 0x22, 0x22);
                    // Centre the value: the baseline sits half the cap height below the middle.
                    var capHeight = Math.Abs(font.Metrics.CapHeight);
                    canvas.DrawText(c.Text, c.X + (c.Size / 2f), c.Y + (c.Size / 2f) + (capHeight / 2), SKTextAlign.Center, font, ink);
                    break;
                }

                case Label t:
                {
                    var (size, isBold, colour) = TextStyle(t.Class);
                    using var font = new SKFont(isBold ? bold : regular, size);
                    ink.Color = colour;
                    canvas.DrawText(t.Text, t.X, t.Y, SKTextAlign.Left, font, ink);
                    break;
                }
            }
        }

        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>The fills of the SVG's style sheet: white cells, grey inserted zeros, darker padding, orange highlights.</summary>
    private static (SKColor Fill, SKColor Stroke, float Width) CellColours(string classes)
    {
        if (classes.Split(' ').Contains("hl"))
        {
            return (new SKColor(0xff, 0xd2, 0x7f), new SKColor(0xc0, 0x70, 0x00), 2);
        }

        return classes switch
        {
            "inserted" => (new SKColor(0xe8, 0xe8, 0xe8), new SKColor(0xaa, 0xaa, 0xaa), 1),
            "padding" => (new SKColor(0xc8, 0xc8, 0xc8), new SKColor(0xaa, 0xaa, 0xaa), 1),
            _ => (SKColors.White, new SKColor(0x88, 0x88, 0x88), 1),
        };
    }

    private static (float Size, bool Bold, SKColor Colour) TextStyle(string cls) => cls switch
    {
        "title" => (13, true, new SKColor(0x22, 0x22, 0x22)),
        "heading" => (14, true, new SKColor(0x11, 0x22, 0x44)),
        "label" or "note" => (11, false, new SKColor(0x55, 0x55, 0x55)),
        "check" => (12, false, new SKColor(0x00, 0x66, 0x00)),
        "failed" => (12, true, new SKColor(0xaa, 0x00, 0x00)),
        _ => (12, false, new SKColor(0x22, 0x22, 0x22)),
    };

    private static SKTypeface LoadFont(string file)
    {
        foreach (var folder in FontFolders)
        {
            var path = Path.Combine(folder, file);
            if (File.Exists(path) && SKTypeface.FromFile(path) is { } typeface)
            {
                return typeface;
            }
        }

        throw new FileNotFoundException($"PNG output needs the font {file} (Debian package fonts-dejavu-core), looked in {string.Join(", ", FontFolders)}");
    }
}
