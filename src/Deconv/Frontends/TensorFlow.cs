using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Deconv;

/// <summary>
/// TensorFlow's convolutions in TensorFlow's own terms: channels-last data by default, filters
/// <c>[k..., in, out]</c> for convolutions and <c>[k..., out, in]</c> for transposed convolutions,
/// <c>"VALID"</c>/<c>"SAME"</c>/explicit padding, <c>output_shape</c> checked exactly as TensorFlow checks it.
/// </summary>
/// <remarks>
/// Results follow TensorFlow's definitions, including the cases where the stock CPU kernels refuse:
/// dilations greater than 1 and grouped filters in the transposed ops are computed as TensorFlow's
/// XLA and GPU kernels compute them, and the channels-first formats (NCW, NCHW, NCDHW) are accepted
/// as on the GPU. <c>strides</c> and <c>dilations</c> take 1, n or n+2 values (batch and channel entries 1).
/// </remarks>
public static partial class TensorFlow
{
    /// <summary><c>tf.nn.conv1d_transpose</c>: input <c>[N, W, C_in]</c>, filters <c>[kw, C_out, C_in]</c>, output_shape <c>[N, W_out, C_out]</c> (or <c>[W_out]</c>).</summary>
    public static Tensor<T> Conv1DTranspose<T>(Tensor<T> input, Tensor<T> filters, IReadOnlyList<long> outputShape,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat = "NWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        Transpose("conv1d_transpose", 1, input, filters, outputShape, strides, padding, dataFormat, dilations);

    /// <summary><c>tf.nn.conv2d_transpose</c>: input <c>[N, H, W, C_in]</c>, filters <c>[kh, kw, C_out, C_in]</c>, output_shape <c>[N, H_out, W_out, C_out]</c> (or <c>[H_out, W_out]</c>).</summary>
    /// <example><code>var y = TensorFlow.Conv2DTranspose(x, f, [1, 4, 4, 1], strides: [1, 1, 1, 1], padding: "VALID");</code></example>
    public static Tensor<T> Conv2DTranspose<T>(Tensor<T> input, Tensor<T> filters, IReadOnlyList<long> outputShape,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat = "NHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        Transpose("conv2d_transpose", 2, input, filters, outputShape, strides, padding, dataFormat, dilations);

    /// <summary><c>tf.nn.conv3d_transpose</c>: input <c>[N, D, H, W, C_in]</c>, filters <c>[kd, kh, kw, C_out, C_in]</c>.</summary>
    public static Tensor<T> Conv3DTranspose<T>(Tensor<T> input, Tensor<T> filters, IReadOnlyList<long> outputShape,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat = "NDHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        Transpose("conv3d_transpose", 3, input, filters, outputShape, strides, padding, dataFormat, dilations);

    /// <summary><c>tf.raw_ops.Conv2DBackpropInput</c>: the gradient of <c>conv2d</c> with respect to its input (the same computation as <see cref="Conv2DTranspose{T}"/>).</summary>
    public static Tensor<T> Conv2DBackpropInput<T>(IReadOnlyList<long> inputSizes, Tensor<T> filter, Tensor<T> outBackprop,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat = "NHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        Transpose("Conv2DBackpropInput", 2, outBackprop, filter, inputSizes, strides, padding, dataFormat, dilations);

    /// <summary><c>tf.raw_ops.Conv3DBackpropInputV2</c>.</summary>
    public static Tensor<T> Conv3DBackpropInputV2<T>(IReadOnlyList<long> inputSizes, Tensor<T> filter, Tensor<T> outBackprop,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat = "NDHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        Transpose("Conv3DBackpropInputV2", 3, outBackprop, filter, inputSizes, strides, padding, dataFormat, dilations);

    /// <summary><c>tf.raw_ops.Conv2DBackpropFilter</c>: the gradient of <c>conv2d</c> with respect to its filter, shape <c>filter_sizes</c> = <c>[kh, kw, in/groups, out]</c>.</summary>
    public static Tensor<T> Conv2DBackpropFilter<T>(Tensor<T> input, IReadOnlyList<long> filterSizes, Tensor<T> outBackprop,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat = "NHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        BackpropFilter("Conv2DBackpropFilter", 2, input, filterSizes, outBackprop, strides, padding, dataFormat, dilations);

    /// <summary><c>tf.raw_ops.Conv3DBackpropFilterV2</c>.</summary>
    public static Tensor<T> Conv3DBackpropFilterV2<T>(Tensor<T> input, IReadOnlyList<long> filterSizes, Tensor<T> outBackprop,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat = "NDHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        BackpropFilter("Conv3DBackpropFilterV2", 3, input, filterSizes, outBackprop, strides, padding, dataFormat, dilations);

    /// <summary><c>tf.nn.conv1d</c>: input <c>[N, W, C_in]</c>, filters <c>[kw, C_in/groups, C_out]</c>.</summary>
    public static Tensor<T> Conv1D<T>(Tensor<T> input, Tensor<T> filters, IReadOnlyList<long>? stride, TfPadding padding,
        string dataFormat = "NWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        Forward("conv1d", 1, input, filters, stride, padding, dataFormat, dilations, depthwise: false);

    /// <summary><c>tf.nn.conv2d</c>: input <c>[N, H, W, C_in]</c>, filters <c>[kh, kw, C_in/groups, C_out]</c>.</summary>
    public static Tensor<T> Conv2D<T>(Tensor<T> input, Tensor<T> filters, IReadOnlyList<long>? strides, TfPadding padding,
        string dataFormat = "NHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        Forward("conv2d", 2, input, filters, strides, padding, dataFormat, dilations, depthwise: false);

    /// <summary><c>tf.nn.conv3d</c>: input <c>[N, D, H, W, C_in]</c>, filters <c>[kd, kh, kw, C_in/groups, C_out]</c>.</summary>
    public static Tensor<T> Conv3D<T>(Tensor<T> input, Tensor<T> filters, IReadOnlyList<long>? strides, TfPadding padding,
        string dataFormat = "NDHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        Forward("conv3d", 3, input, filters, strides, padding, dataFormat, dilations, depthwise: false);

    /// <summary>
    /// <c>tf.nn.depthwise_conv2d</c>: input <c>[N, H, W, C]</c>, filter <c>[kh, kw, C, multiplier]</c>; output channel
    /// <c>c*multiplier + m</c>. Row and column strides must be equal.
    /// </summary>
    public static Tensor<T> DepthwiseConv2D<T>(Tensor<T> input, Tensor<T> filter, IReadOnlyList<long>? strides, TfPadding padding,
        string dataFormat = "NHWC", IReadOnlyList<long>? dilations = null)
        where T : IFloatingPointIeee754<T> =>
        Forward("depthwise_conv2d", 2, input, filter, strides, padding, dataFormat, dilations, depthwise: true);

    /// <summary>
    /// The canonical geometry of a TensorFlow transposed convolution (<c>conv*_transpose</c>, <c>Conv*DBackpropInput</c>)
    /// from shapes alone, with every TensorFlow check applied.
    /// </summary>
    public static ConvGeometry TransposeGeometry(string op, int rank, IReadOnlyList<long> inputShape, IReadOnlyList<long> filterShape,
        IReadOnlyList<long> outputShape, IReadOnlyList<long>? strides, TfPadding padding, string dataFormat, IReadOnlyList<long>? dilations)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(filterShape);
        ArgumentNullException.ThrowIfNull(outputShape);
        ArgumentNullException.ThrowIfNull(padding);
        var (inputName, filterName, outputName) = TransposeParamNames(op);
        var layout = ParseFormat(op, rank, dataFormat);
        var channelAxis = layout == DataLayout.ChannelsLast ? rank + 1 : 1;
        var hint = LayoutName(rank, layout);
        long[] input = [.. inputShape];
        long[] filter = [.. filterShape];
        FrontEnd.Rank(op, inputName, input, rank + 2, hint);
        FrontEnd.Rank(op, filterName, filter, rank + 2, "[k..., out_channels, in_channels]");
        if (outputShape.Count != rank + 2 && outputShape.Count != rank)
        {
            throw FrontEnd.Error(op, outputName, $"{outputName} {FrontEnd.Format(outputShape)} must contain {rank + 2} values ({hint}) or {rank} spatial values, but got {outputShape.Count}");
        }

        if (outputShape.Any(v => v < 0))
        {
            throw FrontEnd.Error(op, outputName, $"elements of {outputName} must be >= 0, but got {FrontEnd.Format(outputShape)}");
        }

        var stride = FrontEnd.PerAxis(op, "strides", strides, rank, 1, channelAxis, withBatchAndChannel: true);
        var dilation = FrontEnd.PerAxis(op, "dilations", dilations, rank, 1, channelAxis, withBatchAndChannel: true);
        if (filter.Any(v => v < 0) || input.Any(v => v < 0))
        {
            throw FrontEnd.Error(op, inputName, $"shapes must not have negative dimensions: {inputName} {Shapes.Format(input)}, {filterName} {Shapes.Format(filter)}");
        }

        var filterOut = filter[rank];
        var filterIn = filter[rank + 1];
        long[] output = outputShape.Count == rank + 2 ? [.. outputShape]
            : layout == DataLayout.ChannelsLast ? [input[0], .. outputShape, filterOut] : [input[0], filterOut, .. outputShape];
        var batch = input[0];
        var inChannels = input[channelAxis];
        var outChannels = output[channelAxis];
        if (output[0] != batch)
        {
            throw FrontEnd.Error(op, outputName, $"input and out_backprop must have the same batch size: {outputName} batch {output[0]}, input batch {batch}");
        }

        if (filterOut <= 0)
        {
            throw FrontEnd.Error(op, filterName, $"filter depth must be strictly greater than zero, but {filterName} {Shapes.Format(filter)} has {filterOut} output channels");
        }

        if (outChannels % filterOut != 0)
        {
            throw FrontEnd.Error(op, outputName, $"output depth {outChannels} ({outputName} {Shapes.Format(output)}) must be evenly divisible by filter depth {filterOut} ({filterName} {Shapes.Format(filter)})");
        }

        if (inChannels != filterIn)
        {
            throw FrontEnd.Error(op, filterName, $"depth of input ({inChannels}) must match the input depth of {filterName} ({filterIn}): {inputName} {Shapes.Format(input)}, {filterName} {Shapes.Format(filter)} [k..., out, in]");
        }

        var groups = outChannels / filterOut;
        if (groups > 1 && inChannels % groups != 0)
        {
            throw FrontEnd.Error(op, filterName, $"input depth {inChannels} must be divisible by the number of groups {groups} (output depth {outChannels} / filter depth {filterOut})");
        }

        var axes = new AxisGeometry[rank];
        var explicitPairs = padding.Pairs is null ? null : padding.SpatialPairs(op, rank, layout == DataLayout.ChannelsLast);
        for (var a = 0; a < rank; a++)
        {
            var dim = layout == DataLayout.ChannelsLast ? a + 1 : a + 2;
            var i = FrontEnd.ToInt(op, inputName, input[dim], "input size");
            var k = FrontEnd.ToInt(op, filterName, filter[a], "kernel size");
            FrontEnd.DilatedKernel(op, "dilations", k, dilation[a], a);
            var o = FrontEnd.ToInt(op, outputName, output[dim], "output size");
            var ek = (long)dilation[a] * (k - 1) + 1;
            var (before, after) = explicitPairs?[a] ?? (0, 0);
            var computed = ForwardSize(op, padding.Kind, o, ek, stride[a], before, after, outputName);
            if (computed != i)
            {
                var valid = TransposeValidSizes(i, k, stride[a], dilation[a], padding.Kind, before + after);
                throw FrontEnd.Error(op, outputName,
                    $"Size of out_backprop doesn't match computed: actual = {i}, computed = {computed} spatial_dim: {dim} input: {o} filter: {k} output: {i} stride: {stride[a]} dilation: {dilation[a]}. " +
                    $"{outputName}[{dim}] = {o} is not a valid output size for input size {i} with {padding} padding; valid sizes: {FormatRange(valid)}");
            }

            var cropBegin = padding.Kind switch
            {
                "VALID" => 0,
                "SAME" => FrontEnd.ToInt(op, "dilations", Math.Max(0, (long)(i - 1) * stride[a] + ek - o) / 2, "SAME crop"),
                _ => before,
            };
            axes[a] = new AxisGeometry(i, k, stride[a], dilation[a], cropBegin, o);
        }

        FrontEnd.ElementCount(op, outputName, output);
        return new ConvGeometry(CheckedInt(op, batch), CheckedInt(op, inChannels), CheckedInt(op, outChannels), (int)groups, axes, layout, op);
    }

    /// <summary>
    /// The names of the data, filter and size arguments: <c>conv*_transpose(input, filters, output_shape)</c>, but
    /// <c>Conv*DBackpropInput(input_sizes, filter, out_backprop)</c>.
    /// </summary>
    private static (string Input, string Filter, string Output) TransposeParamNames(string op) =>
        op.Contains("BackpropInput", StringComparison.Ordinal) ? ("out_backprop", "filter", "input_sizes") : ("input", "filters", "output_shape");

    /// <summary>
    /// The canonical geometry of a TensorFlow forward convolution (<c>conv1d/2d/3d</c>, <c>depthwise_conv2d</c>):
    /// the convolution maps <see cref="ConvGeometry.OutputShape"/> (its input) to <see cref="ConvGeometry.InputShape"/> (its output).
    /// </summary>
    public static ConvGeometry ForwardGeometry(string op, int rank, IReadOnlyList<long> inputShape, IReadOnlyList<long> filterShape,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat, IReadOnlyList<long>? dilations, bool depthwise = false)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(filterShape);
        ArgumentNullException.ThrowIfNull(padding);
        // tf.nn.conv*d(input, filters), depthwise_conv2d(input, filter), Conv*DBackpropFilter(input, filter_sizes, out_backprop).
        var filterName = op.Contains("BackpropFilter", StringComparison.Ordinal) ? "filter_sizes" : depthwise ? "filter" : "filters";
        var layout = ParseFormat(op, rank, dataFormat);
        var channelAxis = layout == DataLayout.ChannelsLast ? rank + 1 : 1;
        long[] input = [.. inputShape];
        long[] filter = [.. filterShape];
        FrontEnd.Rank(op, "input", input, rank + 2, LayoutName(rank, layout));
        FrontEnd.Rank(op, filterName, filter, rank + 2, depthwise ? "[kh, kw, channels, multiplier]" : "[k..., in_channels, out_channels]");
        if (input.Any(v => v < 0) || filter.Any(v => v < 0))
        {
            throw FrontEnd.Error(op, "input", $"shapes must not have negative dimensions: input {Shapes.Format(input)}, {filterName} {Shapes.Format(filter)}");
        }

        var stride = FrontEnd.PerAxis(op, "strides", strides, rank, 1, channelAxis, withBatchAndChannel: true);
        // The TF2 depthwise API takes dilations as [dh, dw]; the other ops also accept n+2 values.
        var dilation = FrontEnd.PerAxis(op, "dilations", dilations, rank, 1, channelAxis, withBatchAndChannel: true);
        if (filter.Any(v => v == 0))
        {
            throw FrontEnd.Error(op, filterName, $"{filterName} {Shapes.Format(filter)} has no elements");
        }

        var inChannels = input[channelAxis];
        long groups, outChannels;
        if (depthwise)
        {
            if (filter[rank] != inChannels)
            {
                throw FrontEnd.Error(op, "filter", $"number of input channels ({inChannels}) must match the in_channels dimension of filter {Shapes.Format(filter)} ({filter[rank]})");
            }

            if (stride.Distinct().Count() > 1)
            {
                throw FrontEnd.Error(op, "strides", $"current implementation only supports equal length strides in the row and column dimensions, but got {FrontEnd.Format(stride)}");
            }

            groups = inChannels;
            // An int first, so that the product cannot wrap around.
            outChannels = inChannels * FrontEnd.ToInt(op, "filter", filter[rank + 1], "channel multiplier");
        }
        else
        {
            // Depth 0 would make 0 groups (and a division by zero below).
            if (inChannels == 0 || inChannels % filter[rank] != 0)
            {
                throw FrontEnd.Error(op, filterName, $"depth of input ({inChannels}) must be a multiple of the input depth of {filterName} ({filter[rank]}): input {Shapes.Format(input)}, {filterName} {Shapes.Format(filter)} [k..., in, out]");
            }

            groups = inChannels / filter[rank];
            outChannels = filter[rank + 1];
            if (outChannels % groups != 0)
            {
                throw FrontEnd.Error(op, filterName, $"output depth {outChannels} must be evenly divisible by the number of groups {groups}");
            }
        }

        var axes = new AxisGeometry[rank];
        var explicitPairs = padding.Pairs is null ? null : padding.SpatialPairs(op, rank, layout == DataLayout.ChannelsLast);
        for (var a = 0; a < rank; a++)
        {
            var dim = layout == DataLayout.ChannelsLast ? a + 1 : a + 2;
            var length = FrontEnd.ToInt(op, "input", input[dim], "input size");
            var k = FrontEnd.ToInt(op, filterName, filter[a], "kernel size");
            FrontEnd.DilatedKernel(op, "dilations", k, dilation[a], a);
            var ek = (long)dilation[a] * (k - 1) + 1;
            var (before, after) = explicitPairs?[a] ?? (0, 0);
            var size = FrontEnd.ToInt(op, "padding", ForwardSize(op, padding.Kind, length, ek, stride[a], before, after, "input"), "output size");
            var cropBegin = padding.Kind switch
            {
                "VALID" => 0,
                "SAME" => FrontEnd.ToInt(op, "dilations", Math.Max(0, (long)(size - 1) * stride[a] + ek - length) / 2, "SAME padding"),
                _ => before,
            };
            axes[a] = new AxisGeometry(size, k, stride[a], dilation[a], cropBegin, length);
        }

        FrontEnd.ElementCount(op, "padding", [input[0], outChannels, .. axes.Select(a => (long)a.Input)]);
        return new ConvGeometry(CheckedInt(op, input[0]), CheckedInt(op, outChannels), CheckedInt(op, inChannels), (int)groups, axes, layout, op);
    }

    /// <summary>
    /// Every output size TensorFlow accepts for a transposed convolution axis (input size, kernel, stride,
    /// dilation, padding kind, and explicit padding total): VALID <c>[F, F+S-1]</c>, SAME <c>[(I-1)S+1, IS]</c>,
    /// explicit <c>O + pads</c> in <c>[F, F+S-1]</c>. Empty when none exists.
    /// </summary>
    public static (long First, long Last) TransposeValidSizes(int input, int kernel, int stride, int dilation, string paddingKind, long explicitTotal = 0)
    {
        var ek = (long)dilation * (kernel - 1) + 1;
        var full = (long)stride * (input - 1) + ek;
        return paddingKind switch
        {
            "SAME" => ((long)(input - 1) * stride + 1, (long)input * stride),
            "VALID" => (full, full + stride - 1),
            _ => (Math.Max(0, full - explicitTotal), full + stride - 1 - explicitTotal),
        };
    }

    private static string FormatRange((long First, long Last) r) =>
        r.Last < r.First ? "none" : r.First == r.Last ? $"{r.First}" : $"{r.First} to {r.Last}";

    /// <summary>TensorFlow's forward output size (GetWindowedOutputSizeVerbose), C++ truncating division included.</summary>
    private static long ForwardSize(string op, string kind, long length, long ek, int stride, int before, int after, string param)
    {
        var size = kind switch
        {
            "SAME" => (length + stride - 1) / stride,
            "VALID" => (length - ek + stride) / stride,
            _ => (length + before + after - ek + stride) / stride,
        };
        if (size < 0)
        {
            throw FrontEnd.Error(op, param, $"Computed output size would be negative: {size} [input_size: {length}, effective_filter_size: {ek}, stride: {stride}]");
        }

        return size;
    }

    /// <summary>The geometries of the latest transposed-convolution calls (a layer called in a loop validates once).</summary>
    private static readonly RecentGeometries TransposeGeometries = new();

    [SkipLocalsInit] // the key's buffer needs no clearing: only what was written is read
    private static Tensor<T> Transpose<T>(string op, int rank, Tensor<T> input, Tensor<T> filters, IReadOnlyList<long> outputShape,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat, IReadOnlyList<long>? dilations)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(filters);
        // Every argument TransposeGeometry reads (rank comes with op).
        var key = new ArgumentKey(stackalloc long[ArgumentKey.Capacity]);
        key.Add(op);
        key.Add(input.Lengths);
        key.Add(filters.Lengths);
        key.Add(outputShape);
        key.Add(strides);
        key.Add(padding);
        key.Add(dataFormat);
        key.Add(dilations);
        var geometry = TransposeGeometries.Find(key) ?? TransposeGeometries.Add(key,
            TransposeGeometry(op, rank, FrontEnd.ShapeOf(input), FrontEnd.ShapeOf(filters), outputShape, strides, padding, dataFormat, dilations));
        // The filter [k..., out, in] goes as it is: it is made canonical only when a new plan needs it.
        var y = ConvOps.TransposeWithLayout<T>(geometry, FrontEnd.Data(input), FrontEnd.Data(filters), WeightLayout.KernelFirst, []);
        return FrontEnd.Wrap(y, geometry.OutputTensorLengths);
    }

    private static Tensor<T> Forward<T>(string op, int rank, Tensor<T> input, Tensor<T> filters, IReadOnlyList<long>? strides,
        TfPadding padding, string dataFormat, IReadOnlyList<long>? dilations, bool depthwise)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(filters);
        var filterShape = FrontEnd.ShapeOf(filters);
        var geometry = ForwardGeometry(op, rank, FrontEnd.ShapeOf(input), filterShape, strides, padding, dataFormat, dilations, depthwise);
        // A depthwise filter [k..., C, mult] is the grouped filter [k..., 1, C*mult] (output channel c*mult + m).
        long[] asGrouped = depthwise ? [.. filterShape[..rank], 1, filterShape[rank] * filterShape[rank + 1]] : filterShape;
        var w = FrontEnd.FilterToCanonical(FrontEnd.Flatten(filters), asGrouped);
        var y = ConvOps.Forward<T>(geometry, FrontEnd.Flatten(input), w, []);
        return FrontEnd.Wrap(y, geometry.InputShape);
    }

    private static Tensor<T> BackpropFilter<T>(string op, int rank, Tensor<T> input, IReadOnlyList<long> filterSizes, Tensor<T> outBackprop,
        IReadOnlyList<long>? strides, TfPadding padding, string dataFormat, IReadOnlyList<long>? dilations)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(filterSizes);
        ArgumentNullException.ThrowIfNull(outBackprop);
        FrontEnd.ElementCount(op, "filter_sizes", filterSizes);
        var geometry = ForwardGeometry(op, rank, FrontEnd.ShapeOf(input), filterSizes, strides, padding, dataFormat, dilations);
        var gradShape = FrontEnd.ShapeOf(outBackprop);
        if (!gradShape.SequenceEqual(geometry.InputShape))
        {
            throw FrontEnd.Error(op, "out_backprop", $"out_backprop shape {Shapes.Format(gradShape)} does not match the convolution's output shape {Shapes.Format(geometry.InputShape)} for input {Shapes.Format(FrontEnd.ShapeOf(input))}, filter_sizes {FrontEnd.Format(filterSizes)}, {padding} padding");
        }

        var dw = ConvOps.WeightGradient<T>(geometry, FrontEnd.Flatten(input), FrontEnd.Flatten(outBackprop));
        var taps = geometry.Axes.Aggregate(1, (p, a) => p * a.Kernel);
        return FrontEnd.Wrap(FrontEnd.CanonicalToFilter(dw, geometry.InputChannels, geometry.OutputChannelsPerGroup, taps), [.. filterSizes]);
    }

    private static DataLayout ParseFormat(string op, int rank, string dataFormat)
    {
        var last = LayoutName(rank, DataLayout.ChannelsLast);
        var first = LayoutName(rank, DataLayout.ChannelsFirst);
        if (dataFormat == last)
        {
            return DataLayout.ChannelsLast;
        }

        if (dataFormat == first)
        {
            return DataLayout.ChannelsFirst;
        }

        throw FrontEnd.Error(op, "data_format", $"Invalid data format '{dataFormat}': data_format must be \"{last}\" or \"{first}\"");
    }

    private static string LayoutName(int rank, DataLayout layout) => (rank, layout) switch
    {
        (1, DataLayout.ChannelsLast) => "NWC",
        (1, _) => "NCW",
        (2, DataLayout.ChannelsLast) => "NHWC",
        (2, _) => "NCHW",
        (_, DataLayout.ChannelsLast) => "NDHWC",
        _ => "NCDHW",
    };

    private static int CheckedInt(string op, long value) => FrontEnd.ToInt(op, "input", value, "dimension");
}
