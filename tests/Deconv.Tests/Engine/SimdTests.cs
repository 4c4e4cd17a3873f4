using System.Globalization;
using System.Runtime.Intrinsics;
using Deconv.Engine;
using Xunit.Abstractions;

namespace Deconv.Tests.Engine;

public sealed class SimdTests(ITestOutputHelper output)
{
    [Fact]
    public void AllFinite_finds_one_infinite_or_NaN_value_anywhere()
    {
        // Lengths around the 32-float blocks and the scalar tail; extreme finite values never count as non-finite.
        float[] finite = [0f, -0f, float.MaxValue, float.MinValue, float.Epsilon, -float.Epsilon, 1e-40f, 3.5f];
        foreach (var length in new[] { 0, 1, 7, 31, 32, 33, 64, 70, 97 })
        {
            var values = Enumerable.Range(0, length).Select(i => finite[i % finite.Length]).ToArray();
            Assert.True(Simd.AllFinite(values));
            for (var at = 0; at < length; at++)
            {
                foreach (var bad in new[] { float.PositiveInfinity, float.NegativeInfinity, float.NaN })
                {
                    var copy = values.ToArray();
                    copy[at] = bad;
                    Assert.False(Simd.AllFinite(copy), $"length {length}, {bad} at {at}");
                }
            }
        }
    }

    [Fact]
    public void Zip_alternates_the_lanes_of_two_vectors_in_every_width()
    {
        var a = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        var b = Enumerable.Range(0, 16).Select(i => 100f + i).ToArray();
        var (low512, high512) = Simd512.Zip(Vector512.Create(a), Vector512.Create(b));
        Assert.Equal(Zipped(16), (float[])[.. Lanes(low512), .. Lanes(high512)]);
        var (low256, high256) = Simd256.Zip(Vector256.Create(a), Vector256.Create(b));
        Assert.Equal(Zipped(8), (float[])[.. Lanes(low256), .. Lanes(high256)]);
        var (low128, high128) = Simd128.Zip(Vector128.Create(a), Vector128.Create(b));
        Assert.Equal(Zipped(4), (float[])[.. Lanes(low128), .. Lanes(high128)]);
        var (low, high) = SimdScalar.Zip(a[0], b[0]);
        Assert.Equal(Zipped(1), new[] { low, high });

        // a0 b0 a1 b1 ...: the first half in Low, the second in High.
        static float[] Zipped(int width) => [.. Enumerable.Range(0, width).SelectMany(i => new[] { (float)i, 100f + i })];
    }

    [Fact]
    public void Unzip_takes_the_even_and_the_odd_lanes_of_two_vectors_in_every_width()
    {
        var values = Enumerable.Range(0, 32).Select(i => (float)i).ToArray();
        var (even512, odd512) = Simd512.Unzip(Vector512.Create(values), Vector512.Create(values[16..]));
        Assert.Equal(Every(0, 16), Lanes(even512));
        Assert.Equal(Every(1, 16), Lanes(odd512));
        var (even256, odd256) = Simd256.Unzip(Vector256.Create(values), Vector256.Create(values[8..]));
        Assert.Equal(Every(0, 8), Lanes(even256));
        Assert.Equal(Every(1, 8), Lanes(odd256));
        var (even128, odd128) = Simd128.Unzip(Vector128.Create(values), Vector128.Create(values[4..]));
        Assert.Equal(Every(0, 4), Lanes(even128));
        Assert.Equal(Every(1, 4), Lanes(odd128));
        Assert.Equal((0f, 1f), SimdScalar.Unzip(0f, 1f));

        // Zip undoes it.
        var (low, high) = Simd256.Zip(even256, odd256);
        Assert.Equal(values[..16], (float[])[.. Lanes(low), .. Lanes(high)]);

        static float[] Every(int first, int count) => [.. Enumerable.Range(0, count).Select(i => (float)(first + 2 * i))];
    }

    /// <summary>The fallbacks of Zip and Unzip (without AVX-512, AVX2, AVX or SSE) give the lanes the instructions give.</summary>
    [Theory]
    [MemberData(nameof(SelfCheckChild.Widths), MemberType = typeof(SelfCheckChild))]
    public async Task Zip_and_unzip_give_the_same_lanes_with_less_SIMD(string name, string disabled, int width)
    {
        if (await SelfCheckChild.Run(output, name, disabled, width, SimdSelfCheck.Command) is not { } fields)
        {
            return;
        }

        Assert.Equal(SimdSelfCheck.Lanes(), fields["lanes"]);
    }

    internal static float[] Lanes(Vector512<float> vector) => [.. Lanes(vector.GetLower()), .. Lanes(vector.GetUpper())];

    internal static float[] Lanes(Vector256<float> vector) => [.. Lanes(vector.GetLower()), .. Lanes(vector.GetUpper())];

    internal static float[] Lanes(Vector128<float> vector) => [vector.GetElement(0), vector.GetElement(1), vector.GetElement(2), vector.GetElement(3)];
}

/// <summary>Zip and Unzip of every width on fixed data, as one line, for a child process with some SIMD switched off.</summary>
internal static class SimdSelfCheck
{
    public const string Command = "simd-self-check";

    /// <summary>The child's line: the vector width the engine uses there (worst is 0: nothing is compared with a reference), and <see cref="Lanes"/>.</summary>
    public static string Report()
    {
        var width = new ConvTransposePlan(new ConvGeometry(1, 1, 1, 1, [new AxisGeometry(1, 1, 1, 1, 0, 1)]), [1f]).VectorWidth;
        return string.Create(CultureInfo.InvariantCulture, $"width={width} worst=0 lanes={Lanes()}");
    }

    /// <summary>Every lane of every width's Zip and Unzip of lanes 0..31, comma-separated.</summary>
    public static string Lanes()
    {
        var values = Enumerable.Range(0, 32).Select(i => (float)i).ToArray();
        var (z512a, z512b) = Simd512.Zip(Vector512.Create(values), Vector512.Create(values[16..]));
        var (u512a, u512b) = Simd512.Unzip(Vector512.Create(values), Vector512.Create(values[16..]));
        var (z256a, z256b) = Simd256.Zip(Vector256.Create(values), Vector256.Create(values[8..]));
        var (u256a, u256b) = Simd256.Unzip(Vector256.Create(values), Vector256.Create(values[8..]));
        var (z128a, z128b) = Simd128.Zip(Vector128.Create(values), Vector128.Create(values[4..]));
        var (u128a, u128b) = Simd128.Unzip(Vector128.Create(values), Vector128.Create(values[4..]));
        float[] lanes =
        [
            .. SimdTests.Lanes(z512a), .. SimdTests.Lanes(z512b), .. SimdTests.Lanes(u512a), .. SimdTests.Lanes(u512b),
            .. SimdTests.Lanes(z256a), .. SimdTests.Lanes(z256b), .. SimdTests.Lanes(u256a), .. SimdTests.Lanes(u256b),
            .. SimdTests.Lanes(z128a), .. SimdTests.Lanes(z128b), .. SimdTests.Lanes(u128a), .. SimdTests.Lanes(u128b),
        ];
        return string.Join(',', lanes.Select(v => v.ToString(CultureInfo.InvariantCulture)));
    }
}
