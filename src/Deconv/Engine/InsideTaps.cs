namespace Deconv.Engine;

/// <summary>
/// Which kernel taps of each output position read inside the data rather than its zero padding, found once per plan,
/// so that the tiles can run over those taps alone: the padding only ever adds products of zero.
/// </summary>
internal static class InsideTaps
{
    /// <summary>
    /// Positions 0 to <paramref name="positions"/> - 1 of an axis in runs that read the same taps: positions [First, First + Count),
    /// whose taps From to To - 1 of <paramref name="taps"/> are <paramref name="inside"/> (position, tap). A position's inside
    /// taps must be consecutive, as they are where taps step the read one way along the axis.
    /// </summary>
    public static (int First, int Count, int From, int To)[] Runs(int positions, int taps, Func<int, int, bool> inside)
    {
        var runs = new List<(int First, int Count, int From, int To)>();
        for (var u = 0; u < positions; u++)
        {
            var from = 0;
            while (from < taps && !inside(u, from))
            {
                from++;
            }

            var to = from;
            while (to < taps && inside(u, to))
            {
                to++;
            }

            if (runs.Count > 0 && runs[^1].From == from && runs[^1].To == to)
            {
                runs[^1] = runs[^1] with { Count = runs[^1].Count + 1 };
            }
            else
            {
                runs.Add((u, 1, from, to));
            }
        }

        return [.. runs];
    }

    /// <summary>
    /// The taps numbered <c>(k0*taps1 + k1)*taps2 + k2</c> (the order of every sum) for k0, k1 and k2 in
    /// [From, To) of <paramref name="axis0"/>, <paramref name="axis1"/> and <paramref name="axis2"/>, as runs of consecutive
    /// numbers (Start, Length) in ascending order.
    /// </summary>
    public static (int Start, int Length)[] Numbers((int From, int To) axis0, (int From, int To) axis1, (int From, int To) axis2, int taps1, int taps2)
    {
        var runs = new List<(int Start, int Length)>();
        var length = axis2.To - axis2.From;
        for (var k0 = axis0.From; k0 < axis0.To && length > 0; k0++)
        for (var k1 = axis1.From; k1 < axis1.To; k1++)
        {
            var start = (k0 * taps1 + k1) * taps2 + axis2.From;
            if (runs.Count > 0 && runs[^1].Start + runs[^1].Length == start)
            {
                runs[^1] = (runs[^1].Start, runs[^1].Length + length);
            }
            else
            {
                runs.Add((start, length));
            }
        }

        return [.. runs];
    }
}
