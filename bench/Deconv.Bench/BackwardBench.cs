using System.Text.Json;
using System.Text.Json.Serialization;
using Deconv.Engine;

namespace Deconv.Bench;

/// <summary>
/// The training passes of every suite case: the transposed convolution itself ("forward"), its input
/// gradient (the forward convolution of dY, <see cref="ConvForwardPlan"/>, against ONNX Runtime's
/// <c>Conv</c> with the same weight) and its weight gradient (<see cref="WeightGradientPlan"/>, checked
/// on sampled entries against a double-precision sum; ONNX Runtime has no equivalent op). Each pass
/// needs the same flops (<see cref="BenchCase.NeededFlops"/>).
/// </summary>
internal static class BackwardBench
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public static void Run(BenchOptions options)
    {
        var cases = BenchCase.Load(options.Suite).Where(c => options.Case is null || c.Name == options.Case).ToList();
        if (cases.Count == 0)
        {
            throw new ArgumentException($"no case named '{options.Case}' in {options.Suite}");
        }

        var sessionPeak = FmaPeak.SingleThreadGflops();
        Console.WriteLine($"suite {options.Suite}: {cases.Count} cases; backward passes; {(options.Quick ? "quick" : "full")} run; processors {Environment.ProcessorCount}");
        Console.WriteLine($"measured FMA peak: {sessionPeak:F1} GFLOP/s per thread (and again beside each pass: the peak column, which % peak uses)");
        Console.WriteLine();
        Console.WriteLine($"{"case",-10} {"pass",-11} {"thr",3} {"deconv ms",10} {"ort ms",10} {"ort/deconv",10} {"GFLOP/s",8} {"peak",6} {"% peak",7} {"extra MB",9} {"max rel diff",12}");
        var results = new List<BackwardResult>();
        foreach (var c in cases)
        {
            var random = new Random(1);
            var geometry = c.Geometry();
            var x = Program.Random(random, geometry.InputLength); // the transposed convolution's input
            var w = Program.Random(random, geometry.WeightLength);
            var bias = Program.Random(random, geometry.OutputChannels);
            var dy = Program.Random(random, geometry.OutputLength); // its output gradient
            var model = OnnxModel.Conv(geometry, w);
            foreach (var threads in options.Threads)
            {
                var transpose = new ConvTransposePlan(geometry, w, bias, threads);
                var y = new float[geometry.OutputLength];
                // The FMA loop runs in the same rounds as each pass: its share of the peak compares like with like.
                var peakSampler = new FmaPeak.Sampler(threads);
                var medians = Program.Medians(options, () => transpose.Run(x, y), peakSampler.Sample);
                results.Add(Row(c, "forward", threads, medians[0], null, transpose.ExtraFloats, null, peakSampler.Gflops()));

                var inputGradient = new ConvForwardPlan(geometry, w, default, threads);
                var dx = new float[geometry.InputLength];
                double ms, peak;
                double? ortMs = null, diff = null;
                if (model is null)
                {
                    peakSampler = new FmaPeak.Sampler(threads);
                    medians = Program.Medians(options, () => inputGradient.Run(dy, dx), peakSampler.Sample);
                    (ms, peak) = (medians[0], peakSampler.Gflops());
                }
                else
                {
                    var theirs = new float[geometry.InputLength];
                    using var ort = new OrtRunner(model, dy, geometry.OutputShape, theirs, geometry.InputShape, threads);
                    peakSampler = new FmaPeak.Sampler(threads);
                    medians = Program.Medians(options, () => inputGradient.Run(dy, dx), ort.Run, peakSampler.Sample);
                    (ms, ortMs, peak) = (medians[0], medians[1], peakSampler.Gflops());
                    diff = Program.MaxRelativeDifference(dx, theirs);
                }

                results.Add(Row(c, "input_grad", threads, ms, ortMs, inputGradient.ExtraFloats, diff, peak));

                var weightGradient = new WeightGradientPlan(geometry, threads);
                var dw = new float[geometry.WeightLength];
                peakSampler = new FmaPeak.Sampler(threads);
                medians = Program.Medians(options, () => weightGradient.Run(dy, x, dw), peakSampler.Sample);
                results.Add(Row(c, "weight_grad", threads, medians[0], null, weightGradient.ExtraFloats, SampledDifference(geometry, dy, x, dw), peakSampler.Gflops()));
            }
        }

        if (options.Json is not null)
        {
            File.WriteAllText(options.Json, JsonSerializer.Serialize(results, JsonOptions));
            Console.WriteLine($"wrote {options.Json}");
        }
    }

    private static BackwardResult Row(BenchCase c, string pass, int threads, double ms, double? ortMs, long extraFloats, double? diff, double peak)
    {
        var gflops = c.NeededFlops / (ms / 1e3) / 1e9;
        var result = new BackwardResult(c.Name, pass, threads, ms, ortMs, ortMs / ms, gflops, peak, 100 * gflops / (peak * threads), extraFloats * sizeof(float) / 1e6, diff);
        string Optional(double? v, string format) => v is { } value ? value.ToString(format, System.Globalization.CultureInfo.InvariantCulture) : "-";
        Console.WriteLine($"{c.Name,-10} {pass,-11} {threads,3} {ms,10:G4} {Optional(ortMs, "G4"),10} {Optional(result.Ratio, "F2"),10} {gflops,8:F1} {peak,6:F1} {result.PeakPercent,7:F1} {result.ExtraMegabytes,9:F2} {Optional(diff, "E1"),12}{(diff > 1e-5 ? "  MISMATCH" : "")}");
        return result;
    }

    /// <summary>
    /// max |dw - exact| / max |exact| over up to 64 sampled entries, each summed in double
    /// (dw[c, j, k] = sum_{n,i} dy[n, g*M/G + j, i*S + k*D - crop] * x[n, c, i]); a full reference would take minutes.
    /// </summary>
    private static double SampledDifference(ConvGeometry geometry, float[] dy, float[] x, float[] dw)
    {
        var g = geometry;
        var axes = g.Axes;
        var kernel = axes.Select(a => a.Kernel).ToArray();
        var taps = kernel.Aggregate(1, (p, k) => p * k);
        var inputs = axes.Select(a => a.Input).ToArray();
        var pixels = inputs.Aggregate(1, (p, i) => p * i);
        var random = new Random(2);
        double worst = 0, scale = 0;
        for (var sample = 0; sample < Math.Min(64, dw.Length); sample++)
        {
            var index = random.Next(dw.Length);
            var (c, rest) = Math.DivRem(index, g.OutputChannelsPerGroup * taps);
            var (j, tap) = Math.DivRem(rest, taps);
            var k = Unravel(tap, kernel);
            var m = c / g.InputChannelsPerGroup * g.OutputChannelsPerGroup + j;
            var sum = 0.0;
            for (var n = 0; n < g.Batch; n++)
            for (var p = 0; p < pixels; p++)
            {
                var i = Unravel(p, inputs);
                var o = new int[axes.Count];
                var inside = true;
                for (var a = 0; a < axes.Count; a++)
                {
                    o[a] = i[a] * axes[a].Stride + k[a] * axes[a].Dilation - axes[a].CropBegin;
                    inside &= o[a] >= 0 && o[a] < axes[a].Output;
                }

                if (inside)
                {
                    var outputs = axes.Select(a => a.Output).ToArray();
                    sum += (double)dy[((long)n * g.OutputChannels + m) * outputs.Aggregate(1L, (q, l) => q * l) + Ravel(o, outputs)]
                        * x[((long)n * g.InputChannels + c) * pixels + p];
                }
            }

            worst = Math.Max(worst, Math.Abs(sum - dw[index]));
            scale = Math.Max(scale, Math.Abs(sum));
        }

        return scale == 0 ? worst : worst / scale;
    }

    private static int[] Unravel(int index, int[] lengths)
    {
        var result = new int[lengths.Length];
        for (var a = lengths.Length - 1; a >= 0; a--)
        {
            result[a] = index % lengths[a];
            index /= lengths[a];
        }

        return result;
    }

    private static long Ravel(int[] position, int[] lengths)
    {
        long index = 0;
        for (var a = 0; a < lengths.Length; a++)
        {
            index = index * lengths[a] + position[a];
        }

        return index;
    }
}

internal sealed record BackwardResult(
    [property: JsonPropertyName("case")] string Case,
    [property: JsonPropertyName("pass")] string Pass,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("deconv_ms")] double DeconvMs,
    [property: JsonPropertyName("ort_ms")] double? OrtMs,
    [property: JsonPropertyName("ort_over_deconv")] double? Ratio,
    [property: JsonPropertyName("deconv_gflops")] double Gflops,
    [property: JsonPropertyName("peak_gflops_per_thread")] double PeakGflops,
    [property: JsonPropertyName("percent_of_peak")] double PeakPercent,
    [property: JsonPropertyName("deconv_extra_mb")] double ExtraMegabytes,
    [property: JsonPropertyName("max_rel_diff")] double? MaxRelativeDifference);
