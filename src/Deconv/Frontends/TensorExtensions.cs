using System.Numerics.Tensors;

namespace Deconv;

/// <summary>Helpers for moving data between <see cref="Tensor{T}"/> and flat arrays.</summary>
public static class TensorExtensions
{
    /// <summary>The tensor's elements in row-major order.</summary>
    public static T[] ToArray<T>(this Tensor<T> tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return FrontEnd.Flatten(tensor);
    }

    /// <summary>The tensor's shape as longs.</summary>
    public static long[] Shape<T>(this Tensor<T> tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return FrontEnd.ShapeOf(tensor);
    }

    /// <summary>A tensor over <paramref name="data"/> (row-major) with the given shape.</summary>
    /// <exception cref="ConvolutionArgumentException">The shape does not have exactly <c>data.Length</c> elements.</exception>
    public static Tensor<T> ToTensor<T>(this T[] data, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        var count = Shapes.TryProduct(shape);
        if (count != data.Length)
        {
            throw new ConvolutionArgumentException($"shape {Shapes.Format(shape)} has {(count is null ? "too many" : count.ToString())} elements but the data has {data.Length}", nameof(shape));
        }

        return FrontEnd.Wrap(data, shape);
    }
}
