using System.Buffers.Binary;

namespace Deconv.Cli.Formats;

/// <summary>
/// One <c>onnx.TensorProto</c> of element type FLOAT or DOUBLE: its name, shape and row-major data
/// (exactly one of <see cref="Floats"/> and <see cref="Doubles"/> is set, by <see cref="DataType"/>).
/// </summary>
internal sealed class OnnxTensor
{
    public OnnxTensor(string name, long[] shape, int dataType, float[]? floats, double[]? doubles)
    {
        Name = name;
        Shape = shape;
        DataType = dataType;
        Floats = floats;
        Doubles = doubles;
    }

    public string Name { get; }

    public long[] Shape { get; }

    /// <summary><see cref="TensorProto.Float"/> or <see cref="TensorProto.Double"/>.</summary>
    public int DataType { get; }

    public float[]? Floats { get; }

    public double[]? Doubles { get; }

    /// <summary>The data widened to double.</summary>
    public double[] ToDoubles() => Doubles ?? [.. Floats!.Select(v => (double)v)];

    public string TypeName => TensorProto.TypeName(DataType);
}

/// <summary>
/// A hand-written reader of <c>onnx.TensorProto</c> (the <c>.pb</c> files of ONNX node tests and the
/// initializers of a model): <c>dims</c> (packed or not), <c>data_type</c> FLOAT or DOUBLE, <c>name</c>, and the data as
/// little-endian <c>raw_data</c> or as <c>float_data</c>/<c>double_data</c> (packed or not).
/// </summary>
internal static class TensorProto
{
    public const int Float = 1;
    public const int Double = 11;

    /// <summary>Reads a <c>.pb</c> file.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed FLOAT or DOUBLE TensorProto.</exception>
    public static OnnxTensor Read(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Parses one serialized TensorProto; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed FLOAT or DOUBLE TensorProto.</exception>
    public static OnnxTensor Parse(ReadOnlySpan<byte> bytes, string source)
    {
        var reader = new ProtoReader(bytes, source.EndsWith("TensorProto", StringComparison.Ordinal) ? source : source + ": TensorProto");
        return Parse(ref reader);
    }

    /// <summary>Parses the TensorProto that <paramref name="reader"/> covers.</summary>
    public static OnnxTensor Parse(ref ProtoReader reader)
    {
        var dims = new List<long>();
        var dataType = 0;
        var name = "";
        var floats = new List<float>();
        var doubles = new List<double>();
        var hasTyped = false;
        byte[]? raw = null;
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadKey();
            switch (field)
            {
                case 1:
                    reader.ReadRepeatedInt64("dims", wire, dims);
                    break;
                case 2:
                    reader.Expect("data_type", wire, WireType.Varint);
                    dataType = reader.ReadInt32("data_type");
                    break;
                case 3:
                    throw reader.Error("segmented tensors (field segment) are not supported");
                case 4:
                    reader.ReadRepeatedFloat("float_data", wire, floats);
                    hasTyped = true;
                    break;
                case 8:
                    reader.Expect("name", wire, WireType.LengthDelimited);
                    name = reader.ReadString("name");
                    break;
                case 9:
                    reader.Expect("raw_data", wire, WireType.LengthDelimited);
                    raw = reader.ReadBytes().ToArray();
                    break;
                case 10:
                    reader.ReadRepeatedDouble("double_data", wire, doubles);
                    hasTyped = true;
                    break;
                case 14:
                    reader.Expect("data_location", wire, WireType.Varint);
                    if (reader.ReadInt32("data_location") != 0)
                    {
                        throw reader.Error("tensor data stored outside the file (data_location EXTERNAL) is not supported");
                    }

                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }

        var label = name.Length > 0 ? $"tensor '{name}'" : "tensor";
        if (dataType is not (Float or Double))
        {
            throw reader.Error($"{label} has data_type {dataType} ({TypeName(dataType)}); only FLOAT ({Float}) and DOUBLE ({Double}) are supported");
        }

        if (dims.Any(d => d < 0))
        {
            throw reader.Error($"{label} has a negative dimension in dims [{string.Join(", ", dims)}]");
        }

        long count = 1;
        foreach (var d in dims)
        {
            if (d != 0 && count > Array.MaxLength / d)
            {
                count = -1;
                break;
            }

            count *= d;
        }

        if (count < 0 && !dims.Contains(0))
        {
            throw reader.Error($"{label} with dims [{string.Join(", ", dims)}] has more than {Array.MaxLength} elements");
        }

        count = Math.Max(count, 0);
        var shape = dims.ToArray();
        var size = dataType == Float ? 4 : 8;
        var typedCount = dataType == Float ? floats.Count : doubles.Count;
        if (dataType == Float && doubles.Count > 0 || dataType == Double && floats.Count > 0)
        {
            throw reader.Error($"{label} of type {TypeName(dataType)} holds {(dataType == Float ? "double_data" : "float_data")}, which belongs to another type");
        }

        if (raw is not null && hasTyped)
        {
            throw reader.Error($"{label} has both raw_data and {(dataType == Float ? "float_data" : "double_data")}");
        }

        if (raw is not null)
        {
            if (raw.LongLength != count * size)
            {
                throw reader.Error($"{label}: raw_data has {raw.Length} bytes but dims [{string.Join(", ", dims)}] of {TypeName(dataType)} need {count} x {size} = {count * size}");
            }

            return dataType == Float
                ? new OnnxTensor(name, shape, dataType, [.. Enumerable.Range(0, (int)count).Select(i => BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i * 4)))], null)
                : new OnnxTensor(name, shape, dataType, null, [.. Enumerable.Range(0, (int)count).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan(i * 8)))]);
        }

        if (typedCount != count)
        {
            throw reader.Error(typedCount == 0
                ? $"{label} with dims [{string.Join(", ", dims)}] ({count} elements) has no data (neither raw_data nor {(dataType == Float ? "float_data" : "double_data")})"
                : $"{label}: {(dataType == Float ? "float_data" : "double_data")} has {typedCount} values but dims [{string.Join(", ", dims)}] need {count}");
        }

        return dataType == Float
            ? new OnnxTensor(name, shape, dataType, [.. floats], null)
            : new OnnxTensor(name, shape, dataType, null, [.. doubles]);
    }

    /// <summary>The name of an <c>onnx.TensorProto.DataType</c> value.</summary>
    public static string TypeName(int dataType) => dataType switch
    {
        0 => "UNDEFINED",
        1 => "FLOAT",
        2 => "UINT8",
        3 => "INT8",
        4 => "UINT16",
        5 => "INT16",
        6 => "INT32",
        7 => "INT64",
        8 => "STRING",
        9 => "BOOL",
        10 => "FLOAT16",
        11 => "DOUBLE",
        12 => "UINT32",
        13 => "UINT64",
        16 => "BFLOAT16",
        _ => "type " + dataType,
    };
}
