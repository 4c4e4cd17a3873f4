namespace Deconv;

/// <summary>The kernels a transposed convolution up-samples an image with.</summary>
public enum UpsamplingKernel
{
    /// <summary>Copy each value into a <c>factor x factor</c> block (kernel size = factor, all ones).</summary>
    Nearest,

    /// <summary>Linear interpolation: tent weights <c>1 - |i - center| / f</c> (for size 4, factor 2: 0.25, 0.75, 0.75, 0.25).</summary>
    Bilinear,

    /// <summary>A flat kernel of any size, scaled by <c>factor / size</c> per axis: artifacts unless the size is a multiple of the factor.</summary>
    Box,
}

/// <summary>
/// Up-sampling by an integer factor with a transposed convolution (stride = factor), and the overlap
/// map that explains its checkerboard artifacts and darkened borders.
/// </summary>
public static class Upsampling
{
    /// <summary>The usual kernel size for a kind and factor: the factor for nearest and box, <c>2*factor - factor%2</c> for bilinear.</summary>
    public static int DefaultSize(UpsamplingKernel kind, int factor) => kind == UpsamplingKernel.Bilinear ? 2 * factor - factor % 2 : factor;

    /// <summary>The 1-D kernel (the 2-D kernel is its outer product with itself).</summary>
    /// <exception cref="ConvolutionArgumentException">factor or size below 1, or above 1024.</exception>
    public static double[] Kernel1D(UpsamplingKernel kind, int factor, int size)
    {
        Range("factor", factor);
        Range("size", size);
        var w = new double[size];
        switch (kind)
        {
            case UpsamplingKernel.Nearest:
                if (size != factor)
                {
                    throw new ConvolutionArgumentException($"nearest up-sampling uses a kernel of size factor ({factor}), but size {size} was given", nameof(size));
                }

                Array.Fill(w, 1.0);
                break;
            case UpsamplingKernel.Bilinear:
                // The tent of half-width f centred on the kernel (the usual bilinear initialisation of FCN / caffe).
                var f = (size + 1) / 2;
                var center = size % 2 == 1 ? f - 1 : f - 0.5;
                for (var i = 0; i < size; i++)
                {
                    w[i] = 1 - Math.Abs(i - center) / f;
                }

                break;
            default:
                Array.Fill(w, (double)factor / size);
                break;
        }

        return w;
    }

    /// <summary>
    /// The geometry of up-sampling a <c>height x width</c> single-channel image by <paramref name="factor"/> with a
    /// <paramref name="size"/>-tap kernel: output <c>factor * input</c>, cropped as TensorFlow's SAME does
    /// (<c>floor(max(0, size - factor) / 2)</c> at the start).
    /// </summary>
    public static ConvGeometry Geometry(int height, int width, int factor, int size)
    {
        Range("factor", factor);
        Range("size", size);
        AxisGeometry Axis(int length) => new(length, size, factor, 1, Math.Max(0, size - factor) / 2, checked(length * factor));
        return new ConvGeometry(1, 1, 1, 1, [Axis(height), Axis(width)], DataLayout.ChannelsFirst, "upsample");
    }

    /// <summary>Up-samples one channel: <c>image</c> is <c>[height, width]</c> row-major; returns <c>[factor*height, factor*width]</c>.</summary>
    public static float[] Upsample(float[] image, int height, int width, UpsamplingKernel kind, int factor, int size)
    {
        ArgumentNullException.ThrowIfNull(image);
        var geometry = Geometry(height, width, factor, size);
        var k = Kernel1D(kind, factor, size);
        var w = new float[size * size];
        for (var i = 0; i < size; i++)
        for (var j = 0; j < size; j++)
        {
            w[i * size + j] = (float)(k[i] * k[j]);
        }

        return ConvOps.Transpose<float>(geometry, image, w, []);
    }

    /// <summary>
    /// How many kernel taps reach each position of the full (uncropped) 1-D result of a transposed convolution with
    /// this kernel size and stride over <paramref name="input"/> positions: the transposed convolution of ones by ones.
    /// In 2-D the count at <c>(r, c)</c> is <c>counts[r] * counts[c]</c>.
    /// </summary>
    public static int[] OverlapCounts(int kernel, int stride, int input)
    {
        Range("kernel", kernel);
        Range("stride", stride);
        Range("input", input);
        var axis = new AxisGeometry(input, kernel, stride, 1, 0, stride * (input - 1) + kernel);
        var geometry = new ConvGeometry(1, 1, 1, 1, [axis], DataLayout.ChannelsFirst, "overlap");
        var ones = Enumerable.Repeat(1, input).ToArray();
        return ConvOps.Transpose<int>(geometry, ones, Enumerable.Repeat(1, kernel).ToArray(), []);
    }

    private static void Range(string name, int value)
    {
        if (value is < 1 or > 1024)
        {
            throw new ConvolutionArgumentException($"{name} is {value} but must be between 1 and 1024", name);
        }
    }
}
