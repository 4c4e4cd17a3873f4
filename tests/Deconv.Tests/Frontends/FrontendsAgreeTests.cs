using System.Numerics.Tensors;
using CsCheck;
using Deconv.Reference;
using static Deconv.Tests.Frontends.FrontEndCalls;

namespace Deconv.Tests.Frontends;

/// <summary>
/// TensorFlow, PyTorch and ONNX parameters that describe the same canonical geometry (semantics.md section 7) give
/// the same result through the public front ends, equal to the reference view on that geometry.
/// </summary>
public class FrontendsAgreeTests
{
    // ---------------------------------------------------------------- random cases: transposed convolution

    /// <summary>
    /// A canonical axis (Pb, O) that ONNX can express (<c>-Pe &lt; max(S, D)</c>): any window, or one written the
    /// PyTorch way, the TF SAME way or the TF VALID way, so every translation occurs often.
    /// </summary>
    private static Gen<AxisGeometry> TransposeAxis(int maxInput) =>
        Gen.Select(Gen.Int[1, maxInput], Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[1, 3]).SelectMany((i, k, s, d) =>
        {
            var full = s * (i - 1) + d * (k - 1) + 1;
            var extend = Math.Max(s, d) - 1;
            var any = Gen.Int[0, full - 1].SelectMany(pb => Gen.Int[1, full - pb + extend].Select(o => (pb, o)));
            var torch = Gen.Select(Gen.Int[0, (full - 1) / 2], Gen.Int[0, extend], (p, op) => (p, full - 2 * p + op));
            var same = Gen.Int[(i - 1) * s + 1, i * s].Select(o => (Math.Max(0, full - o) / 2, o));
            var valid = Gen.Int[full, full + s - 1].Select(o => (0, o));
            return Gen.Frequency((2, any), (1, torch), (1, same), (1, valid))
                .Select(t => new AxisGeometry(i, k, s, d, t.Item1, t.Item2));
        });

    private static Gen<ConvGeometry> CanonicalGeometry(Func<int, Gen<AxisGeometry>> axis) =>
        Gen.Int[1, 3].SelectMany(rank => axis(rank switch { 1 => 5, 2 => 3, _ => 2 }).Array[rank])
            .Select(Generators.Rarely(0, Gen.Int[1, 2]), Gen.Int[1, 3], Gen.Int[1, 2], Gen.Int[1, 2], (axes, batch, groups, cg, mg) =>
                new ConvGeometry(batch, groups * cg, groups * mg, groups, axes))
            .Where(g => Generators.Work(g) <= 20_000);

    [Fact]
    public void Transposed_convolutions_agree_across_frameworks_on_random_geometries()
    {
        var counts = new int[4]; // ONNX forms, PyTorch direct, PyTorch sliced, TF
        Gen.Select(CanonicalGeometry(TransposeAxis), Gen.Int).Sample((g, seed) =>
        {
            var random = new Random(seed);
            var x = TestData.SmallInts(random, g.InputLength);
            var w = TestData.SmallInts(random, g.WeightLength);
            var bias = TestData.SmallInts(random, g.OutputChannels);
            var expected = ScatterView.ConvTranspose<double>(g, x, w, bias);
            var expectedNoBias = ScatterView.ConvTranspose<double>(g, x, w, []);
            foreach (var (name, result) in OnnxTransposeForms(g, x, w, bias, random))
            {
                Interlocked.Increment(ref counts[0]);
                AssertResult(g.OutputShape, expected, result, name);
            }

            foreach (var (name, result, withBias, window) in TorchTransposeForms(g, x, w, bias, random))
            {
                Interlocked.Increment(ref counts[window ? 2 : 1]);
                var (data, shape) = Flat(result);
                if (window)
                {
                    // Not expressible: the uncropped result, sliced [Pb, Pb + O) (semantics.md section 7).
                    data = Window(data, shape, [.. g.Axes.Select(a => a.CropBegin)], [.. g.Axes.Select(a => a.Output)]);
                    shape = g.OutputShape;
                }

                AssertEqual(g.OutputShape, withBias ? expected : expectedNoBias, shape, data, name);
            }

            // Single precision through the same recipe: exact on small integers.
            var single = Onnx.ConvTranspose(TestData.ToFloat(x).ToTensor(g.InputShape), TestData.ToFloat(w).ToTensor(g.WeightShape),
                TestData.ToFloat(bias).ToTensor(g.OutputChannels), OnnxRecipe(g));
            Assert.Equal(ScatterView.ConvTranspose<float>(g, TestData.ToFloat(x), TestData.ToFloat(w), TestData.ToFloat(bias)), single.ToArray());
            Assert.Equal(expected, TestData.ToDouble(single.ToArray()));

            if (TfTransposeForm(g, x, w, random) is var (tfName, tfResult, channelsLast))
            {
                Interlocked.Increment(ref counts[3]);
                var (data, shape) = ToFirst(tfResult, channelsLast);
                AssertEqual(g.OutputShape, expectedNoBias, shape, data, tfName);
            }
        }, iter: 1500);

        // Every framework's translation was exercised, not skipped.
        Assert.All(counts, c => Assert.True(c > 100, $"counts {string.Join(", ", counts)}"));
    }

