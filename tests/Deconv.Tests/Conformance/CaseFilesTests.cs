using System.Text;
using Deconv.Cli.Formats;

namespace Deconv.Tests.Conformance;

public class CaseFilesTests
{
    private const string Conv2DTranspose = """
        {"id": "t1", "op": "conv2d_transpose",
         "attrs": {"output_shape": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "SAME"},
         "inputs": {"input": {"shape": [1, 2, 2, 1], "data": [1, "NaN", "Infinity", "-Infinity"]},
                    "filters": {"shape": [1, 1, 1, 1], "data": [0.5]}},
         "expected": {"shape": [1, 2, 2, 1], "data": [0.5, "NaN", "Infinity", "-Infinity"]}}
        """;

    private static IReadOnlyList<FileCase> Parse(string json) => CaseFiles.Parse(Encoding.UTF8.GetBytes(json), "case.json");

    private static string Rejected(string json)
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse(json));
        Assert.StartsWith("case.json", e.Message, StringComparison.Ordinal);
        return e.Message;
    }

    [Fact]
    public void Reads_a_real_tf_case()
    {
        var c = Assert.IsType<TfCase>(Assert.Single(CaseFiles.Read(SharedData.Path("conformance", "tf", "cases", "001_conv2d_transpose.json"))));
        Assert.Equal("tf-s11-001", c.Id);
        Assert.Equal("conv2d_transpose", c.Op);
        Assert.Equal([2L, 8, 9, 1], c.Arguments.OutputShape!);
        Assert.Equal([1L, 4, 2, 1], c.Arguments.Strides!);
        Assert.Equal("VALID", c.Arguments.Padding);
        Assert.Equal([2L, 2, 4, 2], c.Inputs["input"].Shape);
        Assert.Equal(-0.765625f, c.Inputs["input"].Data[0]);
        Assert.Equal(2 * 8 * 9, c.Expected!.Data.Length);
        Assert.Null(c.ErrorReason);
    }

    [Fact]
    public void Reads_named_non_finite_values()
    {
        var c = Assert.IsType<TfCase>(Assert.Single(Parse(Conv2DTranspose)));
        Assert.Equal([1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity], c.Inputs["input"].Data);
    }

    [Fact]
    public void Reads_an_expected_error_explicit_padding_scalar_stride_and_empty_tensor()
    {
        var c = Assert.IsType<TfCase>(Assert.Single(Parse("""
            {"op": "conv1d", "attrs": {"stride": 2, "padding": [[0, 0], [1, 2], [0, 0]], "dilations": 1},
             "inputs": {"input": {"shape": [0, 4, 1], "data": []}, "filters": {"shape": [1, 1, 1], "data": [1]}},
             "expected": {"error": true, "reason": "because"}}
            """)));
        Assert.Equal("case", c.Id);
        Assert.Equal([2L], c.Arguments.Strides!);
        Assert.Equal([1L], c.Arguments.Dilations!);
        Assert.Null(c.Arguments.Padding);
        Assert.Equal([[0L, 0], [1, 2], [0, 0]], c.Arguments.PaddingPairs!);
        Assert.Empty(c.Inputs["input"].Data);
        Assert.Equal("because", c.ErrorReason);
        Assert.Null(c.Expected);
    }

    [Fact]
    public void Reads_a_real_ort_case()
    {
        var c = Assert.IsType<OrtCase>(Assert.Single(CaseFiles.Read(SharedData.Path("conformance", "ort", "case_0001.json"))));
        Assert.Equal("ort-s7-0001", c.Id);
        Assert.Equal("ConvTranspose", c.OpType);
        Assert.Equal(4, c.Attributes.Group);
        Assert.Equal([1L, 2, 1, 2], c.Attributes.Pads!.ToArray());
        Assert.Equal([2L, 16, 9, 15], c.Y.Shape);
        Assert.NotNull(c.B);
    }

    [Fact]
    public void Reads_every_list_case_and_rule_case_of_cases_json()
    {
        var cases = CaseFiles.Read(SharedData.Path("conformance", "tf", "cases.json"));
        Assert.Equal(32, cases.OfType<TfListCase>().Count(c => c.Expected is not null));
        var rules = cases.OfType<TfListCase>().Where(c => c.Rule is not null).ToList();
        Assert.Equal(9, rules.Count);
        var derived = cases.OfType<TfListCase>().Single(c => c.Id == "cases/testConv2D2x2Depth1Padding_1_8_4_1_BackpropInput#1");
        Assert.Equal([[1L, 8], [4, 2]], derived.PaddingPairs!);
        // The first values as written in the file (checked with Python json).
        Assert.Equal([68f, 78, 88, 148, 158, 168], derived.Expected![..6]);
    }

    [Theory]
    [InlineData("{\"op\": ", "not valid JSON")]
    [InlineData("[1, 2]", "not a conformance case: the top level is an array")]
    [InlineData("{\"hello\": 1}", "not a conformance case")]
    [InlineData("{\"op\": \"conv9d\", \"attrs\": {}, \"inputs\": {}, \"expected\": {}}", "unknown op 'conv9d'")]
    [InlineData("{\"op_type\": \"Gemm\"}", "unknown op_type 'Gemm'")]
    public void Malformed_files_name_the_problem(string json, string expected) =>
        Assert.Contains(expected, Rejected(json), StringComparison.Ordinal);

    [Theory]
    [InlineData("\"NaN\"", "\"nan\"", "$.inputs.input.data: must hold only numbers")]
    [InlineData("\"Infinity\"", "\"1.5\"", "$.inputs.input.data: must hold only numbers")]
    [InlineData("[1, \"NaN\", \"Infinity\", \"-Infinity\"]", "[1, 2, 3]", "data has 3 values but shape [1, 2, 2, 1] has 4 elements")]
    [InlineData("\"strides\": [1, 1, 1, 1]", "\"strides\": [1, 1.5, 1, 1]", "$.attrs.strides[1]: must be an integer")]
    [InlineData("\"strides\": [1, 1, 1, 1]", "\"strides\": \"1\"", "$.attrs.strides: must be an integer or a list")]
    [InlineData("\"strides\": [1, 1, 1, 1], ", "", "$.attrs: missing \"strides\"")]
    [InlineData("\"padding\": \"SAME\"", "\"padding\": \"SAME\", \"stride\": 1", "$.attrs.stride: is not an argument of conv2d_transpose")]
    [InlineData("\"padding\": \"SAME\"", "\"padding\": 3", "$.attrs.padding: must be \"VALID\", \"SAME\" or a list")]
    [InlineData("\"filters\"", "\"filter\"", "$.inputs.filter: is not an input of conv2d_transpose")]
    [InlineData("[1, 2, 2, 1], \"data\": [1,", "[1, -2, 2, 1], \"data\": [1,", "has a negative dimension")]
    [InlineData("\"data\": [0.5]", "\"data\": [1e39]", "outside the float32 range")]
    [InlineData("\"id\": \"t1\"", "\"id\": \"t1\", \"id\": \"t2\"", "not valid JSON")]
    public void Mutated_tf_cases_are_rejected_with_the_json_path(string original, string replacement, string expected)
    {
        Assert.Contains(original, Conv2DTranspose, StringComparison.Ordinal);
        Assert.Contains(expected, Rejected(Conv2DTranspose.Replace(original, replacement, StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void Expected_error_false_is_rejected()
    {
        var json = Conv2DTranspose[..Conv2DTranspose.IndexOf("\"expected\"", StringComparison.Ordinal)] + "\"expected\": {\"error\": false}}";
        Assert.Contains("$.expected.error: must be true", Rejected(json), StringComparison.Ordinal);
    }

    [Fact]
    public void Deep_nesting_is_rejected_not_a_stack_overflow()
    {
        var deep = "{\"op\": " + new string('[', 100_000) + new string(']', 100_000) + "}";
        Assert.Contains("not valid JSON", Rejected(deep), StringComparison.Ordinal);
        var nestedData = Conv2DTranspose.Replace("[0.5]", "[[[[0.5]]]]", StringComparison.Ordinal);
        Assert.Contains("$.inputs.filters.data: must hold only numbers", Rejected(nestedData), StringComparison.Ordinal);
    }

    [Fact]
    public void List_cases_check_expected_length_and_rank()
    {
        const string entry = """{"cases": [{"name": "a", "input_shape": [1, 1, 1, 1], "filter_shape": [1, 1, 1, 1], "output_shape": [1, 1, 2, 1], "strides": [1, 1], "padding": "VALID", "expected": [1]}]}""";
        Assert.Contains("$.cases[0].expected: has 1 values but output_shape [1, 1, 2, 1] has 2 elements", Rejected(entry), StringComparison.Ordinal);
        Assert.Contains("$.cases[0].input_shape: must have 3 to 5 dimensions", Rejected(entry.Replace("[1, 1, 1, 1], \"filter", "[1, 1], \"filter", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("appears twice", Rejected(entry.Replace("[1]}]", "[1, 2]}, {\"name\": \"a\", \"input_shape\": [1, 1, 1, 1], \"filter_shape\": [1, 1, 1, 1], \"output_shape\": [1, 1, 2, 1], \"padding\": \"VALID\", \"expected\": [1, 2]}]", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("more than", Rejected(entry.Replace("[1, 1, 2, 1]", "[1, 100000, 100000, 1]", StringComparison.Ordinal)), StringComparison.Ordinal);
    }
}
