using Deconv.Cli;
using Deconv.Cli.Commands;

namespace Deconv.Tests.Conformance;

[Collection(ProcessWideState.Name)]
public sealed class ConformanceCommandTests : IDisposable
{
    // The TF blog example 2 with other numbers: stride 2, VALID, 2x2 kernel [[1,2],[3,4]] -> non-overlapping stamps
    // y[2i+a, 2j+b] = x[i,j] * f[a,b]; x01 is NaN, so exactly the stamp of x01 is NaN.
    private const string TfCase = """
        {"id": "mine-tf", "op": "conv2d_transpose",
         "attrs": {"output_shape": [1, 4, 4, 1], "strides": [1, 2, 2, 1], "padding": "VALID"},
         "inputs": {"input": {"shape": [1, 2, 2, 1], "data": [1, "NaN", 100, 1000]},
                    "filters": {"shape": [2, 2, 1, 1], "data": [1, 2, 3, 4]}},
         "expected": {"shape": [1, 4, 4, 1], "data": [1, 2, "NaN", "NaN", 3, 4, "NaN", "NaN", 100, 200, 1000, 2000, 300, 400, 3000, 4000]}}
        """;

    // ConvTranspose 1-D, stride 2, kernel [1, -1], output_padding 1, bias 0.5:
    // full scatter y[2i+k] += x[i] w[k] gives 1,-1,2,-2,3,-3 and the output_padding position 0; plus 0.5.
    private const string OrtCase = """
        {"id": "mine-ort", "op_type": "ConvTranspose",
         "attributes": {"kernel_shape": [2], "strides": [2], "pads": [0, 0], "dilations": [1], "output_padding": [1], "group": 1},
         "x": {"shape": [1, 1, 3], "data": [1, 2, 3]}, "w": {"shape": [1, 1, 2], "data": [1, -1]}, "b": {"shape": [1], "data": [0.5]},
         "y": {"shape": [1, 1, 7], "data": [1.5, -0.5, 2.5, -1.5, 3.5, -2.5, 0.5]}}
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("deconv-conformance-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static (int Exit, string Output) Run(params string[] paths) => Run(false, paths);

    private static (int Exit, string Output) Run(bool verbose, params string[] paths)
    {
        var output = new StringWriter();
        var exit = ConformanceCommand.Run(paths, verbose, output);
        return (exit, output.ToString());
    }

    private static string LastLine(string text) => text.TrimEnd('\n').Split('\n')[^1];

    private void WriteOwnCases()
    {
        File.WriteAllText(Path.Combine(_folder, "mine_tf.json"), TfCase);
        var nested = Directory.CreateDirectory(Path.Combine(_folder, "deeper", "ort")).FullName;
        File.WriteAllText(Path.Combine(nested, "mine_ort.json"), OrtCase);
        File.WriteAllText(Path.Combine(nested, "manifest.json"), "{\"not\": \"a case\"}");
        File.WriteAllText(Path.Combine(nested, "README.md"), "# notes");

        // An ONNX node test: the 1-D model (X [1,1,3], W [1,2,3], no attributes) with data of our own, written with
        // packed dims and float_data instead of raw_data. X = 1,2,3 and W all ones: y[o] = sum of x[i] for o-2 <= i <= o.
        var node = Directory.CreateDirectory(Path.Combine(_folder, "my_node_test")).FullName;
        File.Copy(SharedData.Path("conformance", "onnx", "test_convtranspose_1d", "model.onnx"), Path.Combine(node, "model.onnx"));
        var data = Directory.CreateDirectory(Path.Combine(node, "test_data_set_0")).FullName;
        File.WriteAllBytes(Path.Combine(data, "input_0.pb"), ProtoWriter.FloatTensor("X", [1, 1, 3], [1, 2, 3]));
        File.WriteAllBytes(Path.Combine(data, "input_1.pb"), ProtoWriter.FloatTensor("W", [1, 2, 3], [1, 1, 1, 1, 1, 1]));
        File.WriteAllBytes(Path.Combine(data, "output_0.pb"), ProtoWriter.FloatTensor("Y", [1, 2, 5], [1, 3, 6, 5, 3, 1, 3, 6, 5, 3]));

        // A second data set in DOUBLE (X as raw_data, W and Y as double_data): X = 0.5, -1, 2.
        var doubles = Directory.CreateDirectory(Path.Combine(node, "test_data_set_1")).FullName;
        File.WriteAllBytes(Path.Combine(doubles, "input_0.pb"), new ProtoWriter().Int(1, 1).Int(1, 1).Int(1, 3).Int(2, 11)
            .Bytes(9, [.. BitConverter.GetBytes(0.5), .. BitConverter.GetBytes(-1.0), .. BitConverter.GetBytes(2.0)]).ToArray());
        File.WriteAllBytes(Path.Combine(doubles, "input_1.pb"), new ProtoWriter().PackedVarints(1, [1, 2, 3]).Int(2, 11).PackedDoubles(10, Enumerable.Repeat(1.0, 6)).ToArray());
        File.WriteAllBytes(Path.Combine(doubles, "output_0.pb"), new ProtoWriter().PackedVarints(1, [1, 2, 5]).Int(2, 11)
            .PackedDoubles(10, [0.5, -0.5, 1.5, 1, 2, 0.5, -0.5, 1.5, 1, 2]).ToArray());
    }

    [Fact]
    public void The_whole_shared_suite_passes()
    {
        var (exit, output) = Run(SharedData.Path("conformance"));
        Assert.Equal("189 passed, 0 failed", LastLine(output));
        Assert.Equal(0, exit);
        Assert.DoesNotContain("FAIL", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Runs_cases_of_our_own_in_any_folder()
    {
        WriteOwnCases();
        var (exit, output) = Run(true, _folder);
        Assert.Equal(0, exit);
        Assert.Equal("4 passed, 0 failed", LastLine(output));
        Assert.Contains("pass my_node_test/test_data_set_1:", output, StringComparison.Ordinal);
        Assert.Contains("pass mine-tf:", output, StringComparison.Ordinal);
        Assert.Contains("pass mine-ort:", output, StringComparison.Ordinal);
        Assert.Contains("pass my_node_test/test_data_set_0:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_expectation_fails_with_the_case_id_and_largest_difference()
    {
        WriteOwnCases();
        File.WriteAllText(Path.Combine(_folder, "mine_tf.json"), TfCase.Replace("3000, 4000", "3000, 4000.5", StringComparison.Ordinal));
        File.WriteAllBytes(Path.Combine(_folder, "my_node_test", "test_data_set_0", "output_0.pb"), ProtoWriter.FloatTensor("Y", [1, 2, 5], [1, 3, 6, 5, 3, 1, 3, 6, 5, 2]));
        var (exit, output) = Run(_folder);
        Assert.Equal(1, exit);
        Assert.Equal("2 passed, 2 failed", LastLine(output));
        Assert.Contains("FAIL mine-tf (", output, StringComparison.Ordinal);
        Assert.Contains("largest difference 0.5:", output, StringComparison.Ordinal);
        Assert.Contains("at index [0, 3, 3, 0] got 4000, expected 4000.5", output, StringComparison.Ordinal);
        Assert.Contains("FAIL my_node_test/test_data_set_0 (", output, StringComparison.Ordinal);
        Assert.Contains("largest difference 1:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("pass ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_json_file_that_is_not_a_case_and_a_malformed_file_are_failures_not_crashes()
    {
        File.WriteAllText(Path.Combine(_folder, "other.json"), "{\"hello\": [1, 2]}");
        File.WriteAllText(Path.Combine(_folder, "broken.json"), TfCase[..200]);
        var node = Directory.CreateDirectory(Path.Combine(_folder, "bad_node", "test_data_set_0")).FullName;
        File.WriteAllBytes(Path.Combine(_folder, "bad_node", "model.onnx"), [0x3A, 0x10, 0x0A]);
        var (exit, output) = Run(_folder);
        Assert.Equal(1, exit);
        Assert.Equal("0 passed, 3 failed", LastLine(output));
        Assert.Contains("not a conformance case: expected a TensorFlow case", output, StringComparison.Ordinal);
        Assert.Contains("broken.json: not valid JSON", output, StringComparison.Ordinal);
        Assert.Contains("model.onnx: ModelProto: length-delimited field at byte 1 declares 16 bytes but only 1 remain", output, StringComparison.Ordinal);
        Assert.True(Directory.Exists(node));
    }

    [Fact]
    public void The_command_is_registered_and_a_missing_path_is_a_usage_error()
    {
        var error = new StringWriter();
        var missing = Path.Combine(_folder, "no-such-folder");
        var root = new System.CommandLine.RootCommand();
        root.Subcommands.Add(ConformanceCommand.Create());
        Assert.Equal(2, CommandRunner.Invoke(root, ["conformance", missing], error));
        Assert.Equal($"deconv: no such file or folder: {missing}", error.ToString().Trim());
        Assert.Equal(2, CommandRunner.Invoke(root, ["conformance"], new StringWriter()));
        Assert.Equal(2, CommandRunner.Invoke(root, ["conformance", _folder], new StringWriter()));

        var output = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            Assert.Equal(0, Program.Main(["conformance", SharedData.Path("conformance", "tf", "blog")]));
        }
        finally
        {
            Console.SetOut(output);
        }

        Assert.Equal("3 passed, 0 failed", LastLine(captured.ToString()));
    }

    [Fact]
    public void A_file_given_twice_runs_once()
    {
        var blog = SharedData.Path("conformance", "tf", "blog");
        var (exit, output) = Run(blog, Path.Combine(blog, "blog_1.json"), SharedData.Path("conformance", "onnx", "test_convtranspose", "model.onnx"));
        Assert.Equal(0, exit);
        Assert.Equal("4 passed, 0 failed", LastLine(output));
    }
}
