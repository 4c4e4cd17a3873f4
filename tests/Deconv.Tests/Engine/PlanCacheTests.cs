using Deconv.Engine;
using Deconv.Reference;

namespace Deconv.Tests.Engine;

[Collection(ProcessWideState.Name)]
public class PlanCacheTests
{
    private static readonly ConvGeometry Geometry = new(2, 3, 4, 1, [new AxisGeometry(5, 3, 2, 1, 1, 9), new AxisGeometry(4, 2, 1, 1, 0, 5)]);

    private static float[] Data(long n, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, (int)n).Select(_ => random.Next(-8, 9) / 8f)];
    }

    [Fact]
    public void The_same_weights_reuse_the_packed_plan()
    {
        PlanCache.Clear();
        var (x, w) = (Data(Geometry.InputLength, 1), Data(Geometry.WeightLength, 2));
        var first = ConvOps.Transpose<float>(Geometry, x, w, []);
        var entry = PlanCache.Rent(Geometry, w, WeightLayout.Canonical, [], ConvOps.Threads);
        PlanCache.Return(entry);
        Assert.Equal(1, PlanCache.Count);
        Assert.Same(entry, PlanCache.Rent(Geometry, w.ToArray(), WeightLayout.Canonical, [], ConvOps.Threads)); // equal contents, another array
        Assert.Equal(first, ScatterView.ConvTranspose<float>(Geometry, x, w, []));
    }

    [Fact]
    public void A_weight_changed_in_place_is_seen()
    {
        PlanCache.Clear();
        var (x, w) = (Data(Geometry.InputLength, 3), Data(Geometry.WeightLength, 4));
        Assert.Equal(ScatterView.ConvTranspose<float>(Geometry, x, w, []), ConvOps.Transpose<float>(Geometry, x, w, []));
        w[7] += 1;
        Assert.Equal(ScatterView.ConvTranspose<float>(Geometry, x, w, []), ConvOps.Transpose<float>(Geometry, x, w, []));
        float[] bias = [1, 2, 3, 4];
        Assert.Equal(ScatterView.ConvTranspose<float>(Geometry, x, w, bias), ConvOps.Transpose<float>(Geometry, x, w, bias));
    }

    [Fact]
    public void Concurrent_calls_never_share_a_plan()
    {
        PlanCache.Clear();
        var (x, w) = (Data(Geometry.InputLength, 5), Data(Geometry.WeightLength, 6));
        var expected = ScatterView.ConvTranspose<float>(Geometry, x, w, []);
        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ => Assert.Equal(expected, ConvOps.Transpose<float>(Geometry, x, w, [])));
        Assert.InRange(PlanCache.Count, 1, 8);
    }

    [Fact]
    public void The_cache_keeps_at_most_eight_plans()
    {
        PlanCache.Clear();
        var x = Data(Geometry.InputLength, 7);
        for (var seed = 0; seed < 20; seed++)
        {
            ConvOps.Transpose<float>(Geometry, x, Data(Geometry.WeightLength, 100 + seed), []);
        }

        Assert.Equal(8, PlanCache.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(0)]
    public void Thread_count_setting_gives_identical_bits(int threads)
    {
        var big = new ConvGeometry(2, 16, 8, 1, [new AxisGeometry(16, 4, 2, 1, 1, 32), new AxisGeometry(16, 4, 2, 1, 1, 32)]);
        var (x, w) = (Data(big.InputLength, 8), Data(big.WeightLength, 9));
        var before = ConvOps.Threads;
        try
        {
            ConvOps.Threads = 1;
            var one = ConvOps.Transpose<float>(big, x, w, []);
            ConvOps.Threads = threads;
            Assert.Equal(one, ConvOps.Transpose<float>(big, x, w, []));
        }
        finally
        {
            ConvOps.Threads = before;
        }
    }

    [Fact]
    public void Negative_threads_are_an_error()
    {
        var e = Assert.Throws<ConvolutionArgumentException>(() => ConvOps.Threads = -1);
        Assert.Contains("threads is -1", e.Message, StringComparison.Ordinal);
    }
}
