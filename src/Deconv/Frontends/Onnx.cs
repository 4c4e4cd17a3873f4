using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Deconv;

/// <summary>The attributes of ONNX <c>Conv</c> and <c>ConvTranspose</c>; null means the ONNX default.</summary>
public sealed record OnnxConvAttributes
{
    /// <summary><c>NOTSET</c> (default: use <see cref="Pads"/>), <c>SAME_UPPER</c>, <c>SAME_LOWER</c> or <c>VALID</c>.</summary>
    public string AutoPad { get; init; } = "NOTSET";

    /// <summary>Per axis; default all 1.</summary>
    public IReadOnlyList<long>? Dilations { get; init; }

    /// <summary>Channel groups; default 1.</summary>
    public long Group { get; init; } = 1;

    /// <summary>Must equal the weight's spatial shape when given.</summary>
    public IReadOnlyList<long>? KernelShape { get; init; }

    /// <summary>ConvTranspose only: per axis, less than <c>max(stride, dilation)</c>; default all 0.</summary>
    public IReadOnlyList<long>? OutputPadding { get; init; }

    /// <summary>ConvTranspose only: spatial output sizes (N and C may be prepended, as ONNX Runtime accepts).</summary>
    public IReadOnlyList<long>? OutputShape { get; init; }

    /// <summary><c>[x1_begin, x2_begin, ..., x1_end, x2_end, ...]</c>; default all 0.</summary>
    public IReadOnlyList<long>? Pads { get; init; }

    /// <summary>Per axis; default all 1.</summary>
    public IReadOnlyList<long>? Strides { get; init; }
}

/// <summary>
/// ONNX <c>Conv</c> and <c>ConvTranspose</c> (opsets 1, 11, 22) with every attribute.
/// </summary>
/// <remarks>
/// Where ONNX implementations disagree, this follows ONNX Runtime's CPU kernel (1.31), which also
/// matches the current specification text:
/// <list type="bullet">
/// <item><c>ConvTranspose</c> with <c>output_shape</c>: explicit <c>pads</c> are ignored; the total crop
/// <c>T = stride*(in-1) + output_padding + dilated_kernel - output_shape</c> is clamped to 0 when negative
/// (the output is then extended at the end); <c>SAME_UPPER</c> crops <c>floor(T/2)</c> at the start,
/// every other mode (NOTSET, VALID, SAME_LOWER) <c>ceil(T/2)</c>. The ONNX reference implementation
/// instead keeps pads at 0 for NOTSET.</item>
/// <item><c>ConvTranspose</c> with <c>SAME_UPPER</c>/<c>SAME_LOWER</c> and no <c>output_shape</c>: target
/// <c>in*stride</c>, <c>T = max(0, full + output_padding - in*stride)</c>, output length
/// <c>full + output_padding - T</c> (ONNX shape inference says <c>in*stride + output_padding</c>).</item>
/// <item><c>output_padding</c> must be less than <c>max(stride, dilation)</c>.</item>
/// <item><c>Conv</c> with <c>SAME_*</c> and dilation greater than 1 is computed as the specification says
/// (ONNX Runtime rejects it).</item>
/// </list>
/// </remarks>
public static class Onnx
{
    /// <summary>Every attribute at its ONNX default.</summary>
    private static readonly OnnxConvAttributes DefaultAttributes = new();

    /// <summary>The geometries of the latest <c>ConvTranspose</c> calls (a layer called in a loop validates once).</summary>
    private static readonly RecentGeometries TransposeGeometries = new();

