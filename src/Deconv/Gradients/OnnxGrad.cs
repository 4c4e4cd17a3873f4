using System.Numerics;
using System.Numerics.Tensors;

namespace Deconv;

/// <summary>
/// Backward functions of ONNX <c>ConvTranspose</c> and <c>Conv</c> (as a training graph would need them),
/// with the same shapes and <see cref="OnnxConvAttributes"/> as <see cref="Onnx"/>. <c>ConvTranspose</c>'s
/// X gradient is <c>Conv</c> of dY with the same W and attributes mapped to one geometry, and vice versa;
/// both share one W gradient; the B gradient sums dY over batch and positions per channel.
/// </summary>
public static class OnnxGrad
{
    /// <summary>Gradients of <see cref="Onnx.ConvTranspose{T}"/>: gradY <c>[N, M, O1..On]</c>, X <c>[N, C, D1..Dn]</c>, W <c>[C, M/group, k...]</c>; GradB <c>[M]</c> when <paramref name="hasBias"/>.</summary>
    public static (Tensor<T> GradX, Tensor<T> GradW, Tensor<T>? GradB) ConvTransposeBackward<T>(Tensor<T> gradY, Tensor<T> x, Tensor<T> w,
        bool hasBias, OnnxConvAttributes? attributes = null)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(gradY);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(w);
        var xShape = FrontEnd.ShapeOf(x);
        var wShape = FrontEnd.ShapeOf(w);
        var geometry = Onnx.ConvTransposeGeometry(xShape, wShape, attributes ?? new());
        CheckGradY("ConvTransposeGrad", gradY, geometry.OutputShape);
        var (gx, gw, gb) = ConvGradients.Transpose<T>(geometry, FrontEnd.Flatten(gradY), FrontEnd.Flatten(x), FrontEnd.Flatten(w), hasBias);
        return (FrontEnd.Wrap(gx, xShape), FrontEnd.Wrap(gw, wShape), gb is null ? null : FrontEnd.Wrap(gb, [gb.Length]));
    }

    /// <summary>Gradients of <see cref="Onnx.Conv{T}"/>: gradY <c>[N, M, O1..On]</c>, X <c>[N, C, D1..Dn]</c>, W <c>[M, C/group, k...]</c>; GradB <c>[M]</c> when <paramref name="hasBias"/>.</summary>
    public static (Tensor<T> GradX, Tensor<T> GradW, Tensor<T>? GradB) ConvBackward<T>(Tensor<T> gradY, Tensor<T> x, Tensor<T> w,
        bool hasBias, OnnxConvAttributes? attributes = null)
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(gradY);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(w);
        var xShape = FrontEnd.ShapeOf(x);
        var wShape = FrontEnd.ShapeOf(w);
        var geometry = Onnx.ConvGeometry(xShape, wShape, attributes ?? new());
        CheckGradY("ConvGrad", gradY, geometry.InputShape);
        var (gx, gw, gb) = ConvGradients.Forward<T>(geometry, FrontEnd.Flatten(gradY), FrontEnd.Flatten(x), FrontEnd.Flatten(w), hasBias);
        return (FrontEnd.Wrap(gx, xShape), FrontEnd.Wrap(gw, wShape), gb is null ? null : FrontEnd.Wrap(gb, [gb.Length]));
    }

    private static void CheckGradY<T>(string op, Tensor<T> gradY, long[] expected)
    {
        var shape = FrontEnd.ShapeOf(gradY);
        if (!shape.SequenceEqual(expected))
        {
            throw FrontEnd.Error(op, "dY", $"dY has shape {Shapes.Format(shape)} but the forward output Y has shape {Shapes.Format(expected)}");
        }
    }
}
