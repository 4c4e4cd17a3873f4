using System.Text;
using Deconv.Cli.Conformance;
using Deconv.Cli.Formats;

namespace Deconv.Tests.Conformance;

/// <summary>
/// Mutates the bytes of real conformance files thousands of times. Each mutant must parse and run to a pass or
/// fail result, or be rejected with <see cref="InvalidDataException"/> (or the library's <see cref="ArgumentException"/>
/// inside the run); any other exception, in the readers or in the library, fails the test.
/// </summary>
public class FuzzTests
{
    private const int Seed = 20261125;

    private static readonly string[] JsonFiles =
    [
        "tf/cases/001_conv2d_transpose.json", "tf/cases/006_depthwise_conv2d.json", "tf/cases/004_conv2d_backprop_filter.json",
        "tf/blog/blog_3.json", "tf/invalid/06_conv2d_transpose_input_channels_mismatch.json", "tf/invalid/22_conv1d_stride_zero.json",
        "ort/case_0018.json", "ort/case_0008.json", "tf/cases.json",
    ];

    private static readonly string[] NodeTests =
    [
        "onnx/test_convtranspose_kernel_shape", "onnx/test_conv_with_strides_and_asymmetric_padding", "onnx/test_convtranspose_dilations",
        "onnx-pytorch/test_ConvTranspose2d",
    ];

    private static string Shared(string relative) => SharedData.Path(["conformance", .. relative.Split('/')]);

    [Fact]
    public void Mutated_json_case_files_parse_and_run_or_are_rejected_cleanly()
    {
        var random = new Random(Seed);
        var files = JsonFiles.Select(f => (Name: f, Bytes: File.ReadAllBytes(Shared(f)))).ToList();
        int parsed = 0, rejected = 0;
        for (var iteration = 0; iteration < 2000; iteration++)
        {
            var (name, original) = files[random.Next(files.Count)];
            var mutant = MutateText(original, random);
            var cases = ConformanceSuite.FromJson(mutant, name);
            foreach (var c in cases)
            {
                var result = c.Run();
                Assert.False(result.Crashed, $"iteration {iteration}, {name}: {result.Message}\nmutant: {Encoding.UTF8.GetString(mutant)[..Math.Min(mutant.Length, 2000)]}");
                Assert.False(string.IsNullOrWhiteSpace(result.Message));
            }

            if (cases is [{ } only] && only.Id == name.Split('/')[^1] && !only.Run().Passed)
            {
                rejected++;
            }
            else
            {
                parsed++;
            }
        }

        // Both paths were exercised: many mutants still parse (digit changes), many are rejected.
        Assert.InRange(parsed, 200, 1900);
        Assert.InRange(rejected, 100, 1800);
    }

    [Fact]
    public void Mutated_onnx_models_and_tensors_parse_and_run_or_are_rejected_cleanly()
    {
        var random = new Random(Seed + 1);
        var tests = NodeTests.Select(LoadFiles).ToList();
        int ran = 0, rejected = 0;
        for (var iteration = 0; iteration < 5000; iteration++)
        {
            var files = tests[random.Next(tests.Count)];
            var target = random.Next(files.Count);
            var mutated = files.Select((f, i) => i == target ? (f.Name, Bytes: MutateBinary(f.Bytes, random)) : f).ToList();
            OnnxNodeTest test;
            try
            {
                var model = OnnxModel.Parse(mutated[0].Bytes, mutated[0].Name);
                var inputs = mutated.Where(f => f.Name.Contains("input_", StringComparison.Ordinal)).Select(f => TensorProto.Parse(f.Bytes, f.Name)).ToList();
                var outputs = mutated.Where(f => f.Name.Contains("output_", StringComparison.Ordinal)).Select(f => TensorProto.Parse(f.Bytes, f.Name)).ToList();
                test = new OnnxNodeTest("fuzz", mutated[0].Name, model, inputs, outputs);
            }
            catch (InvalidDataException e)
            {
                Assert.Contains(mutated[target].Name, e.Message, StringComparison.Ordinal);
                rejected++;
                continue;
            }

            var result = new ConformanceCase("fuzz", test.Source, () => OnnxRunner.Run(test)).Run();
            Assert.False(result.Crashed, $"iteration {iteration}, {mutated[target].Name}: {result.Message}");
            ran++;
        }

        Assert.InRange(ran, 300, 4900);
        Assert.InRange(rejected, 300, 4700);
    }

