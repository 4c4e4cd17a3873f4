using Deconv.Cli.Run;

namespace Deconv.Tests.Cli;

public class TensorSpecTests
{
    [Fact]
    public void Ones_and_zeros()
    {
        var ones = TensorSpec.Parse("ones:1x3x3x1", "--input");
        Assert.Equal([1L, 3, 3, 1], ones.Shape);
        Assert.Equal(9, ones.Values.Length);
        Assert.All(ones.Values, v => Assert.Equal(1.0, v));
        var zeros = TensorSpec.Parse("zeros:2x0x4", "--input");
        Assert.Equal([2L, 0, 4], zeros.Shape);
        Assert.Empty(zeros.Values);
        Assert.All(TensorSpec.Parse("zeros:5", "--input").Values, v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Range_counts_in_c_order_from_zero_or_a_start()
    {
        Assert.Equal([0.0, 1, 2, 3, 4, 5], TensorSpec.Parse("range:2x3", "--input").Values);
        Assert.Equal([-1.5, -0.5, 0.5], TensorSpec.Parse("range:3:-1.5", "--input").Values);
    }

    [Fact]
    public void Literal_values_with_and_without_a_shape()
    {
        var literal = TensorSpec.Parse("1,2.5,-3,4e1:2x2", "--weight");
        Assert.Equal([2L, 2], literal.Shape);
        Assert.Equal([1.0, 2.5, -3, 40], literal.Values);
        var vector = TensorSpec.Parse("7,8", "--bias");
        Assert.Equal([2L], vector.Shape);
        Assert.Equal([7.0, 8], vector.Values);
        Assert.Equal([3L, 1], TensorSpec.Parse("1,2,3:3,1", "--bias").Shape); // a comma-separated shape works too
    }

    [Fact]
    public void Random_is_a_fixed_function_of_the_seed_uniform_in_minus_one_to_one()
    {
        var a = TensorSpec.Parse("random:100x100:7", "--input").Values;
        Assert.Equal(a, TensorSpec.Parse("random:100x100:7", "--input").Values);
        Assert.NotEqual(a, TensorSpec.Parse("random:100x100:8", "--input").Values);
        Assert.All(a, v => Assert.True(v is >= -1.0 and < 1.0, $"{v}"));
        Assert.All(a, v => Assert.Equal(v, (double)(float)v)); // exact in float32
        // Uniform: mean near 0 (sd of the mean ~ 0.006), and each quarter of [-1, 1) holds about a quarter.
        Assert.InRange(a.Average(), -0.03, 0.03);
        for (var q = 0; q < 4; q++)
        {
            var low = -1 + (q * 0.5);
            Assert.InRange(a.Count(v => v >= low && v < low + 0.5), 2300, 2700);
        }

        // A prefix of a larger tensor with the same seed is the same sequence.
        Assert.Equal(a[..10], TensorSpec.Parse("random:10:7", "--input").Values);
    }

    [Fact]
    public void Npy_paths_are_read()
    {
        var path = Path.Combine(Path.GetTempPath(), $"deconv-spec-{Guid.NewGuid():N}.npy");
        try
        {
            Deconv.Cli.Formats.Npy.Write<double>(path, [1.0, 2, 3, 4, 5, 6], [3, 2]);
            var tensor = TensorSpec.Parse(path, "--input");
            Assert.Equal([3L, 2], tensor.Shape);
            Assert.Equal([1.0, 2, 3, 4, 5, 6], tensor.Values);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("ones")]
    [InlineData("ones:1x-3")]
    [InlineData("zeros:1x2:3")]
    [InlineData("range:")]
    [InlineData("random:2x2:1.5")]
    [InlineData("1,2:3")]
    [InlineData("abc")]
    [InlineData("1:2:3")]
    public void Malformed_specs_throw_ArgumentException_naming_the_option(string spec)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => TensorSpec.Parse(spec, "--weight"));
        Assert.StartsWith("--weight: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_npy_file_throws_FileNotFoundException_naming_it()
    {
        var e = Assert.Throws<FileNotFoundException>(() => TensorSpec.Parse("/nonexistent/dir/x.npy", "--input"));
        Assert.Contains("/nonexistent/dir/x.npy", e.Message, StringComparison.Ordinal);
    }
}
