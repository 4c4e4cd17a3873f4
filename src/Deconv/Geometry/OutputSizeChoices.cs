namespace Deconv;

/// <summary>One way a framework gets a wanted output length on one axis: its parameters and the crop at the start they imply.</summary>
/// <param name="Framework"><c>tf</c>, <c>torch</c> or <c>onnx</c>.</param>
/// <param name="Parameters">The framework's parameters for this axis, as its API spells them.</param>
/// <param name="CropBegin">Positions of the full result dropped at the start: choices with different crops give shifted results.</param>
/// <param name="Formula">How the output length follows from the parameters, with the numbers filled in.</param>
/// <param name="Axis">The axis the framework's own front end makes of these parameters (so every listed choice is checked).</param>
public readonly record struct OutputSizeChoice(string Framework, string Parameters, int CropBegin, string Formula, AxisGeometry Axis);

/// <summary>
/// The inverse question: "I want output length N" for a transposed-convolution axis with input length, kernel,
/// stride and dilation given. Lists, per framework, every kind of setting that gives N (docs: semantics.md 1, 3, 4).
/// </summary>
public static class OutputSizeChoices
{
    /// <summary>All settings in TensorFlow, PyTorch and ONNX that give output length <paramref name="wanted"/>.</summary>
    /// <exception cref="ConvolutionArgumentException">A size or parameter is not positive.</exception>
    public static IReadOnlyList<OutputSizeChoice> For(int input, int kernel, int stride, int dilation, int wanted)
    {
        Positive(input, nameof(input));
        Positive(kernel, nameof(kernel));
        Positive(stride, nameof(stride));
        Positive(dilation, nameof(dilation));
        Positive(wanted, nameof(wanted));
        var ek = (long)dilation * (kernel - 1) + 1;
        var full = (long)stride * (input - 1) + ek;
        var extra = Math.Max(stride, dilation); // output_padding < max(S, D)
        var f = $"F = S*(I-1) + D*(K-1) + 1 = {stride}*({input}-1) + {dilation}*({kernel}-1) + 1 = {full}";
        var choices = new List<OutputSizeChoice>();
        AxisGeometry Tf(TfPadding padding) => TensorFlow.TransposeGeometry("conv1d_transpose", 1, [1, input, 1], [kernel, 1, 1], [1, wanted, 1],
            [stride], padding, "NWC", [dilation]).Axes[0];
        AxisGeometry Onnx(OnnxConvAttributes attributes) => Deconv.Onnx.ConvTransposeGeometry([1, 1, input], [1, 1, kernel],
            attributes with { Strides = [stride], Dilations = [dilation] }).Axes[0];

        // TensorFlow: the forward convolution of an N-long input must give I positions.
        if (Shapes.CeilDiv(wanted, stride) == input)
        {
            var p = Math.Max(0, full - wanted);
            choices.Add(new("tf", $"padding=\"SAME\", output_shape {wanted}", (int)(p / 2),
                $"SAME accepts ceil(O/S) = I: ceil({wanted}/{stride}) = {input}; crop floor(P/2) with P = max(0, F - O) = {p}", Tf(TfPadding.Same)));
        }

        if (wanted >= full && wanted <= full + stride - 1)
        {
            choices.Add(new("tf", $"padding=\"VALID\", output_shape {wanted}", 0, $"VALID accepts O in [F, F+S-1] = [{full}, {full + stride - 1}]; {f}", Tf(TfPadding.Valid)));
        }

        var low = Math.Max(0, full - wanted);
        var high = full + stride - 1 - wanted;
        if (high >= 0)
        {
            var before = (int)(low / 2);
            choices.Add(new("tf", $"explicit padding [[{before}, {low - before}]], output_shape {wanted}", before,
                $"explicit padding accepts O + before + after in [F, F+S-1] = [{full}, {full + stride - 1}]: before + after from {low} to {high}; the crop is 'before'", Tf(TfPadding.Explicit([before, low - before]))));
        }

        // PyTorch: O = F - 2*padding + output_padding with 0 <= output_padding < max(S, D).
        for (var padding = Math.Max(0, (int)Shapes.CeilDiv(full - wanted, 2)); 2L * padding <= full - wanted + extra - 1; padding++)
        {
            var outputPadding = wanted - (full - 2L * padding);
            if (outputPadding >= 0 && outputPadding < extra)
            {
                choices.Add(new("torch", $"padding={padding}, output_padding={outputPadding}" + (outputPadding < stride ? $" (or output_size={wanted})" : ""), padding,
                    $"O = F - 2*padding + output_padding = {full} - {2 * padding} + {outputPadding} = {wanted}",
                    Torch.TransposeGeometry("conv_transpose1d", 1, [1, 1, input], [1, 1, kernel], [stride], [padding], [outputPadding], 1, [dilation], null).Axes[0]));
            }
        }

        // ONNX: explicit pads (total F - O) or output_padding (O - F), or output_shape with a mode that splits the crop.
        if (wanted <= full)
        {
            var total = full - wanted;
            choices.Add(new("onnx", $"pads=[{total / 2}, {total - total / 2}]", (int)(total / 2),
                $"O = F + output_padding - pads_begin - pads_end = {full} - {total} = {wanted}; any split of {total} between begin and end works, the begin is the crop",
                Onnx(new() { Pads = [total / 2, total - total / 2] })));
        }
        else if (wanted - full < extra)
        {
            choices.Add(new("onnx", $"pads=[0, 0], output_padding={wanted - full}", 0, $"O = F + output_padding = {full} + {wanted - full} = {wanted}",
                Onnx(new() { OutputPadding = [wanted - full] })));
        }

        var t = Math.Max(0, full - wanted);
        choices.Add(new("onnx", $"output_shape={wanted}, auto_pad=\"SAME_UPPER\"", (int)(t / 2), $"total crop T = max(0, F - O) = {t}, SAME_UPPER crops floor(T/2) at the start",
            Onnx(new() { AutoPad = "SAME_UPPER", OutputShape = [wanted] })));
        choices.Add(new("onnx", $"output_shape={wanted} (auto_pad NOTSET or SAME_LOWER)", (int)(t - t / 2), $"total crop T = max(0, F - O) = {t}, NOTSET/SAME_LOWER crop ceil(T/2) at the start",
            Onnx(new() { OutputShape = [wanted] })));
        return choices;
    }

    private static void Positive(int value, string name)
    {
        if (value < 1)
        {
            throw new ConvolutionArgumentException($"{name} is {value} but must be at least 1", name);
        }
    }
}
