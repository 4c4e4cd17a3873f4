using Deconv.Reference;
using static Deconv.Tests.Frontends.FrontEndCalls;

namespace Deconv.Tests.Frontends;

/// <summary>
/// The worked cases of semantics.md section 7 and the disputed ONNX cases of section 4.1 (ONNX Runtime column),
/// each framework's parameters run through the public front end and compared with the reference view on the
/// canonical (Pb, O) that the documents name. 1-D, input length I = 4, 2 input and 2 output channels.
/// </summary>
public class FrontendsWorkedCasesTests
{
    private const int I = 4;

    /// <summary>Fixed random data for one axis (kernel K) and the reference on canonical (Pb, O).</summary>
    private sealed record Case(int K, int S, int D)
    {
        public double[] X { get; } = TestData.SmallIntsNonZero(new Random(7), 2 * I);

        public double[] W => TestData.SmallIntsNonZero(new Random(K * 31 + D), 4L * K);

        public double[] Bias { get; } = [5, -7];

        public int Full => S * (I - 1) + D * (K - 1) + 1;

        public ConvGeometry Geometry(int pb, int o) => new(1, 2, 2, 1, [new AxisGeometry(I, K, S, D, pb, o)]);

        public double[] Expected(int pb, int o, bool bias = true) => ScatterView.ConvTranspose<double>(Geometry(pb, o), X, W, bias ? Bias : []);

        public double[] Onnx(OnnxConvAttributes attributes)
        {
            var y = Deconv.Onnx.ConvTranspose(Tensor(X, [1, 2, I]), Tensor(W, [2, 2, K]), Tensor(Bias, [2]),
                attributes with { Strides = [S], Dilations = [D] });
            return y.ToArray();
        }

        public double[] Torch(long padding, long outputPadding = 0, long[]? outputSize = null) =>
            Deconv.Torch.ConvTranspose1d(Tensor(X, [1, 2, I]), Tensor(W, [2, 2, K]), Tensor(Bias, [2]), [S], [padding], [outputPadding], 1, [D], outputSize).ToArray();

        /// <summary>tf.nn.conv1d_transpose in NWC with filter [k, out, in]; returns channels-first and no bias.</summary>
        public double[] Tf(TfPadding padding, int o)
        {
            var g = Geometry(0, o);
            var (x, shape) = InLayout(X, g.InputShape, channelsLast: true);
            var y = TensorFlow.Conv1DTranspose(Tensor(x, shape), TfFilter(g, W), [1, o, 2], [S], padding, "NWC", [D]);
            Assert.Equal([1L, o, 2], y.Shape());
            return ToFirst(y, channelsLast: true).Data;
        }
    }

    private static void AssertWindow(Case c, int pb, int o, double[] actual, bool bias = true) =>
        Assert.Equal(c.Expected(pb, o, bias), actual);

    [Fact]
    public void Row1_K3_S2_same_upsampling_crops_0_and_1()
    {
        var c = new Case(3, 2, 1);
        Assert.Equal(9, c.Full);
        AssertWindow(c, 0, 8, c.Tf(TfPadding.Same, 8), bias: false);
        AssertWindow(c, 0, 8, c.Onnx(new() { Pads = [0, 1] }));
        AssertWindow(c, 0, 8, c.Onnx(new() { AutoPad = "SAME_UPPER", OutputShape = [8] }));
        AssertWindow(c, 0, 8, c.Onnx(new() { AutoPad = "SAME_UPPER" }));
        // PyTorch padding=1, output_padding=1 is the one-pixel shift (1, 0), not (0, 1).
        var shifted = c.Torch(1, 1);
        AssertWindow(c, 1, 8, shifted);
        Assert.NotEqual(c.Expected(0, 8), shifted);
        // The PyTorch way: padding 0 and keep [0, 2I) of the 2I+1 result.
        Assert.Equal(c.Expected(0, 8), c.Torch(0).Where((_, i) => i % 9 < 8).ToArray());
    }

    [Fact]
    public void Row2_K4_S2_crops_1_and_1()
    {
        var c = new Case(4, 2, 1);
        AssertWindow(c, 1, 8, c.Tf(TfPadding.Same, 8), bias: false);
        AssertWindow(c, 1, 8, c.Onnx(new() { Pads = [1, 1] }));
        AssertWindow(c, 1, 8, c.Onnx(new() { AutoPad = "SAME_UPPER" }));
        AssertWindow(c, 1, 8, c.Onnx(new() { AutoPad = "SAME_LOWER" }));
        AssertWindow(c, 1, 8, c.Torch(1));
    }

