namespace Deconv;

/// <summary>Overflow-safe shape arithmetic.</summary>
internal static class Shapes
{
    /// <summary>The product of the lengths, or null when it overflows a long or a length is negative.</summary>
    public static long? TryProduct(ReadOnlySpan<long> lengths)
    {
        long product = 1;
        foreach (var length in lengths)
        {
            if (length < 0)
            {
                return null;
            }

            if (length != 0 && product > long.MaxValue / length)
            {
                // Overflow unless a later length is zero.
                foreach (var rest in lengths)
                {
                    if (rest == 0)
                    {
                        return 0;
                    }
                }

                return null;
            }

            product *= length;
        }

        return product;
    }

    /// <summary>The product of lengths already known to be valid.</summary>
    public static long Product(ReadOnlySpan<long> lengths) =>
        TryProduct(lengths) ?? throw new ConvolutionArgumentException($"shape [{string.Join(", ", lengths.ToArray())}] overflows");

    /// <summary>Formats a shape as <c>[a, b, c]</c>.</summary>
    public static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <summary>Formats a shape as <c>[a, b, c]</c>.</summary>
    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <summary>Floor division for any signs (C# truncates toward zero).</summary>
    public static long FloorDiv(long a, long b) => a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);

    /// <summary>Ceiling division for a non-negative divisor.</summary>
    public static long CeilDiv(long a, long b) => -FloorDiv(-a, b);
}
