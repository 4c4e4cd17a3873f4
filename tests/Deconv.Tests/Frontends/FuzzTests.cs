using System.Numerics.Tensors;
using CsCheck;
using Deconv.Reference;
using static Deconv.Tests.Frontends.FrontEndCalls;

namespace Deconv.Tests.Frontends;

/// <summary>
/// Random parameter sets, most of them plausible and then spoiled in 0 to 3 places with garbage (negative, zero, huge,
/// missing, wrong lengths, wrong ranks, bad strings), through every front end with small tensors. The only acceptable
/// outcomes: a result whose shape is the geometry's and whose values are the reference's on that geometry (and whose
/// geometry follows the framework's documented rule), or an <see cref="ArgumentException"/>.
/// </summary>
public class FuzzTests
{
    private const int Iterations = 2500;

    private static readonly long[] Huge = [int.MaxValue, 1L << 31, 1L << 32, 1L << 40, long.MaxValue, int.MinValue, long.MinValue, -(1L << 40)];

    // ---------------------------------------------------------------- garbage

    private static long Garbage(Random r) => r.Next(4) switch
    {
        0 => Huge[r.Next(Huge.Length)],
        1 => r.Next(-3, 1),
        _ => r.Next(0, 6),
    };

    private static long[]? GarbageList(Random r) => r.Next(6) switch
    {
        0 => null,
        1 => [],
        _ => [.. Enumerable.Range(0, r.Next(1, 7)).Select(_ => Garbage(r))],
    };

    /// <summary>Tensor shapes stay small (the tensor is allocated); rank and dimensions are garbage.</summary>
    private static long[] GarbageShape(Random r) => [.. Enumerable.Range(0, r.Next(0, 7)).Select(_ => (long)r.Next(0, 4))];

    private static readonly string?[] BadStrings = [null, "", "same", "valid", "SAME_UPPER", "NOTSET", "VALID ", "EXPLICIT", "NCHW", "NHWC", "NWC", "NCDHW", "nhwc", "FULL", "causal"];

    private static long[][] GarbagePairs(Random r) =>
        [.. Enumerable.Range(0, r.Next(0, 6)).Select(_ => Enumerable.Range(0, r.Next(0, 4)).Select(_ => Garbage(r)).ToArray())];

    /// <summary>Parameters by name; the prefix says what garbage may replace them.</summary>
    private sealed class Params : Dictionary<string, object?>
    {
        public long[] Shape(string name) => (long[])this["shape." + name]!;

        public long[]? List(string name) => (long[]?)this["list." + name];

        public long Int(string name) => Convert.ToInt64(this["int." + name], System.Globalization.CultureInfo.InvariantCulture);

        public string? Str(string name) => (string?)this["str." + name];

        public object? Any(string name) => this["any." + name];

        public void Spoil(Random r)
        {
            for (var n = r.Next(0, 4) - 1; n >= 0; n--) // no change in a quarter of the cases
            {
                var key = Keys.ElementAt(r.Next(Count));
                if (r.Next(2) == 0 && this[key] is long[] { Length: > 0 } values)
                {
                    // Off by one: the near misses where rules are most easily got wrong.
                    long[] nudged = [.. values];
                    nudged[r.Next(nudged.Length)] += r.Next(2) * 2 - 1;
                    this[key] = key.StartsWith("shape", StringComparison.Ordinal) ? [.. nudged.Select(v => Math.Max(0, v))] : nudged;
                    continue;
                }

                this[key] = key[..key.IndexOf('.', StringComparison.Ordinal)] switch
                {
                    "shape" => GarbageShape(r),
                    "list" => GarbageList(r),
                    "int" => Garbage(r),
                    "str" => BadStrings[r.Next(BadStrings.Length)],
                    _ => r.Next(3) switch { 0 => BadStrings[r.Next(BadStrings.Length)], 1 => GarbagePairs(r), _ => null },
                };
            }
        }

        public override string ToString() => string.Join("; ", this.Select(p => $"{p.Key} = {Show(p.Value)}"));

        private static string Show(object? value) => value switch
        {
            null => "null",
            long[] list => FrontEnd.Format(list),
            long[][] pairs => "[" + string.Join(", ", pairs.Select(p => FrontEnd.Format(p))) + "]",
            string s => $"\"{s}\"",
            _ => value.ToString() ?? "",
        };
    }

    private static long[] Of(params long[] values) => values;

