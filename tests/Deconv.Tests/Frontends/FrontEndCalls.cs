using System.Numerics.Tensors;

namespace Deconv.Tests.Frontends;

/// <summary>Calls each framework's op of the right rank on flat data, and converts between canonical and framework layouts.</summary>
internal static class FrontEndCalls
{
    public static Tensor<double> Tensor(double[] data, long[] shape) => data.ToTensor(shape);

    public static (double[] Data, long[] Shape) Flat(Tensor<double> t) => (t.ToArray(), t.Shape());

    /// <summary>tf.nn.conv{1,2,3}d_transpose, or Conv{2,3}DBackpropInput(V2) when <paramref name="backpropOp"/>.</summary>
    public static Tensor<double> TfTranspose(int rank, bool backpropOp, Tensor<double> input, Tensor<double> filters, IReadOnlyList<long> outputShape,
        IReadOnlyList<long>? strides, TfPadding padding, string format, IReadOnlyList<long>? dilations) => (rank, backpropOp) switch
    {
        (1, _) => TensorFlow.Conv1DTranspose(input, filters, outputShape, strides, padding, format, dilations),
        (2, false) => TensorFlow.Conv2DTranspose(input, filters, outputShape, strides, padding, format, dilations),
        (2, true) => TensorFlow.Conv2DBackpropInput(outputShape, filters, input, strides, padding, format, dilations),
        (3, false) => TensorFlow.Conv3DTranspose(input, filters, outputShape, strides, padding, format, dilations),
        _ => TensorFlow.Conv3DBackpropInputV2(outputShape, filters, input, strides, padding, format, dilations),
    };

    public static Tensor<double> TfConv(int rank, Tensor<double> input, Tensor<double> filters, IReadOnlyList<long>? strides, TfPadding padding,
        string format, IReadOnlyList<long>? dilations) => rank switch
    {
        1 => TensorFlow.Conv1D(input, filters, strides, padding, format, dilations),
        2 => TensorFlow.Conv2D(input, filters, strides, padding, format, dilations),
        _ => TensorFlow.Conv3D(input, filters, strides, padding, format, dilations),
    };

    public static Tensor<double> TfBackpropFilter(int rank, Tensor<double> input, IReadOnlyList<long> filterSizes, Tensor<double> outBackprop,
        IReadOnlyList<long>? strides, TfPadding padding, string format, IReadOnlyList<long>? dilations) => rank switch
    {
        2 => TensorFlow.Conv2DBackpropFilter(input, filterSizes, outBackprop, strides, padding, format, dilations),
        _ => TensorFlow.Conv3DBackpropFilterV2(input, filterSizes, outBackprop, strides, padding, format, dilations),
    };

    public static Tensor<double> TorchTranspose(int rank, Tensor<double> input, Tensor<double> weight, Tensor<double>? bias, IReadOnlyList<long>? stride,
        IReadOnlyList<long>? padding, IReadOnlyList<long>? outputPadding, long groups, IReadOnlyList<long>? dilation, IReadOnlyList<long>? outputSize) => rank switch
    {
        1 => Torch.ConvTranspose1d(input, weight, bias, stride, padding, outputPadding, groups, dilation, outputSize),
        2 => Torch.ConvTranspose2d(input, weight, bias, stride, padding, outputPadding, groups, dilation, outputSize),
        _ => Torch.ConvTranspose3d(input, weight, bias, stride, padding, outputPadding, groups, dilation, outputSize),
    };

    public static Tensor<double> TorchConv(int rank, Tensor<double> input, Tensor<double> weight, Tensor<double>? bias, IReadOnlyList<long>? stride,
        TorchPadding? padding, IReadOnlyList<long>? dilation, long groups) => rank switch
    {
        1 => Torch.Conv1d(input, weight, bias, stride, padding, dilation, groups),
        2 => Torch.Conv2d(input, weight, bias, stride, padding, dilation, groups),
        _ => Torch.Conv3d(input, weight, bias, stride, padding, dilation, groups),
    };

    public static string TfFormat(int rank, bool channelsLast) => (rank, channelsLast) switch
    {
        (1, true) => "NWC",
        (1, false) => "NCW",
        (2, true) => "NHWC",
        (2, false) => "NCHW",
        (_, true) => "NDHWC",
        _ => "NCDHW",
    };

    /// <summary>Canonical weight <c>[C, M/G, k...]</c> as TensorFlow's filter <c>[k..., M/G, C]</c>.</summary>
    public static Tensor<double> TfFilter(ConvGeometry g, double[] w) =>
        Tensor(TestData.Permute(w, g.WeightShape, TestData.CanonicalToTfFilter(g.Rank)), TestData.PermuteShape(g.WeightShape, TestData.CanonicalToTfFilter(g.Rank)));

    /// <summary>Channels-first data as the layout asked for.</summary>
    public static (double[] Data, long[] Shape) InLayout(double[] data, long[] shapeFirst, bool channelsLast) => channelsLast
        ? (TestData.Permute(data, shapeFirst, TestData.ToChannelsLast(shapeFirst.Length - 2)), TestData.PermuteShape(shapeFirst, TestData.ToChannelsLast(shapeFirst.Length - 2)))
        : (data, shapeFirst);

    /// <summary>A result in the given layout back to channels-first.</summary>
    public static (double[] Data, long[] Shape) ToFirst(Tensor<double> result, bool channelsLast)
    {
        var (data, shape) = Flat(result);
        return channelsLast
            ? (TestData.Permute(data, shape, TestData.ToChannelsFirst(shape.Length - 2)), TestData.PermuteShape(shape, TestData.ToChannelsFirst(shape.Length - 2)))
            : (data, shape);
    }

    /// <summary>
    /// Channels-first <paramref name="data"/> cut to the window <c>[begin, begin + length)</c> of every spatial axis,
    /// with zeros where the window passes the end (what slicing a padded result does).
    /// </summary>
    public static double[] Window(double[] data, long[] shape, int[] begin, int[] length)
    {
        var rank = shape.Length - 2;
        long[] resultShape = [shape[0], shape[1], .. length.Select(l => (long)l)];
        var result = new double[resultShape.Aggregate(1L, (p, v) => p * v)];
        var index = new long[rank + 2];
        for (long flat = 0; flat < result.LongLength; flat++)
        {
            long source = 0;
            var inside = true;
            for (var d = 0; d < rank + 2; d++)
            {
                var position = d < 2 ? index[d] : index[d] + begin[d - 2];
                inside &= position < shape[d];
                source = source * shape[d] + position;
            }

            result[flat] = inside ? data[source] : 0;
            for (var d = rank + 1; d >= 0; d--)
            {
                if (++index[d] < resultShape[d])
                {
                    break;
                }

                index[d] = 0;
            }
        }

        return result;
    }
}
