using System.Collections.Concurrent;
using Deconv.Cli.Conformance;
using Deconv.Cli.Formats;

namespace Deconv.Tests.Conformance;

/// <summary>Every case under ../shared/conformance, one test per case, run through the library's public front ends.</summary>
public class SharedSuiteTests
{
    private static readonly ConcurrentDictionary<string, IReadOnlyList<ConformanceCase>> Families = new();

    private static IReadOnlyList<ConformanceCase> Family(string relative) =>
        Families.GetOrAdd(relative, r => ConformanceSuite.Discover([SharedData.Path(["conformance", .. r.Split('/')])]));

    private static TheoryData<string> Ids(string relative)
    {
        var data = new TheoryData<string>();
        foreach (var c in Family(relative))
        {
            data.Add(c.Id);
        }

        return data;
    }

    public static TheoryData<string> TfCases => Ids("tf/cases");

    public static TheoryData<string> TfBlog => Ids("tf/blog");

    public static TheoryData<string> TfInvalid => Ids("tf/invalid");

    public static TheoryData<string> TfCaseList => Ids("tf/cases.json");

    public static TheoryData<string> OnnxNodeTests => Ids("onnx");

    public static TheoryData<string> OnnxPytorch => Ids("onnx-pytorch");

    public static TheoryData<string> OnnxRuntime => Ids("ort");

    private static CaseResult Run(string family, string id)
    {
        var result = Family(family).Single(c => c.Id == id).Run();
        Assert.True(result.Passed, $"{id} ({result.Source}): {result.Message}");
        return result;
    }

    [Theory]
    [MemberData(nameof(TfCases))]
    public void Tf_case(string id) => Assert.True(Run("tf/cases", id).LargestDifference == 0, "TF cases are exact in float32");

    [Theory]
    [MemberData(nameof(TfBlog))]
    public void Tf_blog_example(string id) => Assert.Equal(0, Run("tf/blog", id).LargestDifference);

    [Theory]
    [MemberData(nameof(TfInvalid))]
    public void Tf_invalid_case_is_rejected(string id) => Assert.StartsWith("rejected as expected", Run("tf/invalid", id).Message, StringComparison.Ordinal);

    [Theory]
    [MemberData(nameof(TfCaseList))]
    public void Tf_cases_json_case(string id) => Assert.Equal(0, Run("tf/cases.json", id).LargestDifference);

    [Theory]
    [MemberData(nameof(OnnxNodeTests))]
    public void Onnx_node_test(string id) => Assert.Equal(0, Run("onnx", id).LargestDifference);

    [Theory]
    [MemberData(nameof(OnnxPytorch))]
    public void Onnx_pytorch_export(string id) => Assert.InRange(Run("onnx-pytorch", id).LargestDifference, 0, 1e-5);

    [Theory]
    [MemberData(nameof(OnnxRuntime))]
    public void Onnx_runtime_case(string id) => Run("ort", id);

    [Theory]
    [InlineData("tf/cases", 60)]
    [InlineData("tf/blog", 3)]
    [InlineData("tf/invalid", 25)]
    [InlineData("tf/cases.json", 41)]
    [InlineData("onnx", 17)]
    [InlineData("onnx-pytorch", 3)]
    [InlineData("ort", 40)]
    public void Every_family_has_its_documented_number_of_distinct_cases(string family, int count)
    {
        var cases = Family(family);
        Assert.Equal(count, cases.Count);
        Assert.Equal(count, cases.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public void The_ones_rule_reproduces_the_values_tensorflow_asserts()
    {
        // cases.md section 2: testConv2DTransposeSingleStride has corners 12, edges 18, interior 27;
        // testConv2DTransposeSame has values 3 * a(h) * a(w), a(t) = 2 if t is even and inner, else 1.
        var rules = CaseFiles.Read(SharedData.Path("conformance", "tf", "cases.json")).OfType<TfListCase>().Where(c => c.Rule is not null).ToDictionary(c => c.Id);
        var single = TfRunner.OnesRule(rules["cases/testConv2DTransposeSingleStride"]);
        // y: [2, 6, 4, 2]
        static int At(int h, int w, int c) => (h * 4 + w) * 2 + c;
        Assert.Equal(12, single[At(0, 0, 0)]);
        Assert.Equal(18, single[At(0, 1, 1)]);
        Assert.Equal(18, single[At(2, 3, 0)]);
        Assert.Equal(27, single[At(3, 2, 1)]);
        var same = TfRunner.OnesRule(rules["cases/testConv2DTransposeSame"]);
        for (var h = 0; h < 12; h++)
        for (var w = 0; w < 8; w++)
        {
            static int A(int t, int last) => t % 2 == 0 && t > 0 && t < last ? 2 : 1;
            Assert.Equal(3 * A(h, 11) * A(w, 7), same[(h * 8 + w) * 2]);
        }
    }
}
