using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Unicode;

namespace Deconv.Cli.Formats;

/// <summary>A float32 tensor of a case file: shape and row-major data (<c>Data.Length</c> = product of <c>Shape</c>).</summary>
internal sealed record CaseTensor(long[] Shape, float[] Data);

/// <summary>One case read from a JSON case file.</summary>
internal abstract record FileCase(string Id);

/// <summary>
/// A TensorFlow case (<c>tf/cases</c>, <c>tf/blog</c>, <c>tf/invalid</c>): the op, its non-tensor arguments
/// under TensorFlow's names, its tensors, and either the expected output or <see cref="ErrorReason"/>.
/// </summary>
internal sealed record TfCase(string Id, string Op, TfArguments Arguments, IReadOnlyDictionary<string, CaseTensor> Inputs,
    CaseTensor? Expected, string? ErrorReason) : FileCase(Id);

/// <summary>
/// TensorFlow's non-tensor arguments as written in the file. <see cref="Padding"/> is <c>"VALID"</c>/<c>"SAME"</c>
/// text or null when <see cref="PaddingPairs"/> holds explicit <c>[before, after]</c> pairs; the library checks them.
/// </summary>
internal sealed record TfArguments(long[]? Strides, long[]? Dilations, string? Padding, long[][]? PaddingPairs, string? DataFormat,
    long[]? OutputShape, long[]? InputSizes, long[]? FilterSizes);

/// <summary>
/// A case of <c>tf/cases.json</c>: a <c>conv{1,2,3}d_transpose</c> whose input is 1..numel(input) and filter
/// 1..numel(filter) in row-major order. <see cref="Expected"/> is the literal output list, or null for a
/// rule case, whose expectation is the closed-form all-ones rule in <see cref="Rule"/>.
/// </summary>
internal sealed record TfListCase(string Id, long[] InputShape, long[] FilterShape, long[] OutputShape, long[]? Strides, long[]? Dilations,
    string? Padding, long[][]? PaddingPairs, string? DataFormat, float[]? Expected, string? Rule) : FileCase(Id)
{
    /// <summary>Spatial rank (input rank minus batch and channels).</summary>
    public int Rank => InputShape.Length - 2;
}

/// <summary>An ONNX Runtime case (<c>ort/case_*.json</c>): ONNX <c>ConvTranspose</c> or <c>Conv</c> with attributes, X, W, optional B, expected Y.</summary>
internal sealed record OrtCase(string Id, string OpType, OnnxConvAttributes Attributes, CaseTensor X, CaseTensor W, CaseTensor? B, CaseTensor Y) : FileCase(Id);

/// <summary>
/// Reads the JSON case formats: TensorFlow cases (<c>op</c>), ONNX Runtime cases (<c>op_type</c>) and case lists
/// (<c>cases</c> / <c>rule_cases</c>). NaN and infinities are the strings <c>"NaN"</c>, <c>"Infinity"</c>,
/// <c>"-Infinity"</c>. Anything malformed throws <see cref="InvalidDataException"/> naming the file, the JSON path and the problem.
/// </summary>
internal static class CaseFiles
{
    /// <summary>Largest tensor the list-case convention may ask us to generate.</summary>
    public const long MaxGeneratedElements = 1 << 24;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    private static readonly JsonSerializerOptions NumberOptions = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private sealed record TfOpSpec(string[] Inputs, string[] Required, string[] Optional);

    private static readonly Dictionary<string, TfOpSpec> TfOps = new()
    {
        ["conv1d_transpose"] = new(["input", "filters"], ["output_shape", "strides", "padding"], ["data_format", "dilations"]),
        ["conv2d_transpose"] = new(["input", "filters"], ["output_shape", "strides", "padding"], ["data_format", "dilations"]),
        ["conv3d_transpose"] = new(["input", "filters"], ["output_shape", "strides", "padding"], ["data_format", "dilations"]),
        ["conv1d"] = new(["input", "filters"], ["stride", "padding"], ["data_format", "dilations"]),
        ["conv2d"] = new(["input", "filters"], ["strides", "padding"], ["data_format", "dilations"]),
        ["conv3d"] = new(["input", "filters"], ["strides", "padding"], ["data_format", "dilations"]),
        ["depthwise_conv2d"] = new(["input", "filter"], ["strides", "padding"], ["data_format", "dilations"]),
        ["conv2d_backprop_input"] = new(["filter", "out_backprop"], ["input_sizes", "strides", "padding"], ["data_format", "dilations"]),
        ["conv2d_backprop_filter"] = new(["input", "out_backprop"], ["filter_sizes", "strides", "padding"], ["data_format", "dilations"]),
    };

    private static readonly string[] OrtAttributes = ["auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"];

