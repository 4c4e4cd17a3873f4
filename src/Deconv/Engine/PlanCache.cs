namespace Deconv.Engine;

/// <summary>
/// The few most recent <see cref="ConvTransposePlan"/>s that the one-shot <see cref="ConvOps.Transpose{T}"/> made,
/// so that calling it again with the same geometry and weights (a layer in an inference loop) does not pack the
/// weights again. An entry keeps a copy of its weights (in the layout the caller gave them) and bias and is used
/// only when they are equal element by element, so changing a weight array in place is always seen. A plan is taken out while it runs, so two
/// threads never share one.
/// </summary>
internal static class PlanCache
{
    /// <summary>Plans kept at most.</summary>
    private const int MaxPlans = 8;

    /// <summary>Weights kept at most, in floats, counting the copy and the packed panel (about 2 GB would be 2^29).</summary>
    private const long MaxFloats = 1L << 26;

    private static readonly Lock Gate = new();
    private static readonly LinkedList<Entry> Entries = []; // most recently used first

    /// <summary>A plan for the geometry, weight (in <paramref name="layout"/>), bias and thread count: a cached one if they are equal, else a new one.</summary>
    public static Entry Rent(ConvGeometry geometry, ReadOnlySpan<float> weight, WeightLayout layout, ReadOnlySpan<float> bias, int threads)
    {
        lock (Gate)
        {
            for (var node = Entries.First; node is not null; node = node.Next)
            {
                var e = node.Value;
                if (e.Plan.Geometry.Equals(geometry) && e.Plan.Threads == Threads(threads) && e.Layout == layout && e.Weight.AsSpan().SequenceEqual(weight) && e.Bias.AsSpan().SequenceEqual(bias))
                {
                    Entries.Remove(node);
                    return e;
                }
            }
        }

        var canonical = layout == WeightLayout.Canonical ? weight : ConvOps.Canonical(geometry, weight, layout);
        return new Entry(weight.ToArray(), layout, bias.ToArray(), new ConvTransposePlan(geometry, canonical, bias, threads));
    }

    /// <summary>Puts a plan back after its run; the least recently used ones leave when the cache is full.</summary>
    public static void Return(Entry entry)
    {
        lock (Gate)
        {
            Entries.AddFirst(entry);
            var floats = 0L;
            for (var node = Entries.First; node is not null;)
            {
                var next = node.Next;
                floats += node.Value.Floats;
                if (node != Entries.First && (floats > MaxFloats || Entries.Count > MaxPlans))
                {
                    floats -= node.Value.Floats;
                    Entries.Remove(node);
                }

                node = next;
            }
        }
    }

    /// <summary>Empties the cache.</summary>
    public static void Clear()
    {
        lock (Gate)
        {
            Entries.Clear();
        }
    }

    /// <summary>Plans held now.</summary>
    public static int Count
    {
        get
        {
            lock (Gate)
            {
                return Entries.Count;
            }
        }
    }

    private static int Threads(int threads) => threads == 0 ? Environment.ProcessorCount : threads;

    /// <summary>A cached plan with the weights (in <paramref name="Layout"/>) and bias it was made from.</summary>
    internal sealed record Entry(float[] Weight, WeightLayout Layout, float[] Bias, ConvTransposePlan Plan)
    {
        public long Floats => Weight.LongLength + Plan.ExtraFloats;
    }
}
