using System.Numerics;
using Deconv.Reference;

namespace Deconv;

/// <summary>
/// The three computations on a canonical <see cref="ConvGeometry"/> that every public operation is
/// named on top of: transposed convolution, forward convolution (its adjoint) and the weight gradient
/// they share. Data are flat, row-major, in the geometry's layout; the weight is <c>[C, M/G, k...]</c>.
/// </summary>
public static class ConvOps
{
    /// <summary>Transposed convolution: x <see cref="ConvGeometry.InputShape"/> to <see cref="ConvGeometry.OutputShape"/>; bias <c>[M]</c> or empty.</summary>
    public static T[] Transpose<T>(ConvGeometry geometry, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias)
        where T : INumber<T>
    {
        ArgumentNullException.ThrowIfNull(geometry);
        return ScatterView.ConvTranspose(geometry, x, w, bias);
    }

    /// <summary>Forward convolution: x <see cref="ConvGeometry.OutputShape"/> to <see cref="ConvGeometry.InputShape"/>; bias <c>[C]</c> or empty.</summary>
    public static T[] Forward<T>(ConvGeometry geometry, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias)
        where T : INumber<T>
    {
        ArgumentNullException.ThrowIfNull(geometry);
        return ForwardConvolution.Conv(geometry, x, w, bias);
    }

    /// <summary>Weight gradient <c>[C, M/G, k...]</c> from the large side (<see cref="ConvGeometry.OutputShape"/>) and the small side (<see cref="ConvGeometry.InputShape"/>).</summary>
    public static T[] WeightGradient<T>(ConvGeometry geometry, ReadOnlySpan<T> large, ReadOnlySpan<T> small)
        where T : INumber<T>
    {
        ArgumentNullException.ThrowIfNull(geometry);
        return ForwardConvolution.WeightGradient(geometry, large, small);
    }
}