    /// <summary>Reads every case in a JSON case file.</summary>
    /// <exception cref="InvalidDataException">The file is not valid JSON or not a case file of a known format.</exception>
    public static IReadOnlyList<FileCase> Read(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Parses the bytes of a JSON case file; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The bytes are not valid JSON or not a case file of a known format.</exception>
    public static IReadOnlyList<FileCase> Parse(ReadOnlyMemory<byte> json, string source)
    {
        // JsonDocument checks the UTF-8 of strings only when they are read; check all of it up front.
        if (!Utf8.IsValid(json.Span))
        {
            throw new InvalidDataException($"{source}: not valid JSON: the file is not valid UTF-8");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var reader = new JsonCaseReader(source);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw reader.Error("$", $"not a conformance case: the top level is {Describe(root)}, not an object");
            }

            var name = Path.GetFileNameWithoutExtension(source);
            if (root.TryGetProperty("cases", out _) || root.TryGetProperty("rule_cases", out _))
            {
                return ReadCaseList(reader, root, name);
            }

            if (root.TryGetProperty("op", out _))
            {
                return [ReadTfCase(reader, root, name)];
            }

            if (root.TryGetProperty("op_type", out _))
            {
                return [ReadOrtCase(reader, root, name)];
            }

            throw reader.Error("$", "not a conformance case: expected a TensorFlow case (with \"op\"), an ONNX Runtime case (with \"op_type\") or a case list (with \"cases\" or \"rule_cases\")");
        }
    }

    private static TfCase ReadTfCase(JsonCaseReader r, JsonElement root, string fallbackId)
    {
        var id = r.OptionalString(root, "id", "$") ?? fallbackId;
        var op = r.String(r.Required(root, "op", "$"), "$.op");
        if (!TfOps.TryGetValue(op, out var spec))
        {
            throw r.Error("$.op", $"unknown op '{op}'; known ops: {string.Join(", ", TfOps.Keys)}");
        }

        var attrs = r.Object(r.Required(root, "attrs", "$"), "$.attrs");
        r.OnlyKnownKeys(attrs, "$.attrs", [.. spec.Required, .. spec.Optional], $"an argument of {op}");
        foreach (var required in spec.Required)
        {
            r.Required(attrs, required, "$.attrs");
        }

        var (padding, pairs) = r.Padding(attrs.GetProperty("padding"), "$.attrs.padding");
        var arguments = new TfArguments(
            Strides: r.OptionalIntegers(attrs, op == "conv1d" ? "stride" : "strides", "$.attrs"),
            Dilations: r.OptionalIntegers(attrs, "dilations", "$.attrs"),
            Padding: padding,
            PaddingPairs: pairs,
            DataFormat: r.OptionalString(attrs, "data_format", "$.attrs"),
            OutputShape: r.OptionalIntegers(attrs, "output_shape", "$.attrs"),
            InputSizes: r.OptionalIntegers(attrs, "input_sizes", "$.attrs"),
            FilterSizes: r.OptionalIntegers(attrs, "filter_sizes", "$.attrs"));

        var inputsElement = r.Object(r.Required(root, "inputs", "$"), "$.inputs");
        r.OnlyKnownKeys(inputsElement, "$.inputs", spec.Inputs, $"an input of {op}");
        var inputs = spec.Inputs.ToDictionary(name => name, name => r.Tensor(r.Required(inputsElement, name, "$.inputs"), $"$.inputs.{name}"));
        var expected = r.Object(r.Required(root, "expected", "$"), "$.expected");
        if (expected.TryGetProperty("error", out var error))
        {
            if (error.ValueKind != JsonValueKind.True)
            {
                throw r.Error("$.expected.error", $"must be true when present (an expected error), but is {Describe(error)}");
            }

            return new TfCase(id, op, arguments, inputs, null, r.OptionalString(expected, "reason", "$.expected") ?? "");
        }

        return new TfCase(id, op, arguments, inputs, r.Tensor(expected, "$.expected"), null);
    }

