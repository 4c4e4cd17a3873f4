using Deconv.Explain;
using Deconv.Reference;

namespace Deconv.Tests.Explain;

public class ExplanationTests
{
    private static ConvGeometry Example(int input, int stride, int cropBegin, int output = 4) =>
        new(1, 1, 1, 1, [new AxisGeometry(input, 2, stride, 1, cropBegin, output), new AxisGeometry(input, 2, stride, 1, cropBegin, output)]);

    private static float[] Ones(long n) => [.. Enumerable.Repeat(1f, (int)n)];

    [Fact]
    public void First_worked_example_gathers_each_output_from_the_padded_grid()
    {
        // tf.nn.conv2d_transpose(ones[1,3,3,1], ones[2,2,1,1], [1,4,4,1], strides 1, VALID)
        var g = Example(3, 1, 0);
        var e = Explanation.Create(g, Ones(g.InputLength), Ones(g.WeightLength), null);

        Assert.Equal([1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1], e.Result.Values);
        Assert.Equal([5, 5], e.Gather.Padded.Shape);
        Assert.Equal([3, 3], e.Gather.ZeroInserted.Shape);
        Assert.All(e.Axes, a => Assert.Equal((0, 0L, 1L, 1L), (a.CropBegin, a.CropEnd, a.PadBegin, a.PadEnd)));
        // The padded grid is a ring of padding around the 3x3 input.
        Assert.Equal(16, e.Gather.PaddedKinds.Values.Count(k => k == CellKind.Padding));
        Assert.Equal(9, e.Gather.PaddedKinds.Values.Count(k => k == CellKind.Input));
        var corner = e.Gather.Steps[0];
        Assert.Equal([0, 0], corner.Output);
        Assert.Equal([0f, 0f, 0f, 1f], corner.Terms.Select(t => t.GridValue));
        Assert.Equal([0, 0], corner.Terms[3].InputPosition!);
        Assert.Equal(4f, e.Gather.Steps[5].Sum);
        Assert.Equal([1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1], e.Scatter.Overlap.Values);
        Assert.Empty(e.Phases);
        Assert.True(e.AllChecksPassed);
        Assert.All(e.Checks, c => Assert.Equal(0, c.MaxDifference));
    }

    [Fact]
    public void Second_worked_example_has_four_phases_and_no_overlap()
    {
        // 2x2 input, stride 2, VALID: the stamps tile the 4x4 output.
        var g = Example(2, 2, 0);
        var e = Explanation.Create(g, Ones(g.InputLength), Ones(g.WeightLength), null);

        Assert.All(e.Result.Values, v => Assert.Equal(1f, v));
        Assert.All(e.Scatter.Overlap.Values, v => Assert.Equal(1, v));
        Assert.Equal([3, 3], e.Gather.ZeroInserted.Shape);
        Assert.Equal(CellKind.InsertedZero, e.Gather.ZeroInsertedKinds[[0, 1]]);
        Assert.Equal(4, e.Phases.Count);
        // Each phase has one tap and produces the 4 outputs with (o0 mod 2, o1 mod 2) = r.
        Assert.All(e.Phases, p =>
        {
            Assert.Equal([1, 1], p.SubKernel.Shape);
            Assert.Equal(4, p.Outputs.Count);
            Assert.All(p.Outputs, o => Assert.Equal(p.Residue, o.Output.Select(v => v % 2)));
        });
        Assert.True(e.AllChecksPassed);
    }

    [Fact]
    public void Third_worked_example_crops_one_at_the_end()
    {
        // 4x4 input, stride 1, SAME: the full 5x5 result cropped by 1 at the end.
        var g = Example(4, 1, 0);
        var e = Explanation.Create(g, Ones(g.InputLength), Ones(g.WeightLength), null);

        Assert.All(e.Axes, a => Assert.Equal((5L, 0, 1L, 0L), (a.FullLength, a.CropBegin, a.CropEnd, a.PadEnd)));
        Assert.Equal([1, 2, 2, 2, 2, 4, 4, 4, 2, 4, 4, 4, 2, 4, 4, 4], e.Result.Values);
        // The stamp of x[3,3] loses three of its four products off the end.
        Assert.Equal(3, e.Scatter.Stamps[^1].Products.Count(p => !p.Inside));
        Assert.True(e.AllChecksPassed);
    }

