using System.CommandLine;
using System.Globalization;
using System.Numerics.Tensors;
using Deconv.Layers;

namespace Deconv.Cli.Commands;

/// <summary>
/// <c>deconv train</c>: learns a 2x up-sampling kernel (ConvTranspose2d, 1 channel, kernel 4, stride 2, padding 1)
/// from pairs of 2x2-averaged and original synthetic images with Adam, and compares it with the bilinear kernel.
/// </summary>
internal static class TrainCommand
{
    /// <summary>Side of the original (high-resolution) images; the down-sampled ones are half as wide.</summary>
    private const int Size = 32;

    /// <summary>Images per training batch (the same batch every step: the data set is this small).</summary>
    private const int Images = 16;

    /// <summary>Pixels at each edge left out of the loss: there the zero padding, not the kernel, decides the result.</summary>
    private const int Border = 2;

    public static Command Create()
    {
        var steps = new Option<int>("--steps") { Description = "Adam steps", DefaultValueFactory = _ => 500 };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic images and the initial kernel", DefaultValueFactory = _ => 1 };
        var lr = new Option<float>("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => 0.05f };
        var command = new Command("train",
            "Worked example: learn a 2x up-sampling kernel (ConvTranspose2d, kernel 4, stride 2, padding 1) from down-sampled and original " +
            "synthetic images with Adam; prints the falling loss and the learned 4x4 kernel next to the bilinear one.");
        command.Options.Add(steps);
        command.Options.Add(seed);
        command.Options.Add(lr);
        command.SetAction(parse =>
        {
            Run(Console.Out, parse.GetValue(steps), parse.GetValue(seed), parse.GetValue(lr));
            return 0;
        });
        return command;
    }

    /// <summary>Trains and prints; returns the loss before the first step and after the last.</summary>
    public static (double InitialLoss, double FinalLoss) Run(TextWriter output, int steps, int seed, float learningRate)
    {
        if (steps < 1)
        {
            throw new ArgumentException($"--steps must be at least 1, but got {steps}");
        }

        if (!(learningRate > 0) || !float.IsFinite(learningRate))
        {
            throw new ArgumentException($"--lr must be a positive number, but got {learningRate.ToString(CultureInfo.InvariantCulture)}");
        }

        // target: [N, 1, 32, 32] originals; input: [N, 1, 16, 16] their 2x2 averages.
        var target = SyntheticImages(Images, Size, seed);
        var input = Downsample(target, Images, Size);
        var inputTensor = input.ToTensor(Images, 1, Size / 2, Size / 2);
        var layer = new ConvTranspose2d(1, 1, [4], stride: [2], padding: [1], bias: false, seed: seed);
        var adam = new Adam(layer.Parameters, learningRate);

        output.WriteLine($"Learning a 2x up-sampling kernel: ConvTranspose2d(1, 1, kernel 4, stride 2, padding 1), {Images} synthetic {Size}x{Size} images (seed {seed}),");
        output.WriteLine($"inputs are their 2x2 averages ({Size / 2}x{Size / 2}); loss = mean squared error inside a {Border}-pixel border; Adam lr {learningRate.ToString(CultureInfo.InvariantCulture)}.");
        var every = Math.Max(1, steps / 10);
        double initial = 0, loss = 0;
        for (var step = 0; step <= steps; step++)
        {
            var prediction = layer.Forward(inputTensor).ToArray();
            var (value, gradient) = MaskedMeanSquaredError(prediction, target, Images, Size);
            loss = value;
            if (step == 0)
            {
                initial = value;
            }

            if (step % every == 0 || step == steps)
            {
                output.WriteLine($"  step {step.ToString(CultureInfo.InvariantCulture),5}  loss {value.ToString("0.000E+00", CultureInfo.InvariantCulture)}");
            }

            if (step == steps)
            {
                break;
            }

            layer.Backward(gradient.ToTensor(Images, 1, Size, Size));
            adam.Step();
        }

        output.WriteLine($"Loss fell by a factor of {(initial / loss).ToString("G3", CultureInfo.InvariantCulture)}.");
        var bilinearLayer = new ConvTranspose2d(1, 1, [4], stride: [2], padding: [1], bias: false);
        BilinearKernel().CopyTo(bilinearLayer.Weight, 0);
        var bilinearLoss = MaskedMeanSquaredError(bilinearLayer.Forward(inputTensor).ToArray(), target, Images, Size).Loss;
        output.WriteLine($"The bilinear kernel's loss on the same images: {bilinearLoss.ToString("0.000E+00", CultureInfo.InvariantCulture)}.");
        output.WriteLine();
        output.WriteLine("learned kernel (4x4)                 bilinear kernel ([0.25 0.75 0.75 0.25] outer itself)");
        var learned = Rows(layer.Weight);
        var bilinear = Rows(BilinearKernel());
        for (var r = 0; r < 4; r++)
        {
            output.WriteLine($"  {learned[r]}    {bilinear[r]}");
        }

        return (initial, loss);
    }

    /// <summary>The bilinear 2x up-sampling kernel: the outer product of <c>[0.25, 0.75, 0.75, 0.25]</c> with itself.</summary>
    internal static float[] BilinearKernel()
    {
        float[] taps = [0.25f, 0.75f, 0.75f, 0.25f];
        return [.. from a in taps from b in taps select a * b];
    }

    /// <summary>
    /// Smooth images: per image three sinusoids of at most 2 cycles per image and two gaussian blobs, all with
    /// random amplitude, direction, phase, centre and width from <paramref name="seed"/>. Returns <c>[count, 1, size, size]</c>.
    /// </summary>
    internal static float[] SyntheticImages(int count, int size, int seed)
    {
        var random = new Random(seed);
        var images = new float[count * size * size];
        for (var n = 0; n < count; n++)
        {
            var waves = Enumerable.Range(0, 4).Select(_ => (Amplitude: random.NextDouble() * 0.5, Fx: random.NextDouble() * 4 - 2, Fy: random.NextDouble() * 4 - 2,
                Phase: random.NextDouble() * 2 * Math.PI)).ToArray();
            var blobs = Enumerable.Range(0, 12).Select(_ => (Amplitude: random.NextDouble() * 2 - 1, X: random.NextDouble() * size, Y: random.NextDouble() * size,
                Sigma: 1.5 + random.NextDouble() * 3)).ToArray();
            for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                var value = waves.Sum(w => w.Amplitude * Math.Sin(2 * Math.PI * (w.Fx * x + w.Fy * y) / size + w.Phase))
                            + blobs.Sum(b => b.Amplitude * Math.Exp(-((x - b.X) * (x - b.X) + (y - b.Y) * (y - b.Y)) / (2 * b.Sigma * b.Sigma)));
                images[(n * size + y) * size + x] = (float)value;
            }
        }

        return images;
    }

