using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Deconv.Engine;

namespace Deconv.Bench;

/// <summary>
/// Runs every case of the bench suite on Deconv's engine and on ONNX Runtime at the same thread counts,
/// checks that they agree, and prints median times, their ratio, GFLOP/s and the share of the measured
/// FMA peak. Usage: <c>Deconv.Bench [--quick] [--backward | --strategies] [--json FILE] [--suite FILE] [--threads 1,2] [--case NAME]</c>;
/// <c>--backward</c> times the training passes instead (<see cref="BackwardBench"/>), <c>--strategies</c> the two
/// implicit-GEMM strategies against each other (<see cref="StrategyBench"/>).
/// </summary>
internal static class Program
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Largest difference from ONNX Runtime, relative to the output's largest magnitude, counted as agreement.</summary>
    private const double MismatchLimit = 1e-5;

    public static int Main(string[] args)
    {
        try
        {
            var backward = args.Contains("--backward");
            var strategies = args.Contains("--strategies");
            var options = BenchOptions.Parse([.. args.Where(a => a is not "--backward" and not "--strategies")]);
            if (backward)
            {
                BackwardBench.Run(options);
                return 0;
            }

            if (strategies)
            {
                StrategyBench.Run(options);
                return 0;
            }

            return Run(options);
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or JsonException or FormatException)
        {
            Console.Error.WriteLine("Deconv.Bench: " + e.Message);
            return 2;
        }
    }

    /// <summary>Runs the suite; returns 1 when Deconv and ONNX Runtime disagree on some case, else 0.</summary>
    private static int Run(BenchOptions options)
    {
        var cases = BenchCase.Load(options.Suite).Where(c => options.Case is null || c.Name == options.Case).ToList();
        if (cases.Count == 0)
        {
            throw new ArgumentException($"no case named '{options.Case}' in {options.Suite}");
        }

        var peak = FmaPeak.SingleThreadGflops();
        Console.WriteLine($"suite {options.Suite}: {cases.Count} cases; {(options.Quick ? "quick" : "full")} run; processors {Environment.ProcessorCount}");
        Console.WriteLine($"measured FMA peak: {peak:F1} GFLOP/s per thread (and again beside each case: the peak column, which % peak uses)");
        Console.WriteLine();
        Console.WriteLine($"{"case",-10} {"thr",3} {"deconv ms",10} {"ort ms",10} {"ort/deconv",10} {"GFLOP/s",8} {"peak",6} {"% peak",7} {"extra MB",9} {"max rel diff",12}  strategy");
        var results = new List<BenchResult>();
        foreach (var c in cases)
        {
            var random = new Random(1);
            var geometry = c.Geometry();
            var x = Random(random, geometry.InputLength);
            var w = Random(random, geometry.WeightLength);
            var bias = Random(random, geometry.OutputChannels);
            var model = OnnxModel.ConvTranspose(c, w, bias);
            foreach (var threads in options.Threads)
            {
                var plan = new ConvTransposePlan(geometry, w, bias, threads);
                var ours = new float[geometry.OutputLength];
                var theirs = new float[geometry.OutputLength];
                using var ort = new OrtRunner(model, x, geometry.InputShape, theirs, geometry.OutputShape, threads);
                // The FMA loop runs in the same rounds: the share of the peak compares like with like on a shared machine.
                var peakSampler = new FmaPeak.Sampler(threads);
                var medians = Medians(options, () => plan.Run(x, ours), ort.Run, peakSampler.Sample);
                var (deconvMs, ortMs, casePeak) = (medians[0], medians[1], peakSampler.Gflops());

                var diff = MaxRelativeDifference(ours, theirs);
                var gflops = c.NeededFlops / (deconvMs / 1e3) / 1e9;
                var result = new BenchResult(c.Name, threads, deconvMs, ortMs, ortMs / deconvMs, gflops, casePeak, 100 * gflops / (casePeak * threads),
                    plan.ExtraFloats * sizeof(float) / 1e6, diff, plan.Strategy.ToString());
                results.Add(result);
                Console.WriteLine($"{c.Name,-10} {threads,3} {deconvMs,10:G4} {ortMs,10:G4} {result.Ratio,10:F2} {gflops,8:F1} {casePeak,6:F1} {result.PeakPercent,7:F1} {result.ExtraMegabytes,9:F2} {diff,12:E1}  {plan.Strategy}{(diff <= MismatchLimit ? "" : "  MISMATCH")}");
            }
        }

        if (options.Json is not null)
        {
            File.WriteAllText(options.Json, JsonSerializer.Serialize(results, JsonOptions));
            Console.WriteLine($"wrote {options.Json}");
        }

        var mismatches = results.Count(r => !(r.MaxRelativeDifference <= MismatchLimit));
        Console.WriteLine(mismatches == 0
            ? $"all {results.Count} results agree with ONNX Runtime (max rel diff {results.Max(r => r.MaxRelativeDifference):E1})"
            : $"{mismatches} of {results.Count} results differ from ONNX Runtime by more than {MismatchLimit:E0}");
        return mismatches == 0 ? 0 : 1;
    }

    /// <summary>
    /// Median wall time in milliseconds of each of <paramref name="runs"/> after warm-up, measured in alternating
    /// rounds (a few samples of each in turn), so that a slower stretch of a shared machine falls on all of them
    /// alike and their ratio stays fair.
    /// </summary>
    internal static double[] Medians(BenchOptions options, params Action[] runs)
    {
        const int SettleMilliseconds = 20; // see the rounds below
        // Warm up by count and by time: .NET compiles a method's optimised code in the background about
        // 100 ms after its 30th call, so a tiny case timed at once would measure unoptimised code.
        var calls = new int[runs.Length];
        for (var r = 0; r < runs.Length; r++)
        {
            var timer = Stopwatch.StartNew();
            for (var i = 0; i < options.Warmup || timer.Elapsed.TotalSeconds < options.WarmupSeconds; i++)
            {
                runs[r]();
            }

            // A sample times enough calls to last at least 50 us, so timer resolution and the clock reads do not matter
            // for tiny cases: the calls are doubled until a batch lasts that long, three times over, and the most calls
            // found are kept (the first batches of a process can be slowed by tens of microseconds). One call timed once
            // had been the measure: the seed cases were then sampled 2-6 calls at a time (each call charged 20-60 ns
            // of the clock reads).
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var batch = 1;
                while (batch < 100_000)
                {
                    if (MillisecondsPerCall(runs[r], batch) * batch >= 0.05)
                    {
                        break;
                    }

                    batch *= 2;
                }

                calls[r] = Math.Max(calls[r], batch);
            }
        }

        var budget = options.Quick ? 0.3 : 2.0; // seconds of measuring per run, beyond the minimum count
        const double round = 0.25; // seconds of one run's samples before the next run's turn
        var times = runs.Select(_ => new List<double>()).ToArray();
        var spent = new double[runs.Length];
        while (times.Any(t => t.Count < options.MinRepetitions) || spent.Any(s => s < budget) && times.All(t => t.Count < 200))
        {
            for (var r = 0; r < runs.Length; r++)
            {
                // The other runs' threads may still be spinning after their round (ONNX Runtime's spin before they sleep):
                // a pause first lets them stop. Without it, unet at 2 threads took 6.4, 7.8 and 8.2 ms in three runs, with
                // it 6.4-6.5 (ORT 6.7-7.1 either way). Then one untimed call: the other runs left their data in the caches.
                Thread.Sleep(SettleMilliseconds);
                runs[r]();
                var roundStart = Stopwatch.GetTimestamp();
                do
                {
                    times[r].Add(MillisecondsPerCall(runs[r], calls[r]));
                }
                while (Stopwatch.GetElapsedTime(roundStart).TotalSeconds < round && times[r].Count < 200);
                spent[r] += Stopwatch.GetElapsedTime(roundStart).TotalSeconds;
            }
        }

        return [.. times.Select(t =>
        {
            t.Sort();
            return t[t.Count / 2];
        })];
    }

    /// <summary>Wall time per call of <paramref name="calls"/> calls; compiled optimised from the start, as the plans' Run are.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static double MillisecondsPerCall(Action run, int calls)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < calls; i++)
        {
            run();
        }

        return (Stopwatch.GetTimestamp() - start) * 1000.0 / Stopwatch.Frequency / calls;
    }

    internal static float[] Random(Random random, long length)
    {
        var values = new float[length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }

    /// <summary>
    /// max |ours - theirs| / max |theirs|: the difference relative to the output's scale (a sum of
    /// thousands of products carries float rounding of that order, even where a value is near zero).
    /// </summary>
    internal static double MaxRelativeDifference(float[] ours, float[] theirs)
    {
        double worst = 0, scale = 0;
        for (var i = 0; i < ours.Length; i++)
        {
            var d = Math.Abs((double)ours[i] - theirs[i]);
            worst = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(worst, d);
            scale = Math.Max(scale, Math.Abs(theirs[i]));
        }

        return scale == 0 ? worst : worst / scale;
    }
}