    private static OrtCase ReadOrtCase(JsonCaseReader r, JsonElement root, string fallbackId)
    {
        var id = r.OptionalString(root, "id", "$") ?? fallbackId;
        var opType = r.String(r.Required(root, "op_type", "$"), "$.op_type");
        if (opType is not ("ConvTranspose" or "Conv"))
        {
            throw r.Error("$.op_type", $"unknown op_type '{opType}'; known: ConvTranspose, Conv");
        }

        var attributes = r.Object(r.Required(root, "attributes", "$"), "$.attributes");
        r.OnlyKnownKeys(attributes, "$.attributes", OrtAttributes, $"an attribute of {opType}");
        var group = attributes.TryGetProperty("group", out var g) ? r.Integer(g, "$.attributes.group") : 1;
        var onnx = new OnnxConvAttributes
        {
            AutoPad = r.OptionalString(attributes, "auto_pad", "$.attributes") ?? "NOTSET",
            Dilations = r.OptionalIntegers(attributes, "dilations", "$.attributes"),
            Group = group,
            KernelShape = r.OptionalIntegers(attributes, "kernel_shape", "$.attributes"),
            OutputPadding = r.OptionalIntegers(attributes, "output_padding", "$.attributes"),
            OutputShape = r.OptionalIntegers(attributes, "output_shape", "$.attributes"),
            Pads = r.OptionalIntegers(attributes, "pads", "$.attributes"),
            Strides = r.OptionalIntegers(attributes, "strides", "$.attributes"),
        };
        var b = root.TryGetProperty("b", out var bias) && bias.ValueKind != JsonValueKind.Null ? r.Tensor(bias, "$.b") : null;
        return new OrtCase(id, opType, onnx, r.Tensor(r.Required(root, "x", "$"), "$.x"), r.Tensor(r.Required(root, "w", "$"), "$.w"), b,
            r.Tensor(r.Required(root, "y", "$"), "$.y"));
    }

    private static List<FileCase> ReadCaseList(JsonCaseReader r, JsonElement root, string fileName)
    {
        var result = new List<FileCase>();
        var ids = new HashSet<string>();
        foreach (var list in new[] { "cases", "rule_cases" })
        {
            if (!root.TryGetProperty(list, out var entries))
            {
                continue;
            }

            if (entries.ValueKind != JsonValueKind.Array)
            {
                throw r.Error($"$.{list}", $"must be an array of cases, but is {Describe(entries)}");
            }

            var index = 0;
            foreach (var entry in entries.EnumerateArray())
            {
                var path = $"$.{list}[{index++}]";
                var c = ReadListEntry(r, r.Object(entry, path), path, fileName, isRule: list == "rule_cases");
                if (!ids.Add(c.Id))
                {
                    throw r.Error(path, $"case name '{c.Id}' appears twice");
                }

                result.Add(c);
            }
        }

        return result;
    }

    private static TfListCase ReadListEntry(JsonCaseReader r, JsonElement entry, string path, string fileName, bool isRule)
    {
        var name = r.String(r.Required(entry, "name", path), path + ".name");
        var input = r.Shape(r.Required(entry, "input_shape", path), path + ".input_shape");
        var filter = r.Shape(r.Required(entry, "filter_shape", path), path + ".filter_shape");
        var output = r.Shape(r.Required(entry, "output_shape", path), path + ".output_shape");
        foreach (var (shape, key) in new[] { (input, "input_shape"), (filter, "filter_shape"), (output, "output_shape") })
        {
            if (shape.Length is < 3 or > 5)
            {
                throw r.Error($"{path}.{key}", $"must have 3 to 5 dimensions (batch, 1-3 spatial axes, channels), but has {shape.Length}");
            }

            var count = shape.Aggregate(1.0, (p, d) => p * d);
            if (count > MaxGeneratedElements)
            {
                throw r.Error($"{path}.{key}", $"shape [{string.Join(", ", shape)}] has {count} elements, more than the {MaxGeneratedElements} a list case may generate");
            }
        }

        var rank = input.Length - 2;
        if (r.OptionalString(entry, "op", path) is { } op && !op.StartsWith($"conv{rank}d_transpose", StringComparison.Ordinal))
        {
            throw r.Error(path + ".op", $"'{op}' is not supported: list cases are conv{{1,2,3}}d_transpose (conv{rank}d_transpose for a rank-{rank + 2} input)");
        }

        var (padding, pairs) = r.Padding(r.Required(entry, "padding", path), path + ".padding");
        float[]? expected = null;
        string? rule = null;
        if (isRule)
        {
            rule = r.String(r.Required(entry, "rule", path), path + ".rule");
        }
        else
        {
            expected = r.Floats(r.Required(entry, "expected", path), path + ".expected");
            var count = output.Aggregate(1.0, (p, d) => p * d);
            if (expected.Length != count)
            {
                throw r.Error(path + ".expected", $"has {expected.Length} values but output_shape [{string.Join(", ", output)}] has {count} elements");
            }
        }

        return new TfListCase($"{fileName}/{name}", input, filter, output, r.OptionalIntegers(entry, "strides", path), r.OptionalIntegers(entry, "dilations", path),
            padding, pairs, r.OptionalString(entry, "data_format", path), expected, rule);
    }

    internal static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string \"{Shorten(e.GetString()!)}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "null",
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";

    /// <summary>Typed access to JSON values; every mismatch throws <see cref="InvalidDataException"/> with file and JSON path.</summary>
    private sealed class JsonCaseReader(string source)
    {
        public InvalidDataException Error(string path, string what) => new($"{source}: {path}: {what}");