    private static IEnumerable<(string Name, Tensor<double> Result)> OnnxTransposeForms(
        ConvGeometry g, double[] x, double[] w, double[] bias, Random random)
    {
        var axes = g.Axes;
        var rank = g.Rank;
        var common = new OnnxConvAttributes
        {
            Strides = [.. axes.Select(a => (long)a.Stride)],
            Dilations = [.. axes.Select(a => (long)a.Dilation)],
            Group = g.Groups,
            KernelShape = random.Next(2) == 0 ? null : [.. axes.Select(a => (long)a.Kernel)],
        };
        var X = Tensor(x, g.InputShape);
        var W = Tensor(w, g.WeightShape);
        var B = Tensor(bias, [g.OutputChannels]);

        var recipe = OnnxRecipe(g) with { KernelShape = common.KernelShape };
        yield return ($"ONNX pads {FrontEnd.Format(recipe.Pads!)} output_padding {FrontEnd.Format(recipe.OutputPadding!)}", Onnx.ConvTranspose(X, W, B, recipe));

        // output_shape (ONNX Runtime): T = F - O, NOTSET/SAME_LOWER crop ceil(T/2) at the start, SAME_UPPER floor(T/2); T < 0 extends at the end.
        long[] outputShape = [.. axes.Select(a => (long)a.Output)];
        long[] withNC = [g.Batch, g.OutputChannels, .. outputShape];
        var lowerMatches = axes.All(a => a.CropBegin == (a.FullLength - a.Output > 0 ? (a.FullLength - a.Output + 1) / 2 : 0));
        var upperMatches = axes.All(a => a.CropBegin == Math.Max(0, a.FullLength - a.Output) / 2);
        if (lowerMatches)
        {
            // Explicit pads are ignored when output_shape is given.
            var junkPads = random.Next(2) == 0 ? null : Enumerable.Range(0, 2 * rank).Select(_ => (long)random.Next(0, 3)).ToArray();
            yield return ("ONNX NOTSET + output_shape", Onnx.ConvTranspose(X, W, B, common with { OutputShape = outputShape, Pads = junkPads }));
            yield return ("ONNX SAME_LOWER + output_shape (N, C prepended)", Onnx.ConvTranspose(X, W, B, common with { AutoPad = "SAME_LOWER", OutputShape = withNC }));
        }

        if (upperMatches)
        {
            yield return ("ONNX SAME_UPPER + output_shape", Onnx.ConvTranspose(X, W, B, common with { AutoPad = "SAME_UPPER", OutputShape = outputShape }));
        }

        // SAME_* without output_shape: target I*S, T = max(0, F - I*S), length F - T.
        var sameLength = axes.All(a => a.Output == a.FullLength - Math.Max(0, a.FullLength - (long)a.Input * a.Stride));
        if (sameLength && upperMatches)
        {
            yield return ("ONNX SAME_UPPER", Onnx.ConvTranspose(X, W, B, common with { AutoPad = "SAME_UPPER" }));
        }

        if (sameLength && lowerMatches)
        {
            yield return ("ONNX SAME_LOWER", Onnx.ConvTranspose(X, W, B, common with { AutoPad = "SAME_LOWER" }));
        }

        if (axes.All(a => a.CropBegin == 0 && a.CropEnd <= 0))
        {
            yield return ("ONNX VALID + output_padding", Onnx.ConvTranspose(X, W, B, common with { AutoPad = "VALID", OutputPadding = recipe.OutputPadding }));
        }
    }

