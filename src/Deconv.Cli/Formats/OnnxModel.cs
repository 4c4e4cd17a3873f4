namespace Deconv.Cli.Formats;

/// <summary><c>onnx.AttributeProto.AttributeType</c> values this reader keeps.</summary>
internal enum OnnxAttributeType
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
}

/// <summary>One node attribute: INT, INTS, STRING or FLOAT are read; other types keep only their name and type.</summary>
internal sealed record OnnxAttribute(string Name, OnnxAttributeType Type, long Int, long[] Ints, string String, float Float, float[] Floats);

/// <summary>One graph node: operator, inputs, outputs and attributes by name.</summary>
internal sealed record OnnxNode(string OpType, string Domain, string Name, string[] Inputs, string[] Outputs, IReadOnlyDictionary<string, OnnxAttribute> Attributes);

/// <summary>
/// The parts of an <c>onnx.ModelProto</c> a conformance run needs: the graph's nodes, its initializers
/// (weights stored in the model) and the names of its inputs and outputs.
/// </summary>
internal sealed class OnnxModel
{
    private OnnxModel(long irVersion, IReadOnlyList<OnnxNode> nodes, IReadOnlyList<OnnxTensor> initializers, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs)
    {
        IrVersion = irVersion;
        Nodes = nodes;
        Initializers = initializers;
        Inputs = inputs;
        Outputs = outputs;
    }

    public long IrVersion { get; }

    public IReadOnlyList<OnnxNode> Nodes { get; }

    public IReadOnlyList<OnnxTensor> Initializers { get; }

    /// <summary>Graph input names in order (older models also list their initializers here).</summary>
    public IReadOnlyList<string> Inputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    /// <summary>Graph inputs that no initializer provides: the ones a test data set feeds, in order.</summary>
    public IReadOnlyList<string> FedInputs => [.. Inputs.Where(name => Initializers.All(t => t.Name != name))];

    /// <summary>Reads a <c>model.onnx</c> file.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed ModelProto with a graph.</exception>
    public static OnnxModel Read(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Parses a serialized ModelProto; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed ModelProto with a graph.</exception>
    public static OnnxModel Parse(ReadOnlySpan<byte> bytes, string source)
    {
        var reader = new ProtoReader(bytes, source + ": ModelProto");
        long irVersion = 0;
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var inputs = new List<string>();
        var outputs = new List<string>();
        var hasGraph = false;
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadKey();
            switch (field)
            {
                case 1:
                    reader.Expect("ir_version", wire, WireType.Varint);
                    irVersion = reader.ReadInt64();
                    break;
                case 7:
                    reader.Expect("graph", wire, WireType.LengthDelimited);
                    if (hasGraph)
                    {
                        throw reader.Error("more than one graph");
                    }

                    hasGraph = true;
                    var graph = reader.ReadMessage("graph");
                    ReadGraph(ref graph, nodes, initializers, inputs, outputs);
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }

        if (!hasGraph)
        {
            throw reader.Error("the model has no graph (field 7)");
        }

        return new OnnxModel(irVersion, nodes, initializers, inputs, outputs);
    }

    private static void ReadGraph(ref ProtoReader reader, List<OnnxNode> nodes, List<OnnxTensor> initializers, List<string> inputs, List<string> outputs)
    {
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadKey();
            switch (field)
            {
                case 1:
                    reader.Expect("node", wire, WireType.LengthDelimited);
                    var node = reader.ReadMessage($"node[{nodes.Count}]");
                    nodes.Add(ReadNode(ref node));
                    break;
                case 5:
                    reader.Expect("initializer", wire, WireType.LengthDelimited);
                    var tensor = reader.ReadMessage($"initializer[{initializers.Count}] TensorProto");
                    initializers.Add(TensorProto.Parse(ref tensor));
                    break;
                case 11:
                    reader.Expect("input", wire, WireType.LengthDelimited);
                    var input = reader.ReadMessage($"input[{inputs.Count}]");
                    inputs.Add(ReadValueInfoName(ref input));
                    break;
                case 12:
                    reader.Expect("output", wire, WireType.LengthDelimited);
                    var output = reader.ReadMessage($"output[{outputs.Count}]");
                    outputs.Add(ReadValueInfoName(ref output));
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }
    }

    private static string ReadValueInfoName(ref ProtoReader reader)
    {
        var name = "";
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadKey();
            if (field == 1)
            {
                reader.Expect("name", wire, WireType.LengthDelimited);
                name = reader.ReadString("name");
            }
            else
            {
                reader.Skip(field, wire);
            }
        }

        return name;
    }