    private static double[] Data(Random r, long[] shape) => TestData.SmallInts(r, shape.Aggregate(1L, (p, v) => p * v));

    private static Tensor<double> TensorOf(double[] data, long[] shape) => Tensor(data, shape);

    /// <summary>
    /// Runs <paramref name="body"/> on random parameter sets; an <see cref="ArgumentException"/> from the front end is an
    /// accepted outcome, anything else escapes and fails (CsCheck prints the seed). Also fails on a hang.
    /// </summary>
    private static void Fuzz(Func<Random, Params> generate, Action<Params, Random> run, int minPercent = 10)
    {
        var accepted = 0;
        var rejected = 0;
        var task = Task.Run(() => Gen.Int.Sample(seed =>
        {
            var random = new Random(seed);
            var parameters = generate(random);
            parameters.Spoil(random);
            try
            {
                run(parameters, random);
                Interlocked.Increment(ref accepted);
            }
            catch (ArgumentException)
            {
                Interlocked.Increment(ref rejected);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                throw new InvalidOperationException($"{e.GetType().Name} for {parameters}", e);
            }
        }, iter: Iterations, threads: 1));
        Assert.True(task.Wait(TimeSpan.FromSeconds(120)), "the fuzz run did not finish: a hang");
        task.GetAwaiter().GetResult();
        // Both outcomes must occur often, or the generator does not test what it claims to.
        Assert.True(accepted * 100 > Iterations * minPercent && rejected * 100 > Iterations * minPercent, $"accepted {accepted}, rejected {rejected}");
    }

    private static void AssertSame(long[] expectedShape, double[] expected, Tensor<double> actual, Params p)
    {
        Assert.True(expectedShape.SequenceEqual(actual.Shape()), $"shape {FrontEnd.Format(actual.Shape())}, geometry says {FrontEnd.Format(expectedShape)}: {p}");
        Assert.True(expected.SequenceEqual(actual.ToArray()), $"values differ from the reference: {p}");
    }

    /// <summary>TF filter <c>[k..., A, B]</c> as canonical <c>[B, A, k...]</c>.</summary>
    private static double[] TfFilterToCanonical(double[] filter, long[] shape)
    {
        var rank = shape.Length - 2;
        return TestData.Permute(filter, shape, [rank + 1, rank, .. Enumerable.Range(0, rank)]);
    }

    private static long Full(long i, long k, long s, long d) => s * (i - 1) + d * (k - 1) + 1;

    // ---------------------------------------------------------------- TensorFlow transposed

    private static Params TfTransposeParams(Random r)
    {
        var rank = r.Next(1, 4);
        var channelsLast = r.Next(4) != 0;
        var groups = r.Next(1, 3);
        var c = groups * r.Next(1, 3);
        var mg = r.Next(1, 3);
        var n = r.Next(0, 3);
        var kind = new[] { "VALID", "SAME", "EXPLICIT" }[r.Next(3)];
        long[] i = new long[rank], k = new long[rank], s = new long[rank], d = new long[rank], o = new long[rank];
        var pairs = new long[rank][];
        for (var a = 0; a < rank; a++)
        {
            (i[a], k[a], s[a], d[a]) = (r.Next(1, 4), r.Next(1, 4), r.Next(1, 4), r.Next(1, 3));
            var f = Full(i[a], k[a], s[a], d[a]);
            pairs[a] = [r.Next(0, 3), r.Next(0, 3)];
            var (lo, hi) = kind switch
            {
                "VALID" => (f, f + s[a] - 1),
                "SAME" => ((i[a] - 1) * s[a] + 1, i[a] * s[a]),
                _ => (f - pairs[a][0] - pairs[a][1], f + s[a] - 1 - pairs[a][0] - pairs[a][1]),
            };
            o[a] = Math.Max(0, r.NextInt64(lo, Math.Max(lo, hi) + 1));
        }

        long[] Data(long channels, long[] spatial) => channelsLast ? [n, .. spatial, channels] : [n, channels, .. spatial];
        return new Params
        {
            ["int.rank"] = rank,
            ["int.backprop"] = r.Next(2),
            ["shape.input"] = Data(c, i),
            ["shape.filter"] = Of([.. k, mg, c]),
            ["list.output_shape"] = r.Next(3) == 0 && groups == 1 ? o : Data(groups * mg, o),
            ["list.strides"] = r.Next(4) == 0 ? Of([.. s, 1, 1]) : s,
            ["list.dilations"] = r.Next(3) == 0 ? null : d,
            ["any.padding"] = kind == "EXPLICIT" ? pairs : kind,
            ["str.format"] = TfFormat(rank, channelsLast),
        };
    }