    /// <summary>The section 7 recipe: pads_begin = Pb; pads_end = Pe, or output_padding = -Pe when Pe &lt; 0.</summary>
    private static OnnxConvAttributes OnnxRecipe(ConvGeometry g) => new()
    {
        Strides = [.. g.Axes.Select(a => (long)a.Stride)],
        Dilations = [.. g.Axes.Select(a => (long)a.Dilation)],
        Group = g.Groups,
        Pads = [.. g.Axes.Select(a => (long)a.CropBegin), .. g.Axes.Select(a => Math.Max(0, a.CropEnd))],
        OutputPadding = [.. g.Axes.Select(a => Math.Max(0, -a.CropEnd))],
    };

    private static IEnumerable<(string Name, Tensor<double> Result, bool WithBias, bool Window)> TorchTransposeForms(
        ConvGeometry g, double[] x, double[] w, double[] bias, Random random)
    {
        var axes = g.Axes;
        var rank = g.Rank;
        long[] stride = [.. axes.Select(a => (long)a.Stride)];
        long[] dilation = [.. axes.Select(a => (long)a.Dilation)];
        var unbatched = g.Batch == 1 && random.Next(2) == 0;
        var input = Tensor(x, unbatched ? g.InputShape[1..] : g.InputShape);
        var weight = Tensor(w, g.WeightShape);
        var b = Tensor(bias, [g.OutputChannels]);
        // padding = Pb, output_padding = Pb - Pe, when 0 <= Pb - Pe < max(S, D).
        if (axes.All(a => a.CropBegin - a.CropEnd >= 0 && a.CropBegin - a.CropEnd < Math.Max(a.Stride, a.Dilation)))
        {
            long[] padding = [.. axes.Select(a => (long)a.CropBegin)];
            long[] outputPadding = [.. axes.Select(a => a.CropBegin - a.CropEnd)];
            var result = TorchTranspose(rank, input, weight, b, stride, padding, outputPadding, g.Groups, dilation, null);
            yield return ($"torch padding {FrontEnd.Format(padding)} output_padding {FrontEnd.Format(outputPadding)} unbatched={unbatched}", Batch(result, unbatched), true, false);
            if (axes.All(a => a.CropBegin - a.CropEnd < a.Stride))
            {
                // forward(output_size=...) accepts the same window when output_padding < stride.
                long[] size = [.. axes.Select(a => (long)a.Output)];
                long[] outputSize = random.Next(2) == 0 ? size : [g.Batch, g.OutputChannels, .. size];
                result = TorchTranspose(rank, input, weight, null, stride, padding, null, g.Groups, dilation, outputSize);
                yield return ($"torch padding {FrontEnd.Format(padding)} output_size {FrontEnd.Format(outputSize)}", Batch(result, unbatched), false, false);
            }
        }
        else
        {
            var full = TorchTranspose(rank, input, weight, null, stride, null, null, g.Groups, dilation, null);
            yield return ("torch padding 0, sliced", Batch(full, unbatched), false, true);
        }
    }

    /// <summary>An unbatched PyTorch result <c>(M, L...)</c> must be the batched result without its batch axis.</summary>
    private static Tensor<double> Batch(Tensor<double> result, bool unbatched)
    {
        if (!unbatched)
        {
            return result;
        }

        var (data, shape) = Flat(result);
        return Tensor(data, [1, .. shape]);
    }

