using Deconv.Engine;

namespace Deconv.Tests.Engine;

public class WorkerPoolTests
{
    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 1)]
    [InlineData(2, 37)]
    [InlineData(4, 1000)]
    public void Every_piece_runs_once_whatever_the_thread_count(int threads, int count)
    {
        for (var round = 0; round < 50; round++)
        {
            var runs = new int[count];
            WorkerPool.For(count, threads, i => Interlocked.Increment(ref runs[i]));
            Assert.All(runs, r => Assert.Equal(1, r));
        }
    }

    [Fact]
    public void An_exception_in_a_piece_reaches_the_caller_after_every_other_piece_ran()
    {
        var runs = new int[64];
        var error = Assert.Throws<AggregateException>(() => WorkerPool.For(64, 2, i =>
        {
            Interlocked.Increment(ref runs[i]);
            if (i == 5)
            {
                throw new InvalidOperationException("piece 5");
            }
        }));
        Assert.Equal("piece 5", Assert.IsType<InvalidOperationException>(error.InnerException).Message);
        Assert.All(runs, r => Assert.Equal(1, r));

        // The pool still works afterwards.
        var sum = 0L;
        WorkerPool.For(100, 2, i => Interlocked.Add(ref sum, i));
        Assert.Equal(4950, sum);
    }

    [Fact]
    public void An_exception_in_a_loop_started_inside_a_loop_reaches_its_caller_after_every_other_piece_ran()
    {
        // A loop started inside a loop's body (or while another thread's loop runs) goes through the thread pool.
        var runs = new int[64];
        AggregateException? error = null;
        WorkerPool.For(2, 2, outer =>
        {
            if (outer == 0)
            {
                error = Assert.Throws<AggregateException>(() => WorkerPool.For(64, 2, i =>
                {
                    Interlocked.Increment(ref runs[i]);
                    if (i == 5)
                    {
                        throw new InvalidOperationException("piece 5");
                    }
                }));
            }
        });
        Assert.Equal("piece 5", Assert.IsType<InvalidOperationException>(error!.InnerException).Message);
        Assert.All(runs, r => Assert.Equal(1, r));
    }

    [Fact]
    public void Loops_started_together_on_several_threads_and_inside_a_loop_all_complete()
    {
        // One loop at a time uses the workers; the others (and one started from inside a piece) take the thread pool.
        var totals = new long[4];
        Parallel.For(0, 4, t =>
        {
            for (var round = 0; round < 20; round++)
            {
                WorkerPool.For(50, 2, i =>
                {
                    Interlocked.Add(ref totals[t], i);
                    if (i == 0)
                    {
                        WorkerPool.For(10, 2, j => Interlocked.Add(ref totals[t], 1000));
                    }
                });
            }
        });
        Assert.All(totals, total => Assert.Equal(20 * (1225 + 10_000), total));
    }

    [Fact]
    public void Plans_run_from_several_threads_at_once_give_the_bits_of_one_thread()
    {
        var c = EngineCases.WithData(new Random(21), new ConvGeometry(4, 16, 24, 1,
            [new AxisGeometry(12, 4, 2, 1, 1, 24), new AxisGeometry(40, 4, 2, 1, 1, 80)]), bias: true);
        var expected = c.RunEngine(1, null);
        Parallel.For(0, 4, _ =>
        {
            var plan = c.Plan(2, null, parallelLimit: 0);
            Assert.True(plan.RunsInParallel);
            for (var round = 0; round < 5; round++)
            {
                Assert.Equal(expected, plan.Run(c.X));
            }
        });
    }
}
