using System.Numerics.Tensors;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Deconv.Tests.Gradients;

/// <summary>
/// TensorFlow's gradient vectors (<c>conformance/tf/cases/*conv2d_backprop_{input,filter}*.json</c>, computed by
/// TensorFlow.js as gradients of conv2d) through the public gradient functions, compared exactly.
/// </summary>
public class TfGradientVectorTests
{
    private static readonly JsonSerializerOptions Options = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static TheoryData<string> InputCases { get; } = Cases("conv2d_backprop_input");

    public static TheoryData<string> FilterCases { get; } = Cases("conv2d_backprop_filter");

    [Fact]
    public void The_gradient_vectors_are_all_there()
    {
        Assert.Equal(5, InputCases.Count);
        Assert.Equal(5, FilterCases.Count);
    }

    [Theory]
    [MemberData(nameof(InputCases))]
    public void Conv2DBackpropInput_matches_exactly(string file)
    {
        var c = Load(file);
        var attrs = c.GetProperty("attrs");
        var y = TensorFlow.Conv2DBackpropInput(Longs(attrs, "input_sizes"), Tensor(c, "filter"), Tensor(c, "out_backprop"),
            Longs(attrs, "strides"), attrs.GetProperty("padding").GetString()!, attrs.GetProperty("data_format").GetString()!, Longs(attrs, "dilations"));
        AssertExpected(c, y);
    }

    /// <summary>The same vectors as the gradient of conv2d_transpose's partner: conv2d_transpose(out_backprop) is Conv2DBackpropInput.</summary>
    [Theory]
    [MemberData(nameof(InputCases))]
    public void Conv2DTranspose_of_the_output_gradient_is_the_same_input_gradient(string file)
    {
        var c = Load(file);
        var attrs = c.GetProperty("attrs");
        var y = TensorFlow.Conv2DTranspose(Tensor(c, "out_backprop"), Tensor(c, "filter"), Longs(attrs, "input_sizes"),
            Longs(attrs, "strides"), attrs.GetProperty("padding").GetString()!, attrs.GetProperty("data_format").GetString()!, Longs(attrs, "dilations"));
        AssertExpected(c, y);
    }

    [Theory]
    [MemberData(nameof(FilterCases))]
    public void Conv2DBackpropFilter_matches_exactly(string file)
    {
        var c = Load(file);
        var attrs = c.GetProperty("attrs");
        var dw = TensorFlow.Conv2DBackpropFilter(Tensor(c, "input"), Longs(attrs, "filter_sizes"), Tensor(c, "out_backprop"),
            Longs(attrs, "strides"), attrs.GetProperty("padding").GetString()!, attrs.GetProperty("data_format").GetString()!, Longs(attrs, "dilations"));
        AssertExpected(c, dw);
    }

    /// <summary>The shared weight gradient: conv2d_transpose of out_backprop back to the conv's input shape has the same filter gradient.</summary>
    [Theory]
    [MemberData(nameof(FilterCases))]
    public void Conv2DTransposeBackpropFilter_is_the_shared_weight_gradient(string file)
    {
        var c = Load(file);
        var attrs = c.GetProperty("attrs");
        var dw = TensorFlow.Conv2DTransposeBackpropFilter(Tensor(c, "out_backprop"), Longs(attrs, "filter_sizes"), Tensor(c, "input"),
            Longs(attrs, "strides"), attrs.GetProperty("padding").GetString()!, attrs.GetProperty("data_format").GetString()!, Longs(attrs, "dilations"));
        AssertExpected(c, dw);
    }

    private static TheoryData<string> Cases(string op) =>
        [.. Directory.GetFiles(SharedData.Path("conformance", "tf", "cases"), $"*_{op}.json").Select(f => Path.GetFileName(f)).Order()];

    private static JsonElement Load(string file) =>
        JsonDocument.Parse(File.ReadAllText(SharedData.Path("conformance", "tf", "cases", file))).RootElement;

    private static long[] Longs(JsonElement attrs, string name) => [.. attrs.GetProperty(name).EnumerateArray().Select(e => e.GetInt64())];

    private static Tensor<float> Tensor(JsonElement c, string name)
    {
        var t = c.GetProperty("inputs").GetProperty(name);
        return Floats(t).ToTensor(Longs(t, "shape"));
    }

    private static float[] Floats(JsonElement t) => JsonSerializer.Deserialize<float[]>(t.GetProperty("data").GetRawText(), Options)!;

    private static void AssertExpected(JsonElement c, Tensor<float> actual)
    {
        var expected = c.GetProperty("expected");
        Assert.Equal(Longs(expected, "shape"), actual.Shape());
        Assert.Equal(Floats(expected), actual.ToArray());
    }
}