    private static TfPadding TfPaddingOf(object? value) => value switch
    {
        long[][] pairs => TfPadding.Explicit(pairs),
        string s => TfPadding.Parse(s),
        _ => null!, // a null padding: the front end must reject it
    };

    [Fact]
    public void TensorFlow_transposed_ops()
    {
        Fuzz(TfTransposeParams, (p, r) =>
        {
            var rank = (int)Math.Clamp(p.Int("rank"), 1, 3);
            var backprop = p.Int("backprop") % 2 == 1 && rank > 1;
            var (inputShape, filterShape) = (p.Shape("input"), p.Shape("filter"));
            var (x, w) = (Data(r, inputShape), Data(r, filterShape));
            var outputShape = p.List("output_shape") ?? [];
            var padding = TfPaddingOf(p.Any("padding"));
            var y = TfTranspose(rank, backprop, TensorOf(x, inputShape), TensorOf(w, filterShape), outputShape, p.List("strides"), padding, p.Str("format")!, p.List("dilations"));

            var g = TensorFlow.TransposeGeometry("conv_transpose", rank, inputShape, filterShape, outputShape, p.List("strides"), padding, p.Str("format")!, p.List("dilations"));
            AssertSame(g.OutputShape, ScatterView.ConvTranspose<double>(g, x, TfFilterToCanonical(w, filterShape), []), y, p);
            // TF's rule: O from output_shape; crop VALID 0, SAME floor(max(0, (I-1)S + EK - O)/2), explicit the pad before.
            var channelsLast = g.Layout == DataLayout.ChannelsLast;
            for (var a = 0; a < rank; a++)
            {
                var axis = g.Axes[a];
                var dim = channelsLast ? a + 1 : a + 2;
                Assert.Equal(inputShape[dim], axis.Input);
                Assert.Equal(outputShape.Length == rank ? outputShape[a] : outputShape[dim], axis.Output);
                var expectedCrop = padding.Kind switch
                {
                    "VALID" => 0,
                    "SAME" => Math.Max(0, (long)(axis.Input - 1) * axis.Stride + axis.EffectiveKernel - axis.Output) / 2,
                    _ => padding.Pairs!.Count == rank ? padding.Pairs[a][0] : padding.Pairs![dim][0],
                };
                Assert.Equal(expectedCrop, axis.CropBegin);
                // Accepted only when TF's forward size of the output is the input size (GetWindowedOutputSizeVerbose).
                var (t, b) = padding.Kind == "EXPLICIT" ? (padding.Pairs!.Count == rank ? (padding.Pairs[a][0], padding.Pairs[a][1]) : (padding.Pairs[dim][0], padding.Pairs[dim][1])) : (0L, 0L);
                // In 64 bits, as TF computes it: a stride near int.MaxValue must not wrap.
                var forwardSize = padding.Kind == "SAME" ? ((long)axis.Output + axis.Stride - 1) / axis.Stride : (axis.Output + t + b - axis.EffectiveKernel + axis.Stride) / axis.Stride;
                Assert.True(forwardSize == axis.Input, $"accepted an output size TF rejects: {axis}: {p}");
            }
        });
    }

    // ---------------------------------------------------------------- TensorFlow forward, depthwise, filter gradient

    private static Params TfForwardParams(Random r)
    {
        var rank = r.Next(1, 4);
        var op = r.Next(3); // 0 conv, 1 depthwise (rank 2), 2 backprop filter (rank 2, 3)
        if (op == 1)
        {
            rank = 2;
        }
        else if (op == 2 && rank == 1)
        {
            rank = 2;
        }

        var channelsLast = r.Next(4) != 0;
        var groups = op == 1 ? 1 : r.Next(1, 3);
        var cin = groups * r.Next(1, 3);
        var cout = groups * r.Next(1, 3);
        var n = r.Next(0, 3);
        var kind = new[] { "VALID", "SAME", "EXPLICIT" }[r.Next(3)];
        long[] l = new long[rank], k = new long[rank], s = new long[rank], d = new long[rank];
        var pairs = new long[rank][];
        var shared = r.Next(1, 4);
        for (var a = 0; a < rank; a++)
        {
            (l[a], k[a], s[a], d[a]) = (r.Next(1, 6), r.Next(1, 4), op == 1 ? shared : r.Next(1, 4), r.Next(1, 3));
            pairs[a] = [r.Next(0, 3), r.Next(0, 3)];
        }

        long[] filter = op == 1 ? [.. k, cin, r.Next(1, 3)] : [.. k, cin / groups, cout];
        return new Params
        {
            ["int.op"] = op,
            ["int.rank"] = rank,
            ["shape.input"] = channelsLast ? Of([n, .. l, cin]) : Of([n, cin, .. l]),
            ["shape.filter"] = filter,
            ["list.strides"] = r.Next(4) == 0 ? Of([1, .. s, 1]) : s,
            ["list.dilations"] = r.Next(3) == 0 ? null : d,
            ["any.padding"] = kind == "EXPLICIT" ? pairs : kind,
            ["str.format"] = TfFormat(rank, channelsLast),
            ["shape.out_backprop"] = null, // filled below from the geometry when it exists
        };
    }

