using System.Numerics;
using System.Numerics.Tensors;

namespace Deconv;

/// <summary>
/// Backward functions of PyTorch's convolutions (what <c>torch.ops.aten.convolution_backward</c> returns),
/// with the same arguments as the forward functions in <see cref="Torch"/>. A transposed convolution's input
/// gradient is the forward convolution of the output gradient with the same weight, a convolution's input
/// gradient is the transposed convolution; both share one weight gradient; the bias gradient sums the output
/// gradient over batch and positions per channel. Shapes may be unbatched <c>(C, L...)</c> as in the forward call.
/// </summary>
public static class TorchGrad
{
    /// <summary>Gradients of <see cref="Torch.ConvTranspose1d{T}"/>: input <c>(N, C_in, L)</c>, weight <c>(C_in, C_out/groups, k)</c>, bias <c>(C_out)</c>.</summary>
    public static (Tensor<T> GradInput, Tensor<T> GradWeight, Tensor<T>? GradBias) ConvTranspose1dBackward<T>(Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> weight, IReadOnlyList<long>? stride = null, IReadOnlyList<long>? padding = null, IReadOnlyList<long>? outputPadding = null,
        long groups = 1, IReadOnlyList<long>? dilation = null, IReadOnlyList<long>? outputSize = null, bool hasBias = true)
        where T : IFloatingPointIeee754<T> =>
        TransposeBackward("conv_transpose1d_backward", 1, gradOutput, input, weight, stride, padding, outputPadding, groups, dilation, outputSize, hasBias);

    /// <summary>Gradients of <see cref="Torch.ConvTranspose2d{T}"/>: input <c>(N, C_in, H, W)</c>, weight <c>(C_in, C_out/groups, kh, kw)</c>, bias <c>(C_out)</c>.</summary>
    public static (Tensor<T> GradInput, Tensor<T> GradWeight, Tensor<T>? GradBias) ConvTranspose2dBackward<T>(Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> weight, IReadOnlyList<long>? stride = null, IReadOnlyList<long>? padding = null, IReadOnlyList<long>? outputPadding = null,
        long groups = 1, IReadOnlyList<long>? dilation = null, IReadOnlyList<long>? outputSize = null, bool hasBias = true)
        where T : IFloatingPointIeee754<T> =>
        TransposeBackward("conv_transpose2d_backward", 2, gradOutput, input, weight, stride, padding, outputPadding, groups, dilation, outputSize, hasBias);

    /// <summary>Gradients of <see cref="Torch.ConvTranspose3d{T}"/>: input <c>(N, C_in, D, H, W)</c>, weight <c>(C_in, C_out/groups, kd, kh, kw)</c>, bias <c>(C_out)</c>.</summary>
    public static (Tensor<T> GradInput, Tensor<T> GradWeight, Tensor<T>? GradBias) ConvTranspose3dBackward<T>(Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> weight, IReadOnlyList<long>? stride = null, IReadOnlyList<long>? padding = null, IReadOnlyList<long>? outputPadding = null,
        long groups = 1, IReadOnlyList<long>? dilation = null, IReadOnlyList<long>? outputSize = null, bool hasBias = true)
        where T : IFloatingPointIeee754<T> =>
        TransposeBackward("conv_transpose3d_backward", 3, gradOutput, input, weight, stride, padding, outputPadding, groups, dilation, outputSize, hasBias);

    /// <summary>Gradients of <see cref="Torch.Conv1d{T}"/>: input <c>(N, C_in, L)</c>, weight <c>(C_out, C_in/groups, k)</c>, bias <c>(C_out)</c>.</summary>
    public static (Tensor<T> GradInput, Tensor<T> GradWeight, Tensor<T>? GradBias) Conv1dBackward<T>(Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> weight, IReadOnlyList<long>? stride = null, TorchPadding? padding = null, IReadOnlyList<long>? dilation = null, long groups = 1,
        bool hasBias = true)
        where T : IFloatingPointIeee754<T> =>
        ForwardBackward("conv1d_backward", 1, gradOutput, input, weight, stride, padding, dilation, groups, hasBias);

