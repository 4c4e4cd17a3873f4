namespace Deconv;

/// <summary>PyTorch's convolution <c>padding</c>: ints (one, or one per axis, same at both ends) or <c>"same"</c> / <c>"valid"</c>.</summary>
public sealed class TorchPadding
{
    private TorchPadding(string? mode, long[]? values)
    {
        Mode = mode;
        Values = values;
    }

    /// <summary><c>"same"</c> or <c>"valid"</c>, or null for explicit values.</summary>
    public string? Mode { get; }

    /// <summary>Explicit padding per axis (or one value for all), or null.</summary>
    public IReadOnlyList<long>? Values { get; }

    /// <summary>Explicit padding.</summary>
    public static TorchPadding Of(params long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new(null, [.. values]);
    }

    /// <summary>Parses <c>"same"</c> or <c>"valid"</c>.</summary>
    public static TorchPadding Parse(string mode) => mode switch
    {
        "same" or "valid" => new(mode, null),
        _ => throw new ConvolutionArgumentException($"Invalid padding string '{mode}', should be one of {{'valid', 'same'}}", "padding"),
    };

    /// <summary>Converts <c>"same"</c> or <c>"valid"</c>.</summary>
    public static implicit operator TorchPadding(string mode) => Parse(mode);

    /// <summary>Converts one padding for every axis.</summary>
    public static implicit operator TorchPadding(long value) => Of(value);

    /// <summary>Converts per-axis padding.</summary>
    public static implicit operator TorchPadding(long[] values) => Of(values);

    /// <summary>Same as the implicit conversion from a string.</summary>
    public static TorchPadding FromString(string mode) => Parse(mode);

    /// <inheritdoc />
    public override string ToString() => Mode ?? FrontEnd.Format(Values!);
}
