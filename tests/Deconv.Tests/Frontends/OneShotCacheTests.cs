using System.Numerics.Tensors;
using Deconv.Engine;
using Deconv.Reference;

namespace Deconv.Tests.Frontends;

/// <summary>
/// The one-shot front ends keep the geometries they validated (<see cref="RecentGeometries"/>) and the engine keeps
/// plans with the weight as the caller gave it (<see cref="PlanCache"/>): repeated calls must still see every
/// change of data, shape or argument, and bad arguments must throw every time.
/// </summary>
public class OneShotCacheTests
{
    private static float[] SmallInts(int seed, long length) => TestData.ToFloat(TestData.SmallIntsNonZero(new Random(seed), length));

    /// <summary>TensorFlow's transposed convolution by the reference: the filter [k0, k1, M/G, C] permuted to [C, M/G, k0, k1] by the tests' own code.</summary>
    private static float[] TfReference(float[] x, long[] xShape, float[] f, long[] fShape, long[] outputShape, long[] strides, TfPadding padding,
        string format = "NHWC", long[]? dilations = null)
    {
        var g = TensorFlow.TransposeGeometry("conv2d_transpose", 2, xShape, fShape, outputShape, strides, padding, format, dilations);
        return ScatterView.ConvTranspose<float>(g, x, TestData.Permute(f, fShape, [3, 2, 0, 1]), []);
    }

    [Fact]
    public void Tf_filter_changed_in_place_gives_the_new_result()
    {
        // C = 2, M = 3: the filter's layout [kh, kw, out, in] differs from the canonical one.
        long[] xShape = [1, 3, 3, 2], fShape = [2, 2, 3, 2], outShape = [1, 4, 4, 3], strides = [1, 1, 1, 1];
        var x = SmallInts(1, 18);
        var f = SmallInts(2, 24);
        var (xt, ft) = (x.ToTensor(xShape), f.ToTensor(fShape));
        var first = TensorFlow.Conv2DTranspose(xt, ft, outShape, strides, "VALID");
        Assert.Equal(TfReference(x, xShape, f, fShape, outShape, strides, TfPadding.Valid), first.ToArray());
        Assert.Equal(first.ToArray(), TensorFlow.Conv2DTranspose(xt, ft, outShape, strides, "VALID").ToArray());

        f[5] += 2; // the tensor wraps f, so this changes the filter in place
        x[4] -= 1;
        var second = TensorFlow.Conv2DTranspose(xt, ft, outShape, strides, "VALID");
        Assert.Equal(TfReference(x, xShape, f, fShape, outShape, strides, TfPadding.Valid), second.ToArray());
        Assert.NotEqual(first.ToArray(), second.ToArray());
    }

