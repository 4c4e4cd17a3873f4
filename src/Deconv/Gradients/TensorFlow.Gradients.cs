using System.Numerics;
using System.Numerics.Tensors;

namespace Deconv;

/// <summary>
/// Gradients of TensorFlow's transposed convolutions, as TensorFlow's own gradient functions define them.
/// </summary>
/// <remarks>
/// <para>Convolution and transposed convolution are one family. <c>conv2d_transpose(x, f, output_shape)</c> is
/// <see cref="Conv2DBackpropInput{T}"/>, so its gradient with respect to <c>x</c> is <see cref="Conv2D{T}"/> of the
/// output gradient with the same filter, and the gradient of <see cref="Conv2D{T}"/> with respect to its input is
/// <see cref="Conv2DBackpropInput{T}"/> (= <see cref="Conv2DTranspose{T}"/>).</para>
/// <para><see cref="Conv2DBackpropFilter{T}"/> is the weight gradient that the pair shares:
/// <c>Conv2DBackpropFilter(input: dy, filter_sizes, out_backprop: x)</c> is the filter gradient of
/// <c>conv2d_transpose(x, f)</c> for the output gradient <c>dy</c>, because the filter <c>[kh, kw, out, in]</c> of
/// the transposed op is the filter <c>[kh, kw, in', out']</c> of the conv2d that runs from the transposed op's output
/// back to its input. <see cref="Conv2DTransposeBackpropFilter{T}"/> says this in the transposed op's own terms.</para>
/// </remarks>
public static partial class TensorFlow
{
    /// <summary>
    /// Gradient of <see cref="Conv1DTranspose{T}"/> with respect to its input: <c>conv1d(gradOutput, filters)</c>
    /// with the same strides, padding and dilations. gradOutput <c>[N, W_out, C_out]</c>, filters <c>[kw, C_out, C_in]</c>.
    /// </summary>
    public static Tensor<T> Conv1DTransposeBackpropInput<T>(Tensor<T> gradOutput, Tensor<T> filters, IReadOnlyList<long>? strides,
        TfPadding padding, string dataFormat = "NWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        Forward("Conv1DTransposeBackpropInput", 1, gradOutput, filters, strides, padding, dataFormat, dilations, depthwise: false);

    /// <summary>
    /// Gradient of <see cref="Conv2DTranspose{T}"/> with respect to its input: <c>conv2d(gradOutput, filters)</c>
    /// with the same strides, padding and dilations. gradOutput <c>[N, H_out, W_out, C_out]</c>, filters <c>[kh, kw, C_out, C_in]</c>.
    /// </summary>
    public static Tensor<T> Conv2DTransposeBackpropInput<T>(Tensor<T> gradOutput, Tensor<T> filters, IReadOnlyList<long>? strides,
        TfPadding padding, string dataFormat = "NHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        Forward("Conv2DTransposeBackpropInput", 2, gradOutput, filters, strides, padding, dataFormat, dilations, depthwise: false);

    /// <summary>Gradient of <see cref="Conv3DTranspose{T}"/> with respect to its input: <c>conv3d(gradOutput, filters)</c>.</summary>
    public static Tensor<T> Conv3DTransposeBackpropInput<T>(Tensor<T> gradOutput, Tensor<T> filters, IReadOnlyList<long>? strides,
        TfPadding padding, string dataFormat = "NDHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        Forward("Conv3DTransposeBackpropInput", 3, gradOutput, filters, strides, padding, dataFormat, dilations, depthwise: false);

    /// <summary>
    /// Gradient of <see cref="Conv1DTranspose{T}"/> with respect to its filters <c>[kw, C_out, C_in]</c>
    /// (<paramref name="filterSizes"/>), for the transposed op's input <paramref name="input"/> <c>[N, W, C_in]</c> and
    /// output gradient <paramref name="gradOutput"/> <c>[N, W_out, C_out]</c>.
    /// </summary>
    public static Tensor<T> Conv1DTransposeBackpropFilter<T>(Tensor<T> input, IReadOnlyList<long> filterSizes, Tensor<T> gradOutput,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat = "NWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        TransposeBackpropFilter("Conv1DTransposeBackpropFilter", 1, input, filterSizes, gradOutput, strides, padding, dataFormat, dilations);

    /// <summary>
    /// Gradient of <see cref="Conv2DTranspose{T}"/> with respect to its filters <c>[kh, kw, C_out, C_in]</c>
    /// (<paramref name="filterSizes"/>), for the transposed op's input <paramref name="input"/> <c>[N, H, W, C_in]</c> and
    /// output gradient <paramref name="gradOutput"/> <c>[N, H_out, W_out, C_out]</c>. Equal to
    /// <c>Conv2DBackpropFilter(input: gradOutput, filterSizes, out_backprop: input)</c>, the weight gradient the pair shares;
    /// the shapes are checked as <see cref="Conv2DTranspose{T}"/> checks them, with <c>gradOutput</c>'s shape as <c>output_shape</c>.
    /// </summary>
    public static Tensor<T> Conv2DTransposeBackpropFilter<T>(Tensor<T> input, IReadOnlyList<long> filterSizes, Tensor<T> gradOutput,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat = "NHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        TransposeBackpropFilter("Conv2DTransposeBackpropFilter", 2, input, filterSizes, gradOutput, strides, padding, dataFormat, dilations);

    /// <summary>Gradient of <see cref="Conv3DTranspose{T}"/> with respect to its filters <c>[kd, kh, kw, C_out, C_in]</c>.</summary>
    public static Tensor<T> Conv3DTransposeBackpropFilter<T>(Tensor<T> input, IReadOnlyList<long> filterSizes, Tensor<T> gradOutput,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat = "NDHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        TransposeBackpropFilter("Conv3DTransposeBackpropFilter", 3, input, filterSizes, gradOutput, strides, padding, dataFormat, dilations);

    private static Tensor<T> TransposeBackpropFilter<T>(string op, int rank, Tensor<T> input, IReadOnlyList<long> filterSizes, Tensor<T> gradOutput,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat, IReadOnlyList<long>? dilations)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(filterSizes);
        ArgumentNullException.ThrowIfNull(gradOutput);
        // The transposed op's checks, with the output gradient's shape standing for output_shape.
        var geometry = TransposeGeometry(op, rank, FrontEnd.ShapeOf(input), filterSizes, FrontEnd.ShapeOf(gradOutput), strides, padding, dataFormat, dilations);
        var dw = ConvOps.WeightGradient<T>(geometry, large: FrontEnd.Flatten(gradOutput), small: FrontEnd.Flatten(input));
        var taps = geometry.Axes.Aggregate(1, (p, a) => p * a.Kernel);
        // Canonical [C_in, C_out/G, k...] to TF's [k..., C_out/G, C_in].
        return FrontEnd.Wrap(FrontEnd.CanonicalToFilter(dw, geometry.InputChannels, geometry.OutputChannelsPerGroup, taps), [.. filterSizes]);
    }
}