    [Fact]
    public void Range_values_show_the_flipped_kernel()
    {
        var g = new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(1, 3, 1, 1, 0, 3)]);
        var e = Explanation.Create(g, [1f], [1f, 2f, 3f], null);
        Assert.Equal([3f, 2f, 1f], e.Gather.FlippedKernel.Values);
        Assert.Equal([1f, 2f, 3f], e.Result.Values);
        // y[0] sees only the last flipped tap (w[0]) over the input.
        Assert.Equal([0f, 0f, 1f], e.Gather.Steps[0].Terms.Select(t => t.Product));
    }

    [Fact]
    public void Other_channels_and_bias_are_summarised()
    {
        // 2 input channels, 1 output channel; x channel 0 all 1, channel 1 all 10; bias 0.5.
        var g = new ConvGeometry(1, 2, 1, 1, [new AxisGeometry(2, 2, 1, 1, 0, 3)]);
        var e = Explanation.Create(g, [1f, 1f, 10f, 10f], [1f, 1f, 1f, 1f], [0.5f]);
        Assert.Equal([1, 2, 1], e.PairResult.Values);
        Assert.Equal([10, 20, 10], e.OtherChannels.Values);
        Assert.Equal([11.5f, 22.5f, 11.5f], e.Result.Values);
        Assert.Equal([1], e.OtherChannelIndices);
        Assert.True(e.AllChecksPassed);
    }

    [Fact]
    public void Unconnected_channels_and_bad_indices_are_rejected_with_the_rule()
    {
        var g = new ConvGeometry(1, 2, 2, 2, [new AxisGeometry(2, 2, 1, 1, 0, 3)]);
        var x = new float[g.InputLength];
        var w = new float[g.WeightLength];
        var e = Assert.Throws<ConvolutionArgumentException>(() => Explanation.Create(g, x, w, null, 0, 0, 1));
        Assert.Contains("input channel 0 feeds output channels 0 to 0", e.Message, StringComparison.Ordinal);
        Assert.Equal("inChannel", Assert.Throws<ConvolutionArgumentException>(() => Explanation.Create(g, x, w, null, 0, 2, 0)).ParamName);
        Assert.Equal("batch", Assert.Throws<ConvolutionArgumentException>(() => Explanation.Create(g, x, w, null, 1)).ParamName);
        Assert.Equal("x", Assert.Throws<ConvolutionArgumentException>(() => Explanation.Create(g, [1f], w, null)).ParamName);
    }

    [Fact]
    public void Empty_output_and_non_finite_values_are_explained()
    {
        var empty = new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(2, 2, 1, 1, 0, 0)]);
        var e = Explanation.Create(empty, [1f, 2f], [1f, 1f], null);
        Assert.Empty(e.Gather.Steps);
        Assert.Empty(e.Result.Values);
        Assert.True(e.AllChecksPassed);
        Assert.Contains("(empty)", Deconv.Cli.Explain.TextRenderer.Render(e, "call", "ones", null, colour: false), StringComparison.Ordinal);
        Assert.Contains("<svg", Deconv.Cli.Explain.SvgRenderer.Render(e, "call", null), StringComparison.Ordinal);

        var g = new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(2, 2, 1, 1, 0, 3)]);
        // A NaN input stays where the scatter definition puts it in the gather and phase views; the dense views
        // (matrix, gradient) multiply every input by the zeros of C, so the NaN spreads there and the check says so.
        var nan = Explanation.Create(g, [float.NaN, 1f], [1f, 2f], null);
        Assert.Equal([float.NaN, float.NaN, 2f], nan.Result.Values);
        Assert.Equal(["gather", "scatter", "channels + bias"], nan.Checks.Where(c => c.Passed).Select(c => c.View));
        Assert.Equal(["matrix", "gradient"], nan.Checks.Where(c => !c.Passed).Select(c => c.View));

        // An infinite weight meets the padding zeros in the textbook gather view (0 * inf = NaN) but never in
        // the scatter definition, and the check says so.
        var infinite = Explanation.Create(g, [1f, 1f], [1f, float.PositiveInfinity], null);
        Assert.Equal([1f, float.PositiveInfinity, float.PositiveInfinity], infinite.Result.Values);
        Assert.False(infinite.Checks.Single(c => c.View == "gather").Passed);
        Assert.True(infinite.Checks.Single(c => c.View == "scatter").Passed);
    }

    [Fact]
    public void Too_large_explanations_are_refused()
    {
        var g = new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(2000, 1, 1, 1, 0, 2000)]);
        var e = Assert.Throws<ConvolutionArgumentException>(() => Explanation.Create(g, new float[2000], [1f], null));
        Assert.Contains("choose smaller sizes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Large_cases_skip_only_the_matrix_view()
    {
        var g = new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(50, 3, 2, 1, 1, 100)]);
        var e = Explanation.Create(g, Ones(g.InputLength), Ones(g.WeightLength), null);
        Assert.Null(e.Matrix);
        Assert.NotNull(e.Gradient);
        Assert.True(e.AllChecksPassed);
    }

    [Fact]
    public void Every_view_equals_the_library_result_on_random_small_cases()
    {
        for (var seed = 0; seed < 400; seed++)
        {
            var random = new Random(seed);
            var (g, x, w, bias) = RandomCase(random, integers: true);
            var group = random.Next(g.Groups);
            var c = group * g.InputChannelsPerGroup + random.Next(g.InputChannelsPerGroup);
            var m = group * g.OutputChannelsPerGroup + random.Next(g.OutputChannelsPerGroup);
            var n = random.Next(g.Batch);
            var e = Explanation.Create(g, x, w, bias, n, c, m);
            var context = $"seed {seed}: {g} pair ({c}, {m}) batch {n}";

            // The result is the library's, sliced; compare with the other reference path (gather) as well.
            var lifted = new Lifted(g);
            var gathered = GatherView.ConvTranspose<float>(g, x, w, bias ?? []);
            foreach (var o in e.Result.Positions())
            {
                var (o0, o1, o2) = Lift(o);
                Assert.True(e.Result[o] == gathered[lifted.OutputIndex(n, m, o0, o1, o2)], context);
            }

            // Integer data: every view must agree exactly.
            Assert.True(e.AllChecksPassed, context);
            Assert.All(e.Checks, check => Assert.True(check.MaxDifference == 0, $"{context}: {check}"));
            Assert.Equal(e.PairResult.Values, e.Gather.Steps.Select(s => s.Sum));
            Assert.Equal(e.PairResult.Values, e.Scatter.Sum.Values);
            Assert.Equal(e.Scatter.Sum.Values, e.Scatter.Stamps[^1].RunningSum.Values);
            if (e.Matrix is { } matrix)
            {
                Assert.Equal(e.PairResult.Values, matrix.Y);
            }

            if (e.Gradient is { } gradient)
            {
                Assert.Equal(e.PairResult.Values, gradient.Gradient.Values);
            }

            for (var o = 0; o < e.Result.Values.Length; o++)
            {
                Assert.True(e.Result.Values[o] == e.Bias + e.PairResult.Values[o] + e.OtherChannels.Values[o], context);
            }

            CheckGatherTerms(e, context);
            CheckScatterProducts(e, context);
            CheckPhases(e, context);
        }
    }

    [Fact]
    public void Checks_pass_within_rounding_on_random_real_values()
    {
        for (var seed = 0; seed < 100; seed++)
        {
            var (g, x, w, bias) = RandomCase(new Random(1000 + seed), integers: false);
            var e = Explanation.Create(g, x, w, bias);
            Assert.True(e.AllChecksPassed, $"seed {seed}: {string.Join("; ", e.Checks)}");
            Assert.All(e.Checks, c => Assert.True(c.MaxDifference < 1e-3, $"seed {seed}: {c}"));
        }
    }

    private static void CheckGatherTerms(Explanation e, string context)
    {
        foreach (var step in e.Gather.Steps)
        {
            var sum = 0f;
            foreach (var t in step.Terms)
            {
                Assert.True(t.Product == t.GridValue * t.Weight, context);
                Assert.Equal(e.Kernel[t.Tap.Select((k, a) => e.Axes[a].Kernel - 1 - k).ToArray()], t.Weight);
                Assert.Equal(step.Output.Select((o, a) => o + t.Tap[a] * e.Axes[a].Dilation), t.GridCell);
                if (t.Kind == CellKind.Input)
                {
                    Assert.Equal(e.Input[t.InputPosition!], t.GridValue);
                }
                else
                {
                    Assert.Null(t.InputPosition);
                    Assert.Equal(0f, t.GridValue);
                }

                sum += t.Product;
            }

            Assert.Equal(sum, step.Sum);
        }
    }

    private static void CheckScatterProducts(Explanation e, string context)
    {
        var inside = 0;
        foreach (var stamp in e.Scatter.Stamps)
        {
            Assert.Equal(e.Input[stamp.Input], stamp.Value);
            foreach (var p in stamp.Products)
            {
                Assert.Equal(stamp.Input.Select((i, a) => i * e.Axes[a].Stride + p.Tap[a] * e.Axes[a].Dilation - e.Axes[a].CropBegin), p.Output);
                Assert.Equal(p.Output.Select((o, a) => o >= 0 && o < e.Axes[a].Output).All(b => b), p.Inside);
                inside += p.Inside ? 1 : 0;
            }
        }

        Assert.True(inside == e.Scatter.Overlap.Values.Sum(), context);
    }

    private static void CheckPhases(Explanation e, string context)
    {
        if (e.Axes.All(a => a.Stride == 1))
        {
            Assert.Empty(e.Phases);
            return;
        }

        Assert.Equal(e.Axes.Aggregate(1, (p, a) => p * a.Stride), e.Phases.Count);
        // Every output position belongs to exactly one phase, and each phase's taps are those with k*D = r (mod S).
        var covered = e.Phases.SelectMany(p => p.Outputs).Select(o => e.Result.Offset(o.Output)).Order().ToList();
        Assert.True(covered.SequenceEqual(Enumerable.Range(0, e.Result.Values.Length)), context);
        foreach (var phase in e.Phases)
        {
            for (var a = 0; a < e.Axes.Count; a++)
            {
                var axis = e.Axes[a];
                Assert.Equal(Enumerable.Range(0, axis.Kernel).Where(k => k * axis.Dilation % axis.Stride == phase.Residue[a]), phase.Taps[a]);
            }
        }
    }

    internal static (ConvGeometry G, float[] X, float[] W, float[]? Bias) RandomCase(Random random, bool integers)
    {
        var rank = random.Next(10) switch { < 4 => 1, < 8 => 2, _ => 3 };
        var axes = new AxisGeometry[rank];
        for (var a = 0; a < rank; a++)
        {
            var input = random.Next(1, rank == 3 ? 3 : 5);
            var kernel = random.Next(1, rank == 3 ? 3 : 5);
            var stride = random.Next(1, 4);
            var dilation = random.Next(1, 3);
            var ek = dilation * (kernel - 1) + 1;
            var full = stride * (input - 1) + ek;
            var crop = random.Next(0, ek);
            // Output from 1 up to S-1 past the full result (trailing zeros).
            var output = random.Next(1, Math.Max(2, full - crop + stride));
            axes[a] = new AxisGeometry(input, kernel, stride, dilation, crop, output);
        }

        var groups = random.Next(1, 3);
        var g = new ConvGeometry(random.Next(1, 3), groups * random.Next(1, 3), groups * random.Next(1, 3), groups, axes,
            random.Next(2) == 0 ? DataLayout.ChannelsFirst : DataLayout.ChannelsLast);
        float Value() => integers ? random.Next(-3, 4) : (float)(random.NextDouble() * 2 - 1);
        var x = Enumerable.Range(0, (int)g.InputLength).Select(_ => Value()).ToArray();
        var w = Enumerable.Range(0, (int)g.WeightLength).Select(_ => Value()).ToArray();
        float[]? bias = random.Next(2) == 0 ? null : [.. Enumerable.Range(0, g.OutputChannels).Select(_ => Value())];
        return (g, x, w, bias);
    }

    private static (int, int, int) Lift(int[] p) => p.Length switch
    {
        1 => (0, 0, p[0]),
        2 => (0, p[0], p[1]),
        _ => (p[0], p[1], p[2]),
    };
}
