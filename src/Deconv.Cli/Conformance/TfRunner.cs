using System.Numerics.Tensors;
using Deconv.Cli.Formats;

namespace Deconv.Cli.Conformance;

/// <summary>Runs TensorFlow cases through the library's <see cref="TensorFlow"/> front end, in TensorFlow's own terms.</summary>
internal static class TfRunner
{
    /// <summary>The closed form of the all-ones rule cases (see <c>tf/cases.md</c> section 1).</summary>
    private const string OnesRuleMarker = "C_in * prod over spatial axes of cnt(o_axis)";

    public static CaseResult Run(TfCase c, string source)
    {
        if (c.ErrorReason is { } reason)
        {
            return CaseEvaluation.ExpectError(c.Id, source, reason, () => Call(c));
        }

        var expected = c.Expected!;
        return CaseEvaluation.Evaluate(c.Id, source, () => Call(c), expected.Shape, () => [.. expected.Data.Select(v => (double)v)], Tolerance.TensorFlow);
    }

    public static CaseResult Run(TfListCase c, string source)
    {
        if (c.Rule is not null && !(c.Rule.Contains("all ones", StringComparison.Ordinal) && c.Rule.Contains(OnesRuleMarker, StringComparison.Ordinal)))
        {
            return CaseResult.Fail(c.Id, source, double.NaN, $"unknown rule \"{c.Rule}\": only the all-ones rule \"{OnesRuleMarker}\" is supported");
        }

        // The list convention: input 1..numel(input) (all ones for a rule case), filter 1..numel(filter) (all ones too), row-major.
        var inputCount = (int)Product(c.InputShape);
        var filterCount = (int)Product(c.FilterShape);
        var input = c.Rule is null ? Sequence(inputCount) : Ones(inputCount);
        var filter = c.Rule is null ? Sequence(filterCount) : Ones(filterCount);
        var padding = Padding(c.Padding, c.PaddingPairs);
        Func<(long[], double[])> call = () =>
        {
            var x = input.ToTensor(c.InputShape);
            var f = filter.ToTensor(c.FilterShape);
            var y = c.Rank switch
            {
                1 => TensorFlow.Conv1DTranspose(x, f, c.OutputShape, c.Strides, padding(), c.DataFormat ?? "NWC", c.Dilations),
                2 => TensorFlow.Conv2DTranspose(x, f, c.OutputShape, c.Strides, padding(), c.DataFormat ?? "NHWC", c.Dilations),
                _ => TensorFlow.Conv3DTranspose(x, f, c.OutputShape, c.Strides, padding(), c.DataFormat ?? "NDHWC", c.Dilations),
            };
            return CaseEvaluation.Result(y);
        };
        // A rule case's expectation is computed by counting, independently of the library (see OnesRule).
        Func<double[]> expected = c.Rule is null ? () => [.. c.Expected!.Select(v => (double)v)] : () => OnesRule(c);
        return CaseEvaluation.Evaluate(c.Id, source, call, c.OutputShape, expected, Tolerance.TensorFlow);
    }

    /// <summary>
    /// The all-ones rule, computed here by counting and not with the library:
    /// <c>y[n, o..., c] = C_in * prod over axes of cnt(o_axis)</c>, <c>cnt(o) = #{(i, k) : i*S + k*D - before = o}</c>,
    /// <c>before = floor(P/2)</c> with <c>P = max(0, (I-1)*S + EK - O)</c> for SAME, 0 for VALID, the given value for explicit padding.
    /// </summary>
    internal static double[] OnesRule(TfListCase c)
    {
        var rank = c.Rank;
        var channelsLast = (c.DataFormat ?? "NHWC").EndsWith('C');
        var firstSpatial = channelsLast ? 1 : 2;
        var strides = Spatial(c.Strides, rank, channelsLast, "strides");
        var dilations = Spatial(c.Dilations, rank, channelsLast, "dilations");
        var inChannels = c.InputShape[channelsLast ? rank + 1 : 1];
        var counts = new long[rank][];
        for (var a = 0; a < rank; a++)
        {
            long input = c.InputShape[firstSpatial + a], kernel = c.FilterShape[a], output = c.OutputShape[firstSpatial + a];
            long stride = strides[a], dilation = dilations[a];
            var effectiveKernel = (kernel - 1) * dilation + 1;
            var before = c.PaddingPairs is { } pairs ? pairs[pairs.Length == rank ? a : firstSpatial + a][0]
                : c.Padding?.ToUpperInvariant() == "SAME" ? Math.Max(0, (input - 1) * stride + effectiveKernel - output) / 2
                : 0;
            counts[a] = new long[output];
            for (var i = 0; i < input; i++)
            for (var k = 0; k < kernel; k++)
            {
                var o = i * stride + k * dilation - before;
                if (o >= 0 && o < output)
                {
                    counts[a][o]++;
                }
            }
        }

        var shape = c.OutputShape;
        var result = new double[Product(shape)];
        var index = new long[shape.Length];
        for (var flat = 0; flat < result.Length; flat++)
        {
            var rest = (long)flat;
            for (var d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }

            double value = inChannels;
            for (var a = 0; a < rank; a++)
            {
                value *= counts[a][index[firstSpatial + a]];
            }

            result[flat] = value;
        }

        return result;
    }

