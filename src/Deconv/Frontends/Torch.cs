using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Deconv;

/// <summary>
/// PyTorch's <c>torch.nn.functional</c> convolutions in PyTorch's terms: channels-first data
/// <c>(N, C, L...)</c> or unbatched <c>(C, L...)</c>; <c>conv_transpose</c> weight <c>(C_in, C_out/groups, k...)</c>,
/// <c>conv</c> weight <c>(C_out, C_in/groups, k...)</c>. Every per-axis argument takes one value or one per axis.
/// </summary>
public static class Torch
{
    /// <summary><c>F.conv_transpose1d</c>; <paramref name="outputSize"/> is <c>ConvTranspose1d.forward</c>'s <c>output_size</c>.</summary>
    public static Tensor<T> ConvTranspose1d<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias = null, IReadOnlyList<long>? stride = null,
        IReadOnlyList<long>? padding = null, IReadOnlyList<long>? outputPadding = null, long groups = 1, IReadOnlyList<long>? dilation = null,
        IReadOnlyList<long>? outputSize = null)
        where T : IFloatingPointIeee754<T> =>
        Transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, outputPadding, groups, dilation, outputSize);

    /// <summary>
    /// <c>F.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)</c>
    /// (note: groups before dilation, as in PyTorch); <paramref name="outputSize"/> is <c>ConvTranspose2d.forward</c>'s <c>output_size</c>.
    /// </summary>
    public static Tensor<T> ConvTranspose2d<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias = null, IReadOnlyList<long>? stride = null,
        IReadOnlyList<long>? padding = null, IReadOnlyList<long>? outputPadding = null, long groups = 1, IReadOnlyList<long>? dilation = null,
        IReadOnlyList<long>? outputSize = null)
        where T : IFloatingPointIeee754<T> =>
        Transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, outputPadding, groups, dilation, outputSize);

    /// <summary><c>F.conv_transpose3d</c>.</summary>
    public static Tensor<T> ConvTranspose3d<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias = null, IReadOnlyList<long>? stride = null,
        IReadOnlyList<long>? padding = null, IReadOnlyList<long>? outputPadding = null, long groups = 1, IReadOnlyList<long>? dilation = null,
        IReadOnlyList<long>? outputSize = null)
        where T : IFloatingPointIeee754<T> =>
        Transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, outputPadding, groups, dilation, outputSize);

    /// <summary><c>F.conv1d(input, weight, bias, stride, padding, dilation, groups)</c>.</summary>
    public static Tensor<T> Conv1d<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias = null, IReadOnlyList<long>? stride = null,
        TorchPadding? padding = null, IReadOnlyList<long>? dilation = null, long groups = 1)
        where T : IFloatingPointIeee754<T> =>
        Forward("conv1d", 1, input, weight, bias, stride, padding, dilation, groups);

    /// <summary><c>F.conv2d(input, weight, bias, stride, padding, dilation, groups)</c>.</summary>
    public static Tensor<T> Conv2d<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias = null, IReadOnlyList<long>? stride = null,
        TorchPadding? padding = null, IReadOnlyList<long>? dilation = null, long groups = 1)
        where T : IFloatingPointIeee754<T> =>
        Forward("conv2d", 2, input, weight, bias, stride, padding, dilation, groups);

    /// <summary><c>F.conv3d(input, weight, bias, stride, padding, dilation, groups)</c>.</summary>
    public static Tensor<T> Conv3d<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias = null, IReadOnlyList<long>? stride = null,
        TorchPadding? padding = null, IReadOnlyList<long>? dilation = null, long groups = 1)
        where T : IFloatingPointIeee754<T> =>
        Forward("conv3d", 3, input, weight, bias, stride, padding, dilation, groups);

    /// <summary>
    /// The canonical geometry of a PyTorch transposed convolution from shapes, with PyTorch's checks:
    /// per axis <c>L_out = (L_in-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1</c>.
    /// <paramref name="inputShape"/> may be unbatched <c>(C, L...)</c>; the geometry then has batch 1.
    /// </summary>
    public static ConvGeometry TransposeGeometry(string op, int rank, IReadOnlyList<long> inputShape, IReadOnlyList<long> weightShape,
        IReadOnlyList<long>? stride, IReadOnlyList<long>? padding, IReadOnlyList<long>? outputPadding, long groups,
        IReadOnlyList<long>? dilation, IReadOnlyList<long>? outputSize, int biasLength = -1)
    {
        var (input, weight) = CheckShapes(op, rank, inputShape, weightShape, "(C_in, C_out/groups, k...)");
        var s = FrontEnd.PerAxis(op, "stride", stride, rank, 1);
        var p = FrontEnd.PerAxis(op, "padding", padding, rank, 0, mustBePositive: false);
        var d = FrontEnd.PerAxis(op, "dilation", dilation, rank, 1);
        var op_ = FrontEnd.PerAxis(op, "output_padding", outputPadding, rank, 0, mustBePositive: false);
        var g = CheckGroups(op, groups);
        var channels = input[1];
        if (weight[0] != channels)
        {
            throw FrontEnd.Error(op, "weight", $"Given transposed=1, weight of size {Shapes.Format(weight)}, expected input {Shapes.Format(input)} to have {weight[0]} channels, but got {channels} channels instead");
        }

        if (channels % g != 0)
        {
            throw FrontEnd.Error(op, "groups", $"input channels {channels} must be divisible by groups {g}");
        }

        // An int first, so that the product with the groups cannot wrap around.
        var outChannels = (long)FrontEnd.ToInt(op, "weight", weight[1], "output channels per group") * g;
        CheckBias(op, biasLength, outChannels);
        if (outputSize is not null)
        {
            long[] spatial = outputSize.Count == rank + 2 ? [.. outputSize.Skip(2)] : outputSize.Count == rank ? [.. outputSize]
                : throw FrontEnd.Error(op, "output_size", $"output_size must have {rank} or {rank + 2} elements (got {outputSize.Count})");
            for (var a = 0; a < rank; a++)
            {
                var minSize = (long)s[a] * (input[a + 2] - 1) - 2L * p[a] + (long)d[a] * (weight[a + 2] - 1) + 1;
                var maxSize = minSize + s[a] - 1;
                if (spatial[a] < minSize || spatial[a] > maxSize)
                {
                    throw FrontEnd.Error(op, "output_size", $"requested an output size of {FrontEnd.Format(spatial)}, but valid sizes range from {minSize} to {maxSize} for axis {a} (for an input of {FrontEnd.Format(input.Skip(2))})");
                }

                op_[a] = (int)(spatial[a] - minSize);
            }
        }

        var axes = new AxisGeometry[rank];
        for (var a = 0; a < rank; a++)
        {
            if (op_[a] >= s[a] && op_[a] >= d[a])
            {
                throw FrontEnd.Error(op, "output_padding", $"output padding must be smaller than either stride or dilation, but got output_padding = {op_[a]}, stride = {s[a]}, dilation = {d[a]} for spatial axis {a}");
            }

            var i = FrontEnd.ToInt(op, "input", input[a + 2], "input size");
            var k = FrontEnd.ToInt(op, "weight", weight[a + 2], "kernel size");
            FrontEnd.DilatedKernel(op, "dilation", k, d[a], a);
            var outLength = (long)s[a] * (i - 1) - 2L * p[a] + (long)d[a] * (k - 1) + op_[a] + 1;
            if (outLength < 1 || i < 1)
            {
                throw FrontEnd.Error(op, "padding", $"Given input size per channel {FrontEnd.Format(input.Skip(2))}, calculated output size {outLength} for spatial axis {a} is too small (padding {p[a]}, stride {s[a]}, kernel {k}, dilation {d[a]}, output_padding {op_[a]})");
            }

            axes[a] = new AxisGeometry(i, k, s[a], d[a], p[a], FrontEnd.ToInt(op, "output_size", outLength, "output size"));
        }

        FrontEnd.ElementCount(op, "output_size", [input[0], outChannels, .. axes.Select(a => (long)a.Output)]);
        return new ConvGeometry(FrontEnd.ToInt(op, "input", input[0], "batch"), FrontEnd.ToInt(op, "input", channels, "channels"),
            FrontEnd.ToInt(op, "weight", outChannels, "output channels"), g, axes, DataLayout.ChannelsFirst, op);
    }

    /// <summary>
    /// The canonical geometry of a PyTorch forward convolution: <c>L_out = floor((L + 2*padding - dilation*(k-1) - 1)/stride) + 1</c>;
    /// <c>"same"</c> (stride 1 only) pads <c>dilation*(k-1)</c> in total with the extra at the end.
    /// </summary>
    public static ConvGeometry ForwardGeometry(string op, int rank, IReadOnlyList<long> inputShape, IReadOnlyList<long> weightShape,
        IReadOnlyList<long>? stride, TorchPadding? padding, IReadOnlyList<long>? dilation, long groups, int biasLength = -1)
    {
        var (input, weight) = CheckShapes(op, rank, inputShape, weightShape, "(C_out, C_in/groups, k...)");
        var s = FrontEnd.PerAxis(op, "stride", stride, rank, 1);
        var d = FrontEnd.PerAxis(op, "dilation", dilation, rank, 1);
        var g = CheckGroups(op, groups);
        var channels = input[1];
        if ((long)FrontEnd.ToInt(op, "weight", weight[1], "input channels per group") * g != channels)
        {
            throw FrontEnd.Error(op, "weight", $"Given groups={g}, weight of size {Shapes.Format(weight)}, expected input {Shapes.Format(input)} to have {weight[1] * g} channels, but got {channels} channels instead");
        }

        if (weight[0] % g != 0)
        {
            throw FrontEnd.Error(op, "groups", $"output channels {weight[0]} must be divisible by groups {g}");
        }

        CheckBias(op, biasLength, weight[0]);
        padding ??= TorchPadding.Of(0);
        if (padding.Mode == "same" && s.Any(v => v != 1))
        {
            throw FrontEnd.Error(op, "padding", $"padding='same' is not supported for strided convolutions (stride = {FrontEnd.Format(s)})");
        }

        var p = padding.Mode is null ? FrontEnd.PerAxis(op, "padding", padding.Values, rank, 0, mustBePositive: false) : new int[rank];
        var axes = new AxisGeometry[rank];
        for (var a = 0; a < rank; a++)
        {
            var length = FrontEnd.ToInt(op, "input", input[a + 2], "input size");
            var k = FrontEnd.ToInt(op, "weight", weight[a + 2], "kernel size");
            FrontEnd.DilatedKernel(op, "dilation", k, d[a], a);
            var ek = (long)d[a] * (k - 1) + 1;
            var (begin, end) = padding.Mode switch
            {
                "same" => (FrontEnd.ToInt(op, "dilation", (ek - 1) / 2, "same padding"), FrontEnd.ToInt(op, "dilation", ek - 1 - (ek - 1) / 2, "same padding")),
                "valid" => (0, 0),
                _ => (p[a], p[a]),
            };
            var padded = (long)length + begin + end;
            if (padded < ek)
            {
                throw FrontEnd.Error(op, "weight", $"Calculated padded input size per channel: {padded} for spatial axis {a}. Kernel size: {ek}. Kernel size can't be greater than actual input size");
            }

            var size = (padded - ek) / s[a] + 1;
            axes[a] = new AxisGeometry(FrontEnd.ToInt(op, "padding", size, "output size"), k, s[a], d[a], begin, length);
        }

        FrontEnd.ElementCount(op, "padding", [input[0], weight[0], .. axes.Select(a => (long)a.Input)]);
        return new ConvGeometry(FrontEnd.ToInt(op, "input", input[0], "batch"), FrontEnd.ToInt(op, "weight", weight[0], "output channels"),
            FrontEnd.ToInt(op, "input", channels, "channels"), g, axes, DataLayout.ChannelsFirst, op);
    }

    private static (long[] Input, long[] Weight) CheckShapes(string op, int rank, IReadOnlyList<long> inputShape, IReadOnlyList<long> weightShape, string weightLayout)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(weightShape);
        long[] input = inputShape.Count == rank + 1 ? [1, .. inputShape] : [.. inputShape];
        long[] weight = [.. weightShape];
        if (input.Length != rank + 2)
        {
            throw FrontEnd.Error(op, "input", $"Expected {rank + 1}D (unbatched) or {rank + 2}D (batched) input to {op}, but got input of size: {Shapes.Format([.. inputShape])}");
        }

        FrontEnd.Rank(op, "weight", weight, rank + 2, weightLayout);
        if (input.Any(v => v < 0) || weight.Any(v => v < 0))
        {
            throw FrontEnd.Error(op, "input", $"shapes must not have negative dimensions: input {Shapes.Format(input)}, weight {Shapes.Format(weight)}");
        }

        if (weight.Skip(2).Any(v => v == 0) || weight[0] == 0 || weight[1] == 0)
        {
            throw FrontEnd.Error(op, "weight", $"weight {Shapes.Format(weight)} has no elements");
        }

        return (input, weight);
    }

    private static int CheckGroups(string op, long groups) => groups <= 0
        ? throw FrontEnd.Error(op, "groups", $"non-positive groups is not supported: groups = {groups}")
        : FrontEnd.ToInt(op, "groups", groups, "groups");

    private static void CheckBias(string op, int biasLength, long channels)
    {
        if (biasLength >= 0 && biasLength != channels)
        {
            throw FrontEnd.Error(op, "bias", $"expected bias to be 1-dimensional with {channels} elements, but got bias of {biasLength} elements");
        }
    }

    private static int BiasLength<T>(string op, Tensor<T>? bias)
    {
        if (bias is null)
        {
            return -1;
        }

        return bias.Rank != 1
            ? throw FrontEnd.Error(op, "bias", $"expected bias to be 1-dimensional, but got bias of shape {Shapes.Format(FrontEnd.ShapeOf(bias))}")
            : (int)bias.FlattenedLength;
    }

    /// <summary>The geometries of the latest transposed-convolution calls (a layer called in a loop validates once).</summary>
    private static readonly RecentGeometries TransposeGeometries = new();

    [SkipLocalsInit] // the key's buffer needs no clearing: only what was written is read
    private static Tensor<T> Transpose<T>(string op, int rank, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias, IReadOnlyList<long>? stride,
        IReadOnlyList<long>? padding, IReadOnlyList<long>? outputPadding, long groups, IReadOnlyList<long>? dilation, IReadOnlyList<long>? outputSize)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        var biasLength = BiasLength(op, bias);
        // Every argument TransposeGeometry reads (rank comes with op).
        var key = new ArgumentKey(stackalloc long[ArgumentKey.Capacity]);
        key.Add(op);
        key.Add(input.Lengths);
        key.Add(weight.Lengths);
        key.Add(stride);
        key.Add(padding);
        key.Add(outputPadding);
        key.Add(groups);
        key.Add(dilation);
        key.Add(outputSize);
        key.Add(biasLength);
        var geometry = TransposeGeometries.Find(key) ?? TransposeGeometries.Add(key,
            TransposeGeometry(op, rank, FrontEnd.ShapeOf(input), FrontEnd.ShapeOf(weight), stride, padding, outputPadding, groups, dilation, outputSize, biasLength));
        var y = ConvOps.Transpose<T>(geometry, FrontEnd.Data(input), FrontEnd.Data(weight), bias is null ? [] : FrontEnd.Data(bias));
        // Unbatched input (C, L...) gives unbatched output.
        var lengths = geometry.OutputTensorLengths;
        return FrontEnd.Wrap(y, input.Rank == rank + 1 ? lengths[1..] : lengths);
    }

    private static Tensor<T> Forward<T>(string op, int rank, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias, IReadOnlyList<long>? stride,
        TorchPadding? padding, IReadOnlyList<long>? dilation, long groups)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        var inputShape = FrontEnd.ShapeOf(input);
        var geometry = ForwardGeometry(op, rank, inputShape, FrontEnd.ShapeOf(weight), stride, padding, dilation, groups, BiasLength(op, bias));
        var y = ConvOps.Forward<T>(geometry, FrontEnd.Flatten(input), FrontEnd.Flatten(weight), bias is null ? [] : FrontEnd.Flatten(bias));
        return FrontEnd.Wrap(y, Unbatch(geometry.InputShape, inputShape.Length == rank + 1));
    }

    private static long[] Unbatch(long[] shape, bool unbatched) => unbatched ? shape[1..] : shape;
}
