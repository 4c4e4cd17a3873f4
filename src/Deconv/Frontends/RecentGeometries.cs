namespace Deconv;

/// <summary>
/// The geometries a front end's one-shot calls validated most recently, each under the key of the arguments it
/// was validated from, so that a call repeated with equal arguments (a layer in an inference loop) skips the
/// validation and its allocations. Validation is a function of the key alone, so a hit gives exactly the geometry
/// a new validation would. Only geometries that passed are kept: bad arguments are checked, and throw, on every call.
/// </summary>
/// <remarks>Entries are immutable and a slot changes by one reference write, so lookups need no lock.</remarks>
internal sealed class RecentGeometries
{
    private const int Slots = 8;
    private readonly Entry?[] _entries = new Entry?[Slots];
    private int _added;

    /// <summary>The geometry validated from arguments equal to the key's, or null.</summary>
    public ConvGeometry? Find(in ArgumentKey key)
    {
        if (!key.IsComplete)
        {
            return null;
        }

        foreach (var entry in _entries)
        {
            if (entry is not null && key.Values.SequenceEqual(entry.Key))
            {
                return entry.Geometry;
            }
        }

        return null;
    }

    /// <summary>Keeps the geometry under the key (replacing the oldest entry) and returns it.</summary>
    public ConvGeometry Add(in ArgumentKey key, ConvGeometry geometry)
    {
        if (key.IsComplete)
        {
            var slot = (int)((uint)Interlocked.Increment(ref _added) % Slots);
            Volatile.Write(ref _entries[slot], new Entry(key.Values.ToArray(), geometry));
        }

        return geometry;
    }

    private sealed record Entry(long[] Key, ConvGeometry Geometry);
}

/// <summary>
/// A call's arguments written as one sequence of longs, so that two calls' arguments compare with one span
/// comparison and without allocating. Every value is preceded by its length, or -1 for null, so different
/// arguments never give equal sequences. Arguments too long for the buffer make the key incomplete (never found).
/// </summary>
internal ref struct ArgumentKey(Span<long> buffer)
{
    /// <summary>Longs to stack-allocate for a key; enough for the arguments of any 3-D convolution.</summary>
    public const int Capacity = 96;

    private readonly Span<long> _buffer = buffer;
    private int _count;
    private bool _overflowed;

    public readonly bool IsComplete => !_overflowed;

    public readonly ReadOnlySpan<long> Values => _buffer[.._count];

    /// <summary>The next <paramref name="count"/> (at least 1) places, or an empty span once the buffer is full (one check per argument, not per value).</summary>
    private Span<long> Reserve(int count)
    {
        if (_overflowed || count > _buffer.Length - _count)
        {
            _overflowed = true;
            return [];
        }

        var slot = _buffer.Slice(_count, count);
        _count += count;
        return slot;
    }

    public void Add(long value)
    {
        var slot = Reserve(1);
        if (!slot.IsEmpty)
        {
            slot[0] = value;
        }
    }

    public void Add(ReadOnlySpan<nint> lengths)
    {
        var slot = Reserve(1 + lengths.Length);
        if (!slot.IsEmpty)
        {
            slot[0] = lengths.Length;
            var values = slot[1..];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = lengths[i];
            }
        }
    }

    public void Add(IReadOnlyList<long>? values)
    {
        if (values is null)
        {
            Add(-1);
            return;
        }

        var slot = Reserve(1 + values.Count);
        if (!slot.IsEmpty)
        {
            slot[0] = values.Count;
            var items = slot[1..];
            if (values is long[] array)
            {
                array.CopyTo(items);
                return;
            }

            for (var i = 0; i < items.Length; i++)
            {
                items[i] = values[i];
            }
        }
    }

    public void Add(string? text)
    {
        if (text is null)
        {
            Add(-1);
            return;
        }

        var slot = Reserve(1 + text.Length);
        if (!slot.IsEmpty)
        {
            slot[0] = text.Length;
            var chars = slot[1..];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = text[i];
            }
        }
    }

    public void Add(TfPadding? padding)
    {
        if (padding is null)
        {
            Add(-1);
            return;
        }

        Add(padding.Kind);
        var pairs = padding.Pairs;
        Add(pairs?.Count ?? -1);
        for (var i = 0; i < pairs?.Count; i++)
        {
            Add(pairs[i]);
        }
    }
}