    private static (long[] Shape, double[] Data) Call(TfCase c)
    {
        var a = c.Arguments;
        var padding = Padding(a.Padding, a.PaddingPairs)();
        Tensor<float> Input(string name) => c.Inputs[name].Data.ToTensor(c.Inputs[name].Shape);
        var y = c.Op switch
        {
            "conv1d_transpose" => TensorFlow.Conv1DTranspose(Input("input"), Input("filters"), a.OutputShape!, a.Strides, padding, a.DataFormat ?? "NWC", a.Dilations),
            "conv2d_transpose" => TensorFlow.Conv2DTranspose(Input("input"), Input("filters"), a.OutputShape!, a.Strides, padding, a.DataFormat ?? "NHWC", a.Dilations),
            "conv3d_transpose" => TensorFlow.Conv3DTranspose(Input("input"), Input("filters"), a.OutputShape!, a.Strides, padding, a.DataFormat ?? "NDHWC", a.Dilations),
            "conv1d" => TensorFlow.Conv1D(Input("input"), Input("filters"), a.Strides, padding, a.DataFormat ?? "NWC", a.Dilations),
            "conv2d" => TensorFlow.Conv2D(Input("input"), Input("filters"), a.Strides, padding, a.DataFormat ?? "NHWC", a.Dilations),
            "conv3d" => TensorFlow.Conv3D(Input("input"), Input("filters"), a.Strides, padding, a.DataFormat ?? "NDHWC", a.Dilations),
            "depthwise_conv2d" => TensorFlow.DepthwiseConv2D(Input("input"), Input("filter"), a.Strides, padding, a.DataFormat ?? "NHWC", a.Dilations),
            "conv2d_backprop_input" => TensorFlow.Conv2DBackpropInput(a.InputSizes!, Input("filter"), Input("out_backprop"), a.Strides, padding, a.DataFormat ?? "NHWC", a.Dilations),
            "conv2d_backprop_filter" => TensorFlow.Conv2DBackpropFilter(Input("input"), a.FilterSizes!, Input("out_backprop"), a.Strides, padding, a.DataFormat ?? "NHWC", a.Dilations),
            _ => throw new InvalidDataException($"unknown op '{c.Op}'"),
        };
        return CaseEvaluation.Result(y);
    }

    /// <summary>The library's padding argument, built when the case runs so that a bad value is the library's error.</summary>
    private static Func<TfPadding> Padding(string? text, long[][]? pairs) =>
        () => pairs is not null ? TfPadding.Explicit(pairs) : TfPadding.Parse(text!);

    private static long[] Spatial(long[]? values, int rank, bool channelsLast, string name) => values switch
    {
        null or [] => [.. Enumerable.Repeat(1L, rank)],
        [var one] => [.. Enumerable.Repeat(one, rank)],
        _ when values.Length == rank => values,
        _ when values.Length == rank + 2 => channelsLast ? values[1..^1] : values[2..],
        _ => throw new InvalidDataException($"{name} has {values.Length} values; expected 1, {rank} or {rank + 2}"),
    };

    private static long Product(long[] shape) => shape.Aggregate(1L, (p, d) => p * d);

    private static float[] Sequence(int count) => [.. Enumerable.Range(1, count).Select(i => (float)i)];

    private static float[] Ones(int count) => [.. Enumerable.Repeat(1f, count)];
}
