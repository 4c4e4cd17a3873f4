using System.Numerics.Tensors;

namespace Deconv.Cli.Conformance;

/// <summary>Runs a library call and turns its result or its <see cref="ArgumentException"/> into a <see cref="CaseResult"/>.</summary>
internal static class CaseEvaluation
{
    /// <summary>
    /// Runs <paramref name="call"/> and compares its result with <paramref name="expected"/>, which is evaluated only
    /// after the call succeeded (an expectation computed from a rule needs a configuration the library accepted).
    /// </summary>
    internal static CaseResult Evaluate(string id, string source, Func<(long[] Shape, double[] Data)> call, long[] expectedShape,
        Func<double[]> expected, Tolerance tolerance)
    {
        (long[] Shape, double[] Data) actual;
        try
        {
            actual = call();
        }
        catch (ArgumentException e)
        {
            return CaseResult.Fail(id, source, double.NaN, "the library rejected a valid case: " + Describe(e));
        }

        return Comparison.Compare(id, source, actual.Shape, actual.Data, expectedShape, expected(), tolerance);
    }

    /// <summary>Passes when <paramref name="call"/> throws an <see cref="ArgumentException"/> (the library's rule violation).</summary>
    internal static CaseResult ExpectError(string id, string source, string reason, Func<(long[] Shape, double[] Data)> call)
    {
        try
        {
            var (shape, _) = call();
            return CaseResult.Fail(id, source, double.NaN, $"expected an error ({reason}) but the library returned a result of shape {Comparison.Format(shape)}");
        }
        catch (ArgumentException e)
        {
            return CaseResult.Pass(id, source, double.NaN, "rejected as expected: " + Describe(e));
        }
    }

    internal static string Describe(ArgumentException e) => e is ConvolutionArgumentException c ? c.Reason : e.Message;

    internal static (long[] Shape, double[] Data) Result<T>(Tensor<T> y) where T : IConvertible =>
        (y.Shape(), [.. y.ToArray().Select(v => v.ToDouble(null))]);
}