    private static (string Name, Tensor<double> Result, bool ChannelsLast)? TfTransposeForm(ConvGeometry g, double[] x, double[] w, Random random)
    {
        var axes = g.Axes;
        var rank = g.Rank;
        bool Same(AxisGeometry a) => a.CropBegin == Math.Max(0, a.FullLength - a.Output) / 2
            && ((long)a.Output + a.Stride - 1) / a.Stride == a.Input;
        bool Valid(AxisGeometry a) => a.CropBegin == 0 && a.Output >= a.FullLength && a.Output <= a.FullLength + a.Stride - 1;
        bool Explicit(AxisGeometry a) => a.CropEnd > -a.Stride;
        var options = new List<string>();
        if (axes.All(Same))
        {
            options.Add("SAME");
        }

        if (axes.All(Valid))
        {
            options.Add("VALID");
        }

        if (axes.All(Explicit))
        {
            options.Add("EXPLICIT");
        }

        if (options.Count == 0)
        {
            return null;
        }

        var kind = options[random.Next(options.Count)];
        var channelsLast = random.Next(4) != 0;
        var channelAxis = channelsLast ? rank + 1 : 1;
        var format = TfFormat(rank, channelsLast);
        var spatialPairs = axes.Select(a => new long[] { a.CropBegin, Math.Max(0, a.CropEnd) }).ToList();
        if (kind == "EXPLICIT" && random.Next(2) == 0)
        {
            spatialPairs.Insert(0, [0, 0]);
            spatialPairs.Insert(channelAxis, [0, 0]);
        }

        var padding = kind == "EXPLICIT" ? TfPadding.Explicit([.. spatialPairs]) : TfPadding.Parse(kind);
        var strides = PerAxisForm(axes.Select(a => (long)a.Stride).ToArray(), channelAxis, random);
        var dilations = PerAxisForm(axes.Select(a => (long)a.Dilation).ToArray(), channelAxis, random);
        var (data, shape) = InLayout(x, g.InputShape, channelsLast);
        var outputShape = InLayout(new double[g.OutputLength], g.OutputShape, channelsLast).Shape;
        IReadOnlyList<long> given = g.Groups == 1 && random.Next(3) == 0 ? [.. axes.Select(a => (long)a.Output)] : outputShape;
        var backprop = rank > 1 && random.Next(2) == 0;
        var result = TfTranspose(rank, backprop, Tensor(data, shape), TfFilter(g, w), given, strides, padding, format, dilations);
        return ($"TF {(backprop ? "backprop" : "transpose")} {format} padding {padding} strides {Describe(strides)} dilations {Describe(dilations)} output_shape {FrontEnd.Format(given)}", result, channelsLast);
    }

    /// <summary>A per-axis TF list in one of its accepted forms: n values, n+2 values (batch and channel 1), one value, or null when all are 1.</summary>
    private static long[]? PerAxisForm(long[] values, int channelAxis, Random random)
    {
        var choice = random.Next(4);
        if (choice == 0 && values.All(v => v == 1))
        {
            return null;
        }

        if (choice == 1 && values.All(v => v == values[0]))
        {
            return [values[0]];
        }

        if (choice == 2)
        {
            var full = new List<long>(values);
            full.Insert(0, 1);
            full.Insert(channelAxis, 1);
            return [.. full];
        }

        return values;
    }

    private static string Describe(long[]? values) => values is null ? "default" : FrontEnd.Format(values);

    // ---------------------------------------------------------------- random cases: forward convolution

    /// <summary>A forward convolution axis from its own terms: input L, pads (pb, pe); canonical Input = its output length.</summary>
    private static Gen<AxisGeometry> ForwardAxis(int maxLength, Gen<int> stride) =>
        Gen.Select(Gen.Int[1, maxLength + 2], Gen.Int[1, 4], stride, Gen.Int[1, 3], Gen.Int[0, 3], Gen.Int[0, 3])
            .Where((length, k, s, d, pb, pe) => length + pb + pe >= d * (k - 1) + 1)
            .Select((length, k, s, d, pb, pe) => new AxisGeometry((length + pb + pe - d * (k - 1) - 1) / s + 1, k, s, d, pb, length));

    /// <summary>Forward-convolution pads (pb, pe) per axis: pb is the canonical crop; pe any end padding that gives the same output length.</summary>
    private static long EndPad(AxisGeometry a) => Math.Max(0, a.FullLength - a.Output - a.CropBegin);

