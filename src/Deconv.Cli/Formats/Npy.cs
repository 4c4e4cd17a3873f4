using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Deconv.Cli.Formats;

/// <summary>An array read from a NumPy <c>.npy</c> file: its shape, its values in C order, and the file's dtype (<c>descr</c>).</summary>
internal sealed record NpyArray(long[] Shape, double[] Values, string Descr);

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files (format versions 1.0, 2.0 and 3.0) as the NumPy format
/// specification (<c>numpy.lib.format</c>) describes them: the magic <c>\x93NUMPY</c>, a major and minor
/// version byte, a little-endian header length (2 bytes in 1.0, 4 bytes in 2.0 and 3.0), a Python dict
/// literal <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c> padded with spaces and a
/// newline, then the raw data.
/// </summary>
/// <remarks>
/// Read: dtypes <c>&lt;f4</c>, <c>&lt;f8</c>, <c>&lt;i4</c>, <c>&lt;i8</c> (integers become floating point), C order only.
/// Every other file is refused with an <see cref="InvalidDataException"/> that names the file and what is wrong.
/// Write: <c>&lt;f4</c> or <c>&lt;f8</c>, C order, version 1.0 (2.0 when the header does not fit 65535 bytes).
/// </remarks>
internal static class Npy
{
    private const int MagicLength = 6;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a <c>.npy</c> file.</summary>
    /// <exception cref="InvalidDataException">The file is not a .npy file this reader supports.</exception>
    public static NpyArray Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return Parse(bytes, path);
    }

    /// <summary>Decodes the bytes of a <c>.npy</c> file; <paramref name="name"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a .npy file this reader supports.</exception>
    public static NpyArray Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < MagicLength || !bytes[..MagicLength].SequenceEqual(Magic))
        {
            throw Bad(name, "not a NumPy .npy file: it does not start with the magic string \\x93NUMPY");
        }

        if (bytes.Length < MagicLength + 2)
        {
            throw Bad(name, "the file ends inside the format version");
        }

        var (major, minor) = (bytes[MagicLength], bytes[MagicLength + 1]);
        if (major is not (1 or 2 or 3) || minor != 0)
        {
            throw Bad(name, $"unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)");
        }

        // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4 bytes (little-endian).
        var lengthStart = MagicLength + 2;
        var lengthSize = major == 1 ? 2 : 4;
        if (bytes.Length < lengthStart + lengthSize)
        {
            throw Bad(name, "the file ends inside the header length");
        }

        long headerLength = major == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(bytes[lengthStart..])
            : BinaryPrimitives.ReadUInt32LittleEndian(bytes[lengthStart..]);
        var headerStart = lengthStart + lengthSize;
        if (headerStart + headerLength > bytes.Length)
        {
            throw Bad(name, $"the header length {headerLength} runs past the end of the file ({bytes.Length} bytes)");
        }

        var headerBytes = bytes.Slice(headerStart, (int)headerLength);
        string header;
        try
        {
            // 1.0 and 2.0 headers are latin-1 (in practice ASCII); 3.0 headers are UTF-8.
            header = major == 3 ? new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException)
        {
            throw Bad(name, "the version 3.0 header is not valid UTF-8");
        }

        var (descr, fortranOrder, shape) = ParseHeader(header, name);
        if (fortranOrder)
        {
            throw Bad(name, "fortran_order is True (column-major data) which is not supported; save a C-order array (np.ascontiguousarray)");
        }

        var itemSize = ItemSize(descr, name);
        var count = Shapes.TryProduct(shape)
            ?? throw Bad(name, $"the shape {FormatTuple(shape)} has more elements than a 64-bit count can hold");
        var dataStart = headerStart + (int)headerLength;
        long available = bytes.Length - dataStart;
        if (count > available / itemSize)
        {
            throw Bad(name, $"the data is truncated: shape {FormatTuple(shape)} of {descr} needs {(count > long.MaxValue / itemSize ? "more than 2^63" : (count * itemSize).ToString(CultureInfo.InvariantCulture))} bytes but only {available} follow the header");
        }

        if (count * itemSize != available)
        {
            throw Bad(name, $"the header's shape {FormatTuple(shape)} of {descr} does not match the data: {available - (count * itemSize)} bytes follow the {count * itemSize} bytes of data");
        }

        var data = bytes[dataStart..];
        var values = new double[count];
        for (var i = 0; i < values.Length; i++)
        {
            var item = data.Slice(i * itemSize, itemSize);
            values[i] = descr switch
            {
                "<f4" => BinaryPrimitives.ReadSingleLittleEndian(item),
                "<f8" => BinaryPrimitives.ReadDoubleLittleEndian(item),
                "<i4" => BinaryPrimitives.ReadInt32LittleEndian(item),
                _ => BinaryPrimitives.ReadInt64LittleEndian(item),
            };
        }

        return new NpyArray(shape, values, descr);
    }

    /// <summary>Writes <paramref name="values"/> (C order) as a <c>.npy</c> file of dtype <c>&lt;f4</c> (float) or <c>&lt;f8</c> (double).</summary>
    public static void Write<T>(string path, ReadOnlySpan<T> values, ReadOnlySpan<long> shape)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        File.WriteAllBytes(path, Encode(values, shape));

    /// <summary>The bytes of a <c>.npy</c> file holding <paramref name="values"/> (C order) with <paramref name="shape"/>.</summary>
    public static byte[] Encode<T>(ReadOnlySpan<T> values, ReadOnlySpan<long> shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var isFloat = typeof(T) == typeof(float);
        if (!isFloat && typeof(T) != typeof(double))
        {
            throw new ArgumentException($"only float and double arrays can be written as .npy, not {typeof(T).Name}", nameof(values));
        }

        if (Shapes.TryProduct(shape) != values.Length)
        {
            throw new ArgumentException($"shape {FormatTuple(shape.ToArray())} does not have {values.Length} elements", nameof(shape));
        }

        var itemSize = isFloat ? 4 : 8;
        var dict = $"{{'descr': '{(isFloat ? "<f4" : "<f8")}', 'fortran_order': False, 'shape': {FormatTuple(shape.ToArray())}, }}";
        // Pad with spaces so that the data starts at a multiple of 64 bytes; the header ends with a newline.
        var version = MagicLength + 2 + 2 + dict.Length + 1 <= ushort.MaxValue ? 1 : 2;
        var prefix = MagicLength + 2 + (version == 1 ? 2 : 4);
        var headerLength = dict.Length + 1;
        headerLength += (64 - ((prefix + headerLength) % 64)) % 64;
        var header = dict.PadRight(headerLength - 1) + "\n";

        var bytes = new byte[prefix + headerLength + ((long)values.Length * itemSize)];
        Magic.CopyTo(bytes);
        bytes[MagicLength] = (byte)version;
        bytes[MagicLength + 1] = 0;
        if (version == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(MagicLength + 2), (ushort)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(MagicLength + 2), (uint)headerLength);
        }

        Encoding.ASCII.GetBytes(header, bytes.AsSpan(prefix));
        var data = bytes.AsSpan(prefix + headerLength);
        for (var i = 0; i < values.Length; i++)
        {
            if (isFloat)
            {
                BinaryPrimitives.WriteSingleLittleEndian(data[(i * 4)..], float.CreateTruncating(values[i]));
            }
            else
            {
                BinaryPrimitives.WriteDoubleLittleEndian(data[(i * 8)..], double.CreateTruncating(values[i]));
            }
        }

        return bytes;
    }

    /// <summary>A shape as Python writes a tuple: <c>()</c>, <c>(3,)</c>, <c>(2, 3)</c>.</summary>
    public static string FormatTuple(long[] shape) => shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";

    private static int ItemSize(string descr, string name) => descr switch
    {
        "<f4" or "<i4" => 4,
        "<f8" or "<i8" => 8,
        _ when descr.StartsWith('>') => throw Bad(name, $"dtype '{descr}' is big-endian; only little-endian <f4, <f8, <i4, <i8 are supported"),
        _ when descr.Contains('O', StringComparison.Ordinal) => throw Bad(name, $"dtype '{descr}' holds Python objects; only <f4, <f8, <i4, <i8 are supported"),
        _ => throw Bad(name, $"dtype '{descr}' is not supported; only <f4, <f8, <i4, <i8 are"),
    };

    private static InvalidDataException Bad(string name, string what) => new($"{name}: {what}");

    /// <summary>Parses the header's Python dict literal; it must have exactly the keys descr, fortran_order and shape.</summary>
    private static (string Descr, bool FortranOrder, long[] Shape) ParseHeader(string header, string name)
    {
        var reader = new HeaderReader(header, name);
        string? descr = null;
        bool? fortranOrder = null;
        long[]? shape = null;
        reader.Expect('{');
        while (!reader.TryTake('}'))
        {
            var key = reader.ReadString();
            reader.Expect(':');
            switch (key)
            {
                case "descr" when descr is null:
                    descr = reader.Peek() is '\'' or '"' ? reader.ReadString()
                        : throw Bad(name, "descr is not a simple dtype string (structured dtypes are not supported)");
                    break;
                case "fortran_order" when fortranOrder is null:
                    fortranOrder = reader.ReadBool();
                    break;
                case "shape" when shape is null:
                    shape = reader.ReadShape();
                    break;
                default:
                    throw Bad(name, $"the header has an unexpected or repeated key '{key}' (expected descr, fortran_order, shape)");
            }

            if (!reader.TryTake(','))
            {
                reader.Expect('}');
                break;
            }
        }

        reader.ExpectEnd();
        if (descr is null || fortranOrder is null || shape is null)
        {
            throw Bad(name, "the header lacks one of the keys descr, fortran_order, shape");
        }

        return (descr, fortranOrder.Value, shape);
    }

    /// <summary>A reader of the small subset of Python literals a .npy header uses.</summary>
    private ref struct HeaderReader(string text, string name)
    {
        private int position;

        public char? Peek()
        {
            SkipSpace();
            return position < text.Length ? text[position] : null;
        }

        public bool TryTake(char c)
        {
            if (Peek() == c)
            {
                position++;
                return true;
            }

            return false;
        }

        public void Expect(char c)
        {
            if (!TryTake(c))
            {
                throw Bad(name, $"the header is not a valid dict literal: expected '{c}' at character {position} of \"{Shorten(text)}\"");
            }
        }

        public void ExpectEnd()
        {
            if (Peek() is not null)
            {
                throw Bad(name, $"the header has text after the dict: \"{Shorten(text)}\"");
            }
        }

        public string ReadString()
        {
            var quote = Peek();
            if (quote is not ('\'' or '"'))
            {
                throw Bad(name, $"the header is not a valid dict literal: expected a quoted string at character {position} of \"{Shorten(text)}\"");
            }

            var end = text.IndexOf(quote.Value, position + 1);
            if (end < 0)
            {
                throw Bad(name, "the header has an unterminated string");
            }

            var value = text[(position + 1)..end];
            position = end + 1;
            return value;
        }

        public bool ReadBool()
        {
            SkipSpace();
            foreach (var (word, value) in new[] { ("True", true), ("False", false) })
            {
                if (string.CompareOrdinal(text, position, word, 0, word.Length) == 0)
                {
                    position += word.Length;
                    return value;
                }
            }

            throw Bad(name, $"fortran_order must be True or False in \"{Shorten(text)}\"");
        }

        public long[] ReadShape()
        {
            Expect('(');
            var shape = new List<long>();
            while (!TryTake(')'))
            {
                SkipSpace();
                var start = position;
                while (position < text.Length && char.IsAsciiDigit(text[position]))
                {
                    position++;
                }

                if (!long.TryParse(text.AsSpan(start, position - start), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
                {
                    throw Bad(name, $"the shape must be a tuple of non-negative integers that fit 64 bits, in \"{Shorten(text)}\"");
                }

                // Python 2 wrote long integers with an L suffix.
                if (position < text.Length && text[position] == 'L')
                {
                    position++;
                }

                shape.Add(length);
                if (!TryTake(','))
                {
                    Expect(')');
                    // "(3)" is the integer 3 in Python, not a tuple.
                    if (shape.Count == 1)
                    {
                        throw Bad(name, $"the shape must be a tuple; a 1-D shape is written (n,) in \"{Shorten(text)}\"");
                    }

                    break;
                }
            }

            return [.. shape];
        }

        private void SkipSpace()
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }
        }

        private static string Shorten(string s) => s.Length <= 120 ? s.TrimEnd() : s[..120] + "...";
    }
}