    [Fact]
    public void The_unmutated_fuzz_seeds_pass()
    {
        foreach (var name in JsonFiles)
        {
            Assert.All(ConformanceSuite.FromJson(File.ReadAllBytes(Shared(name)), name), c => Assert.True(c.Run().Passed, c.Id));
        }

        foreach (var files in NodeTests.Select(LoadFiles))
        {
            var test = new OnnxNodeTest("seed", files[0].Name, OnnxModel.Parse(files[0].Bytes, files[0].Name),
                [.. files.Where(f => f.Name.Contains("input_", StringComparison.Ordinal)).Select(f => TensorProto.Parse(f.Bytes, f.Name))],
                [.. files.Where(f => f.Name.Contains("output_", StringComparison.Ordinal)).Select(f => TensorProto.Parse(f.Bytes, f.Name))]);
            Assert.True(OnnxRunner.Run(test).Passed, files[0].Name);
        }
    }

    /// <summary>model.onnx first, then input_*.pb and output_*.pb of test_data_set_0, in order.</summary>
    private static List<(string Name, byte[] Bytes)> LoadFiles(string folder)
    {
        var dataSet = Path.Combine(Shared(folder), "test_data_set_0");
        return
        [
            (folder + "/model.onnx", File.ReadAllBytes(Path.Combine(Shared(folder), "model.onnx"))),
            .. Directory.GetFiles(dataSet, "*.pb").Order(StringComparer.Ordinal).Select(p => ($"{folder}/{Path.GetFileName(p)}", File.ReadAllBytes(p))),
        ];
    }

    /// <summary>1-3 edits biased to what keeps JSON parseable: change, insert or delete a digit; else a random byte, a deletion or a truncation.</summary>
    private static byte[] MutateText(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        for (var edits = random.Next(1, 4); edits > 0 && bytes.Count > 0; edits--)
        {
            var position = random.Next(bytes.Count);
            var digit = (byte)('0' + random.Next(10));
            switch (random.Next(8))
            {
                case 0 or 1 or 2:
                    var digits = Enumerable.Range(0, bytes.Count).Where(i => bytes[i] is >= (byte)'0' and <= (byte)'9').ToList();
                    bytes[digits.Count > 0 ? digits[random.Next(digits.Count)] : position] = digit;
                    break;
                case 3:
                    bytes.Insert(position, bytes[position] is >= (byte)'0' and <= (byte)'9' ? digit : (byte)'-');
                    break;
                case 4:
                    bytes.RemoveAt(position);
                    break;
                case 5:
                    bytes[position] = (byte)random.Next(256);
                    break;
                case 6:
                    bytes[position] = "[]{},:\"-.eE"u8[random.Next(11)];
                    break;
                default:
                    bytes.RemoveRange(position, bytes.Count - position);
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>1-3 edits: a random byte, a flipped bit, a varint-breaking byte, an insertion, a deletion or a truncation.</summary>
    private static byte[] MutateBinary(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        for (var edits = random.Next(1, 4); edits > 0 && bytes.Count > 0; edits--)
        {
            var position = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes[position] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes[position] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    bytes[position] = new byte[] { 0x00, 0x01, 0x7F, 0x80, 0xFF }[random.Next(5)];
                    break;
                case 3:
                    bytes.Insert(position, (byte)random.Next(256));
                    break;
                case 4:
                    bytes.RemoveAt(position);
                    break;
                default:
                    bytes.RemoveRange(position, bytes.Count - position);
                    break;
            }
        }

        return [.. bytes];
    }
}
