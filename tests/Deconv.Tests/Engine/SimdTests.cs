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

    private static float[] Lanes(Vector256<float> vector)
    {
        var lanes = new float[8];
        vector.CopyTo(lanes);
        return lanes;
    }
}