    /// <summary>
    /// <c>ConvTranspose(X, W, B)</c>: X <c>[N, C, D1..Dn]</c>, W <c>[C, M/group, k1..kn]</c>, B <c>[M]</c> or null.
    /// </summary>
    [SkipLocalsInit] // the key's buffer needs no clearing: only what was written is read
    public static Tensor<T> ConvTranspose<T>(Tensor<T> x, Tensor<T> w, Tensor<T>? b, OnnxConvAttributes? attributes = null)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(w);
        attributes ??= DefaultAttributes;
        var biasLength = BiasLength("ConvTranspose", b);
        // Every argument ConvTransposeGeometry reads.
        var key = new ArgumentKey(stackalloc long[ArgumentKey.Capacity]);
        key.Add(x.Lengths);
        key.Add(w.Lengths);
        key.Add(attributes.AutoPad);
        key.Add(attributes.Dilations);
        key.Add(attributes.Group);
        key.Add(attributes.KernelShape);
        key.Add(attributes.OutputPadding);
        key.Add(attributes.OutputShape);
        key.Add(attributes.Pads);
        key.Add(attributes.Strides);
        key.Add(biasLength);
        var geometry = TransposeGeometries.Find(key) ?? TransposeGeometries.Add(key,
            ConvTransposeGeometry(FrontEnd.ShapeOf(x), FrontEnd.ShapeOf(w), attributes, biasLength));
        var y = ConvOps.Transpose<T>(geometry, FrontEnd.Data(x), FrontEnd.Data(w), b is null ? [] : FrontEnd.Data(b));
        return FrontEnd.Wrap(y, geometry.OutputTensorLengths);
    }

    /// <summary><c>Conv(X, W, B)</c>: X <c>[N, C, D1..Dn]</c>, W <c>[M, C/group, k1..kn]</c>, B <c>[M]</c> or null.</summary>
    public static Tensor<T> Conv<T>(Tensor<T> x, Tensor<T> w, Tensor<T>? b, OnnxConvAttributes? attributes = null)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(w);
        var geometry = ConvGeometry(FrontEnd.ShapeOf(x), FrontEnd.ShapeOf(w), attributes ?? new(), BiasLength("Conv", b));
        var y = ConvOps.Forward<T>(geometry, FrontEnd.Flatten(x), FrontEnd.Flatten(w), b is null ? [] : FrontEnd.Flatten(b));
        return FrontEnd.Wrap(y, geometry.InputShape);
    }

    /// <summary>The canonical geometry of <c>ConvTranspose</c> from shapes and attributes (bias length -1: no bias).</summary>
    public static ConvGeometry ConvTransposeGeometry(IReadOnlyList<long> xShape, IReadOnlyList<long> wShape, OnnxConvAttributes attributes, int biasLength = -1)
    {
        const string op = "ConvTranspose";
        ArgumentNullException.ThrowIfNull(attributes);
        var (x, w, rank, group) = CheckShapes(op, xShape, wShape, attributes);
        if (w[0] != x[1])
        {
            throw FrontEnd.Error(op, "W", $"filter number not equal to input channel number: W {Shapes.Format(w)} has {w[0]} input channels, X {Shapes.Format(x)} has {x[1]}");
        }

        if (x[1] % group != 0)
        {
            throw FrontEnd.Error(op, "group", $"Input channels {x[1]} is not divisible by group {group}");
        }

        // An int first, so that the product with the group cannot wrap around.
        var outChannels = (long)FrontEnd.ToInt(op, "W", w[1], "output channels per group") * group;
        CheckBias(op, biasLength, outChannels);
        var (strides, dilations, pads, mode) = CommonAttributes(op, rank, attributes);
        var outputPadding = FrontEnd.PerAxis(op, "output_padding", attributes.OutputPadding, rank, 0, mustBePositive: false);
        if (attributes.OutputPadding is { Count: > 0 } && attributes.OutputPadding.Count != rank)
        {
            throw FrontEnd.Error(op, "output_padding", $"output_padding must have {rank} values, but got {attributes.OutputPadding.Count}");
        }

        long[]? outputShape = null;
        if (attributes.OutputShape is { Count: > 0 } given)
        {
            outputShape = given.Count == rank ? [.. given] : given.Count == rank + 2 ? [.. given.Skip(2)]
                : throw FrontEnd.Error(op, "output_shape", $"output_shape {FrontEnd.Format(given)} must have {rank} spatial values (or {rank + 2} with N and C)");
            if (outputShape.Any(v => v <= 0))
            {
                throw FrontEnd.Error(op, "output_shape", $"output_shape values must be positive, but got {FrontEnd.Format(given)}");
            }
        }

        var axes = new AxisGeometry[rank];
        for (var a = 0; a < rank; a++)
        {
            if (outputPadding[a] >= Math.Max(strides[a], dilations[a]))
            {
                throw FrontEnd.Error(op, "output_padding", $"output_padding[{a}] ({outputPadding[a]}) must be less than max(stride, dilation) ({Math.Max(strides[a], dilations[a])})");
            }

            var i = FrontEnd.ToInt(op, "X", x[a + 2], "input size");
            var k = FrontEnd.ToInt(op, "W", w[a + 2], "kernel size");
            FrontEnd.DilatedKernel(op, "dilations", k, dilations[a], a);
            if (i < 1)
            {
                throw FrontEnd.Error(op, "X", $"input size of spatial axis {a} is {i} but must be positive");
            }

            var extended = (long)strides[a] * (i - 1) + (long)dilations[a] * (k - 1) + 1 + outputPadding[a];
            long cropBegin, length;
            if (outputShape is not null || mode is "SAME_UPPER" or "SAME_LOWER")
            {
                var target = outputShape?[a] ?? (long)i * strides[a];
                var total = Math.Max(0, extended - target);
                cropBegin = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
                length = outputShape is not null ? target : extended - total;
            }
            else
            {
                var (begin, end) = mode == "VALID" ? (0, 0) : (pads[a], pads[a + rank]);
                cropBegin = begin;
                length = extended - begin - end;
                if (length < 1)
                {
                    throw FrontEnd.Error(op, "pads", $"computed output size {length} for spatial axis {a} is not positive: stride*(in-1) + output_padding + dilation*(kernel-1) + 1 - pads = {extended} - {begin} - {end}");
                }
            }

            axes[a] = new AxisGeometry(i, k, strides[a], dilations[a], FrontEnd.ToInt(op, "pads", cropBegin, "crop"), FrontEnd.ToInt(op, "output_shape", length, "output size"));
        }

        FrontEnd.ElementCount(op, "output_shape", [x[0], outChannels, .. axes.Select(a => (long)a.Output)]);
        return new ConvGeometry(FrontEnd.ToInt(op, "X", x[0], "batch"), FrontEnd.ToInt(op, "X", x[1], "channels"),
            FrontEnd.ToInt(op, "W", outChannels, "output channels"), group, axes, DataLayout.ChannelsFirst, op);
    }

    /// <summary>The canonical geometry of <c>Conv</c>: the convolution maps <see cref="Deconv.ConvGeometry.OutputShape"/> to <see cref="Deconv.ConvGeometry.InputShape"/>.</summary>
    public static ConvGeometry ConvGeometry(IReadOnlyList<long> xShape, IReadOnlyList<long> wShape, OnnxConvAttributes attributes, int biasLength = -1)
    {
        const string op = "Conv";
        ArgumentNullException.ThrowIfNull(attributes);
        var (x, w, rank, group) = CheckShapes(op, xShape, wShape, attributes);
        if ((long)FrontEnd.ToInt(op, "W", w[1], "input channels per group") * group != x[1])
        {
            throw FrontEnd.Error(op, "W", $"channel mismatch: X {Shapes.Format(x)} has {x[1]} channels but W {Shapes.Format(w)} with group {group} expects {w[1] * group}");
        }

        if (w[0] % group != 0)
        {
            throw FrontEnd.Error(op, "group", $"output channels {w[0]} are not divisible by group {group}");
        }

        CheckBias(op, biasLength, w[0]);
        foreach (var (values, name) in new[] { (attributes.OutputPadding, "output_padding"), (attributes.OutputShape, "output_shape") })
        {
            if (values is { Count: > 0 })
            {
                throw FrontEnd.Error(op, name, $"Unrecognized attribute: {name} = {FrontEnd.Format(values)} for operator Conv (only ConvTranspose has it)");
            }
        }

        var (strides, dilations, pads, mode) = CommonAttributes(op, rank, attributes);
        var axes = new AxisGeometry[rank];
        for (var a = 0; a < rank; a++)
        {
            var length = FrontEnd.ToInt(op, "X", x[a + 2], "input size");
            var k = FrontEnd.ToInt(op, "W", w[a + 2], "kernel size");
            FrontEnd.DilatedKernel(op, "dilations", k, dilations[a], a);
            var ek = (long)dilations[a] * (k - 1) + 1;
            long size, begin;
            switch (mode)
            {
                case "SAME_UPPER" or "SAME_LOWER":
                    size = Shapes.CeilDiv(length, strides[a]);
                    var total = Math.Max(0, (size - 1) * strides[a] + ek - length);
                    begin = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
                    break;
                default:
                    begin = mode == "VALID" ? 0 : pads[a];
                    var padded = length + begin + (mode == "VALID" ? 0 : pads[a + rank]);
                    if (padded < ek)
                    {
                        throw FrontEnd.Error(op, "pads", $"padded input size {padded} of spatial axis {a} is smaller than the dilated kernel {ek}: the output would be empty");
                    }

                    size = (padded - ek) / strides[a] + 1;
                    break;
            }

            axes[a] = new AxisGeometry(FrontEnd.ToInt(op, "pads", size, "output size"), k, strides[a], dilations[a], FrontEnd.ToInt(op, "dilations", begin, "padding at the start"), length);
        }

        FrontEnd.ElementCount(op, "pads", [x[0], w[0], .. axes.Select(a => (long)a.Input)]);
        return new ConvGeometry(FrontEnd.ToInt(op, "X", x[0], "batch"), FrontEnd.ToInt(op, "W", w[0], "output channels"),
            FrontEnd.ToInt(op, "X", x[1], "channels"), group, axes, DataLayout.ChannelsFirst, op);
    }

    private static (long[] X, long[] W, int Rank, int Group) CheckShapes(string op, IReadOnlyList<long> xShape, IReadOnlyList<long> wShape, OnnxConvAttributes attributes)
    {
        ArgumentNullException.ThrowIfNull(xShape);
        ArgumentNullException.ThrowIfNull(wShape);
        long[] x = [.. xShape];
        long[] w = [.. wShape];
        if (x.Length is < 3 or > 5)
        {
            throw FrontEnd.Error(op, "X", $"X must have rank 3, 4 or 5 ([N, C, D1..Dn] with 1 to 3 spatial axes), but got shape {Shapes.Format(x)}");
        }

        if (w.Length != x.Length)
        {
            throw FrontEnd.Error(op, "W", $"X num_dims does not match W num_dims: X {Shapes.Format(x)}, W {Shapes.Format(w)}");
        }

        if (x.Any(v => v < 0) || w.Any(v => v <= 0))
        {
            throw FrontEnd.Error(op, "W", $"dimensions must be positive (X may have a zero batch): X {Shapes.Format(x)}, W {Shapes.Format(w)}");
        }

        var rank = x.Length - 2;
        if (attributes.Group <= 0)
        {
            throw FrontEnd.Error(op, "group", $"group count is <= 0: group = {attributes.Group}");
        }

        if (attributes.KernelShape is { Count: > 0 } kernel && !kernel.SequenceEqual(w.Skip(2)))
        {
            throw FrontEnd.Error(op, "kernel_shape", $"kernel_shape {FrontEnd.Format(kernel)} does not match the spatial shape of W {Shapes.Format(w)}");
        }

        return (x, w, rank, FrontEnd.ToInt(op, "group", attributes.Group, "group"));
    }

    private static (int[] Strides, int[] Dilations, int[] Pads, string Mode) CommonAttributes(string op, int rank, OnnxConvAttributes attributes)
    {
        var mode = attributes.AutoPad ?? "NOTSET";
        if (mode is not ("NOTSET" or "SAME_UPPER" or "SAME_LOWER" or "VALID"))
        {
            throw FrontEnd.Error(op, "auto_pad", $"auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, but got '{mode}'");
        }

        foreach (var (values, name) in new[] { (attributes.Strides, "strides"), (attributes.Dilations, "dilations") })
        {
            if (values is { Count: > 0 } && values.Count != rank)
            {
                throw FrontEnd.Error(op, name, $"{name} must have {rank} values, but got {values.Count} ({FrontEnd.Format(values)})");
            }
        }

        var strides = FrontEnd.PerAxis(op, "strides", attributes.Strides, rank, 1);
        var dilations = FrontEnd.PerAxis(op, "dilations", attributes.Dilations, rank, 1);
        var pads = new int[2 * rank];
        if (attributes.Pads is { Count: > 0 } given)
        {
            if (given.Count != 2 * rank)
            {
                throw FrontEnd.Error(op, "pads", $"pads must have {2 * rank} values (begins then ends), but got {given.Count} ({FrontEnd.Format(given)})");
            }

            if (given.Any(v => v < 0))
            {
                throw FrontEnd.Error(op, "pads", $"pads must be >= 0, but got {FrontEnd.Format(given)}");
            }

            if (mode != "NOTSET" && given.Any(v => v != 0))
            {
                throw FrontEnd.Error(op, "pads", $"The pads attribute cannot be used simultaneously with auto_pad attribute ({mode})");
            }

            for (var i = 0; i < pads.Length; i++)
            {
                pads[i] = FrontEnd.ToInt(op, "pads", given[i], "pad");
            }
        }

        return (strides, dilations, pads, mode);
    }

    private static void CheckBias(string op, int biasLength, long channels)
    {
        if (biasLength >= 0 && biasLength != channels)
        {
            throw FrontEnd.Error(op, "B", $"bias B must be 1-D with {channels} elements (one per output channel), but has {biasLength}");
        }
    }

    private static int BiasLength<T>(string op, Tensor<T>? b) => b is null ? -1
        : b.Rank != 1 ? throw FrontEnd.Error(op, "B", $"bias B must be 1-D, but got shape {Shapes.Format(FrontEnd.ShapeOf(b))}")
        : (int)b.FlattenedLength;
}