    [Fact]
    public void TensorFlow_forward_depthwise_and_filter_gradient_ops()
    {
        Fuzz(r =>
        {
            var p = TfForwardParams(r);
            // A plausible out_backprop: the convolution's output shape when the unspoiled parameters are valid.
            try
            {
                p["shape.out_backprop"] = TensorFlow.ForwardGeometry("conv", (int)p.Int("rank"), p.Shape("input"), p.Shape("filter"),
                    p.List("strides"), TfPaddingOf(p.Any("padding")), p.Str("format")!, p.List("dilations")).InputShape;
            }
            catch (ArgumentException)
            {
                p["shape.out_backprop"] = GarbageShape(r);
            }

            return p;
        }, (p, r) =>
        {
            var op = p.Int("op") switch { 1 => 1, 2 => 2, _ => 0 };
            var rank = (int)Math.Clamp(p.Int("rank"), 1, 3);
            if (op == 1)
            {
                rank = 2;
            }
            else if (op == 2 && rank == 1)
            {
                rank = 2;
            }

            var (inputShape, filterShape) = (p.Shape("input"), p.Shape("filter"));
            var x = Data(r, inputShape);
            var padding = TfPaddingOf(p.Any("padding"));
            var (strides, dilations, format) = (p.List("strides"), p.List("dilations"), p.Str("format")!);
            if (op == 2)
            {
                var gradShape = p.Shape("out_backprop");
                var grad = Data(r, gradShape);
                var dw = TfBackpropFilter(rank, TensorOf(x, inputShape), filterShape, TensorOf(grad, gradShape), strides, padding, format, dilations);
                var gw = TensorFlow.ForwardGeometry("conv", rank, inputShape, filterShape, strides, padding, format, dilations);
                var canonical = ForwardConvolution.WeightGradient<double>(gw, x, grad);
                AssertSame(filterShape, TestData.Permute(canonical, gw.WeightShape, TestData.CanonicalToTfFilter(rank)), dw, p);
                return;
            }

            var w = Data(r, filterShape);
            var y = op == 1
                ? TensorFlow.DepthwiseConv2D(TensorOf(x, inputShape), TensorOf(w, filterShape), strides, padding, format, dilations)
                : TfConv(rank, TensorOf(x, inputShape), TensorOf(w, filterShape), strides, padding, format, dilations);
            var g = TensorFlow.ForwardGeometry("conv", rank, inputShape, filterShape, strides, padding, format, dilations, depthwise: op == 1);
            // Depthwise [kh, kw, C, mult] is canonical [C*mult, 1, kh, kw] = [C, mult, kh, kw] permuted.
            var w0 = op == 1 ? TestData.Permute(w, filterShape, [2, 3, 0, 1]) : TfFilterToCanonical(w, filterShape);
            AssertSame(g.InputShape, ForwardConvolution.Conv<double>(g, x, w0, []), y, p);
            // TF's rule (GetWindowedOutputSizeVerbose): VALID (L - EK + S) div S, SAME ceil(L/S), explicit (L + t + b - EK + S) div S.
            var channelsLast = g.Layout == DataLayout.ChannelsLast;
            for (var a = 0; a < rank; a++)
            {
                var axis = g.Axes[a];
                var dim = channelsLast ? a + 1 : a + 2;
                var (t, b) = padding.Pairs is null ? (0L, 0L) : padding.Pairs.Count == rank ? (padding.Pairs[a][0], padding.Pairs[a][1]) : (padding.Pairs[dim][0], padding.Pairs[dim][1]);
                var l = inputShape[dim];
                Assert.Equal(l, axis.Output);
                Assert.Equal(padding.Kind == "SAME" ? (l + axis.Stride - 1) / axis.Stride : (l + t + b - axis.EffectiveKernel + axis.Stride) / axis.Stride, axis.Input);
                Assert.Equal(padding.Kind == "SAME" ? Math.Max(0, (long)(axis.Input - 1) * axis.Stride + axis.EffectiveKernel - l) / 2 : t, axis.CropBegin);
            }
        });
    }