    [Fact]
    public void Row3_K2_S2_crops_nothing()
    {
        var c = new Case(2, 2, 1);
        AssertWindow(c, 0, 8, c.Tf(TfPadding.Same, 8), bias: false);
        AssertWindow(c, 0, 8, c.Tf(TfPadding.Valid, 8), bias: false);
        AssertWindow(c, 0, 8, c.Onnx(new()));
        AssertWindow(c, 0, 8, c.Torch(0));
    }

    [Fact]
    public void Row4_K1_S2_extends_the_end_by_one()
    {
        var c = new Case(1, 2, 1);
        Assert.Equal(7, c.Full);
        var tf = c.Tf(TfPadding.Same, 8);
        AssertWindow(c, 0, 8, tf, bias: false);
        Assert.Equal([0.0, 0.0], new[] { tf[7], tf[15] }); // last position of each channel: no product
        AssertWindow(c, 0, 8, c.Onnx(new() { OutputPadding = [1] }));
        AssertWindow(c, 0, 8, c.Onnx(new() { AutoPad = "SAME_UPPER", OutputShape = [8] }));
        AssertWindow(c, 0, 7, c.Onnx(new() { AutoPad = "SAME_UPPER" })); // 2I-1 in ORT and shape inference
        AssertWindow(c, 0, 8, c.Torch(0, 1));
    }

    [Theory]
    [InlineData(5, 1)]
    [InlineData(3, 2)]
    public void Row5_K5_S2_crops_1_and_2(int k, int d)
    {
        var c = new Case(k, 2, d);
        Assert.Equal(11, c.Full);
        AssertWindow(c, 1, 8, c.Tf(TfPadding.Same, 8), bias: false);
        AssertWindow(c, 1, 8, c.Onnx(new() { Pads = [1, 2] }));
        AssertWindow(c, 1, 8, c.Onnx(new() { AutoPad = "SAME_UPPER" }));
        // Not expressible in PyTorch: padding=2, output_padding=1 shifts; padding=1 and keep [0, 2I) of 2I+1.
        Assert.NotEqual(c.Expected(1, 8), c.Torch(2, 1));
        Assert.Equal(c.Expected(1, 8), c.Torch(1).Where((_, i) => i % 9 < 8).ToArray());
    }

    [Fact]
    public void Row6_K3_S1_same_size()
    {
        var c = new Case(3, 1, 1);
        AssertWindow(c, 1, 4, c.Tf(TfPadding.Same, 4), bias: false);
        AssertWindow(c, 1, 4, c.Onnx(new() { Pads = [1, 1] }));
        AssertWindow(c, 1, 4, c.Torch(1));
    }

    [Theory]
    [InlineData(9, 0)]
    [InlineData(10, 1)]
    public void Row7_K3_S2_valid_with_both_output_sizes(int o, int outputPadding)
    {
        var c = new Case(3, 2, 1);
        AssertWindow(c, 0, o, c.Tf(TfPadding.Valid, o), bias: false);
        AssertWindow(c, 0, o, c.Onnx(new() { OutputPadding = [outputPadding] }));
        AssertWindow(c, 0, o, c.Torch(0, outputPadding));
    }

    [Fact]
    public void Row8_torch_padding1_output_padding1_crops_1_and_0()
    {
        var c = new Case(3, 2, 1);
        AssertWindow(c, 1, 8, c.Torch(1, 1));
        AssertWindow(c, 1, 8, c.Tf(TfPadding.Explicit([1, 0]), 8), bias: false);
        Assert.NotEqual(c.Expected(1, 8, bias: false), c.Tf(TfPadding.Same, 8));
        AssertWindow(c, 1, 8, c.Onnx(new() { Pads = [1, 1], OutputPadding = [1] }));
        AssertWindow(c, 1, 8, c.Onnx(new() { Pads = [1, 0] }));
        AssertWindow(c, 1, 8, c.Onnx(new() { AutoPad = "SAME_LOWER", OutputShape = [8] }));
        AssertWindow(c, 1, 8, c.Onnx(new() { OutputShape = [8] }));
    }

    [Fact]
    public void Row9_onnx_pads_2_0_is_not_expressible_in_torch()
    {
        var c = new Case(3, 2, 1);
        AssertWindow(c, 2, 7, c.Onnx(new() { Pads = [2, 0] }));
        AssertWindow(c, 2, 7, c.Tf(TfPadding.Explicit([2, 0]), 7), bias: false);
        var ex = Assert.Throws<ConvolutionArgumentException>(() => c.Torch(2, 2));
        Assert.Equal("output_padding", ex.ParamName);
        Assert.Equal(c.Expected(2, 7, bias: false), Window(c.Torch(0).Select((v, i) => v - c.Bias[i / 9]).ToArray(), [1, 2, 9], [2], [7]));
    }

    // ---------------------------------------------------------------- ONNX disputed cases (semantics.md 4.1, ONNX Runtime column)