        public JsonElement Required(JsonElement obj, string name, string path) =>
            obj.TryGetProperty(name, out var value) ? value : throw Error(path, $"missing \"{name}\"");

        public JsonElement Object(JsonElement e, string path) =>
            e.ValueKind == JsonValueKind.Object ? e : throw Error(path, $"must be an object, but is {Describe(e)}");

        public string String(JsonElement e, string path) =>
            e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Error(path, $"must be a string, but is {Describe(e)}");

        public string? OptionalString(JsonElement obj, string name, string path) =>
            obj.TryGetProperty(name, out var value) ? String(value, $"{path}.{name}") : null;

        public long Integer(JsonElement e, string path) =>
            e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v) ? v : throw Error(path, $"must be an integer, but is {Describe(e)}");

        /// <summary>An integer list; a single integer stands for a one-element list (TF's <c>stride</c>, <c>dilations</c>).</summary>
        public long[] Integers(JsonElement e, string path) => e.ValueKind switch
        {
            JsonValueKind.Number => [Integer(e, path)],
            JsonValueKind.Array => [.. e.EnumerateArray().Select((v, i) => Integer(v, $"{path}[{i}]"))],
            _ => throw Error(path, $"must be an integer or a list of integers, but is {Describe(e)}"),
        };

        public long[]? OptionalIntegers(JsonElement obj, string name, string path) =>
            obj.TryGetProperty(name, out var value) ? Integers(value, $"{path}.{name}") : null;

        /// <summary>A shape: a list of integers, none negative.</summary>
        public long[] Shape(JsonElement e, string path)
        {
            if (e.ValueKind != JsonValueKind.Array)
            {
                throw Error(path, $"must be a list of dimensions, but is {Describe(e)}");
            }

            var shape = Integers(e, path);
            if (shape.Any(d => d < 0))
            {
                throw Error(path, $"shape [{string.Join(", ", shape)}] has a negative dimension");
            }

            return shape;
        }

        /// <summary>TF's padding: "VALID"/"SAME" text (checked by the library) or a list of integer pairs.</summary>
        public (string? Text, long[][]? Pairs) Padding(JsonElement e, string path) => e.ValueKind switch
        {
            JsonValueKind.String => (e.GetString(), null),
            JsonValueKind.Array => (null, [.. e.EnumerateArray().Select((p, i) => p.ValueKind == JsonValueKind.Array
                ? Integers(p, $"{path}[{i}]")
                : throw Error($"{path}[{i}]", $"an explicit padding entry must be a [before, after] list, but is {Describe(p)}"))]),
            _ => throw Error(path, $"must be \"VALID\", \"SAME\" or a list of [before, after] pairs, but is {Describe(e)}"),
        };

        /// <summary>A list of float32 numbers; NaN and infinities as the strings "NaN", "Infinity", "-Infinity".</summary>
        public float[] Floats(JsonElement e, string path)
        {
            if (e.ValueKind != JsonValueKind.Array)
            {
                throw Error(path, $"must be a list of numbers, but is {Describe(e)}");
            }

            double[] values;
            try
            {
                values = e.Deserialize<double[]>(NumberOptions)!;
            }
            catch (JsonException x)
            {
                throw Error(path, $"must hold only numbers (or \"NaN\", \"Infinity\", \"-Infinity\"): {x.Message}");
            }

            var result = new float[values.Length];
            for (var i = 0; i < values.Length; i++)
            {
                result[i] = (float)values[i];
                if (double.IsFinite(values[i]) && !float.IsFinite(result[i]))
                {
                    throw Error($"{path}[{i}]", $"value {values[i]} is outside the float32 range");
                }
            }

            return result;
        }

        /// <summary>A tensor: <c>{"shape": [...], "data": [...]}</c> with as many values as the shape has elements.</summary>
        public CaseTensor Tensor(JsonElement e, string path)
        {
            Object(e, path);
            var shape = Shape(Required(e, "shape", path), path + ".shape");
            var data = Floats(Required(e, "data", path), path + ".data");
            var count = shape.Aggregate(1.0, (p, d) => p * d);
            if (count != data.Length)
            {
                throw Error(path, $"data has {data.Length} values but shape [{string.Join(", ", shape)}] has {count} elements");
            }

            return new CaseTensor(shape, data);
        }

        /// <summary>Fails on a key that is not one of <paramref name="known"/> (a misspelt argument must not be ignored).</summary>
        public void OnlyKnownKeys(JsonElement obj, string path, IReadOnlyCollection<string> known, string what)
        {
            foreach (var property in obj.EnumerateObject())
            {
                if (!known.Contains(property.Name))
                {
                    throw Error($"{path}.{property.Name}", $"is not {what} (expected: {string.Join(", ", known)})");
                }
            }
        }
    }
}