    // ---------------------------------------------------------------- PyTorch

    private static Params TorchParams(Random r)
    {
        var rank = r.Next(1, 4);
        var groups = r.Next(1, 3);
        var c = groups * r.Next(1, 3);
        var m = groups * r.Next(1, 3);
        var transposed = r.Next(2) == 0;
        long[] i = new long[rank], k = new long[rank], s = new long[rank], d = new long[rank], pad = new long[rank], op = new long[rank];
        for (var a = 0; a < rank; a++)
        {
            (i[a], k[a], s[a], d[a], pad[a]) = (r.Next(1, 5), r.Next(1, 4), r.Next(1, 4), r.Next(1, 3), r.Next(0, 3));
            op[a] = r.Next(0, (int)Math.Max(s[a], d[a]));
        }

        var unbatched = r.Next(4) == 0;
        long[] data = unbatched ? [c, .. i] : [r.Next(0, 3), c, .. i];
        return new Params
        {
            ["int.transposed"] = transposed ? 1 : 0,
            ["int.rank"] = rank,
            ["shape.input"] = data,
            ["shape.weight"] = transposed ? Of([c, m / groups, .. k]) : Of([m, c / groups, .. k]),
            ["shape.bias"] = r.Next(3) == 0 ? null : Of([transposed ? m : m]),
            ["list.stride"] = r.Next(4) == 0 ? null : s,
            ["list.padding"] = pad,
            ["list.output_padding"] = r.Next(2) == 0 ? null : op,
            ["int.groups"] = groups,
            ["list.dilation"] = r.Next(4) == 0 ? null : d,
            ["list.output_size"] = r.Next(4) == 0 ? Of([.. Enumerable.Range(0, rank).Select(a => (i[a] - 1) * s[a] - 2 * pad[a] + d[a] * (k[a] - 1) + 1 + r.Next(0, (int)s[a]))]) : null,
            ["any.mode"] = r.Next(4) == 0 ? new[] { "same", "valid" }[r.Next(2)] : null,
        };
    }

