using System.Runtime.Intrinsics;
using Deconv.Engine;

namespace Deconv.Tests.Engine;

public sealed class SimdTests
{
    [Fact]
    public void Zip_alternates_the_lanes_of_two_vectors_in_every_width()
    {
        var a = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        var b = Enumerable.Range(0, 16).Select(i => 100f + i).ToArray();
        var (low512, high512) = Simd512.Zip(Vector512.Create(a), Vector512.Create(b));
        Assert.Equal(Zipped(16), (float[])[.. Lanes(low512.GetLower()), .. Lanes(low512.GetUpper()), .. Lanes(high512.GetLower()), .. Lanes(high512.GetUpper())]);
        var (low256, high256) = Simd256.Zip(Vector256.Create(a), Vector256.Create(b));
        Assert.Equal(Zipped(8), (float[])[.. Lanes(low256), .. Lanes(high256)]);
        var (low128, high128) = Simd128.Zip(Vector128.Create(a), Vector128.Create(b));
        Assert.Equal(Zipped(4), (float[])[.. Lanes(low128.ToVector256()).Take(4), .. Lanes(high128.ToVector256()).Take(4)]);
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
        Assert.Equal(Every(0, 16), (float[])[.. Lanes(even512.GetLower()), .. Lanes(even512.GetUpper())]);
        Assert.Equal(Every(1, 16), (float[])[.. Lanes(odd512.GetLower()), .. Lanes(odd512.GetUpper())]);
        var (even256, odd256) = Simd256.Unzip(Vector256.Create(values), Vector256.Create(values[8..]));
        Assert.Equal(Every(0, 8), Lanes(even256));
        Assert.Equal(Every(1, 8), Lanes(odd256));
        var (even128, odd128) = Simd128.Unzip(Vector128.Create(values), Vector128.Create(values[4..]));
        Assert.Equal(Every(0, 4), Lanes(even128.ToVector256()).Take(4));
        Assert.Equal(Every(1, 4), Lanes(odd128.ToVector256()).Take(4));
        Assert.Equal((0f, 1f), SimdScalar.Unzip(0f, 1f));

        // Zip undoes it.
        var (low, high) = Simd256.Zip(even256, odd256);
        Assert.Equal(values[..16], (float[])[.. Lanes(low), .. Lanes(high)]);

        static float[] Every(int first, int count) => [.. Enumerable.Range(0, count).Select(i => (float)(first + 2 * i))];
    }

    private static float[] Lanes(Vector256<float> vector)
    {
        var lanes = new float[8];
        vector.CopyTo(lanes);
        return lanes;
    }
}
