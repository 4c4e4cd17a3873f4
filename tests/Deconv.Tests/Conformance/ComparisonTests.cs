using System.Text;
using Deconv.Cli.Conformance;

namespace Deconv.Tests.Conformance;

public class ComparisonTests
{
    private static CaseResult Compare(double[] actual, double[] expected, Tolerance tolerance) =>
        Comparison.Compare("id", "src", [actual.Length], actual, [expected.Length], expected, tolerance);

    [Fact]
    public void Relative_tolerance_scales_with_the_largest_expected_magnitude()
    {
        // allowed = 1e-5 * 1000 = 0.01
        Assert.True(Compare([1000, 0.5 + 0.0099], [1000, 0.5], Tolerance.TensorFlow).Passed);
        var failed = Compare([1000, 0.5 + 0.0101], [1000, 0.5], Tolerance.TensorFlow);
        Assert.False(failed.Passed);
        Assert.Equal(0.0101, failed.LargestDifference, 12);
        Assert.Contains("at index [1]", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void All_zero_expectations_must_match_exactly_under_a_relative_tolerance()
    {
        Assert.True(Compare([0, 0], [0, 0], Tolerance.OnnxRuntime).Passed);
        Assert.False(Compare([0, 1e-30], [0, 0], Tolerance.OnnxRuntime).Passed);
        Assert.True(Compare([0, 1e-5], [0, 0], Tolerance.OnnxNodeTest).Passed);
    }

    [Fact]
    public void NaN_matches_NaN_and_infinities_must_be_equal()
    {
        Assert.True(Compare([double.NaN, double.PositiveInfinity, 1], [double.NaN, double.PositiveInfinity, 1], Tolerance.TensorFlow).Passed);
        Assert.False(Compare([1, 1], [double.NaN, 1], Tolerance.TensorFlow).Passed);
        Assert.False(Compare([double.NaN, 1], [1, 1], Tolerance.TensorFlow).Passed);
        var wrongSign = Compare([double.NegativeInfinity], [double.PositiveInfinity], Tolerance.OnnxNodeTest);
        Assert.False(wrongSign.Passed);
        Assert.Equal(double.PositiveInfinity, wrongSign.LargestDifference);
    }

    [Fact]
    public void A_different_shape_fails_without_comparing_values()
    {
        var result = Comparison.Compare("id", "src", [1, 2], [1, 2], [2, 1], [1, 2], Tolerance.TensorFlow);
        Assert.False(result.Passed);
        Assert.Contains("result shape [1, 2] differs from the expected shape [2, 1]", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_case_the_library_accepts_and_a_valid_case_it_rejects_both_fail()
    {
        const string ok = """
            {"op": "conv2d", "attrs": {"strides": 1, "padding": "VALID"},
             "inputs": {"input": {"shape": [1, 2, 1, 1], "data": [1, 2]}, "filters": {"shape": [1, 1, 1, 1], "data": [3]}},
             "expected": {"shape": [1, 2, 1, 1], "data": [3, 6]}}
            """;
        Assert.True(Single(ok).Passed);
        var accepted = Single(ok.Replace("{\"shape\": [1, 2, 1, 1], \"data\": [3, 6]}", "{\"error\": true, \"reason\": \"made up\"}", StringComparison.Ordinal));
        Assert.False(accepted.Passed);
        Assert.Equal("expected an error (made up) but the library returned a result of shape [1, 2, 1, 1]", accepted.Message);
        var rejected = Single(ok.Replace("\"strides\": 1", "\"strides\": 0", StringComparison.Ordinal));
        Assert.False(rejected.Passed);
        Assert.StartsWith("the library rejected a valid case: conv2d: strides must be > 0", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rule_case_with_an_unknown_rule_fails()
    {
        const string list = """{"rule_cases": [{"name": "r", "input_shape": [1, 1, 1], "filter_shape": [1, 1, 1], "output_shape": [1, 1, 1], "padding": "VALID", "rule": "something else"}]}""";
        var result = Single(list);
        Assert.False(result.Passed);
        Assert.StartsWith("unknown rule \"something else\"", result.Message, StringComparison.Ordinal);
    }

    private static CaseResult Single(string json) => Assert.Single(ConformanceSuite.FromJson(Encoding.UTF8.GetBytes(json), "t.json")).Run();
}
