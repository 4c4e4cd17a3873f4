namespace Deconv.Tests.Engine;

public class ConvOpsEngineTests
{
    [Fact]
    public void Float_transpose_runs_on_the_engine_and_agrees_with_the_reference()
    {
        var random = new Random(11);
        for (var i = 0; i < 100; i++)
        {
            var c = EngineCases.Random(random);
            var y = ConvOps.Transpose<float>(c.Geometry, c.X, c.W, c.Bias);
            Assert.Equal(c.RunEngine(0, strategy: null), y);
            Assert.True(EngineCases.MaxRelativeError(y, c.Reference()) <= 1e-5, c.ToString());
        }
    }

    [Fact]
    public void Double_transpose_is_the_reference()
    {
        var c = EngineCases.Random(new Random(12));
        var x = c.X.Select(v => (double)v).ToArray();
        var w = c.W.Select(v => (double)v).ToArray();
        var bias = c.Bias.Select(v => (double)v).ToArray();
        Assert.Equal(c.Reference(), ConvOps.Transpose<double>(c.Geometry, x, w, bias));
    }

    [Fact]
    public void Wrong_lengths_are_argument_errors()
    {
        var geometry = new ConvGeometry(1, 2, 2, 1, [new AxisGeometry(3, 2, 2, 1, 0, 6)]);
        Assert.Equal("x", Assert.Throws<ConvolutionArgumentException>(() => ConvOps.Transpose<float>(geometry, new float[5], new float[8], [])).ParamName);
        Assert.Equal("w", Assert.Throws<ConvolutionArgumentException>(() => ConvOps.Transpose<float>(geometry, new float[6], new float[7], [])).ParamName);
    }
}
