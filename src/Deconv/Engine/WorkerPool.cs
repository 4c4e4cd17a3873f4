using System.Diagnostics;

namespace Deconv.Engine;

/// <summary>
/// The plans' parallel loops: background threads that, after each loop, spin for a moment waiting for the
/// next one before they sleep. A plan's run is short (0.5-20 ms) and runs come back to back, and waking a
/// sleeping thread-pool thread took 0.1-1 ms on the project's machine (a virtual machine), often longer than
/// the worker's share of the work: a 2-thread loop of 16 pieces of 150 us ran in 1.7-2.4 ms instead of
/// 1.2 ms through <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>, and in 1.21 ms here.
/// ONNX Runtime's threads spin the same way.
/// </summary>
/// <remarks>
/// The calling thread works too; pieces are handed out one at a time, so which thread runs which piece
/// varies, and the plans make every piece write its own outputs, so results do not depend on it. One loop
/// runs at a time: a loop started while another runs (plans used from several threads) goes through
/// <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> instead.
/// </remarks>
internal static class WorkerPool
{
    /// <summary>How long a worker spins for the next loop before it sleeps: 1 ms.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000;

    private static readonly object Gate = new();
    private static readonly object StartLock = new();
    private static Worker[] _workers = [];
    private static Job? _job; // the loop in progress
    private static int _generation; // counts loops, so that a worker sees a new one

    /// <summary>
    /// <c>body(i)</c> for every i below <paramref name="count"/>, on the calling thread and up to
    /// <paramref name="threads"/> - 1 workers (at most one thread per processor); returns when all have finished,
    /// rethrowing the first exception in an <see cref="AggregateException"/>. (On one thread the pieces run in turn and an
    /// exception leaves at once.)
    /// </summary>
    public static void For(int count, int threads, Action<int> body)
    {
        // More threads than processors would only take turns (and spinning ones would take the working ones' turns).
        var helpers = Math.Min(Math.Min(threads, count), Environment.ProcessorCount) - 1;
        if (helpers <= 0)
        {
            for (var i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        // A loop from inside a loop's body (the lock is reentrant), or while another thread's loop runs: the thread pool,
        // every piece run as here even when one throws (Parallel.For itself would stop starting pieces).
        if (Monitor.IsEntered(Gate) || !Monitor.TryEnter(Gate))
        {
            Exception? firstError = null;
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                try
                {
                    body(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref firstError, e, null);
                }
            });
            if (firstError is not null)
            {
                throw new AggregateException(firstError);
            }

            return;
        }

        try
        {
            var workers = Workers(helpers);
            var job = new Job(body, count, helpers);
            Volatile.Write(ref _job, job);
            Interlocked.Increment(ref _generation);
            foreach (var worker in workers)
            {
                worker.Wake();
            }

            job.Work();
            var spin = new SpinWait();
            while (Volatile.Read(ref job.Remaining) > 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }

            Volatile.Write(ref _job, null);
            if (job.Error is { } error)
            {
                throw new AggregateException(error);
            }
        }
        finally
        {
            Monitor.Exit(Gate);
        }
    }

    /// <summary>
    /// <c>body(i)</c> for every i below <paramref name="count"/>, handed out in contiguous runs, a few per thread:
    /// neighbouring work items share inputs or weights (see each plan's item order), so a thread keeps them in its
    /// own cache, and each run costs one hand-out.
    /// </summary>
    public static void ForRuns(int count, int threads, Action<int> body)
    {
        var runs = Math.Min(count, 8 * threads);
        For(runs, threads, run =>
        {
            for (var i = (int)((long)count * run / runs); i < (int)((long)count * (run + 1) / runs); i++)
            {
                body(i);
            }
        });
    }

    /// <summary>At least <paramref name="count"/> workers, started on first use.</summary>
    private static Worker[] Workers(int count)
    {
        if (_workers.Length >= count)
        {
            return _workers;
        }

        lock (StartLock)
        {
            var workers = _workers;
            if (workers.Length < count)
            {
                workers = [.. workers, .. Enumerable.Range(workers.Length, count - workers.Length).Select(i => new Worker(i))];
                Volatile.Write(ref _workers, workers);
            }

            return workers;
        }
    }

    /// <summary>One loop: its pieces are taken one at a time by the caller and at most <see cref="_helpers"/> workers.</summary>
    private sealed class Job
    {
        private readonly Action<int> _body;
        private readonly int _count, _helpers;
        private int _next;
        private int _joined;
        public int Remaining;
        public Exception? Error;

        public Job(Action<int> body, int count, int helpers)
        {
            (_body, _count, _helpers) = (body, count, helpers);
            Remaining = count;
        }

        /// <summary>Whether one more worker may help (at most the loop's thread count in all).</summary>
        public bool Join() => Interlocked.Increment(ref _joined) <= _helpers;

        public void Work()
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < _count)
            {
                try
                {
                    _body(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref Error, e, null);
                }

                Interlocked.Decrement(ref Remaining);
            }
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Workers live as long as the process.")]
    private sealed class Worker
    {
        private readonly SemaphoreSlim _signal = new(0);
        private int _sleeping; // 1 while waiting on the signal

        public Worker(int number)
        {
            new Thread(Loop) { IsBackground = true, Name = $"Deconv worker {number}" }.Start();
        }

        /// <summary>Signals the worker if it sleeps (a spinning one sees the new loop by itself).</summary>
        public void Wake()
        {
            if (Interlocked.Exchange(ref _sleeping, 0) == 1)
            {
                _signal.Release();
            }
        }

        private void Loop()
        {
            var seen = Volatile.Read(ref _generation);
            while (true)
            {
                var started = Stopwatch.GetTimestamp();
                while (Volatile.Read(ref _generation) == seen)
                {
                    if (Stopwatch.GetTimestamp() - started < SpinTicks)
                    {
                        Thread.SpinWait(20);
                        continue;
                    }

                    // Sleep until the next loop; check once more after announcing it, so that a loop started
                    // in between is not missed (a signal that arrives anyway only makes this wait return early).
                    Volatile.Write(ref _sleeping, 1);
                    if (Volatile.Read(ref _generation) == seen)
                    {
                        _signal.Wait();
                    }

                    Volatile.Write(ref _sleeping, 0);
                    started = Stopwatch.GetTimestamp();
                }

                seen = Volatile.Read(ref _generation);
                if (Volatile.Read(ref _job) is { } job && job.Join())
                {
                    job.Work();
                }
            }
        }
    }
}