    [Theory]
    [InlineData(3, 1, "SAME_UPPER", 0, 0, 8)] // T = EK - S = 1: UPPER crops floor(T/2) at the start
    [InlineData(3, 1, "SAME_LOWER", 0, 1, 8)] // ... LOWER ceil(T/2)
    [InlineData(4, 1, "SAME_UPPER", 1, 1, 8)] // output_padding 1: O = I*S (not I*S + op), T = EK - S + op = 3
    [InlineData(4, 1, "SAME_LOWER", 1, 2, 8)]
    [InlineData(3, 1, "SAME_UPPER", 1, 1, 8)] // T = 2, even
    [InlineData(1, 1, "SAME_UPPER", 0, 0, 7)] // EK < S: T clamped to 0, O = F + op = 2I - 1
    [InlineData(1, 1, "SAME_LOWER", 1, 0, 8)] // ... with op: F + op = 2I
    [InlineData(2, 2, "SAME_LOWER", 1, 1, 8)] // dilation 2: EK = 3, op 1 < max(S, D) = 2, T = 2
    public void Onnx_auto_pad_without_output_shape(int k, int d, string autoPad, int outputPadding, int expectedCrop, int expectedLength)
    {
        var c = new Case(k, 2, d);
        AssertWindow(c, expectedCrop, expectedLength, c.Onnx(new() { AutoPad = autoPad, OutputPadding = [outputPadding] }));
    }

    [Theory]
    [InlineData("NOTSET", 0, 8, 1)]      // T = 1 odd: ceil(T/2) at the start (the reference implementation would crop 0)
    [InlineData("NOTSET", 0, 7, 1)]      // T = 2 even: T/2
    [InlineData("NOTSET", 0, 6, 2)]      // T = 3 odd
    [InlineData("NOTSET", 0, 10, 0)]     // T = -1: clamped, extended at the end
    [InlineData("NOTSET", 0, 12, 0)]     // T = -3
    [InlineData("SAME_UPPER", 0, 8, 0)]  // T = 1: floor
    [InlineData("SAME_UPPER", 0, 6, 1)]  // T = 3: floor
    [InlineData("SAME_UPPER", 0, 10, 0)] // T < 0
    [InlineData("SAME_LOWER", 0, 8, 1)]
    [InlineData("SAME_LOWER", 0, 10, 0)]
    [InlineData("VALID", 0, 8, 1)]       // every mode but SAME_UPPER: ceil
    [InlineData("NOTSET", 1, 8, 1)]      // output_padding enters T = F + op - O = 2
    [InlineData("SAME_UPPER", 1, 8, 1)]
    [InlineData("SAME_LOWER", 1, 7, 2)]  // T = 3
    [InlineData("SAME_UPPER", 1, 7, 1)]
    public void Onnx_output_shape_crops(string autoPad, int outputPadding, int outputShape, int expectedCrop)
    {
        var c = new Case(3, 2, 1);
        var expected = c.Expected(expectedCrop, outputShape);
        var attributes = new OnnxConvAttributes { AutoPad = autoPad, OutputPadding = [outputPadding], OutputShape = [outputShape] };
        Assert.Equal(expected, c.Onnx(attributes));
        // N and C prepended (ONNX Runtime accepts them): the same.
        Assert.Equal(expected, c.Onnx(attributes with { OutputShape = [1, 2, outputShape] }));
        if (autoPad == "NOTSET")
        {
            // Explicit pads are ignored when output_shape is given.
            Assert.Equal(expected, c.Onnx(attributes with { Pads = [2, 0] }));
        }
    }