internal sealed record BenchResult(
    [property: JsonPropertyName("case")] string Case,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("deconv_ms")] double DeconvMs,
    [property: JsonPropertyName("ort_ms")] double OrtMs,
    [property: JsonPropertyName("ort_over_deconv")] double Ratio,
    [property: JsonPropertyName("deconv_gflops")] double Gflops,
    [property: JsonPropertyName("peak_gflops_per_thread")] double PeakGflops,
    [property: JsonPropertyName("percent_of_peak")] double PeakPercent,
    [property: JsonPropertyName("deconv_extra_mb")] double ExtraMegabytes,
    [property: JsonPropertyName("max_rel_diff")] double MaxRelativeDifference,
    [property: JsonPropertyName("strategy")] string Strategy);

internal sealed record BenchOptions(string Suite, bool Quick, string? Json, int[] Threads, string? Case)
{
    public int Warmup => Quick ? 1 : 3;

    public double WarmupSeconds => Quick ? 0.2 : 0.5;

    public int MinRepetitions => Quick ? 3 : 10;

    public static BenchOptions Parse(string[] args)
    {
        string? suite = null, json = null, single = null;
        var quick = false;
        int[] threads = [1, 2];
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--json":
                    json = Value();
                    break;
                case "--suite":
                    suite = Value();
                    break;
                case "--case":
                    single = Value();
                    break;
                case "--threads":
                    threads = [.. Value().Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture))];
                    if (threads.Any(t => t < 1))
                    {
                        throw new ArgumentException("--threads: every count must be at least 1");
                    }

                    break;
                default:
                    throw new ArgumentException($"unknown argument '{args[i]}' (use --quick, --json FILE, --suite FILE, --threads 1,2, --case NAME)");
            }
        }

        suite ??= DefaultSuite();
        if (!File.Exists(suite))
        {
            throw new FileNotFoundException($"suite file {suite} not found (give --suite FILE)");
        }

        return new BenchOptions(suite, quick, json, threads, single);
    }

    /// <summary>../shared/bench/suite.json beside the repository root (found from here or from the binary).</summary>
    private static string DefaultSuite()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Deconv.slnx")))
                {
                    return Path.Combine(dir.FullName, "..", "shared", "bench", "suite.json");
                }
            }
        }

        return Path.Combine("..", "shared", "bench", "suite.json");
    }
}
