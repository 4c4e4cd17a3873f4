namespace Deconv;

/// <summary>
/// TensorFlow's <c>padding</c> argument: <c>"VALID"</c>, <c>"SAME"</c> or explicit
/// <c>[[before, after], ...]</c> pairs (one per dimension in <c>data_format</c> order, batch and channel
/// pairs <c>[0, 0]</c>; or one per spatial axis).
/// </summary>
public sealed class TfPadding
{
    private TfPadding(string kind, long[][]? pairs)
    {
        Kind = kind;
        Pairs = pairs;
    }

    /// <summary>No padding: every window lies inside the input.</summary>
    public static TfPadding Valid { get; } = new("VALID", null);

    /// <summary>Output size <c>ceil(input/stride)</c>; the odd extra padding goes at the end.</summary>
    public static TfPadding Same { get; } = new("SAME", null);

    /// <summary><c>"VALID"</c>, <c>"SAME"</c> or <c>"EXPLICIT"</c>.</summary>
    public string Kind { get; }

    /// <summary>The explicit <c>[before, after]</c> pairs, or null.</summary>
    public IReadOnlyList<long[]>? Pairs { get; }

    /// <summary>Explicit padding pairs.</summary>
    public static TfPadding Explicit(params long[][] pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        return new("EXPLICIT", [.. pairs.Select(p => p?.ToArray() ?? throw new ArgumentNullException(nameof(pairs)))]);
    }

    /// <summary>Parses <c>"VALID"</c> or <c>"SAME"</c> (any case).</summary>
    /// <exception cref="ConvolutionArgumentException">Any other text.</exception>
    public static TfPadding Parse(string text) => text?.ToUpperInvariant() switch
    {
        "VALID" => Valid,
        "SAME" => Same,
        _ => throw new ConvolutionArgumentException($"padding must be either VALID or SAME (or explicit pairs), but got '{text}'", "padding"),
    };

    /// <summary>Converts <c>"VALID"</c> or <c>"SAME"</c>.</summary>
    public static implicit operator TfPadding(string text) => Parse(text);

    /// <summary>Converts explicit pairs.</summary>
    public static implicit operator TfPadding(long[][] pairs) => Explicit(pairs);

    /// <summary>Same as the implicit conversion from a string.</summary>
    public static TfPadding FromString(string text) => Parse(text);

    /// <inheritdoc />
    public override string ToString() => Pairs is null ? Kind : "[" + string.Join(", ", Pairs.Select(p => FrontEnd.Format(p))) + "]";

    /// <summary>Per spatial axis (before, after) for explicit padding, checked against the layout.</summary>
    internal (int Before, int After)[] SpatialPairs(string op, int rank, bool channelsLast)
    {
        var pairs = Pairs!;
        IEnumerable<long[]> spatial;
        if (pairs.Count == rank + 2)
        {
            var channel = channelsLast ? rank + 1 : 1;
            if (pairs[0].Length != 2 || pairs[channel].Length != 2 || pairs[0].Any(v => v != 0) || pairs[channel].Any(v => v != 0))
            {
                throw FrontEnd.Error(op, "padding", $"explicit padding {this} pads the batch or channel dimension; those pairs must be [0, 0]");
            }

            spatial = pairs.Where((_, i) => i != 0 && i != channel);
        }
        else if (pairs.Count == rank)
        {
            spatial = pairs;
        }
        else
        {
            throw FrontEnd.Error(op, "padding", $"explicit padding {this} has {pairs.Count} pairs but must have {rank + 2} (one per dimension) or {rank} (one per spatial axis)");
        }

        return [.. spatial.Select((p, i) =>
        {
            if (p.Length != 2)
            {
                throw FrontEnd.Error(op, "padding", $"explicit padding {this}: entry {i} must be a [before, after] pair");
            }

            if (p[0] < 0 || p[1] < 0)
            {
                throw FrontEnd.Error(op, "padding", $"explicit padding {this}: all paddings must be >= 0, but got {FrontEnd.Format(p)} for spatial axis {i}");
            }

            return (FrontEnd.ToInt(op, "padding", p[0], "padding"), FrontEnd.ToInt(op, "padding", p[1], "padding"));
        })];
    }
}
