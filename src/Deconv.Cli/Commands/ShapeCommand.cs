using System.CommandLine;
using System.Text;
using Deconv.Cli.Explain;

namespace Deconv.Cli.Commands;

/// <summary>
/// <c>deconv shape</c>: the output size of a transposed convolution in every framework's terms, the valid sizes,
/// and the inverse question "which settings give output size N" (<c>--want</c>).
/// </summary>
internal static class ShapeCommand
{
    public static Command Create()
    {
        var operation = new OperationOptions("--framework");
        var want = new Option<string?>("--want") { Description = "Wanted output size per axis, e.g. 8 or 8,8: list the settings of every framework that give it." };
        var command = new Command("shape",
            "Output size of a transposed convolution given in one framework's terms (same options as explain), the same geometry " +
            "in TensorFlow, PyTorch and ONNX terms, the valid output sizes, and with --want N the settings in each framework that give N.");
        foreach (var option in operation.All.Append(want))
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var request = operation.Read(parse);
            var wanted = ExplainRequest.ParseInts(parse.GetValue(want), "--want");
            parse.InvocationConfiguration.Output.Write(Describe(request, wanted));
            return 0;
        });
        return command;
    }

    internal static string Describe(ExplainRequest request, int[]? wanted)
    {
        var (geometry, call, rule) = request.ResolveWithAdvice();
        var text = new StringBuilder();
        text.Append($"deconv shape: {call}\n");
        text.Append($"output shape {Shapes.Format(geometry.OutputShape)} (N, C, spatial...) from input {Shapes.Format(geometry.InputShape)}\n");
        for (var i = 0; i < geometry.Rank; i++)
        {
            var a = geometry.Axes[i];
            text.Append($"\naxis {i}: I={a.Input} K={a.Kernel} S={a.Stride} D={a.Dilation}\n");
            text.Append($"  O = S*(I-1) + D*(K-1) + 1 - crop_begin - crop_end = {a.Stride}*({a.Input}-1) + {a.Dilation}*({a.Kernel}-1) + 1 - {a.CropBegin} - {a.CropEnd} = {a.Output}\n");
            var (first, last) = rule.PerAxis[i];
            text.Append($"  valid output sizes ({rule.Description}): {(last == long.MaxValue ? $"any from {first}" : first == last ? $"{first}" : $"{first} to {last}")}\n");
            var tf = Translation.ToTensorFlow(a);
            var torch = Translation.ToTorch(a);
            var onnx = Translation.ToOnnx(a);
            text.Append($"  tf:    {(tf.Expressible ? tf.Parameters.ToString() : "not expressible: " + tf.Workaround)}\n");
            text.Append($"  torch: {(torch.Expressible ? torch.Parameters.ToString() : "not expressible: " + torch.Workaround)}\n");
            text.Append($"  onnx:  {(onnx.Expressible ? onnx.Parameters.ToString() : "not expressible: " + onnx.Workaround)}\n");
        }

        if (wanted is not null)
        {
            if (wanted.Length != 1 && wanted.Length != geometry.Rank)
            {
                throw new ArgumentException($"--want has {wanted.Length} values but there are {geometry.Rank} spatial axes: give 1 or {geometry.Rank}");
            }

            for (var i = 0; i < geometry.Rank; i++)
            {
                var a = geometry.Axes[i];
                var n = wanted.Length == 1 ? wanted[0] : wanted[i];
                text.Append($"\nwant O = {n} on axis {i} (I={a.Input} K={a.Kernel} S={a.Stride} D={a.Dilation}, full length F = {a.FullLength}):\n");
                foreach (var choice in OutputSizeChoices.For(a.Input, a.Kernel, a.Stride, a.Dilation, n))
                {
                    text.Append($"  {choice.Framework,-5}  {choice.Parameters,-58}  crop at start {choice.CropBegin}\n");
                    text.Append($"         {choice.Formula}\n");
                }

                text.Append("  settings with different crops at the start give shifted results\n");
            }
        }

        return text.ToString();
    }
}