    /// <summary>2x2 averages: <c>[count, 1, size, size]</c> to <c>[count, 1, size/2, size/2]</c>.</summary>
    internal static float[] Downsample(float[] images, int count, int size)
    {
        var half = size / 2;
        var small = new float[count * half * half];
        for (var n = 0; n < count; n++)
        for (var y = 0; y < half; y++)
        for (var x = 0; x < half; x++)
        {
            var at = (n * size + 2 * y) * size + 2 * x;
            small[(n * half + y) * half + x] = (images[at] + images[at + 1] + images[at + size] + images[at + size + 1]) / 4;
        }

        return small;
    }

    /// <summary>Mean squared error over the pixels inside the border, and its gradient with respect to the prediction.</summary>
    private static (double Loss, float[] Gradient) MaskedMeanSquaredError(float[] prediction, float[] target, int count, int size)
    {
        var inside = size - 2 * Border;
        var pixels = (double)count * inside * inside;
        var gradient = new float[prediction.Length];
        var sum = 0.0;
        for (var n = 0; n < count; n++)
        for (var y = Border; y < size - Border; y++)
        for (var x = Border; x < size - Border; x++)
        {
            var at = (n * size + y) * size + x;
            var error = (double)prediction[at] - target[at];
            sum += error * error;
            gradient[at] = (float)(2 * error / pixels);
        }

        return (sum / pixels, gradient);
    }

    private static string[] Rows(float[] kernel)
    {
        var cells = kernel.Select(v => v.ToString("0.0000", CultureInfo.InvariantCulture).PadLeft(7)).ToArray();
        return [.. Enumerable.Range(0, 4).Select(r => string.Join(" ", cells.Skip(4 * r).Take(4)))];
    }
}
