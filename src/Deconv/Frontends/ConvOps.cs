using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Deconv.Engine;
using Deconv.Reference;

namespace Deconv;

/// <summary>
/// The three computations on a canonical <see cref="ConvGeometry"/> that every public operation is
/// named on top of: transposed convolution, forward convolution (its adjoint) and the weight gradient
/// they share. Data are flat, row-major, in the geometry's layout; the weight is <c>[C, M/G, k...]</c>.
/// </summary>
public static class ConvOps
{
    private static int _threads;

    /// <summary>
    /// Threads the fast engine may use in these functions and every front end built on them: 0 (the default) means
    /// one per processor. Results are bit-identical for every value. Plans (<see cref="ConvTransposePlan"/>) take their own count.
    /// </summary>
    /// <exception cref="ConvolutionArgumentException">A negative value.</exception>
    public static int Threads
    {
        get => _threads;
        set => _threads = value >= 0 ? value
            : throw new ConvolutionArgumentException($"threads is {value} but must be at least 0 (0 = one per processor)", nameof(Threads));
    }

    /// <summary>Transposed convolution: x <see cref="ConvGeometry.InputShape"/> to <see cref="ConvGeometry.OutputShape"/>; bias <c>[M]</c> or empty.</summary>
    /// <remarks>
    /// float runs on the fast engine (<see cref="ConvTransposePlan"/>), other types on the reference. The last few
    /// plans are kept, so repeated calls with the same geometry and weights skip packing the weights.
    /// </remarks>
    public static T[] Transpose<T>(ConvGeometry geometry, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias)
        where T : INumber<T> =>
        TransposeWithLayout(geometry, x, w, WeightLayout.Canonical, bias);

    /// <summary>
    /// <see cref="Transpose{T}(ConvGeometry, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T})"/> with the weight in
    /// <paramref name="layout"/>: the plan cache compares the weight as given, so a repeated call copies it to the
    /// canonical layout only when a plan is made.
    /// </summary>
    internal static T[] TransposeWithLayout<T>(ConvGeometry geometry, ReadOnlySpan<T> x, ReadOnlySpan<T> w, WeightLayout layout, ReadOnlySpan<T> bias)
        where T : INumber<T>
    {
        ArgumentNullException.ThrowIfNull(geometry);
        Check.Lengths(geometry, x.Length, geometry.InputLength, w.Length, bias.Length, geometry.OutputChannels);
        if (typeof(T) != typeof(float))
        {
            return ScatterView.ConvTranspose(geometry, x, layout == WeightLayout.Canonical ? w : Canonical(geometry, w, layout), bias);
        }

        var entry = PlanCache.Rent(geometry, AsFloats(w), layout, AsFloats(bias), Threads);
        var y = new float[geometry.OutputLength];
        try
        {
            entry.Plan.Run(AsFloats(x), y);
        }
        finally
        {
            PlanCache.Return(entry);
        }

        return (T[])(object)y;
    }

    /// <summary>The weight <c>[C, M/G, k...]</c> from a weight of the geometry's length in another layout.</summary>
    internal static T[] Canonical<T>(ConvGeometry geometry, ReadOnlySpan<T> w, WeightLayout layout) => layout switch
    {
        WeightLayout.KernelFirst => FrontEnd.FilterToCanonical(w, [.. geometry.Axes.Select(a => (long)a.Kernel), geometry.OutputChannelsPerGroup, geometry.InputChannels]),
        _ => w.ToArray(),
    };

    /// <summary>A span of T known to be float, seen as float.</summary>
    private static ReadOnlySpan<float> AsFloats<T>(ReadOnlySpan<T> values) =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(values)), values.Length);

    /// <summary>Forward convolution: x <see cref="ConvGeometry.OutputShape"/> to <see cref="ConvGeometry.InputShape"/>; bias <c>[C]</c> or empty.</summary>
    /// <remarks>float runs on <see cref="ConvForwardPlan"/>; other types on the reference.</remarks>
    public static T[] Forward<T>(ConvGeometry geometry, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias)
        where T : INumber<T>
    {
        ArgumentNullException.ThrowIfNull(geometry);
        if (typeof(T) != typeof(float))
        {
            return ForwardConvolution.Conv(geometry, x, w, bias);
        }

        Check.Lengths(geometry, x.Length, geometry.OutputLength, w.Length, bias.Length, geometry.InputChannels);
        var plan = new ConvForwardPlan(geometry, AsFloats(w), AsFloats(bias));
        var y = new float[geometry.InputLength];
        plan.Run(AsFloats(x), y);
        return (T[])(object)y;
    }

    /// <summary>Weight gradient <c>[C, M/G, k...]</c> from the large side (<see cref="ConvGeometry.OutputShape"/>) and the small side (<see cref="ConvGeometry.InputShape"/>).</summary>
    /// <remarks>float runs on <see cref="WeightGradientPlan"/>; other types on the reference.</remarks>
    public static T[] WeightGradient<T>(ConvGeometry geometry, ReadOnlySpan<T> large, ReadOnlySpan<T> small)
        where T : INumber<T>
    {
        ArgumentNullException.ThrowIfNull(geometry);
        if (typeof(T) != typeof(float))
        {
            return ForwardConvolution.WeightGradient(geometry, large, small);
        }

        Check.Lengths(geometry, large.Length, geometry.OutputLength, geometry.WeightLength, 0, 0);
        Check.Lengths(geometry, small.Length, geometry.InputLength, geometry.WeightLength, 0, 0);
        var dw = new float[geometry.WeightLength];
        new WeightGradientPlan(geometry).Run(AsFloats(large), AsFloats(small), dw);
        return (T[])(object)dw;
    }
}

/// <summary>How a transposed convolution's weight is laid out.</summary>
internal enum WeightLayout
{
    /// <summary><c>[C, M/G, k...]</c> (ONNX, PyTorch).</summary>
    Canonical,

    /// <summary><c>[k..., M/G, C]</c> (TensorFlow's transposed-convolution filter).</summary>
    KernelFirst,
}
