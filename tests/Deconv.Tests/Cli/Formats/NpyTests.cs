using System.Buffers.Binary;
using System.Text;
using Deconv.Cli.Formats;

namespace Deconv.Tests.Cli.Formats;

public class NpyTests
{
    private const string Name = "sample.npy";

    /// <summary>
    /// Builds a .npy file by hand from the format specification (numpy.lib.format), independently of <see cref="Npy"/>:
    /// magic \x93NUMPY, version bytes, little-endian header length (2 bytes for 1.x, 4 for 2.x/3.x), header padded
    /// with spaces to a 64-byte boundary and ended by a newline, then the data.
    /// </summary>
    internal static byte[] Build(int major, string dict, byte[] data, Encoding? encoding = null, int minor = 0)
    {
        var lengthSize = major == 1 ? 2 : 4;
        var prefix = 8 + lengthSize;
        var headerBytes = (encoding ?? Encoding.ASCII).GetBytes(dict);
        var headerLength = (prefix + headerBytes.Length + 1 + 63) / 64 * 64 - prefix;
        var bytes = new byte[prefix + headerLength + data.Length];
        bytes[0] = 0x93;
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = (byte)major;
        bytes[7] = (byte)minor;
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerLength);
        }

        headerBytes.CopyTo(bytes, prefix);
        bytes.AsSpan(prefix + headerBytes.Length, headerLength - headerBytes.Length - 1).Fill((byte)' ');
        bytes[prefix + headerLength - 1] = (byte)'\n';
        data.CopyTo(bytes, prefix + headerLength);
        return bytes;
    }

    internal static byte[] Float32s(params float[] values)
    {
        var data = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), values[i]);
        }

        return data;
    }

    internal static byte[] Float64s(params double[] values)
    {
        var data = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(i * 8), values[i]);
        }

        return data;
    }

    [Fact]
    public void Reads_a_hand_built_version_1_float32_file()
    {
        var bytes = Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Float32s(0.5f, -1, 2, 3.25f, float.MaxValue, -0f));
        var array = Npy.Parse(bytes, Name);
        Assert.Equal("<f4", array.Descr);
        Assert.Equal([2L, 3], array.Shape);
        Assert.Equal([0.5, -1, 2, 3.25, float.MaxValue, -0.0], array.Values);
        Assert.True(double.IsNegative(array.Values[5]));
    }

    [Fact]
    public void Reads_version_2_and_3_headers_and_integer_dtypes()
    {
        var v2 = Npy.Parse(Build(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", Float64s(Math.PI, double.Epsilon, -7)), Name);
        Assert.Equal([3L], v2.Shape);
        Assert.Equal([Math.PI, double.Epsilon, -7], v2.Values);

        var ints = new byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(ints, -5);
        BinaryPrimitives.WriteInt32LittleEndian(ints.AsSpan(4), 0);
        BinaryPrimitives.WriteInt32LittleEndian(ints.AsSpan(8), int.MaxValue);
        // Version 3.0 allows UTF-8 in the header; keys in another order and double quotes are valid Python too.
        var v3 = Npy.Parse(Build(3, "{\"shape\": (1, 3), \"fortran_order\": False, \"descr\": \"<i4\"}", ints, Encoding.UTF8), Name);
        Assert.Equal("<i4", v3.Descr);
        Assert.Equal([1L, 3], v3.Shape);
        Assert.Equal([-5.0, 0, int.MaxValue], v3.Values);

        var longs = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(longs, -(1L << 40));
        BinaryPrimitives.WriteInt64LittleEndian(longs.AsSpan(8), 3);
        var i8 = Npy.Parse(Build(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2L,), }", longs), Name);
        Assert.Equal([-(double)(1L << 40), 3], i8.Values);
    }

    [Fact]
    public void Reads_scalars_and_empty_arrays()
    {
        var scalar = Npy.Parse(Build(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", Float64s(2.5)), Name);
        Assert.Empty(scalar.Shape);
        Assert.Equal([2.5], scalar.Values);
        var empty = Npy.Parse(Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", []), Name);
        Assert.Equal([0L, 4], empty.Shape);
        Assert.Empty(empty.Values);
    }

    [Fact]
    public void Writer_produces_the_bytes_numpy_writes()
    {
        // np.save of a float32 (2, 3) array: version 1.0, this exact header, padded to 64 bytes.
        var expected = Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Float32s(0, 1, 2, 3, 4, 5));
        Assert.Equal(expected, Npy.Encode<float>([0f, 1, 2, 3, 4, 5], [2, 3]));
        var expected1D = Build(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", Float64s(-1, 1));
        Assert.Equal(expected1D, Npy.Encode<double>([-1.0, 1], [2]));
    }

    [Theory]
    [InlineData(new long[] { 2, 3 })]
    [InlineData(new long[] { 7 })]
    [InlineData(new long[] { })]
    [InlineData(new long[] { 0, 3 })]
    [InlineData(new long[] { 1, 2, 3, 4, 2 })]
    public void Float32_and_float64_round_trip_bit_exactly(long[] shape)
    {
        var count = (int)shape.Aggregate(1L, (p, d) => p * d);
        var random = new Random(count);
        var doubles = Enumerable.Range(0, count).Select(i => i switch
        {
            0 => double.NaN,
            1 => double.NegativeInfinity,
            2 => -0.0,
            3 => double.Epsilon,
            _ => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-30, 30)),
        }).ToArray();
        var floats = doubles.Select(d => (float)d).ToArray();

        var path = Path.Combine(Path.GetTempPath(), $"deconv-npy-{Guid.NewGuid():N}.npy");
        try
        {
            Npy.Write<double>(path, doubles, shape);
            var back = Npy.Read(path);
            Assert.Equal("<f8", back.Descr);
            Assert.Equal(shape, back.Shape);
            Assert.Equal(doubles.Select(BitConverter.DoubleToInt64Bits), back.Values.Select(BitConverter.DoubleToInt64Bits));

            Npy.Write<float>(path, floats, shape);
            back = Npy.Read(path);
            Assert.Equal("<f4", back.Descr);
            Assert.Equal(shape, back.Shape);
            Assert.Equal(floats.Select(BitConverter.SingleToInt32Bits), back.Values.Select(v => BitConverter.SingleToInt32Bits((float)v)));
            Assert.Equal(0, (new FileInfo(path).Length - (count * 4)) % 64); // data aligned to 64 bytes
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Writes_version_2_when_the_header_does_not_fit_65535_bytes()
    {
        // 5000 axes of length 1 make a header of about 15000 characters: still version 1; 30000 axes need version 2.
        long[] shape = [.. Enumerable.Repeat(1L, 30000)];
        var bytes = Npy.Encode<float>([42f], shape);
        Assert.Equal(2, bytes[6]);
        var back = Npy.Parse(bytes, Name);
        Assert.Equal(shape, back.Shape);
        Assert.Equal([42.0], back.Values);
    }

    public static TheoryData<string, byte[], string> Malformed()
    {
        const string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        var data = Float32s(1, 2);
        var valid = Build(1, good, data);
        return new TheoryData<string, byte[], string>
        {
            { "empty file", [], "magic" },
            { "bad magic", [0x93, .. "NUMPX"u8, .. valid[6..]], "magic" },
            { "not numpy at all", "PK\x03\x04 a zip file"u8.ToArray(), "magic" },
            { "ends in version", valid[..7], "version" },
            { "ends in header length", valid[..9], "header length" },
            { "version 4.0", Build(4, good, data), "version 4.0" },
            { "version 1.1", Build(1, good, data, minor: 1), "version 1.1" },
            { "header runs past the end", valid[..40], "runs past the end" },
            { "fortran order", Build(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", data), "fortran_order" },
            { "big-endian", Build(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data), "big-endian" },
            { "object dtype", Build(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", data), "objects" },
            { "complex dtype", Build(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", Float32s(1, 2)), "<c8" },
            { "structured dtype", Build(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", data), "structured" },
            { "missing key", Build(1, "{'descr': '<f4', 'shape': (2,), }", data), "lacks" },
            { "extra key", Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", data), "'x'" },
            { "repeated key", Build(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data), "'descr'" },
            { "not a dict", Build(1, "['descr', '<f4']", data), "dict" },
            { "unterminated string", Build(1, "{'descr: <f4, fortran_order: False, shape: (2,)}", data), "unterminated" },
            { "text after the dict", Build(1, good + " 42", data), "after the dict" },
            { "fortran_order not a bool", Build(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", data), "fortran_order" },
            { "negative dimension", Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", data), "shape" },
            { "shape is not a tuple", Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", data), "tuple" },
            { "shape is a list", Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", data), "expected '('" },
            { "dimension overflows 64 bits", Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", data), "shape" },
            { "shape product overflows", Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", data), "64-bit" },
            { "shape exceeds the data", Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", data), "truncated" },
            { "truncated data", valid[..^1], "truncated" },
            { "shape smaller than the data", Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data), "does not match the data" },
            { "invalid UTF-8 in a version 3 header", Build(3, good, data, Encoding.Latin1) is var b && Patch(b, 12, 0xFF) ? b : [], "UTF-8" },
        };
    }

    private static bool Patch(byte[] bytes, int index, byte value)
    {
        bytes[index] = value;
        return true;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_files_throw_InvalidDataException_naming_the_file_and_the_problem(string what, byte[] bytes, string fragment)
    {
        var e = Assert.Throws<InvalidDataException>(() => Npy.Parse(bytes, Name));
        Assert.StartsWith(Name + ": ", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Contains(fragment, StringComparison.Ordinal), $"{what}: '{e.Message}' should contain '{fragment}'");
    }

    [Fact]
    public void Read_names_the_path()
    {
        var path = Path.Combine(Path.GetTempPath(), $"deconv-bad-{Guid.NewGuid():N}.npy");
        File.WriteAllBytes(path, Build(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", Float64s(1)));
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => Npy.Read(path));
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Fuzzed_files_either_read_correctly_or_throw_InvalidDataException()
    {
        byte[][] seeds =
        [
            Build(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Float32s(1, 2, 3, 4, 5, 6)),
            Build(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", Float64s(1, 2, 3)),
            Build(3, "{'descr': '<i4', 'fortran_order': False, 'shape': (), }", [1, 0, 0, 0], Encoding.UTF8),
            Build(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1, 2), }", [.. new byte[16]]),
        ];
        var random = new Random(20261125);
        var parsed = 0;
        for (var iteration = 0; iteration < 5000; iteration++)
        {
            var bytes = Mutate(seeds[iteration % seeds.Length], random);
            NpyArray array;
            try
            {
                array = Npy.Parse(bytes, Name);
            }
            catch (InvalidDataException e)
            {
                Assert.StartsWith(Name + ": ", e.Message, StringComparison.Ordinal);
                continue;
            }

            // A read that succeeds is consistent: the shape's element count is the number of values.
            parsed++;
            Assert.Equal(array.Shape.Aggregate(1L, (p, d) => p * d), array.Values.LongLength);
            Assert.Contains(array.Descr, new[] { "<f4", "<f8", "<i4", "<i8" });
        }

        // The mutations are gentle enough that some files still read (e.g. a changed data byte).
        Assert.InRange(parsed, 1, 4999);
    }

    private const string Plausible = "0123456789(),' :{}TrueFalse<>f48iL\n";

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits && bytes.Count > 0; e++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    bytes.RemoveAt(at);
                    break;
                case 3:
                    bytes.Insert(at, (byte)Plausible[random.Next(Plausible.Length)]);
                    break;
                case 4:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    // Replace a header character with another plausible one.
                    if (bytes.Count > 10)
                    {
                        var headerAt = random.Next(10, Math.Min(bytes.Count, 70));
                        bytes[headerAt] = (byte)"0123456789(),' :"[random.Next(16)];
                    }

                    break;
            }
        }

        return [.. bytes];
    }
}
