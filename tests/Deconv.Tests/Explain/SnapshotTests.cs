namespace Deconv.Tests.Explain;

/// <summary>Text and SVG output of <c>deconv explain</c> for the worked examples and other cases, compared with stored snapshots.</summary>
public class SnapshotTests
{
    public static TheoryData<string, string[]> Cases => new()
    {
        { "example1-valid-stride1", [] },
        { "example2-valid-stride2", ["--input-size", "2", "--stride", "2"] },
        { "example3-same-stride1", ["--input-size", "4", "--padding", "SAME"] },
        { "stride3-range-extended", ["--input-size", "2", "--kernel", "2", "--stride", "3", "--output-size", "7", "--values", "range"] },
        { "torch-dilation-output-padding", ["--framework", "torch", "--input-size", "3", "--kernel", "2", "--stride", "2", "--dilation", "2", "--padding", "1", "--output-padding", "1", "--values", "range"] },
        { "tf-same-asymmetric", ["--input-size", "3", "--kernel", "3", "--stride", "2", "--padding", "SAME", "--values", "range"] },
        { "onnx-same-lower", ["--framework", "onnx", "--input-size", "3", "--kernel", "3", "--stride", "2", "--padding", "SAME_LOWER", "--values", "range"] },
        { "onnx-pads-1d", ["--framework", "onnx", "--dims", "1", "--input-size", "4", "--kernel", "3", "--stride", "2", "--pads", "1,0", "--values", "range"] },
        { "torch-1d", ["--framework", "torch", "--dims", "1", "--input-size", "5", "--kernel", "3", "--stride", "2", "--padding", "1", "--values", "range"] },
        { "torch-groups-bias", ["--framework", "torch", "--input-size", "2", "--kernel", "2", "--in-channels", "4", "--out-channels", "2", "--groups", "2", "--pair", "2,1", "--values", "range", "--bias"] },
        { "tf-3d", ["--dims", "3", "--input-size", "2", "--kernel", "2", "--stride", "2", "--values", "range"] },
        { "example1-at", ["--at", "1,2", "--values", "range"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Text_matches_its_snapshot(string name, string[] args)
    {
        var (exit, output, error) = ExplainCli.Run(args);
        Assert.True(exit == 0, error);
        Snapshot.Match(name + ".txt", output);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Svg_matches_its_snapshot(string name, string[] args)
    {
        var (exit, output, error) = ExplainCli.Run([.. args, "--format", "svg"]);
        Assert.True(exit == 0, error);
        Snapshot.Match(name + ".svg", output);
    }
}
