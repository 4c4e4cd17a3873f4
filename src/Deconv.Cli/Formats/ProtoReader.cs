using System.Buffers.Binary;
using System.Text;

namespace Deconv.Cli.Formats;

/// <summary>Protobuf wire types (the low three bits of a field key).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// A reader of the protobuf wire format over one message's bytes. Every malformed sequence (truncation,
/// an over-long varint, a length past the end, an unknown wire type) throws <see cref="InvalidDataException"/>
/// naming the source, the message and the byte offset.
/// </summary>
internal ref struct ProtoReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _data;
    private readonly int _baseOffset;
    private int _position;

    /// <param name="data">The message's bytes.</param>
    /// <param name="source">File name and message path for error messages, e.g. <c>model.onnx: ModelProto.graph</c>.</param>
    /// <param name="baseOffset">Offset of <paramref name="data"/> in the file, for error messages.</param>
    public ProtoReader(ReadOnlySpan<byte> data, string source, int baseOffset = 0)
    {
        _data = data;
        Source = source;
        _baseOffset = baseOffset;
    }

    public string Source { get; }

    public readonly bool AtEnd => _position >= _data.Length;

    /// <summary>Offset in the file of the next byte.</summary>
    public readonly int Offset => _baseOffset + _position;

    /// <summary>Reads a field key: field number (at least 1) and wire type.</summary>
    public (int Field, WireType Wire) ReadKey()
    {
        var start = Offset;
        var key = ReadVarint();
        var field = key >> 3;
        var wire = (int)(key & 7);
        if (field == 0 || field > 536_870_911)
        {
            throw Error($"invalid field number {field} in key at byte {start}");
        }

        if (wire > 5)
        {
            throw Error($"invalid wire type {wire} for field {field} at byte {start}");
        }

        return ((int)field, (WireType)wire);
    }

    /// <summary>A base-128 varint of at most 10 bytes.</summary>
    public ulong ReadVarint()
    {
        var start = Offset;
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw Error($"truncated varint at byte {start}");
            }

            var b = _data[_position++];
            if (shift == 63 && b > 1)
            {
                throw Error($"varint at byte {start} overflows 64 bits");
            }

            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw Error($"varint at byte {start} is longer than 10 bytes");
    }

    /// <summary>An int64 field (two's complement varint).</summary>
    public long ReadInt64() => unchecked((long)ReadVarint());

    /// <summary>An int32 field (enums, data types): a varint that must fit an int.</summary>
    public int ReadInt32(string field)
    {
        var start = Offset;
        var value = ReadInt64();
        if (value is < int.MinValue or > int.MaxValue)
        {
            throw Error($"{field} = {value} at byte {start} does not fit a 32-bit integer");
        }

        return (int)value;
    }

    /// <summary>A length-delimited field's bytes; <paramref name="offset"/> is their offset in the file.</summary>
    public ReadOnlySpan<byte> ReadBytes(out int offset)
    {
        var start = Offset;
        var length = ReadVarint();
        var remaining = _data.Length - _position;
        if (length > (ulong)remaining)
        {
            throw Error($"length-delimited field at byte {start} declares {length} bytes but only {remaining} remain (truncated or corrupt)");
        }

        offset = Offset;
        var bytes = _data.Slice(_position, (int)length);
        _position += (int)length;
        return bytes;
    }

    public ReadOnlySpan<byte> ReadBytes() => ReadBytes(out _);

    /// <summary>A UTF-8 string field.</summary>
    public string ReadString(string field)
    {
        var bytes = ReadBytes(out var offset);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error($"{field} at byte {offset} is not valid UTF-8");
        }
    }

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(ReadFixed(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(ReadFixed(8));

    /// <summary>A nested message's reader.</summary>
    public ProtoReader ReadMessage(string name)
    {
        var bytes = ReadBytes(out var offset);
        return new ProtoReader(bytes, Source + " > " + name, offset);
    }

    /// <summary>Skips a field's value of the given wire type (groups are not supported).</summary>
    public void Skip(int field, WireType wire)
    {
        switch (wire)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                ReadFixed(8);
                break;
            case WireType.LengthDelimited:
                ReadBytes();
                break;
            case WireType.Fixed32:
                ReadFixed(4);
                break;
            default:
                throw Error($"field {field} uses the deprecated group wire type {(int)wire}, which is not supported");
        }
    }

    /// <summary>Fails unless the field has the expected wire type.</summary>
    public readonly void Expect(string field, WireType actual, WireType expected)
    {
        if (actual != expected)
        {
            throw Error($"field {field} has wire type {(int)actual} but must have wire type {(int)expected}");
        }
    }

    /// <summary>Reads a repeated int64 field, packed (wire type 2) or one value (wire type 0), into <paramref name="values"/>.</summary>
    public void ReadRepeatedInt64(string field, WireType wire, List<long> values)
    {
        if (wire == WireType.Varint)
        {
            values.Add(ReadInt64());
            return;
        }

        Expect(field, wire, WireType.LengthDelimited);
        var packed = ReadMessage(field);
        while (!packed.AtEnd)
        {
            values.Add(packed.ReadInt64());
        }
    }

    /// <summary>Reads a repeated float field, packed (wire type 2) or one value (wire type 5).</summary>
    public void ReadRepeatedFloat(string field, WireType wire, List<float> values)
    {
        if (wire == WireType.Fixed32)
        {
            values.Add(ReadFloat());
            return;
        }

        Expect(field, wire, WireType.LengthDelimited);
        var bytes = ReadBytes(out var offset);
        if (bytes.Length % 4 != 0)
        {
            throw Error($"packed {field} at byte {offset} has {bytes.Length} bytes, not a multiple of 4");
        }

        for (var i = 0; i < bytes.Length; i += 4)
        {
            values.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes[i..]));
        }
    }

    /// <summary>Reads a repeated double field, packed (wire type 2) or one value (wire type 1).</summary>
    public void ReadRepeatedDouble(string field, WireType wire, List<double> values)
    {
        if (wire == WireType.Fixed64)
        {
            values.Add(ReadDouble());
            return;
        }

        Expect(field, wire, WireType.LengthDelimited);
        var bytes = ReadBytes(out var offset);
        if (bytes.Length % 8 != 0)
        {
            throw Error($"packed {field} at byte {offset} has {bytes.Length} bytes, not a multiple of 8");
        }

        for (var i = 0; i < bytes.Length; i += 8)
        {
            values.Add(BinaryPrimitives.ReadDoubleLittleEndian(bytes[i..]));
        }
    }

    public readonly InvalidDataException Error(string what) => new($"{Source}: {what}");

    private ReadOnlySpan<byte> ReadFixed(int size)
    {
        if (_data.Length - _position < size)
        {
            throw Error($"truncated {size}-byte value at byte {Offset}");
        }

        var bytes = _data.Slice(_position, size);
        _position += size;
        return bytes;
    }
}
