namespace Deconv.Tests.Geometry;

public class GeometryEqualityTests
{
    private static ConvGeometry Make(int batch = 1, int c = 2, int m = 4, int groups = 2, int crop = 1, DataLayout layout = DataLayout.ChannelsFirst) =>
        new(batch, c, m, groups, [new AxisGeometry(3, 3, 2, 1, crop, 6), new AxisGeometry(4, 2, 1, 1, 0, 5)], layout);

    [Fact]
    public void Geometries_are_equal_exactly_when_every_count_axis_and_layout_is()
    {
        Assert.Equal(Make(), Make());
        Assert.Equal(Make().GetHashCode(), Make().GetHashCode());
        Assert.NotEqual(Make(), Make(batch: 2));
        Assert.NotEqual(Make(), Make(c: 4));
        Assert.NotEqual(Make(), Make(m: 2));
        Assert.NotEqual(Make(), Make(groups: 1));
        Assert.NotEqual(Make(), Make(crop: 0));
        Assert.NotEqual(Make(), Make(layout: DataLayout.ChannelsLast));
        Assert.False(Make().Equals(null));
    }
}