    [Fact]
    public void Torch_transposed_and_forward_ops()
    {
        Fuzz(TorchParams, (p, r) =>
        {
            var rank = (int)Math.Clamp(p.Int("rank"), 1, 3);
            var (inputShape, weightShape, biasShape) = (p.Shape("input"), p.Shape("weight"), (long[]?)p["shape.bias"]);
            var (x, w) = (Data(r, inputShape), Data(r, weightShape));
            var bias = biasShape is null ? null : Data(r, biasShape);
            var biasTensor = bias is null ? null : TensorOf(bias, biasShape!);
            var biasLength = biasTensor is null ? -1 : biasTensor.Rank == 1 ? (int)biasTensor.FlattenedLength : -2;
            var unbatched = inputShape.Length == rank + 1;
            if (p.Int("transposed") == 1)
            {
                var y = TorchTranspose(rank, TensorOf(x, inputShape), TensorOf(w, weightShape), biasTensor, p.List("stride"), p.List("padding"),
                    p.List("output_padding"), p.Int("groups"), p.List("dilation"), p.List("output_size"));
                Assert.NotEqual(-2, biasLength);
                var g = Torch.TransposeGeometry("t", rank, inputShape, weightShape, p.List("stride"), p.List("padding"), p.List("output_padding"),
                    p.Int("groups"), p.List("dilation"), p.List("output_size"), biasLength);
                AssertSame(unbatched ? g.OutputShape[1..] : g.OutputShape, ScatterView.ConvTranspose<double>(g, x, w, bias ?? []), y, p);
                // PyTorch's rule: crop = padding, L_out = (L_in - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1.
                for (var a = 0; a < rank; a++)
                {
                    var axis = g.Axes[a];
                    var padding = p.List("padding") is { Length: > 0 } pads ? pads[pads.Length == 1 ? 0 : a] : 0;
                    Assert.Equal(padding, axis.CropBegin);
                    var outputSize = p.List("output_size");
                    if (outputSize is not null)
                    {
                        Assert.Equal(outputSize[outputSize.Length - rank + a], axis.Output);
                        // The output_size range uses the stride only.
                        Assert.InRange(axis.Output - (axis.FullLength - 2 * padding), 0, axis.Stride - 1);
                    }
                    else
                    {
                        var op = p.List("output_padding") is { Length: > 0 } ops ? ops[ops.Length == 1 ? 0 : a] : 0;
                        Assert.Equal(axis.FullLength - 2 * padding + op, axis.Output);
                        Assert.InRange(op, 0, Math.Max(axis.Stride, axis.Dilation) - 1);
                    }

                    Assert.True(axis.Output >= 1 && axis.Input >= 1, $"accepted an empty axis: {axis}: {p}");
                }
            }
            else
            {
                TorchPadding? padding = p.Any("mode") is string mode ? TorchPadding.Parse(mode) : p.List("padding") is { } values ? TorchPadding.Of(values) : null;
                var y = TorchConv(rank, TensorOf(x, inputShape), TensorOf(w, weightShape), biasTensor, p.List("stride"), padding, p.List("dilation"), p.Int("groups"));
                Assert.NotEqual(-2, biasLength);
                var g = Torch.ForwardGeometry("c", rank, inputShape, weightShape, p.List("stride"), padding, p.List("dilation"), p.Int("groups"), biasLength);
                AssertSame(unbatched ? g.InputShape[1..] : g.InputShape, ForwardConvolution.Conv<double>(g, x, w, bias ?? []), y, p);
                // PyTorch's rule: L_out = floor((L + 2*padding - EK)/stride) + 1; "same" keeps L (stride 1), "valid" pads 0.
                for (var a = 0; a < rank; a++)
                {
                    var axis = g.Axes[a];
                    var l = inputShape[inputShape.Length - rank + a];
                    var pad = padding?.Mode is null && padding?.Values is { Count: > 0 } pads ? pads[pads.Count == 1 ? 0 : a] : 0;
                    Assert.Equal(padding?.Mode == "same" ? l : (l + 2 * pad - axis.EffectiveKernel) / axis.Stride + 1, axis.Input);
                    Assert.Equal(padding?.Mode == "same" ? (axis.EffectiveKernel - 1) / 2 : pad, axis.CropBegin);
                }
            }
        });
    }

    // ---------------------------------------------------------------- ONNX

    private static Params OnnxParams(Random r)
    {
        var rank = r.Next(1, 4);
        var groups = r.Next(1, 3);
        var c = groups * r.Next(1, 3);
        var m = groups * r.Next(1, 3);
        var transposed = r.Next(2) == 0;
        long[] i = new long[rank], k = new long[rank], s = new long[rank], d = new long[rank], op = new long[rank];
        var pads = new long[2 * rank];
        for (var a = 0; a < rank; a++)
        {
            (i[a], k[a], s[a], d[a]) = (r.Next(1, 5), r.Next(1, 4), r.Next(1, 4), r.Next(1, 3));
            op[a] = r.Next(0, (int)Math.Max(s[a], d[a]));
            (pads[a], pads[a + rank]) = (r.Next(0, 3), r.Next(0, 3));
        }

        var autoPad = r.Next(3) == 0 ? new[] { "SAME_UPPER", "SAME_LOWER", "VALID" }[r.Next(3)] : "NOTSET";
        return new Params
        {
            ["int.transposed"] = transposed ? 1 : 0,
            ["shape.X"] = Of([r.Next(0, 3), c, .. i]),
            ["shape.W"] = transposed ? Of([c, m / groups, .. k]) : Of([m, c / groups, .. k]),
            ["shape.B"] = r.Next(3) == 0 ? null : Of([m]),
            ["str.auto_pad"] = autoPad,
            ["list.dilations"] = r.Next(4) == 0 ? null : d,
            ["int.group"] = groups,
            ["list.kernel_shape"] = r.Next(2) == 0 ? null : k,
            ["list.output_padding"] = r.Next(2) == 0 || !transposed ? null : op,
            ["list.output_shape"] = r.Next(4) == 0 && transposed
                ? Of([.. Enumerable.Range(0, rank).Select(a => Full(i[a], k[a], s[a], d[a]) + r.Next(-2, 3))])
                : null,
            ["list.pads"] = autoPad == "NOTSET" && r.Next(4) != 0 ? pads : null,
            ["list.strides"] = r.Next(4) == 0 ? null : s,
        };
    }

