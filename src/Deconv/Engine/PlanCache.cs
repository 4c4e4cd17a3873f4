namespace Deconv.Engine;

/// <summary>
/// The few most recent <see cref="ConvTransposePlan"/>s that the one-shot <see cref="ConvOps.Transpose{T}"/> made,
/// so that calling it again with the same geometry and weights (a layer in an inference loop) does not pack the
/// weights again. An entry keeps a copy of its weights (in the layout the caller gave them) and bias and is used
/// only when they are equal element by element, so changing a weight array in place is always seen. A plan is
/// taken while it runs, so two threads never share one.
/// </summary>
/// <remarks>
/// A call that finds its plan takes no lock (two locks cost more than a tiny plan's run): the entries are an array
/// that is replaced, never changed, and an entry is taken with one atomic exchange. The lock is taken only to
/// add an entry. Recency is a stamp written without synchronisation; a lost update only changes which entry
/// leaves first.
/// </remarks>
internal static class PlanCache
{
    /// <summary>Plans kept at most.</summary>
    private const int MaxPlans = 8;

    /// <summary>Weights kept at most, in floats, counting the copy and the packed panel (about 2 GB would be 2^29).</summary>
    private const long MaxFloats = 1L << 26;

    private static readonly Lock Gate = new(); // taken to replace the array
    private static Entry[] _entries = [];
    private static long _clock; // the last recency stamp given

    /// <summary>A plan for the geometry, weight (in <paramref name="layout"/>), bias and thread count: a cached one if they are equal, else a new one.</summary>
    public static Entry Rent(ConvGeometry geometry, ReadOnlySpan<float> weight, WeightLayout layout, ReadOnlySpan<float> bias, int threads)
    {
        threads = Threads(threads);
        foreach (var e in Volatile.Read(ref _entries))
        {
            if (e.Plan.Geometry.Equals(geometry) && e.Plan.Threads == threads && e.Layout == layout &&
                e.Weight.AsSpan().SequenceEqual(weight) && e.Bias.AsSpan().SequenceEqual(bias) && e.TryTake())
            {
                return e;
            }
        }

        var canonical = layout == WeightLayout.Canonical ? weight : ConvOps.Canonical(geometry, weight, layout);
        return new Entry(weight.ToArray(), layout, bias.ToArray(), new ConvTransposePlan(geometry, canonical, bias, threads));
    }

    /// <summary>Puts a plan back after its run; a new one goes in first, and the least recently used ones leave when the cache is full.</summary>
    public static void Return(Entry entry)
    {
        entry.LastUsed = ++_clock;
        if (Array.IndexOf(Volatile.Read(ref _entries), entry) < 0)
        {
            lock (Gate)
            {
                List<Entry> kept = [entry];
                var floats = entry.Floats;
                foreach (var e in _entries.OrderByDescending(e => e.LastUsed))
                {
                    if (kept.Count < MaxPlans && floats + e.Floats <= MaxFloats)
                    {
                        kept.Add(e);
                        floats += e.Floats;
                    }
                }

                Volatile.Write(ref _entries, [.. kept]);
            }
        }

        entry.Release();
    }

    /// <summary>Empties the cache.</summary>
    public static void Clear()
    {
        lock (Gate)
        {
            Volatile.Write(ref _entries, []);
        }
    }

    /// <summary>Plans held now.</summary>
    public static int Count => Volatile.Read(ref _entries).Length;

    private static int Threads(int threads) => threads == 0 ? Environment.ProcessorCount : threads;

    /// <summary>A cached plan with the weights (in <see cref="Layout"/>) and bias it was made from; taken by the thread running it.</summary>
    internal sealed class Entry(float[] weight, WeightLayout layout, float[] bias, ConvTransposePlan plan)
    {
        private int _taken = 1; // a new entry belongs to the thread that made it

        public float[] Weight { get; } = weight;

        public WeightLayout Layout { get; } = layout;

        public float[] Bias { get; } = bias;

        public ConvTransposePlan Plan { get; } = plan;

        public long Floats => Weight.LongLength + Plan.ExtraFloats;

        /// <summary>The recency stamp of the last <see cref="Return"/>.</summary>
        public long LastUsed { get; set; }

        /// <summary>Takes the entry if no thread has it.</summary>
        public bool TryTake() => Interlocked.Exchange(ref _taken, 1) == 0;

        public void Release() => Volatile.Write(ref _taken, 0);
    }
}
