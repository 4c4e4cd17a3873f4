using System.CommandLine;
using System.Numerics.Tensors;

namespace Deconv.Cli.Commands;

/// <summary>The three worked examples of <c>tf.nn.conv2d_transpose</c> with all-ones input and a 2x2 all-ones kernel.</summary>
internal static class ExamplesCommand
{
    public static Command Create()
    {
        var command = new Command("examples", "Print the three worked examples (3x3 VALID stride 1, 2x2 VALID stride 2, 4x4 SAME stride 1).");
        command.SetAction(_ => Print(Console.Out));
        return command;
    }

    public static int Print(TextWriter output)
    {
        foreach (var (title, size, stride, padding) in Examples)
        {
            var x = Tensor.CreateFromShape<float>([1, size, size, 1]);
            x.Fill(1f);
            var kernel = Tensor.CreateFromShape<float>([2, 2, 1, 1]);
            kernel.Fill(1f);
            var y = TensorFlow.Conv2DTranspose(x, kernel, [1, 4, 4, 1], [1, stride, stride, 1], padding);
            output.WriteLine(title);
            output.WriteLine($"  tf.nn.conv2d_transpose(ones[1,{size},{size},1], ones[2,2,1,1], output_shape=[1,4,4,1], strides={stride}, padding=\"{padding}\")");
            output.Write(MatrixText.Format(y.ToArray(), 4, 4));
            output.WriteLine();
        }

        return 0;
    }

    internal static readonly (string Title, int Size, int Stride, string Padding)[] Examples =
    [
        ("1. 3x3 input, stride 1, VALID: every output counts the input positions under the 2x2 kernel", 3, 1, "VALID"),
        ("2. 2x2 input, stride 2, VALID: the stamps do not overlap", 2, 2, "VALID"),
        ("3. 4x4 input, stride 1, SAME: the full 5x5 result cropped by 1 at the end", 4, 1, "SAME"),
    ];
}