    private static OnnxNode ReadNode(ref ProtoReader reader)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxAttribute>();
        string opType = "", domain = "", name = "";
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadKey();
            switch (field)
            {
                case 1:
                    reader.Expect("input", wire, WireType.LengthDelimited);
                    inputs.Add(reader.ReadString("input"));
                    break;
                case 2:
                    reader.Expect("output", wire, WireType.LengthDelimited);
                    outputs.Add(reader.ReadString("output"));
                    break;
                case 3:
                    reader.Expect("name", wire, WireType.LengthDelimited);
                    name = reader.ReadString("name");
                    break;
                case 4:
                    reader.Expect("op_type", wire, WireType.LengthDelimited);
                    opType = reader.ReadString("op_type");
                    break;
                case 5:
                    reader.Expect("attribute", wire, WireType.LengthDelimited);
                    var attributeReader = reader.ReadMessage($"attribute[{attributes.Count}]");
                    var attribute = ReadAttribute(ref attributeReader);
                    if (!attributes.TryAdd(attribute.Name, attribute))
                    {
                        throw reader.Error($"attribute '{attribute.Name}' is given twice");
                    }

                    break;
                case 7:
                    reader.Expect("domain", wire, WireType.LengthDelimited);
                    domain = reader.ReadString("domain");
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }

        if (opType.Length == 0)
        {
            throw reader.Error("node has no op_type");
        }

        return new OnnxNode(opType, domain, name, [.. inputs], [.. outputs], attributes);
    }

    private static OnnxAttribute ReadAttribute(ref ProtoReader reader)
    {
        string name = "", text = "";
        var type = OnnxAttributeType.Undefined;
        long integer = 0;
        float single = 0;
        var ints = new List<long>();
        var floats = new List<float>();
        var seen = new HashSet<OnnxAttributeType>();
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadKey();
            switch (field)
            {
                case 1:
                    reader.Expect("name", wire, WireType.LengthDelimited);
                    name = reader.ReadString("name");
                    break;
                case 2:
                    reader.Expect("f", wire, WireType.Fixed32);
                    single = reader.ReadFloat();
                    seen.Add(OnnxAttributeType.Float);
                    break;
                case 3:
                    reader.Expect("i", wire, WireType.Varint);
                    integer = reader.ReadInt64();
                    seen.Add(OnnxAttributeType.Int);
                    break;
                case 4:
                    reader.Expect("s", wire, WireType.LengthDelimited);
                    text = reader.ReadString("s");
                    seen.Add(OnnxAttributeType.String);
                    break;
                case 7:
                    reader.ReadRepeatedFloat("floats", wire, floats);
                    seen.Add(OnnxAttributeType.Floats);
                    break;
                case 8:
                    reader.ReadRepeatedInt64("ints", wire, ints);
                    seen.Add(OnnxAttributeType.Ints);
                    break;
                case 20:
                    reader.Expect("type", wire, WireType.Varint);
                    type = (OnnxAttributeType)reader.ReadInt32("type");
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }

        if (name.Length == 0)
        {
            throw reader.Error("attribute has no name");
        }

        if (type == OnnxAttributeType.Undefined)
        {
            // Models from before IR version 2 may omit the type: infer it from the one value field present.
            type = seen.Count == 1 ? seen.First()
                : throw reader.Error($"attribute '{name}' has no type and {(seen.Count == 0 ? "no value" : "several values")}");
        }

        return new OnnxAttribute(name, type, integer, [.. ints], text, single, [.. floats]);
    }
}