    /// <summary>Gradients of <see cref="Torch.Conv2d{T}"/>: input <c>(N, C_in, H, W)</c>, weight <c>(C_out, C_in/groups, kh, kw)</c>, bias <c>(C_out)</c>.</summary>
    public static (Tensor<T> GradInput, Tensor<T> GradWeight, Tensor<T>? GradBias) Conv2dBackward<T>(Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> weight, IReadOnlyList<long>? stride = null, TorchPadding? padding = null, IReadOnlyList<long>? dilation = null, long groups = 1,
        bool hasBias = true)
        where T : IFloatingPointIeee754<T> =>
        ForwardBackward("conv2d_backward", 2, gradOutput, input, weight, stride, padding, dilation, groups, hasBias);

    /// <summary>Gradients of <see cref="Torch.Conv3d{T}"/>: input <c>(N, C_in, D, H, W)</c>, weight <c>(C_out, C_in/groups, kd, kh, kw)</c>, bias <c>(C_out)</c>.</summary>
    public static (Tensor<T> GradInput, Tensor<T> GradWeight, Tensor<T>? GradBias) Conv3dBackward<T>(Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> weight, IReadOnlyList<long>? stride = null, TorchPadding? padding = null, IReadOnlyList<long>? dilation = null, long groups = 1,
        bool hasBias = true)
        where T : IFloatingPointIeee754<T> =>
        ForwardBackward("conv3d_backward", 3, gradOutput, input, weight, stride, padding, dilation, groups, hasBias);

    private static (Tensor<T>, Tensor<T>, Tensor<T>?) TransposeBackward<T>(string op, int rank, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> weight,
        IReadOnlyList<long>? stride, IReadOnlyList<long>? padding, IReadOnlyList<long>? outputPadding, long groups, IReadOnlyList<long>? dilation,
        IReadOnlyList<long>? outputSize, bool hasBias)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        var inputShape = FrontEnd.ShapeOf(input);
        var weightShape = FrontEnd.ShapeOf(weight);
        var geometry = Torch.TransposeGeometry(op, rank, inputShape, weightShape, stride, padding, outputPadding, groups, dilation, outputSize);
        var unbatched = inputShape.Length == rank + 1;
        CheckGradOutput(op, gradOutput, unbatched ? geometry.OutputShape[1..] : geometry.OutputShape);
        var (gx, gw, gb) = ConvGradients.Transpose<T>(geometry, FrontEnd.Flatten(gradOutput), FrontEnd.Flatten(input), FrontEnd.Flatten(weight), hasBias);
        return (FrontEnd.Wrap(gx, inputShape), FrontEnd.Wrap(gw, weightShape), gb is null ? null : FrontEnd.Wrap(gb, [gb.Length]));
    }

    private static (Tensor<T>, Tensor<T>, Tensor<T>?) ForwardBackward<T>(string op, int rank, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> weight,
        IReadOnlyList<long>? stride, TorchPadding? padding, IReadOnlyList<long>? dilation, long groups, bool hasBias)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        var inputShape = FrontEnd.ShapeOf(input);
        var weightShape = FrontEnd.ShapeOf(weight);
        var geometry = Torch.ForwardGeometry(op, rank, inputShape, weightShape, stride, padding, dilation, groups);
        var unbatched = inputShape.Length == rank + 1;
        CheckGradOutput(op, gradOutput, unbatched ? geometry.InputShape[1..] : geometry.InputShape);
        var (gx, gw, gb) = ConvGradients.Forward<T>(geometry, FrontEnd.Flatten(gradOutput), FrontEnd.Flatten(input), FrontEnd.Flatten(weight), hasBias);
        return (FrontEnd.Wrap(gx, inputShape), FrontEnd.Wrap(gw, weightShape), gb is null ? null : FrontEnd.Wrap(gb, [gb.Length]));
    }

    private static void CheckGradOutput<T>(string op, Tensor<T> gradOutput, long[] expected)
    {
        var shape = FrontEnd.ShapeOf(gradOutput);
        if (!shape.SequenceEqual(expected))
        {
            throw FrontEnd.Error(op, "grad_output", $"grad_output has shape {Shapes.Format(shape)} but the forward output has shape {Shapes.Format(expected)}");
        }
    }
}
