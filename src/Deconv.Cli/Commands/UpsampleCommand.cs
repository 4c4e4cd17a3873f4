using System.CommandLine;
using Deconv.Cli.Formats;

namespace Deconv.Cli.Commands;

/// <summary><c>deconv upsample IN.png OUT.png</c>: up-sample a real image channel by channel with a transposed convolution.</summary>
internal static class UpsampleCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "Image to read (PNG, JPEG, BMP, ...)." };
        var output = new Argument<string>("output") { Description = "PNG to write." };
        var factor = new Option<int>("--factor") { Description = "Up-sampling factor (the stride).", DefaultValueFactory = _ => 2 };
        var kernel = new Option<string>("--kernel") { Description = "bilinear, nearest or box.", DefaultValueFactory = _ => "bilinear" };
        kernel.AcceptOnlyFromAmong("bilinear", "nearest", "box");
        var size = new Option<int?>("--size") { Description = "Kernel size (default: factor for nearest and box, 2*factor - factor%2 for bilinear)." };
        var command = new Command("upsample",
            "Up-sample an image by an integer factor with a transposed convolution (stride = factor, TF SAME crop), channel by channel, " +
            "and report how a constant image would come out: darkened borders, and checkerboard artifacts when the kernel size is not a multiple of the factor.")
        { input, output, factor, kernel, size };
        command.SetAction(parse =>
        {
            var kind = Enum.Parse<UpsamplingKernel>(parse.GetValue(kernel)!, ignoreCase: true);
            var f = parse.GetValue(factor);
            var k = parse.GetValue(size) ?? Upsampling.DefaultSize(kind, f);
            var image = Png.Read(parse.GetValue(input)!);
            var planes = image.Planes.Select(p => Upsampling.Upsample(p, image.Height, image.Width, kind, f, k)).ToArray();
            var result = new PlanarImage(image.Width * f, image.Height * f, planes);
            Png.Write(parse.GetValue(output)!, result);
            var report = parse.InvocationConfiguration.Output;
            report.WriteLine($"{image.Width}x{image.Height} -> {result.Width}x{result.Height}, {kind.ToString().ToLowerInvariant()} kernel {k}x{k}, stride {f}, crop {Math.Max(0, k - f) / 2} at the start");
            report.Write(ConstantImageReport(kind, f, k));
            return 0;
        });
        return command;
    }

    /// <summary>What a constant image of ones becomes: corner, edge and the distinct interior values.</summary>
    internal static string ConstantImageReport(UpsamplingKernel kind, int factor, int size)
    {
        const int n = 8;
        var ones = Enumerable.Repeat(1f, n * n).ToArray();
        var y = Upsampling.Upsample(ones, n, n, kind, factor, size);
        var width = n * factor;
        var interior = new SortedSet<float>();
        for (var r = size; r < width - size; r++)
        for (var c = size; c < width - size; c++)
        {
            interior.Add(MathF.Round(y[r * width + c], 4));
        }

        var report = $"a constant image of 1 becomes: corner {y[0]:0.####}, edge {y[width / 2]:0.####}, interior {string.Join(" / ", interior.Select(v => v.ToString("0.####")))}\n";
        if (interior.Count > 1)
        {
            report += $"checkerboard: kernel size {size} is not a multiple of the factor {factor}, so interior positions receive unequal weight\n";
        }

        return report;
    }
}