    [Fact]
    public void Onnx_output_shape_in_two_dimensions_uses_each_axis_total()
    {
        // Axis 0: K=3, S=2, I=3 -> F=7, O=6: T=1, crop 1. Axis 1: K=4, S=1, I=2 -> F=5, O=7: T=-2, crop 0, extended.
        var g = new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(3, 3, 2, 1, 1, 6), new AxisGeometry(2, 4, 1, 1, 0, 7)]);
        var x = TestData.SmallIntsNonZero(new Random(3), g.InputLength);
        var w = TestData.SmallIntsNonZero(new Random(4), g.WeightLength);
        var y = Onnx.ConvTranspose(Tensor(x, g.InputShape), Tensor(w, g.WeightShape), null,
            new OnnxConvAttributes { Strides = [2, 1], OutputShape = [6, 7] });
        Assert.Equal(g.OutputShape, y.Shape());
        Assert.Equal(ScatterView.ConvTranspose<double>(g, x, w, []), y.ToArray());
    }

    // ---------------------------------------------------------------- forward convolution across the front ends

    [Theory]
    [InlineData(2, 1, 1, 5)] // SAME total 1: UPPER/TF/torch "same" pad 0 at the start, LOWER 1
    [InlineData(4, 1, 1, 5)] // total 3
    [InlineData(3, 2, 1, 6)] // stride 2: total max(0, 2*2 + 3 - 6) = 1
    [InlineData(2, 1, 3, 6)] // dilation 3: EK 4, total 3
    public void Forward_same_padding_agrees_across_frameworks(int k, int s, int d, int length)
    {
        var ek = d * (k - 1) + 1;
        var size = (length + s - 1) / s;
        var total = Math.Max(0, (size - 1) * s + ek - length);
        var upper = new ConvGeometry(1, 2, 2, 1, [new AxisGeometry(size, k, s, d, total / 2, length)]);
        var lower = new ConvGeometry(1, 2, 2, 1, [new AxisGeometry(size, k, s, d, total - total / 2, length)]);
        var a = TestData.SmallIntsNonZero(new Random(k + s + d), upper.OutputLength);
        var w = TestData.SmallIntsNonZero(new Random(length), upper.WeightLength);
        double[] bias = [1, -2];
        var expectedUpper = ForwardConvolution.Conv<double>(upper, a, w, bias);
        var expectedLower = ForwardConvolution.Conv<double>(lower, a, w, bias);
        var attributes = new OnnxConvAttributes { Strides = [s], Dilations = [d] };
        Assert.Equal(expectedUpper, Onnx.Conv(Tensor(a, upper.OutputShape), Tensor(w, upper.WeightShape), Tensor(bias, [2]), attributes with { AutoPad = "SAME_UPPER" }).ToArray());
        Assert.Equal(expectedLower, Onnx.Conv(Tensor(a, upper.OutputShape), Tensor(w, upper.WeightShape), Tensor(bias, [2]), attributes with { AutoPad = "SAME_LOWER" }).ToArray());
        if (total % 2 == 1)
        {
            Assert.NotEqual(expectedUpper, expectedLower);
        }

        var (input, inputShape) = InLayout(a, upper.OutputShape, channelsLast: true);
        var tf = TensorFlow.Conv1D(Tensor(input, inputShape), TfFilter(upper, w), [s], TfPadding.Same, "NWC", [d]);
        Assert.Equal(ForwardConvolution.Conv<double>(upper, a, w, []), ToFirst(tf, channelsLast: true).Data);
        if (s == 1)
        {
            var torch = Torch.Conv1d(Tensor(a, upper.OutputShape), Tensor(w, upper.WeightShape), Tensor(bias, [2]), [s], "same", [d]);
            Assert.Equal(expectedUpper, torch.ToArray());
        }
        else
        {
            var ex = Assert.Throws<ConvolutionArgumentException>(() =>
                Torch.Conv1d(Tensor(a, upper.OutputShape), Tensor(w, upper.WeightShape), null, [s], "same", [d]));
            Assert.Equal("padding", ex.ParamName);
        }
    }

    [Fact]
    public void Unbatched_torch_input_gives_the_batched_result_without_the_batch_axis()
    {
        var random = new Random(11);
        var x = TestData.SmallIntsNonZero(random, 2 * 3 * 4);
        var w = TestData.SmallIntsNonZero(random, 2 * 3 * 2 * 3);
        double[] bias = [1, 2, 3];
        var batched = Torch.ConvTranspose2d(Tensor(x, [1, 2, 3, 4]), Tensor(w, [2, 3, 2, 3]), Tensor(bias, [3]), [2, 1], [1, 0], [1, 0]);
        var unbatched = Torch.ConvTranspose2d(Tensor(x, [2, 3, 4]), Tensor(w, [2, 3, 2, 3]), Tensor(bias, [3]), [2, 1], [1, 0], [1, 0]);
        Assert.Equal(batched.Shape()[1..], unbatched.Shape());
        Assert.Equal([3L, 5, 6], unbatched.Shape()); // (3-1)*2 - 2 + 1 + 1 + 1 = 5, (4-1) + 2 + 1 = 6
        Assert.Equal(batched.ToArray(), unbatched.ToArray());

        var forwardBatched = Torch.Conv2d(Tensor(x, [1, 2, 3, 4]), Tensor(w, [3, 2, 2, 3]), Tensor(bias, [3]), [1, 2], 1);
        var forwardUnbatched = Torch.Conv2d(Tensor(x, [2, 3, 4]), Tensor(w, [3, 2, 2, 3]), Tensor(bias, [3]), [1, 2], 1);
        Assert.Equal([3L, 4, 2], forwardUnbatched.Shape()); // (3+2-2)/1+1 = 4, (4+2-3)/2+1 = 2
        Assert.Equal(forwardBatched.ToArray(), forwardUnbatched.ToArray());
    }
}
