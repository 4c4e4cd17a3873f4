using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Deconv;

/// <summary>Checks and conversions that every front end shares.</summary>
internal static class FrontEnd
{
    public static ConvolutionArgumentException Error(string op, string param, string text) => new($"{op}: {text}", param);

    /// <summary>The tensor's elements in row-major order.</summary>
    public static T[] Flatten<T>(Tensor<T> tensor)
    {
        var data = new T[tensor.FlattenedLength];
        tensor.FlattenTo(data);
        return data;
    }

    /// <summary>
    /// The tensor's elements in row-major order: the tensor's own memory when its strides are row-major (a tensor
    /// made from an array), else a copy (<see cref="Flatten{T}"/>).
    /// </summary>
    public static ReadOnlySpan<T> Data<T>(Tensor<T> tensor)
    {
        if (tensor.FlattenedLength == 0)
        {
            return [];
        }

        // Row-major strides (any stride for a dimension of length 1) put the elements in one block from the first.
        var lengths = tensor.Lengths;
        var strides = tensor.Strides;
        nint rowMajor = 1;
        for (var d = lengths.Length - 1; d >= 0; d--)
        {
            if (lengths[d] != 1 && strides[d] != rowMajor)
            {
                return Flatten(tensor);
            }

            rowMajor *= lengths[d];
        }

        // The first element through a span: the tensor's own GetPinnableReference gives the start of its array even
        // when the tensor starts later in it.
        ref readonly var first = ref tensor.AsReadOnlyTensorSpan().GetPinnableReference();
        return MemoryMarshal.CreateReadOnlySpan(in first, checked((int)tensor.FlattenedLength));
    }

    public static long[] ShapeOf<T>(Tensor<T> tensor) => [.. tensor.Lengths.ToArray().Select(l => (long)l)];

    public static Tensor<T> Wrap<T>(T[] data, long[] shape) => Tensor.Create(data, [.. shape.Select(l => (nint)l)]);

    public static Tensor<T> Wrap<T>(T[] data, ReadOnlySpan<nint> lengths) => Tensor.Create(data, lengths);

    public static void Rank(string op, string param, long[] shape, int expected, string layoutHint)
    {
        if (shape.Length != expected)
        {
            throw Error(op, param, $"{param} must be {expected}-dimensional ({layoutHint}), but got shape {Shapes.Format(shape)} of rank {shape.Length}");
        }
    }

    /// <summary>A dimension that must fit an int (TF and ONNX pass sizes as int64).</summary>
    public static int ToInt(string op, string param, long value, string what)
    {
        if (value is < int.MinValue or > int.MaxValue)
        {
            throw Error(op, param, $"{what} = {value} is outside the supported range [{int.MinValue}, {int.MaxValue}]");
        }

        return (int)value;
    }

    /// <summary>
    /// Expands a per-axis list given with 1 entry (all axes), <paramref name="rank"/> entries, or (when
    /// <paramref name="withBatchAndChannel"/>) rank+2 entries whose batch and channel entries must be 1.
    /// </summary>
    public static int[] PerAxis(string op, string param, IReadOnlyList<long>? values, int rank, int fallback,
        int channelAxis = -1, bool withBatchAndChannel = false, bool mustBePositive = true)
    {
        if (values is null || values.Count == 0)
        {
            return [.. Enumerable.Repeat(fallback, rank)];
        }

        long[] spatial;
        if (values.Count == 1)
        {
            spatial = [.. Enumerable.Repeat(values[0], rank)];
        }
        else if (values.Count == rank)
        {
            spatial = [.. values];
        }
        else if (withBatchAndChannel && values.Count == rank + 2)
        {
            var channel = channelAxis < 0 ? rank + 1 : channelAxis;
            if (values[0] != 1 || values[channel] != 1)
            {
                throw Error(op, param, $"{param} = {Format(values)}: current implementation does not support {param} in the batch and depth dimensions (they must be 1)");
            }

            spatial = [.. Enumerable.Range(0, rank + 2).Where(i => i != 0 && i != channel).Select(i => values[i])];
        }
        else
        {
            var allowed = withBatchAndChannel ? $"1, {rank} or {rank + 2}" : $"1 or {rank}";
            throw Error(op, param, $"{param} should be of length {allowed} but was {values.Count} ({Format(values)})");
        }

        var result = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            if (mustBePositive ? spatial[i] <= 0 : spatial[i] < 0)
            {
                throw Error(op, param, $"{param} must be {(mustBePositive ? "> 0" : ">= 0")}, but got {spatial[i]} for spatial axis {i} ({param} = {Format(values)})");
            }

            result[i] = ToInt(op, param, spatial[i], $"{param}[{i}]");
        }

        return result;
    }

    /// <summary>
    /// A result shape must fit an array. Checked with the framework's parameter name before the geometry is built
    /// (the geometry's own check can only name its generic "output").
    /// </summary>
    public static void ElementCount(string op, string param, IEnumerable<long> shape)
    {
        long[] lengths = [.. shape];
        var count = Shapes.TryProduct(lengths);
        if (count is null || count > Array.MaxLength)
        {
            throw Error(op, param, $"the result shape {Shapes.Format(lengths)} has more than {Array.MaxLength} elements");
        }
    }

    /// <summary>The dilated kernel <c>dilation*(kernel-1) + 1</c> must fit an int; named after the framework's dilation parameter.</summary>
    public static void DilatedKernel(string op, string param, int kernel, int dilation, int axis)
    {
        var extent = (long)dilation * (kernel - 1) + 1;
        if (extent > int.MaxValue)
        {
            throw Error(op, param, $"the dilated kernel of spatial axis {axis}, {param} {dilation} * (kernel {kernel} - 1) + 1 = {extent}, exceeds {int.MaxValue}");
        }
    }

    public static string Format(IEnumerable<long> values) => "[" + string.Join(", ", values) + "]";

    public static string Format(IEnumerable<int> values) => "[" + string.Join(", ", values) + "]";

    /// <summary>Turns a channels-last filter <c>[k..., A, B]</c> into the canonical <c>[B, A, k...]</c>.</summary>
    public static T[] FilterToCanonical<T>(ReadOnlySpan<T> filter, long[] shape)
    {
        var rank = shape.Length - 2;
        var taps = (int)Shapes.Product(shape.AsSpan(0, rank));
        var a = (int)shape[rank];
        var b = (int)shape[rank + 1];
        var result = new T[filter.Length];
        for (var k = 0; k < taps; k++)
        for (var i = 0; i < a; i++)
        for (var j = 0; j < b; j++)
        {
            result[((long)j * a + i) * taps + k] = filter[(int)(((long)k * a + i) * b + j)];
        }

        return result;
    }

    /// <summary>The inverse of <see cref="FilterToCanonical{T}"/>: canonical <c>[B, A, k...]</c> to <c>[k..., A, B]</c>.</summary>
    public static T[] CanonicalToFilter<T>(T[] canonical, int b, int a, int taps)
    {
        var result = new T[canonical.Length];
        for (var k = 0; k < taps; k++)
        for (var i = 0; i < a; i++)
        for (var j = 0; j < b; j++)
        {
            result[((long)k * a + i) * b + j] = canonical[((long)j * a + i) * taps + k];
        }

        return result;
    }

    /// <summary>Checks that the data has as many elements as its shape says (a tensor always does; flat input may not).</summary>
    public static void Positive(string op, string param, long value, string what)
    {
        if (value <= 0)
        {
            throw Error(op, param, $"{what} must be > 0, but got {value}");
        }
    }
}
