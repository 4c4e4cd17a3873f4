using StbImageSharp;
using StbImageWriteSharp;

namespace Deconv.Cli.Formats;

/// <summary>An 8-bit image as float planes in [0, 1]: <c>Planes[channel][row * Width + column]</c>.</summary>
internal sealed record PlanarImage(int Width, int Height, float[][] Planes);

/// <summary>PNG (and other raster formats stb reads) in and out, as float planes.</summary>
internal static class Png
{
    public static PlanarImage Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new FileNotFoundException($"{path}: no such file");
        }

        ImageResult image;
        try
        {
            image = ImageResult.FromMemory(bytes);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or OverflowException or NullReferenceException)
        {
            // stb reports unreadable data with several exception types; all mean "not an image we can decode".
            throw new InvalidDataException($"{path}: not a readable image ({e.Message})");
        }

        var channels = (int)image.Comp;
        var pixels = image.Width * image.Height;
        var planes = new float[channels][];
        for (var c = 0; c < channels; c++)
        {
            planes[c] = new float[pixels];
            for (var p = 0; p < pixels; p++)
            {
                planes[c][p] = image.Data[(p * channels) + c] / 255f;
            }
        }

        return new PlanarImage(image.Width, image.Height, planes);
    }

    public static void Write(string path, PlanarImage image)
    {
        var channels = image.Planes.Length;
        var pixels = image.Width * image.Height;
        var data = new byte[pixels * channels];
        for (var c = 0; c < channels; c++)
        for (var p = 0; p < pixels; p++)
        {
            data[(p * channels) + c] = (byte)Math.Round(Math.Clamp(image.Planes[c][p], 0f, 1f) * 255f);
        }

        var components = channels switch
        {
            1 => StbImageWriteSharp.ColorComponents.Grey,
            2 => StbImageWriteSharp.ColorComponents.GreyAlpha,
            3 => StbImageWriteSharp.ColorComponents.RedGreenBlue,
            _ => StbImageWriteSharp.ColorComponents.RedGreenBlueAlpha,
        };
        using var stream = File.Create(path);
        new ImageWriter().WritePng(data, image.Width, image.Height, components, stream);
    }
}
