using System.Numerics;

namespace Deconv;

/// <summary>
/// The gradients of the convolution / transposed-convolution pair on one canonical <see cref="ConvGeometry"/>,
/// built only from <see cref="ConvOps"/>: each operation's input gradient is the other operation, both
/// share <see cref="ConvOps.WeightGradient{T}"/>, and the bias gradient sums the output gradient per channel.
/// Every framework's backward function is named on top of these two methods.
/// </summary>
public static class ConvGradients
{
    /// <summary>
    /// Gradients of the transposed convolution <c>y = ConvOps.Transpose(x, w) + bias</c>.
    /// gradY: <see cref="ConvGeometry.OutputShape"/>; x: <see cref="ConvGeometry.InputShape"/>; w: <c>[C, M/G, k...]</c>.
    /// Returns the input gradient (the forward convolution of <paramref name="gradY"/>), the weight gradient
    /// <c>[C, M/G, k...]</c>, and the bias gradient <c>[M]</c> (null unless <paramref name="hasBias"/>).
    /// </summary>
    public static (T[] Input, T[] Weight, T[]? Bias) Transpose<T>(ConvGeometry geometry, ReadOnlySpan<T> gradY, ReadOnlySpan<T> x,
        ReadOnlySpan<T> w, bool hasBias)
        where T : INumber<T>
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var input = ConvOps.Forward<T>(geometry, gradY, w, []);
        var weight = ConvOps.WeightGradient(geometry, large: gradY, small: x);
        var bias = hasBias ? ChannelSums(gradY, geometry.OutputChannels, geometry.Batch, geometry.Layout) : null;
        return (input, weight, bias);
    }

    /// <summary>
    /// Gradients of the forward convolution <c>y = ConvOps.Forward(x, w) + bias</c>.
    /// gradY: <see cref="ConvGeometry.InputShape"/>; x: <see cref="ConvGeometry.OutputShape"/>; w: <c>[C, M/G, k...]</c>.
    /// Returns the input gradient (the transposed convolution of <paramref name="gradY"/>), the weight gradient
    /// <c>[C, M/G, k...]</c>, and the bias gradient <c>[C]</c> (null unless <paramref name="hasBias"/>).
    /// </summary>
    public static (T[] Input, T[] Weight, T[]? Bias) Forward<T>(ConvGeometry geometry, ReadOnlySpan<T> gradY, ReadOnlySpan<T> x,
        ReadOnlySpan<T> w, bool hasBias)
        where T : INumber<T>
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var input = ConvOps.Transpose<T>(geometry, gradY, w, []);
        var weight = ConvOps.WeightGradient(geometry, large: x, small: gradY);
        var bias = hasBias ? ChannelSums(gradY, geometry.InputChannels, geometry.Batch, geometry.Layout) : null;
        return (input, weight, bias);
    }

    /// <summary>The sum over batch and spatial positions of each channel, in a fixed order (batch, then position).</summary>
    internal static T[] ChannelSums<T>(ReadOnlySpan<T> data, int channels, int batch, DataLayout layout)
        where T : INumber<T>
    {
        var sums = new T[channels];
        if (data.IsEmpty)
        {
            return sums;
        }

        var positions = data.Length / batch / channels;
        for (var n = 0; n < batch; n++)
        for (var c = 0; c < channels; c++)
        for (var p = 0; p < positions; p++)
        {
            // ChannelsFirst: [N, C, positions]; ChannelsLast: [N, positions, C].
            var index = layout == DataLayout.ChannelsFirst ? ((long)n * channels + c) * positions + p : ((long)n * positions + p) * channels + c;
            sums[c] += data[(int)index];
        }

        return sums;
    }
}
