using System.Globalization;
using Deconv.Cli.Formats;

namespace Deconv.Cli.Run;

/// <summary>A tensor given on the command line, before conversion to the chosen dtype: shape and C-order values.</summary>
internal sealed record HostTensor(long[] Shape, double[] Values);

/// <summary>
/// Parses the tensor specifications of <c>deconv run</c>:
/// <list type="bullet">
/// <item><c>ones:1x3x3x1</c>, <c>zeros:SHAPE</c>: constant tensors;</item>
/// <item><c>range:SHAPE</c> or <c>range:SHAPE:START</c>: START, START+1, ... in C order (START defaults to 0);</item>
/// <item><c>random:SHAPE:SEED</c>: uniform in [-1, 1) from a fixed generator, so the same seed gives the same values everywhere;</item>
/// <item><c>1,2,3,4:2x2</c>: literal values in C order (<c>1,2,3</c> alone is 1-D);</item>
/// <item>a path to a <c>.npy</c> file.</item>
/// </list>
/// </summary>
internal static class TensorSpec
{
    /// <summary>The largest tensor a specification may create (elements), so that a typo gives an error, not an out-of-memory crash.</summary>
    public const long MaxElements = 1L << 27;

    public const string Forms = "ones:SHAPE, zeros:SHAPE, range:SHAPE[:START], random:SHAPE:SEED, literal values like 1,2,3,4:2x2, or a .npy file (SHAPE like 1x3x3x1)";

    /// <summary>Parses <paramref name="spec"/>, given for option <paramref name="option"/> (named in errors).</summary>
    /// <exception cref="ArgumentException">The specification is malformed.</exception>
    /// <exception cref="InvalidDataException">The .npy file is malformed.</exception>
    public static HostTensor Parse(string spec, string option)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(spec))
            {
                throw new FileNotFoundException($"{option}: file '{spec}' not found", spec);
            }

            var array = Npy.Read(spec);
            return new HostTensor(array.Shape, array.Values);
        }

        var parts = spec.Split(':');
        switch (parts[0])
        {
            case "ones" or "zeros":
                Arity(parts, 2, 2, option, spec, $"{parts[0]}:SHAPE");
                var shape = Shape(parts[1], option);
                return new HostTensor(shape, Filled(Count(shape, option, spec), parts[0] == "ones" ? 1 : 0));
            case "range":
                Arity(parts, 2, 3, option, spec, "range:SHAPE or range:SHAPE:START");
                shape = Shape(parts[1], option);
                var start = parts.Length == 3 ? Number(parts[2], option, spec) : 0;
                var values = new double[Count(shape, option, spec)];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = start + i;
                }

                return new HostTensor(shape, values);
            case "random":
                Arity(parts, 3, 3, option, spec, "random:SHAPE:SEED");
                shape = Shape(parts[1], option);
                if (!ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var seed))
                {
                    throw Error(option, $"seed '{parts[2]}' in '{spec}' is not a non-negative integer");
                }

                return new HostTensor(shape, Random(Count(shape, option, spec), seed));
            default:
                return Literal(parts, option, spec);
        }
    }

    /// <summary>A shape such as <c>1x3x3x1</c> (a comma-separated list is accepted too).</summary>
    public static long[] Shape(string text, string option)
    {
        var items = text.Split(text.Contains(',', StringComparison.Ordinal) ? ',' : 'x');
        var shape = new long[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            if (!long.TryParse(items[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
            {
                throw Error(option, $"shape '{text}' must be non-negative integers separated by 'x', like 1x3x3x1");
            }
        }

        return shape;
    }

    /// <summary>
    /// Uniform values in [-1, 1): <c>k / 2^23</c> for 24 random bits <c>k - 2^23</c> from SplitMix64, exact in
    /// float32 and float64 alike, so a seed gives the same tensor in both dtypes.
    /// </summary>
    public static double[] Random(long count, ulong seed)
    {
        var values = new double[count];
        var state = seed;
        for (var i = 0; i < values.Length; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            values[i] = ((long)(z >> 40) - (1L << 23)) / (double)(1 << 23);
        }

        return values;
    }

    private static HostTensor Literal(string[] parts, string option, string spec)
    {
        if (parts.Length > 2)
        {
            throw Error(option, $"'{spec}' is not a tensor: expected {Forms}");
        }

        var items = parts[0].Split(',');
        var values = new double[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            if (!double.TryParse(items[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
            {
                throw Error(option, $"'{spec}' is not a tensor ('{items[i]}' is not a number): expected {Forms}");
            }
        }

        long[] shape = parts.Length == 2 ? Shape(parts[1], option) : [values.Length];
        if (Shapes.TryProduct(shape) != values.Length)
        {
            throw Error(option, $"'{spec}' has {values.Length} values but shape {Shapes.Format(shape)} needs {Shapes.TryProduct(shape)?.ToString(CultureInfo.InvariantCulture) ?? "too many"}");
        }

        return new HostTensor(shape, values);
    }

    private static void Arity(string[] parts, int min, int max, string option, string spec, string form)
    {
        if (parts.Length < min || parts.Length > max)
        {
            throw Error(option, $"'{spec}' must be written {form}, with SHAPE like 1x3x3x1");
        }
    }

    private static long Count(long[] shape, string option, string spec)
    {
        var count = Shapes.TryProduct(shape);
        if (count is null or > MaxElements)
        {
            throw Error(option, $"'{spec}' would have {count?.ToString(CultureInfo.InvariantCulture) ?? "too many"} elements; at most {MaxElements} are allowed");
        }

        return count.Value;
    }

    private static double Number(string text, string option, string spec) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value
            : throw Error(option, $"start '{text}' in '{spec}' is not a number");

    private static double[] Filled(long count, double value)
    {
        var values = new double[count];
        Array.Fill(values, value);
        return values;
    }

    private static ArgumentException Error(string option, string text) => new($"{option}: {text}");
}
