using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Deconv.Engine;

namespace Deconv.Bench;

/// <summary>Measures one core's float32 FMA throughput with a register-blocked loop of independent FMAs.</summary>
internal static class FmaPeak
{
    /// <summary>GFLOP/s of one thread (an FMA counts as 2 flops), best of several runs.</summary>
    public static double SingleThreadGflops()
    {
        const long iterations = 20_000_000;
        Loop(1000); // compile optimised
        var best = 0.0;
        for (var run = 0; run < 5; run++)
        {
            var timer = Stopwatch.StartNew();
            var sink = Loop(iterations);
            var seconds = timer.Elapsed.TotalSeconds;
            GC.KeepAlive(sink);
            best = Math.Max(best, iterations * 12.0 * 2 * Width / seconds / 1e9);
        }

        return best;
    }

    /// <summary>Iterations of one sample of <see cref="Sampler"/>: about 0.3 ms.</summary>
    private const long SampleIterations = 200_000;

    /// <summary>
    /// The FMA loop timed beside a case in the same rounds (<see cref="Program.Medians"/>), on as many threads as the
    /// case runs on, all at once: with both cores busy a core runs the loop about 5% slower than alone (268 against
    /// 282 GFLOP/s here), so a 2-thread case is measured against what two busy cores can do. Each thread times its
    /// own loop; a thread that starts late leaves the other a stretch alone, which only raises the peak.
    /// </summary>
    internal sealed class Sampler(int threads)
    {
        private readonly List<double> _milliseconds = [];

        public void Sample()
        {
            if (threads == 1)
            {
                Record(TimedLoop());
                return;
            }

            WorkerPool.For(threads, threads, _ => Record(TimedLoop()));
        }

        /// <summary>GFLOP/s of one thread: the median of the loops' own times.</summary>
        public double Gflops()
        {
            lock (_milliseconds)
            {
                var sorted = _milliseconds.Order().ToList();
                return SampleIterations * 12.0 * 2 * Width / (sorted[sorted.Count / 2] * 1e6);
            }
        }

        private static double TimedLoop()
        {
            var start = Stopwatch.GetTimestamp();
            GC.KeepAlive(Loop(SampleIterations));
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        private void Record(double milliseconds)
        {
            lock (_milliseconds)
            {
                _milliseconds.Add(milliseconds);
            }
        }
    }

    private static int Width => Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 4;

    private static float Loop(long iterations) => Width switch
    {
        16 => Loop512(iterations),
        8 => Loop256(iterations),
        _ => Loop128(iterations),
    };

    // Twelve independent accumulators hide the FMA latency (4 cycles x 2 pipes needs at least 8).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long iterations)
    {
        var m = Vector512.Create(0.999999f);
        var b = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, b); a1 = Vector512.FusedMultiplyAdd(a1, m, b); a2 = Vector512.FusedMultiplyAdd(a2, m, b);
            a3 = Vector512.FusedMultiplyAdd(a3, m, b); a4 = Vector512.FusedMultiplyAdd(a4, m, b); a5 = Vector512.FusedMultiplyAdd(a5, m, b);
            a6 = Vector512.FusedMultiplyAdd(a6, m, b); a7 = Vector512.FusedMultiplyAdd(a7, m, b); a8 = Vector512.FusedMultiplyAdd(a8, m, b);
            a9 = Vector512.FusedMultiplyAdd(a9, m, b); a10 = Vector512.FusedMultiplyAdd(a10, m, b); a11 = Vector512.FusedMultiplyAdd(a11, m, b);
        }

        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var b = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, b); a1 = Vector256.FusedMultiplyAdd(a1, m, b); a2 = Vector256.FusedMultiplyAdd(a2, m, b);
            a3 = Vector256.FusedMultiplyAdd(a3, m, b); a4 = Vector256.FusedMultiplyAdd(a4, m, b); a5 = Vector256.FusedMultiplyAdd(a5, m, b);
            a6 = Vector256.FusedMultiplyAdd(a6, m, b); a7 = Vector256.FusedMultiplyAdd(a7, m, b); a8 = Vector256.FusedMultiplyAdd(a8, m, b);
            a9 = Vector256.FusedMultiplyAdd(a9, m, b); a10 = Vector256.FusedMultiplyAdd(a10, m, b); a11 = Vector256.FusedMultiplyAdd(a11, m, b);
        }

        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop128(long iterations)
    {
        var m = Vector128.Create(0.999999f);
        var b = Vector128.Create(1e-7f);
        Vector128<float> a0 = Vector128.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector128.FusedMultiplyAdd(a0, m, b); a1 = Vector128.FusedMultiplyAdd(a1, m, b); a2 = Vector128.FusedMultiplyAdd(a2, m, b);
            a3 = Vector128.FusedMultiplyAdd(a3, m, b); a4 = Vector128.FusedMultiplyAdd(a4, m, b); a5 = Vector128.FusedMultiplyAdd(a5, m, b);
            a6 = Vector128.FusedMultiplyAdd(a6, m, b); a7 = Vector128.FusedMultiplyAdd(a7, m, b); a8 = Vector128.FusedMultiplyAdd(a8, m, b);
            a9 = Vector128.FusedMultiplyAdd(a9, m, b); a10 = Vector128.FusedMultiplyAdd(a10, m, b); a11 = Vector128.FusedMultiplyAdd(a11, m, b);
        }

        return Vector128.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
