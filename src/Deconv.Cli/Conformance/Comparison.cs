namespace Deconv.Cli.Conformance;

/// <summary>How close a result must be: allowed difference = <see cref="Absolute"/> + <see cref="Relative"/> * max|expected|.</summary>
internal readonly record struct Tolerance(double Absolute, double Relative)
{
    /// <summary>TensorFlow cases: exact up to 1e-5 of the largest expected magnitude (the data make exact results possible).</summary>
    public static Tolerance TensorFlow { get; } = new(0, 1e-5);

    /// <summary>ONNX Runtime cases: max|diff| / max|y| at most 1e-5.</summary>
    public static Tolerance OnnxRuntime { get; } = new(0, 1e-5);

    /// <summary>ONNX node tests: absolute 1e-4.</summary>
    public static Tolerance OnnxNodeTest { get; } = new(1e-4, 0);
}

/// <summary>Compares a result with an expected tensor. An expected NaN matches any NaN; infinities must match exactly.</summary>
internal static class Comparison
{
    public static CaseResult Compare(string id, string source, long[] actualShape, double[] actual, long[] expectedShape, double[] expected, Tolerance tolerance)
    {
        if (!actualShape.SequenceEqual(expectedShape))
        {
            return CaseResult.Fail(id, source, double.NaN, $"result shape {Format(actualShape)} differs from the expected shape {Format(expectedShape)}");
        }

        var largestExpected = expected.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
        var allowed = tolerance.Absolute + tolerance.Relative * largestExpected;
        var largest = 0.0;
        var worst = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            var difference = Difference(actual[i], expected[i]);
            if (difference > largest || (worst < 0 && difference > 0))
            {
                largest = difference;
                worst = i;
            }
        }

        if (largest <= allowed)
        {
            return CaseResult.Pass(id, source, largest, $"max |diff| {largest:G3} <= allowed {allowed:G3} ({expected.Length} values)");
        }

        return CaseResult.Fail(id, source, largest,
            $"max |diff| {largest:G3} > allowed {allowed:G3}: at index {Format(Unflatten(worst, expectedShape))} got {actual[worst]:R}, expected {expected[worst]:R}");
    }

    /// <summary>|a - e|; infinite when one is NaN or infinite and the other is not the same.</summary>
    private static double Difference(double actual, double expected)
    {
        if (double.IsNaN(expected))
        {
            return double.IsNaN(actual) ? 0 : double.PositiveInfinity;
        }

        if (!double.IsFinite(expected) || !double.IsFinite(actual))
        {
            return actual.Equals(expected) ? 0 : double.PositiveInfinity;
        }

        return Math.Abs(actual - expected);
    }

    private static long[] Unflatten(long index, long[] shape)
    {
        var result = new long[shape.Length];
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            result[d] = shape[d] == 0 ? 0 : index % shape[d];
            index = shape[d] == 0 ? 0 : index / shape[d];
        }

        return result;
    }

    public static string Format(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