    [Fact]
    public void Forward_convolutions_agree_across_frameworks_on_random_geometries()
    {
        var counts = new int[5]; // ONNX, PyTorch, TF conv, TF filter gradient, TF depthwise
        var geometries = Gen.Bool.SelectMany(shared => Gen.Int[1, 4].SelectMany(s0 =>
            CanonicalGeometry(max => ForwardAxis(max, shared ? Gen.Const(s0) : Gen.Int[1, 4]))));
        Gen.Select(geometries, Gen.Int).Sample((g, seed) =>
        {
            var random = new Random(seed);
            var rank = g.Rank;
            var axes = g.Axes;
            var a = TestData.SmallInts(random, g.OutputLength);  // the convolution's input [N, M, L...]
            var w = TestData.SmallInts(random, g.WeightLength);  // [C, M/G, k...] = the ONNX/PyTorch Conv weight
            var bias = TestData.SmallInts(random, g.InputChannels);
            var expected = ForwardConvolution.Conv<double>(g, a, w, bias);
            var expectedNoBias = ForwardConvolution.Conv<double>(g, a, w, []);
            long[] strides = [.. axes.Select(ax => (long)ax.Stride)];
            long[] dilations = [.. axes.Select(ax => (long)ax.Dilation)];

            // ONNX Conv: pads [pb..., pe...]; SAME_* and VALID where they mean the same.
            var X = Tensor(a, g.OutputShape);
            var W = Tensor(w, g.WeightShape);
            var B = Tensor(bias, [g.InputChannels]);
            var onnx = new OnnxConvAttributes { Strides = strides, Dilations = dilations, Group = g.Groups };
            AssertResult(g.InputShape, expected, Onnx.Conv(X, W, B, onnx with { Pads = [.. axes.Select(ax => (long)ax.CropBegin), .. axes.Select(EndPad)] }), "ONNX Conv pads");
            counts[0]++;
            long SameTotal(AxisGeometry ax) => Math.Max(0, (long)(ax.Input - 1) * ax.Stride + ax.EffectiveKernel - ax.Output);
            var sameSize = axes.All(ax => ax.Input == ((long)ax.Output + ax.Stride - 1) / ax.Stride);
            if (sameSize && axes.All(ax => ax.CropBegin == SameTotal(ax) / 2))
            {
                AssertResult(g.InputShape, expected, Onnx.Conv(X, W, B, onnx with { AutoPad = "SAME_UPPER" }), "ONNX Conv SAME_UPPER");
            }

            if (sameSize && axes.All(ax => ax.CropBegin == SameTotal(ax) - SameTotal(ax) / 2))
            {
                AssertResult(g.InputShape, expected, Onnx.Conv(X, W, B, onnx with { AutoPad = "SAME_LOWER" }), "ONNX Conv SAME_LOWER");
            }

            var validSize = axes.All(ax => ax.CropBegin == 0 && ax.Output >= ax.EffectiveKernel && ax.Input == (ax.Output - ax.EffectiveKernel) / ax.Stride + 1);
            if (validSize)
            {
                AssertResult(g.InputShape, expected, Onnx.Conv(X, W, B, onnx with { AutoPad = "VALID" }), "ONNX Conv VALID");
            }

            // PyTorch: symmetric padding pb when it gives the same output length; "same" (stride 1) and "valid".
            var torchPadding = new List<TorchPadding>();
            if (axes.All(ax => ax.Output + 2L * ax.CropBegin >= ax.EffectiveKernel && (ax.Output + 2L * ax.CropBegin - ax.EffectiveKernel) / ax.Stride + 1 == ax.Input))
            {
                torchPadding.Add(TorchPadding.Of([.. axes.Select(ax => (long)ax.CropBegin)]));
            }

            if (axes.All(ax => ax.Stride == 1 && ax.Input == ax.Output && ax.CropBegin == (ax.EffectiveKernel - 1) / 2))
            {
                torchPadding.Add("same");
            }

            if (validSize)
            {
                torchPadding.Add("valid");
            }

            foreach (var padding in torchPadding)
            {
                var unbatched = g.Batch == 1 && random.Next(2) == 0;
                var result = TorchConv(rank, Tensor(a, unbatched ? g.OutputShape[1..] : g.OutputShape), W, B, strides, padding, dilations, g.Groups);
                AssertResult(g.InputShape, expected, Batch(result, unbatched), $"torch conv padding {padding} unbatched={unbatched}");
                counts[1]++;
            }

            // TensorFlow: explicit [[pb, pe]], or SAME / VALID where they mean the same; layouts NHWC or NCHW.
            var tfPadding = new List<TfPadding> { TfPadding.Explicit([.. axes.Select(ax => new[] { (long)ax.CropBegin, EndPad(ax) })]) };
            if (sameSize && axes.All(ax => ax.CropBegin == SameTotal(ax) / 2))
            {
                tfPadding.Add(TfPadding.Same);
            }

            if (validSize)
            {
                tfPadding.Add(TfPadding.Valid);
            }

            var channelsLast = random.Next(4) != 0;
            var format = TfFormat(rank, channelsLast);
            var channelAxis = channelsLast ? rank + 1 : 1;
            var (input, inputShape) = InLayout(a, g.OutputShape, channelsLast);
            var tfInput = Tensor(input, inputShape);
            var filter = TfFilter(g, w);
            foreach (var padding in tfPadding)
            {
                var strideForm = PerAxisForm(strides, channelAxis, random);
                var dilationForm = PerAxisForm(dilations, channelAxis, random);
                var (data, shape) = ToFirst(TfConv(rank, tfInput, filter, strideForm, padding, format, dilationForm), channelsLast);
                AssertEqual(g.InputShape, expectedNoBias, shape, data, $"TF conv {format} padding {padding}");
                counts[2]++;

                if (rank > 1)
                {
                    // Conv*DBackpropFilter: the weight gradient, in TF's filter layout.
                    var grad = TestData.SmallInts(random, g.InputLength);
                    var expectedGrad = TestData.Permute(ForwardConvolution.WeightGradient<double>(g, a, grad), g.WeightShape, TestData.CanonicalToTfFilter(rank));
                    var (gradData, gradShape) = InLayout(grad, g.InputShape, channelsLast);
                    var dw = TfBackpropFilter(rank, tfInput, filter.Shape(), Tensor(gradData, gradShape), strideForm, padding, format, dilationForm);
                    Assert.Equal(filter.Shape(), dw.Shape());
                    Assert.Equal(expectedGrad, dw.ToArray());
                    counts[3]++;
                }

                // depthwise_conv2d: one input channel per group (G = M), filter [kh, kw, M, C/M], equal strides.
                if (rank == 2 && g.Groups == g.OutputChannels && strides[0] == strides[1])
                {
                    var multiplier = g.InputChannels / g.OutputChannels;
                    long[] asDepthwise = [g.OutputChannels, multiplier, axes[0].Kernel, axes[1].Kernel];
                    var depthwiseFilter = Tensor(TestData.Permute(w, asDepthwise, [2, 3, 0, 1]), TestData.PermuteShape(asDepthwise, [2, 3, 0, 1]));
                    var (dwData, dwShape) = ToFirst(TensorFlow.DepthwiseConv2D(tfInput, depthwiseFilter, strideForm, padding, format, dilationForm), channelsLast);
                    AssertEqual(g.InputShape, expectedNoBias, dwShape, dwData, $"TF depthwise {format} padding {padding}");
                    counts[4]++;
                }
            }
        }, iter: 1500, threads: 1);

        Assert.All(counts, c => Assert.True(c > 50, $"counts {string.Join(", ", counts)}"));
    }

    // ---------------------------------------------------------------- helpers

    private static void AssertResult(long[] expectedShape, double[] expected, Tensor<double> result, string what)
    {
        var (data, shape) = Flat(result);
        AssertEqual(expectedShape, expected, shape, data, what);
    }

    private static void AssertEqual(long[] expectedShape, double[] expected, long[] shape, double[] data, string what)
    {
        Assert.True(expectedShape.SequenceEqual(shape), $"{what}: shape {FrontEnd.Format(shape)}, expected {FrontEnd.Format(expectedShape)}");
        Assert.True(expected.SequenceEqual(data), $"{what}: values differ from the reference");
    }
}
