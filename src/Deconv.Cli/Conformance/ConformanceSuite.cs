using Deconv.Cli.Formats;

namespace Deconv.Cli.Conformance;

/// <summary>
/// Finds conformance cases under files and folders (recursively): JSON case files (TensorFlow, ONNX Runtime,
/// case lists) and ONNX node-test folders (<c>model.onnx</c> with <c>test_data_set_*</c>). <c>manifest.json</c>
/// and files that are neither JSON nor ONNX models (READMEs, licences, <c>.pb</c> data) are not cases.
/// </summary>
internal static class ConformanceSuite
{
    private const string ModelFile = "model.onnx";

    /// <summary>Every case under <paramref name="paths"/>, in a stable order (sorted names, each file once).</summary>
    /// <exception cref="FileNotFoundException">A path does not exist (checked before anything is read).</exception>
    public static IReadOnlyList<ConformanceCase> Discover(IEnumerable<string> paths)
    {
        var given = paths.ToList();
        foreach (var path in given.Where(p => !File.Exists(p) && !Directory.Exists(p)))
        {
            throw new FileNotFoundException($"no such file or folder: {path}", path);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var cases = new List<ConformanceCase>();
        foreach (var path in given)
        {
            if (Directory.Exists(path))
            {
                AddFolder(path, seen, cases);
            }
            else
            {
                AddFile(path, seen, cases);
            }
        }

        return cases;
    }

    /// <summary>The cases of one JSON case file given as bytes; a malformed file gives one failing case that says why.</summary>
    public static IReadOnlyList<ConformanceCase> FromJson(ReadOnlyMemory<byte> json, string source)
    {
        IReadOnlyList<FileCase> parsed;
        try
        {
            parsed = CaseFiles.Parse(json, source);
        }
        catch (InvalidDataException e)
        {
            return [Failing(Path.GetFileName(source), source, e.Message)];
        }

        return [.. parsed.Select(c => new ConformanceCase(c.Id, source, () => c switch
        {
            TfCase tf => TfRunner.Run(tf, source),
            TfListCase list => TfRunner.Run(list, source),
            OrtCase ort => OnnxRunner.Run(ort, source),
            _ => throw new InvalidDataException($"{source}: unsupported case kind {c.GetType().Name}"),
        }))];
    }

    private static void AddFolder(string folder, HashSet<string> seen, List<ConformanceCase> cases)
    {
        if (File.Exists(Path.Combine(folder, ModelFile)))
        {
            AddNodeTest(folder, seen, cases);
            return;
        }

        foreach (var file in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
        {
            if (IsCaseFile(file))
            {
                AddFile(file, seen, cases);
            }
        }

        foreach (var sub in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            AddFolder(sub, seen, cases);
        }
    }

    private static bool IsCaseFile(string path)
    {
        var name = Path.GetFileName(path);
        return name.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            && !name.Equals("manifest.json", StringComparison.OrdinalIgnoreCase)
            && !name.StartsWith("README", StringComparison.OrdinalIgnoreCase);
    }

    private static void AddFile(string file, HashSet<string> seen, List<ConformanceCase> cases)
    {
        if (!seen.Add(Path.GetFullPath(file)))
        {
            return;
        }

        if (Path.GetFileName(file) == ModelFile)
        {
            AddNodeTest(Path.GetDirectoryName(file) is { Length: > 0 } dir ? dir : ".", seen, cases);
        }
        else if (file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            cases.AddRange(FromJson(File.ReadAllBytes(file), file));
        }
        else
        {
            cases.Add(Failing(Path.GetFileName(file), file, $"{file}: not a conformance case (expected a .json case file, a model.onnx or a folder)"));
        }
    }

    private static void AddNodeTest(string folder, HashSet<string> seen, List<ConformanceCase> cases)
    {
        if (!seen.Add(Path.GetFullPath(folder) + "/"))
        {
            return;
        }

        var name = Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/'));
        var model = Path.Combine(folder, ModelFile);
        var dataSets = Directory.GetDirectories(folder, "test_data_set_*").Order(StringComparer.Ordinal).ToList();
        if (dataSets.Count == 0)
        {
            cases.Add(Failing(name, folder, $"{folder}: ONNX node test without any test_data_set_* folder"));
        }

        foreach (var dataSet in dataSets)
        {
            var id = $"{name}/{Path.GetFileName(dataSet)}";
            cases.Add(new ConformanceCase(id, dataSet, () => OnnxRunner.Run(OnnxNodeTest.Load(id, model, dataSet))));
        }
    }

    private static ConformanceCase Failing(string id, string source, string message) =>
        new(id, source, () => CaseResult.Fail(id, source, double.NaN, message));
}