    [Fact]
    public void Onnx_ConvTranspose_and_Conv()
    {
        Fuzz(OnnxParams, (p, r) =>
        {
            var (xShape, wShape, bShape) = (p.Shape("X"), p.Shape("W"), (long[]?)p["shape.B"]);
            var (x, w) = (Data(r, xShape), Data(r, wShape));
            var b = bShape is null ? null : Data(r, bShape);
            var bTensor = b is null ? null : TensorOf(b, bShape!);
            var attributes = new OnnxConvAttributes
            {
                AutoPad = p.Str("auto_pad")!,
                Dilations = p.List("dilations"),
                Group = p.Int("group"),
                KernelShape = p.List("kernel_shape"),
                OutputPadding = p.List("output_padding"),
                OutputShape = p.List("output_shape"),
                Pads = p.List("pads"),
                Strides = p.List("strides"),
            };
            var biasLength = bTensor is null ? -1 : (int)bTensor.FlattenedLength;
            if (p.Int("transposed") == 1)
            {
                var y = Onnx.ConvTranspose(TensorOf(x, xShape), TensorOf(w, wShape), bTensor, attributes);
                Assert.True(bTensor is null || bTensor.Rank == 1);
                var g = Onnx.ConvTransposeGeometry(xShape, wShape, attributes, biasLength);
                AssertSame(g.OutputShape, ScatterView.ConvTranspose<double>(g, x, w, b ?? []), y, p);
                // ONNX (Runtime) rule: explicit pads crop pads_begin, O = F + op - pads; output_shape or SAME_*: T = max(0, F + op - target),
                // SAME_UPPER crops floor(T/2), the rest ceil(T/2); O = output_shape, or F + op - T.
                var rank = g.Rank;
                for (var a = 0; a < rank; a++)
                {
                    var axis = g.Axes[a];
                    var op = attributes.OutputPadding is { Count: > 0 } ops ? ops[a] : 0;
                    Assert.InRange(op, 0, Math.Max(axis.Stride, axis.Dilation) - 1);
                    Assert.True(axis.Input >= 1 && axis.Output >= 1, $"accepted an empty axis: {axis}: {p}");
                    var extended = axis.FullLength + op;
                    if (attributes.OutputShape is { Count: > 0 } shape || attributes.AutoPad is "SAME_UPPER" or "SAME_LOWER")
                    {
                        long? given = attributes.OutputShape is { Count: > 0 } os ? os[os.Count - rank + a] : null;
                        var total = Math.Max(0, extended - (given ?? (long)axis.Input * axis.Stride));
                        Assert.Equal(attributes.AutoPad == "SAME_UPPER" ? total / 2 : total - total / 2, axis.CropBegin);
                        Assert.Equal(given ?? extended - total, axis.Output);
                    }
                    else
                    {
                        var pads = attributes.AutoPad == "VALID" || attributes.Pads is not { Count: > 0 } ? new long[2 * rank] : [.. attributes.Pads];
                        Assert.Equal(pads[a], axis.CropBegin);
                        Assert.Equal(extended - pads[a] - pads[a + rank], axis.Output);
                    }
                }
            }
            else
            {
                var y = Onnx.Conv(TensorOf(x, xShape), TensorOf(w, wShape), bTensor, attributes);
                Assert.True(bTensor is null || bTensor.Rank == 1);
                var g = Onnx.ConvGeometry(xShape, wShape, attributes, biasLength);
                AssertSame(g.InputShape, ForwardConvolution.Conv<double>(g, x, w, b ?? []), y, p);
                // ONNX rule: floor((L + pb + pe - EK)/S) + 1; SAME_*: ceil(L/S), UPPER pb = floor(T/2), LOWER ceil(T/2).
                var rank = g.Rank;
                for (var a = 0; a < rank; a++)
                {
                    var axis = g.Axes[a];
                    var l = xShape[a + 2];
                    if (attributes.AutoPad is "SAME_UPPER" or "SAME_LOWER")
                    {
                        var size = (l + axis.Stride - 1) / axis.Stride;
                        var total = Math.Max(0, (size - 1) * axis.Stride + axis.EffectiveKernel - l);
                        Assert.Equal(size, axis.Input);
                        Assert.Equal(attributes.AutoPad == "SAME_UPPER" ? total / 2 : total - total / 2, axis.CropBegin);
                    }
                    else
                    {
                        var pads = attributes.AutoPad == "VALID" || attributes.Pads is not { Count: > 0 } ? new long[2 * rank] : [.. attributes.Pads];
                        Assert.Equal(pads[a], axis.CropBegin);
                        Assert.Equal((l + pads[a] + pads[a + rank] - axis.EffectiveKernel) / axis.Stride + 1, axis.Input);
                    }
                }
            }
        });
    }

