namespace Deconv;

/// <summary>TensorFlow parameters for one axis: padding kind (<c>VALID</c>, <c>SAME</c> or <c>EXPLICIT</c> with before/after) and the output size.</summary>
public readonly record struct TfAxisParameters(string Padding, int Before, int After, int OutputSize)
{
    /// <inheritdoc />
    public override string ToString() => Padding == "EXPLICIT"
        ? $"padding [{Before}, {After}], output size {OutputSize}"
        : $"padding=\"{Padding}\", output size {OutputSize}";
}

/// <summary>PyTorch parameters for one axis.</summary>
public readonly record struct TorchAxisParameters(int Padding, int OutputPadding)
{
    /// <inheritdoc />
    public override string ToString() => $"padding={Padding}, output_padding={OutputPadding}";
}

/// <summary>ONNX parameters for one axis; <see cref="OutputShape"/> is used instead of pads when not null.</summary>
public readonly record struct OnnxAxisParameters(int PadBegin, int PadEnd, int OutputPadding, int? OutputShape)
{
    /// <inheritdoc />
    public override string ToString() => OutputShape is { } shape
        ? $"output_shape={shape}" + (OutputPadding > 0 ? $", output_padding={OutputPadding}" : "")
        : $"pads=[{PadBegin}, {PadEnd}]" + (OutputPadding > 0 ? $", output_padding={OutputPadding}" : "");
}

/// <summary>
/// How a framework expresses one transposed-convolution axis. When it cannot (<see cref="Expressible"/> false),
/// <see cref="Parameters"/> are those of the uncropped run and <see cref="Workaround"/> says what to slice.
/// </summary>
public readonly record struct AxisTranslation<TParameters>(bool Expressible, TParameters Parameters, string? Workaround);

/// <summary>
/// Translates one canonical transposed-convolution axis <c>(I, K, S, D, crop_begin, O)</c> into each framework's
/// parameters (docs: semantics.md section 7).
/// </summary>
public static class Translation
{
    /// <summary>
    /// TensorFlow: <c>SAME</c> when the crop is SAME's <c>floor(P/2)</c> and <c>ceil(O/S) == I</c>; <c>VALID</c> when the crop is 0 and
    /// <c>O</c> is in <c>[F, F+S-1]</c>; otherwise explicit padding <c>[crop_begin, max(0, crop_end)]</c> with output size <c>O</c>.
    /// </summary>
    public static AxisTranslation<TfAxisParameters> ToTensorFlow(AxisGeometry a)
    {
        var full = a.FullLength;
        var sameTotal = Math.Max(0, (long)(a.Input - 1) * a.Stride + a.EffectiveKernel - a.Output);
        if (a.CropBegin == sameTotal / 2 && Shapes.CeilDiv(a.Output, a.Stride) == a.Input)
        {
            return new(true, new("SAME", 0, 0, a.Output), null);
        }

        if (a.CropBegin == 0 && a.Output >= full && a.Output <= full + a.Stride - 1)
        {
            return new(true, new("VALID", 0, 0, a.Output), null);
        }

        var after = (int)Math.Max(0, a.CropEnd);
        var padded = (long)a.Output + a.CropBegin + after;
        return padded >= full && padded <= full + a.Stride - 1
            ? new(true, new("EXPLICIT", a.CropBegin, after, a.Output), null)
            : new(false, new("VALID", 0, 0, (int)full), Slice(a, "no TensorFlow padding gives this crop and length"));
    }

    /// <summary>
    /// PyTorch: <c>padding = crop_begin</c>, <c>output_padding = crop_begin - crop_end</c>, expressible when
    /// <c>0 &lt;= output_padding &lt; max(S, D)</c>; otherwise <c>padding=0</c> and slice.
    /// </summary>
    public static AxisTranslation<TorchAxisParameters> ToTorch(AxisGeometry a)
    {
        var outputPadding = a.CropBegin - a.CropEnd;
        return outputPadding >= 0 && outputPadding < Math.Max(a.Stride, a.Dilation)
            ? new(true, new(a.CropBegin, (int)outputPadding), null)
            : new(false, new(0, 0), Slice(a, "PyTorch crops both ends equally (padding) and extends by output_padding < max(stride, dilation) only"));
    }

    /// <summary>
    /// ONNX: <c>pads = [crop_begin, crop_end]</c> when the end crop is not negative, else <c>pads = [crop_begin, 0]</c> with
    /// <c>output_padding = -crop_end</c> (less than <c>max(S, D)</c>), else <c>output_shape</c> when the crop begin is 0
    /// (ONNX Runtime extends at the end when the total crop is negative).
    /// </summary>
    public static AxisTranslation<OnnxAxisParameters> ToOnnx(AxisGeometry a)
    {
        var end = a.CropEnd;
        if (end >= 0)
        {
            return new(true, new(a.CropBegin, (int)end, 0, null), null);
        }

        if (-end < Math.Max(a.Stride, a.Dilation))
        {
            return new(true, new(a.CropBegin, 0, (int)-end, null), null);
        }

        return a.CropBegin == 0
            ? new(true, new(0, 0, 0, a.Output), null)
            : new(false, new(0, 0, 0, null), Slice(a, "ONNX cannot both crop at the start and extend past the full length this far"));
    }

    private static string Slice(AxisGeometry a, string why) =>
        $"{why}: run without cropping (length {a.FullLength}), then keep positions [{a.CropBegin}, {(long)a.CropBegin + a.Output})" +
        (a.CropEnd < 0 ? $", zero past {a.FullLength}" : "");
}
