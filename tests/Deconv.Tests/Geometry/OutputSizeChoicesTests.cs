using CsCheck;

namespace Deconv.Tests.Geometry;

public class OutputSizeChoicesTests
{
    [Fact]
    public void Every_choice_gives_the_wanted_length_and_the_crop_it_claims() =>
        Gen.Select(Gen.Int[1, 6], Gen.Int[1, 5], Gen.Int[1, 4], Gen.Int[1, 3], Gen.Int[1, 24]).Sample((input, kernel, stride, dilation, wanted) =>
        {
            var choices = OutputSizeChoices.For(input, kernel, stride, dilation, wanted);
            Assert.NotEmpty(choices);
            foreach (var choice in choices)
            {
                Assert.Equal(wanted, choice.Axis.Output);
                Assert.Equal(choice.CropBegin, choice.Axis.CropBegin);
            }
        }, iter: 3000);

    [Fact]
    public void Tf_accepts_exactly_the_sizes_semantics_md_lists()
    {
        // tf/README.md table: VALID n=3, k=2, s=2 -> 6, 7; SAME n=3, s=2 -> 5, 6.
        for (var wanted = 1; wanted <= 12; wanted++)
        {
            var tf = OutputSizeChoices.For(3, 2, 2, 1, wanted).Where(c => c.Framework == "tf").Select(c => c.Parameters.Split(',')[0]).ToArray();
            Assert.Equal(wanted is 6 or 7, tf.Contains("padding=\"VALID\""));
            Assert.Equal(wanted is 5 or 6, tf.Contains("padding=\"SAME\""));
        }
    }

    [Fact]
    public void Kernel_3_stride_2_output_2I_in_PyTorch_is_shifted_against_TF_SAME()
    {
        var choices = OutputSizeChoices.For(4, 3, 2, 1, 8);
        var same = Assert.Single(choices, c => c.Parameters.StartsWith("padding=\"SAME\"", StringComparison.Ordinal));
        var torch = Assert.Single(choices, c => c.Framework == "torch");
        Assert.Equal(0, same.CropBegin);
        Assert.Equal("padding=1, output_padding=1 (or output_size=8)", torch.Parameters);
        Assert.Equal(1, torch.CropBegin);
    }

    [Fact]
    public void Non_positive_sizes_are_errors()
    {
        var e = Assert.Throws<ConvolutionArgumentException>(() => OutputSizeChoices.For(3, 2, 0, 1, 4));
        Assert.Equal("stride", e.ParamName);
    }
}