    // ---------------------------------------------------------------- geometry from shapes alone (no tensors: huge shapes allowed)

    [Fact]
    public void Geometry_functions_take_huge_shapes_without_allocating()
    {
        Fuzz(r =>
        {
            // Consistent shapes for the chosen function, then any count replaced by garbage (possibly huge but still consistent).
            var which = r.Next(7);
            var rank = r.Next(1, 4);
            long Maybe(long value) => r.Next(8) == 0 ? Garbage(r) : value;
            var (n, c, m) = (Maybe(r.Next(0, 3)), Maybe(r.Next(1, 4)), Maybe(r.Next(1, 4)));
            long[] i = [.. Enumerable.Range(0, rank).Select(_ => Maybe(r.Next(1, 4)))];
            long[] k = [.. Enumerable.Range(0, rank).Select(_ => Maybe(r.Next(1, 4)))];
            long[] s = [.. Enumerable.Range(0, rank).Select(_ => Maybe(r.Next(1, 4)))];
            long Valid(int a) => s[a] * (i[a] - 1) + k[a] + r.Next(0, (int)Math.Clamp(s[a], 1, 4));
            long Same(int a) => s[a] * (i[a] - 1) + 1 + r.Next(0, (int)Math.Clamp(s[a], 1, 4));
            var (a, b, list) = which switch
            {
                0 => (Of([n, .. i, c]), Of([.. k, m, c]), Of([n, .. Enumerable.Range(0, rank).Select(Valid), m])),
                1 => (Of([n, .. i, c]), Of([.. k, m, c]), Of([n, .. Enumerable.Range(0, rank).Select(Same), m])),
                2 => (Of([n, .. i, c]), Of([.. k, c, m]), Of([.. Enumerable.Range(0, rank).Select(_ => Maybe(1))])),
                3 => (Of([n, c, .. i]), Of([c, m, .. k]), Of([.. Enumerable.Range(0, rank).Select(Valid)])),
                4 => (Of([n, c, .. i]), Of([m, c, .. k]), Of([.. Enumerable.Range(0, rank).Select(_ => Maybe(r.Next(0, 2)))])),
                5 => (Of([n, c, .. i]), Of([c, m, .. k]), Of([.. Enumerable.Range(0, rank).Select(_ => Maybe(r.Next(1, 9)))])),
                _ => (Of([n, c, .. i]), Of([m, c, .. k]), Of([.. Enumerable.Range(0, 2 * rank).Select(_ => Maybe(r.Next(0, 2)))])),
            };
            return new Params
            {
                ["shape.a"] = a,
                ["shape.b"] = b,
                ["list.c"] = list,
                ["list.s"] = s,
                ["int.which"] = which,
            };
        }, (p, r) =>
        {
            var (a, b, c, s) = (p.Shape("a"), p.Shape("b"), p.List("c"), p.List("s"));
            var rank = Math.Clamp(a.Length - 2, 1, 3);
            var g = p.Int("which") switch
            {
                0 => TensorFlow.TransposeGeometry("t", rank, a, b, c ?? [], s, "VALID", TfFormat(rank, true), null),
                1 => TensorFlow.TransposeGeometry("t", rank, a, b, c ?? [], s, "SAME", TfFormat(rank, true), null),
                2 => TensorFlow.ForwardGeometry("t", rank, a, b, s, TfPadding.Valid, TfFormat(rank, true), c),
                3 => Torch.TransposeGeometry("t", rank, a, b, s, null, null, 1, null, c),
                4 => Torch.ForwardGeometry("t", rank, a, b, s, TorchPadding.Of([.. c ?? []]), null, 1),
                5 => Onnx.ConvTransposeGeometry(a, b, new OnnxConvAttributes { OutputShape = c, Strides = s }),
                _ => Onnx.ConvGeometry(a, b, new OnnxConvAttributes { Pads = c, Strides = s }),
            };
            // Whatever is accepted can be allocated.
            Assert.InRange(g.InputLength, 0, Array.MaxLength);
            Assert.InRange(g.OutputLength, 0, Array.MaxLength);
            Assert.InRange(g.WeightLength, 0, Array.MaxLength);
        });
    }
}
