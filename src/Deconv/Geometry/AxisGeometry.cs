namespace Deconv;

/// <summary>
/// One spatial axis of the canonical geometry, in the terms of the transposed convolution.
/// </summary>
/// <remarks>
/// The transposed convolution maps an <see cref="Input"/>-long axis to an <see cref="Output"/>-long
/// axis: every input element <c>i</c> times every tap <c>k</c> lands at position
/// <c>i*Stride + k*Dilation - CropBegin</c> of the output, and positions outside
/// <c>[0, Output)</c> are dropped. The forward convolution with the same geometry is its adjoint:
/// it maps an <see cref="Output"/>-long axis back to an <see cref="Input"/>-long one, padding
/// <see cref="CropBegin"/> zeros at the start. Every framework's parameters reduce to these six
/// numbers (see docs: semantics.md section 0).
/// </remarks>
/// <param name="Input">Length of the transposed convolution's input (the forward convolution's output).</param>
/// <param name="Kernel">Number of kernel taps.</param>
/// <param name="Stride">Stride, at least 1.</param>
/// <param name="Dilation">Distance between taps, at least 1.</param>
/// <param name="CropBegin">Positions of the full result dropped at the start (the forward convolution's padding at the start).</param>
/// <param name="Output">Length of the transposed convolution's output (the forward convolution's input).</param>
public readonly record struct AxisGeometry(int Input, int Kernel, int Stride, int Dilation, int CropBegin, int Output)
{
    /// <summary>Extent of the dilated kernel: <c>Dilation*(Kernel-1) + 1</c>.</summary>
    public long EffectiveKernel => (long)Dilation * (Kernel - 1) + 1;

    /// <summary>
    /// Length of the uncropped result, <c>Stride*(Input-1) + EffectiveKernel</c>: every product lands in <c>[0, FullLength)</c>.
    /// </summary>
    public long FullLength => Input == 0 ? 0 : (long)Stride * (Input - 1) + EffectiveKernel;

    /// <summary>
    /// Positions of the full result dropped at the end; negative when the output extends past the full
    /// result (those positions receive no product).
    /// </summary>
    public long CropEnd => FullLength - Output - CropBegin;

    /// <summary>The same axis with stride, dilation and kernel 1 and length 1: what a missing axis is.</summary>
    internal static AxisGeometry Unit => new(1, 1, 1, 1, 0, 1);

    /// <summary>
    /// Checks the axis: positive kernel, stride and dilation, non-negative lengths and crop, and that the
    /// forward convolution of an <see cref="Output"/>-long input (padded <see cref="CropBegin"/> at the
    /// start) has at least <see cref="Input"/> windows, so every input element is used.
    /// </summary>
    internal void Validate(string op, int axis)
    {
        Require(Kernel >= 1, op, "kernel", axis, Kernel, "must be at least 1");
        Require(Stride >= 1, op, "strides", axis, Stride, "must be at least 1");
        Require(Dilation >= 1, op, "dilations", axis, Dilation, "must be at least 1");
        Require(Input >= 0, op, "input", axis, Input, "must not be negative");
        Require(Output >= 0, op, "output", axis, Output, "must not be negative");
        Require(CropBegin >= 0, op, "crop_begin", axis, CropBegin, "must not be negative");
        if (EffectiveKernel > int.MaxValue || FullLength > int.MaxValue)
        {
            throw new ConvolutionArgumentException(
                $"{op}: spatial axis {axis}: dilated kernel {EffectiveKernel} or full length {FullLength} exceeds {int.MaxValue}", "kernel");
        }
    }

    private static void Require(bool rule, string op, string name, int axis, int value, string text)
    {
        if (!rule)
        {
            throw new ConvolutionArgumentException($"{op}: {name} of spatial axis {axis} is {value} but {text}", name);
        }
    }
}