    [Fact]
    public void Tf_calls_with_other_arguments_never_get_a_stale_geometry()
    {
        // Shapes and arguments that differ in one thing at a time, each called twice, interleaved.
        var calls = new (long[] X, long[] F, long[] Out, long[] Strides, TfPadding Padding, string Format, long[]? Dilations)[]
        {
            ([1, 3, 3, 1], [2, 2, 1, 1], [1, 4, 4, 1], [1, 1, 1, 1], TfPadding.Valid, "NHWC", null),
            ([1, 4, 4, 1], [2, 2, 1, 1], [1, 4, 4, 1], [1, 1, 1, 1], TfPadding.Same, "NHWC", null),
            ([1, 2, 2, 1], [2, 2, 1, 1], [1, 4, 4, 1], [1, 2, 2, 1], TfPadding.Valid, "NHWC", null),
            ([1, 2, 2, 1], [2, 2, 1, 1], [1, 5, 5, 1], [1, 2, 2, 1], TfPadding.Valid, "NHWC", null),
            ([1, 2, 2, 1], [2, 2, 1, 1], [5, 5], [2, 2], TfPadding.Valid, "NHWC", null),
            ([1, 2, 2, 1], [2, 2, 1, 1], [1, 6, 6, 1], [1, 1, 1, 1], TfPadding.Valid, "NHWC", [1, 4, 4, 1]),
            ([1, 2, 2, 1], [2, 2, 1, 1], [1, 4, 4, 1], [1, 2, 2, 1], TfPadding.Explicit([0, 0], [1, 0], [0, 1], [0, 0]), "NHWC", null),
            ([1, 2, 2, 1], [2, 2, 1, 1], [1, 4, 4, 1], [1, 2, 2, 1], TfPadding.Explicit([0, 0], [0, 1], [1, 0], [0, 0]), "NHWC", null),
            ([1, 2, 2, 2], [2, 2, 2, 2], [1, 4, 4, 2], [1, 2, 2, 1], TfPadding.Valid, "NHWC", null),
            ([1, 2, 2, 2], [2, 2, 2, 2], [1, 2, 4, 4], [1, 1, 2, 2], TfPadding.Valid, "NCHW", null),
            ([1, 2, 2, 2], [2, 2, 1, 2], [1, 2, 4, 4], [1, 1, 2, 2], TfPadding.Valid, "NCHW", null),
        };
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < calls.Length; i++)
            {
                var c = calls[i];
                var x = SmallInts(10 + i, Shapes.Product(c.X));
                var f = SmallInts(30 + i, Shapes.Product(c.F));
                var y = TensorFlow.Conv2DTranspose(x.ToTensor(c.X), f.ToTensor(c.F), c.Out, c.Strides, c.Padding, c.Format, c.Dilations);
                var g = TensorFlow.TransposeGeometry("conv2d_transpose", 2, c.X, c.F, c.Out, c.Strides, c.Padding, c.Format, c.Dilations);
                Assert.Equal(g.OutputShape, y.Shape());
                Assert.Equal(TfReference(x, c.X, f, c.F, c.Out, c.Strides, c.Padding, c.Format, c.Dilations), y.ToArray());
            }
        }
    }

    [Fact]
    public void Tf_ops_sharing_the_cache_keep_their_own_geometries()
    {
        // conv2d_transpose(input, filters, output_shape) and Conv2DBackpropInput(input_sizes, filter, out_backprop) with equal
        // arguments compute the same thing; conv1d_transpose and Conv3DBackpropInputV2 have other ranks.
        long[] xShape = [1, 2, 2, 1], fShape = [2, 2, 1, 1], outShape = [1, 4, 4, 1], strides = [1, 2, 2, 1];
        var (x, f) = (SmallInts(41, 4), SmallInts(42, 4));
        var expected = TfReference(x, xShape, f, fShape, outShape, strides, TfPadding.Valid);
        for (var round = 0; round < 2; round++)
        {
            Assert.Equal(expected, TensorFlow.Conv2DTranspose(x.ToTensor(xShape), f.ToTensor(fShape), outShape, strides, "VALID").ToArray());
            Assert.Equal(expected, TensorFlow.Conv2DBackpropInput(outShape, f.ToTensor(fShape), x.ToTensor(xShape), strides, "VALID").ToArray());
            var y1 = TensorFlow.Conv1DTranspose(x.ToTensor(1, 4, 1), f.ToTensor(4, 1, 1), [1, 7, 1], [1], "VALID");
            Assert.Equal([1L, 7, 1], y1.Shape());
            var y3 = TensorFlow.Conv3DBackpropInputV2([1, 1, 3, 3, 1], f.ToTensor(1, 2, 2, 1, 1), x.ToTensor(1, 1, 2, 2, 1), [1], "VALID");
            Assert.Equal([1L, 1, 3, 3, 1], y3.Shape());
        }

        Assert.Equal("out_backprop", Assert.Throws<ConvolutionArgumentException>(() =>
            TensorFlow.Conv2DBackpropInput(outShape, f.ToTensor(fShape), x.ToTensor(1, 2, 2), strides, "VALID")).ParamName);
        Assert.Equal("input", Assert.Throws<ConvolutionArgumentException>(() =>
            TensorFlow.Conv2DTranspose(x.ToTensor(1, 2, 2), f.ToTensor(fShape), outShape, strides, "VALID")).ParamName);
    }

    [Fact]
    public void Concurrent_calls_with_different_arguments_each_get_their_own_result()
    {
        var cases = Enumerable.Range(0, 12).Select(i =>
        {
            var size = 2 + i % 4;
            long[] xShape = [1, size, size, 1], fShape = [2, 2, 1, 1], outShape = [1, size + 1, size + 1, 1], strides = [1, 1, 1, 1];
            var (x, f) = (SmallInts(50 + i, size * size), SmallInts(70 + i, 4));
            return (X: x.ToTensor(xShape), F: f.ToTensor(fShape), Out: outShape, Strides: strides,
                Expected: TfReference(x, xShape, f, fShape, outShape, strides, TfPadding.Valid));
        }).ToArray();
        Parallel.For(0, 600, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var c = cases[i % cases.Length];
            Assert.Equal(c.Expected, TensorFlow.Conv2DTranspose(c.X, c.F, c.Out, c.Strides, "VALID").ToArray());
        });
    }

    [Fact]
    public void Tf_arrays_changed_in_place_are_seen()
    {
        long[] outShape = [1, 4, 4, 1], strides = [1, 1, 1, 1];
        var (x, f) = (SmallInts(3, 9).ToTensor(1, 3, 3, 1), SmallInts(4, 4).ToTensor(2, 2, 1, 1));
        Assert.Equal([1L, 4, 4, 1], TensorFlow.Conv2DTranspose(x, f, outShape, strides, "VALID").Shape());
        outShape[1] = 6; // now wrong for stride 1
        Assert.Throws<ConvolutionArgumentException>(() => TensorFlow.Conv2DTranspose(x, f, outShape, strides, "VALID"));
        strides[1] = 2; // and right again for stride 2 on that axis
        var y = TensorFlow.Conv2DTranspose(x, f, outShape, strides, "VALID");
        Assert.Equal([1L, 6, 4, 1], y.Shape());
    }

    [Fact]
    public void Bad_arguments_throw_on_every_call_even_after_good_ones()
    {
        var (x, f) = (SmallInts(5, 9).ToTensor(1, 3, 3, 1), SmallInts(6, 4).ToTensor(2, 2, 1, 1));
        TensorFlow.Conv2DTranspose(x, f, [1, 4, 4, 1], [1, 1, 1, 1], "VALID");
        var messages = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var e = Assert.Throws<ConvolutionArgumentException>(() => TensorFlow.Conv2DTranspose(x, f, [1, 5, 5, 1], [1, 1, 1, 1], "VALID"));
            Assert.Equal("output_shape", e.ParamName);
            messages.Add(e.Message);
            var n = Assert.Throws<ArgumentNullException>(() => TensorFlow.Conv2DTranspose(x, f, null!, [1, 1, 1, 1], "VALID"));
            messages.Add(n.ParamName!);
        }

        Assert.Equal(2, messages.Distinct().Count());
        var t = Assert.Throws<ConvolutionArgumentException>(() => Torch.ConvTranspose2d(SmallInts(7, 9).ToTensor(1, 1, 3, 3), SmallInts(8, 4).ToTensor(1, 1, 2, 2), stride: [0]));
        Assert.Equal("stride", t.ParamName);
        Assert.Throws<ConvolutionArgumentException>(() => Torch.ConvTranspose2d(SmallInts(7, 9).ToTensor(1, 1, 3, 3), SmallInts(8, 4).ToTensor(1, 1, 2, 2), stride: [0]));
        var attributes = new OnnxConvAttributes { Pads = [0, 0, 0] };
        Assert.Throws<ConvolutionArgumentException>(() => Onnx.ConvTranspose(SmallInts(7, 9).ToTensor(1, 1, 3, 3), SmallInts(8, 4).ToTensor(1, 1, 2, 2), null, attributes));
        Assert.Throws<ConvolutionArgumentException>(() => Onnx.ConvTranspose(SmallInts(7, 9).ToTensor(1, 1, 3, 3), SmallInts(8, 4).ToTensor(1, 1, 2, 2), null, attributes));
    }

    [Fact]
    public void Torch_weight_and_bias_changed_in_place_and_other_arguments_are_seen()
    {
        var x = SmallInts(11, 2 * 3 * 3);
        var w = SmallInts(12, 2 * 2 * 2 * 2);
        float[] b = [1, -2];
        var (xt, wt, bt) = (x.ToTensor(1, 2, 3, 3), w.ToTensor(2, 2, 2, 2), b.ToTensor(2));
        var g = Torch.TransposeGeometry("conv_transpose2d", 2, [1, 2, 3, 3], [2, 2, 2, 2], [2], [1], null, 1, null, null, 2);
        Assert.Equal(ScatterView.ConvTranspose<float>(g, x, w, b), Torch.ConvTranspose2d(xt, wt, bt, stride: [2], padding: [1]).ToArray());
        w[3] += 1;
        b[1] += 4;
        Assert.Equal(ScatterView.ConvTranspose<float>(g, x, w, b), Torch.ConvTranspose2d(xt, wt, bt, stride: [2], padding: [1]).ToArray());
        // The same shapes with another padding, output padding, no bias, and unbatched.
        var g2 = Torch.TransposeGeometry("conv_transpose2d", 2, [1, 2, 3, 3], [2, 2, 2, 2], [2], [0], [1], 1, null, null, -1);
        Assert.Equal(ScatterView.ConvTranspose<float>(g2, x, w, []), Torch.ConvTranspose2d(xt, wt, null, stride: [2], padding: [0], outputPadding: [1]).ToArray());
        var unbatched = Torch.ConvTranspose2d(x.ToTensor(2, 3, 3), wt, bt, stride: [2], padding: [1]);
        Assert.Equal([2L, 4, 4], unbatched.Shape());
        Assert.Equal(ScatterView.ConvTranspose<float>(g, x, w, b), unbatched.ToArray());
    }

    [Fact]
    public void Onnx_other_attributes_and_a_changed_bias_are_seen()
    {
        var x = SmallInts(21, 9);
        var w = SmallInts(22, 4);
        float[] b = [3];
        var (xt, wt, bt) = (x.ToTensor(1, 1, 3, 3), w.ToTensor(1, 1, 2, 2), b.ToTensor(1));
        foreach (var attributes in new OnnxConvAttributes?[] { null, new() { Pads = [0, 0, 1, 1] }, new() { Pads = [1, 1, 0, 0] }, new() { Strides = [2, 1] }, new() { AutoPad = "SAME_UPPER" } })
        {
            for (var round = 0; round < 2; round++)
            {
                b[0] = round;
                var g = Onnx.ConvTransposeGeometry([1, 1, 3, 3], [1, 1, 2, 2], attributes ?? new(), 1);
                var y = Onnx.ConvTranspose(xt, wt, bt, attributes);
                Assert.Equal(g.OutputShape, y.Shape());
                Assert.Equal(ScatterView.ConvTranspose<float>(g, x, w, b), y.ToArray());
            }
        }
    }

    [Fact]
    public void Tensors_that_are_not_row_major_arrays_are_read_in_row_major_order()
    {
        float[] data = [.. Enumerable.Range(0, 24).Select(i => (float)i)];
        var tensors = new Tensor<float>[]
        {
            Tensor.Create(data, [2, 3, 4]),
            Tensor.Create(data, [4, 3, 2], [1, 4, 12]), // column-major
            Tensor.Create(data, 5, [2, 3], [3, 1]), // starts at element 5
            Tensor.Create(data, [2, 3], [0, 1]), // broadcast rows
            Tensor.Create(data, [1, 3, 1], [0, 1, 0]), // any stride for dimensions of length 1
            Tensor.Create(data, [2, 3, 4]).Slice([1..2, 0..3, 1..3]),
            Tensor.Create(data, [2, 3, 4]).Slice([1..2, 0..3, 0..4]), // row-major, from element 12
            Tensor.Create(data, [0, 3]),
        };
        foreach (var t in tensors)
        {
            Assert.Equal(FrontEnd.Flatten(t), FrontEnd.Data(t).ToArray());
        }

        // A one-shot call on a column-major view computes what it does on a copy.
        var f = SmallInts(31, 4).ToTensor(2, 2, 1, 1);
        var view = Tensor.Create(data[..9], [1, 3, 3, 1], [0, 1, 3, 0]);
        var copy = FrontEnd.Flatten(view).ToTensor(1, 3, 3, 1);
        Assert.Equal(TensorFlow.Conv2DTranspose(copy, f, [1, 4, 4, 1], [1], "VALID").ToArray(), TensorFlow.Conv2DTranspose(view, f, [1, 4, 4, 1], [1], "VALID").ToArray());
    }

    private static long[] KeyOf(params IReadOnlyList<long>?[] lists)
    {
        var key = new ArgumentKey(stackalloc long[ArgumentKey.Capacity]);
        foreach (var list in lists)
        {
            key.Add(list);
        }

        return key.Values.ToArray();
    }

    private static long[] KeyOf(params string?[] texts)
    {
        var key = new ArgumentKey(stackalloc long[ArgumentKey.Capacity]);
        foreach (var text in texts)
        {
            key.Add(text);
        }

        return key.Values.ToArray();
    }

    private static long[] KeyOf(TfPadding? padding)
    {
        var key = new ArgumentKey(stackalloc long[ArgumentKey.Capacity]);
        key.Add(padding);
        return key.Values.ToArray();
    }

    [Fact]
    public void Keys_of_different_arguments_differ()
    {
        Assert.NotEqual(KeyOf([(IReadOnlyList<long>?)null]), KeyOf([Array.Empty<long>()]));
        Assert.NotEqual(KeyOf([[1L, 2], [3L]]), KeyOf([[1L], [2L, 3]]));
        Assert.NotEqual(KeyOf("ab", "c"), KeyOf("a", "bc"));
        Assert.NotEqual(KeyOf([(string?)null]), KeyOf(""));
        Assert.NotEqual(KeyOf(TfPadding.Valid), KeyOf(TfPadding.Same));
        Assert.NotEqual(KeyOf(TfPadding.Explicit([1, 0], [0, 0])), KeyOf(TfPadding.Explicit([0, 1], [0, 0])));
        Assert.NotEqual(KeyOf((TfPadding?)null), KeyOf(TfPadding.Explicit()));
        Assert.Equal(KeyOf(TfPadding.Explicit([1, 0])), KeyOf(TfPadding.Explicit([1, 0])));
    }

    [Fact]
    public void Arguments_longer_than_a_key_are_validated_on_every_call()
    {
        var geometries = new RecentGeometries();
        var key = new ArgumentKey(stackalloc long[4]);
        key.Add([1L, 2, 3, 4, 5]);
        Assert.False(key.IsComplete);
        var g = new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(1, 1, 1, 1, 0, 1)]);
        Assert.Same(g, geometries.Add(key, g));
        Assert.Null(geometries.Find(key));
    }
}
