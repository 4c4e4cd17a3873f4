namespace Deconv.Explain;

/// <summary>A small dense array of any rank, row-major: one channel of data, a kernel, or a count per cell.</summary>
/// <typeparam name="T">Element type.</typeparam>
public sealed class Grid<T>
{
    /// <summary>Wraps <paramref name="values"/> (row-major, <c>prod(shape)</c> elements).</summary>
    public Grid(IReadOnlyList<int> shape, T[] values)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(values);
        Shape = [.. shape];
        if (Shape.Aggregate(1L, (p, l) => p * l) != values.Length)
        {
            throw new ArgumentException($"grid of shape [{string.Join(", ", Shape)}] needs {Shape.Aggregate(1L, (p, l) => p * l)} values but got {values.Length}", nameof(values));
        }

        Values = values;
    }

    /// <summary>Length of each axis, outermost first.</summary>
    public int[] Shape { get; }

    /// <summary>The elements, row-major.</summary>
    public T[] Values { get; }

    /// <summary>Number of axes.</summary>
    public int Rank => Shape.Length;

    /// <summary>The element at <paramref name="position"/> (one index per axis).</summary>
    public T this[IReadOnlyList<int> position] => Values[Offset(position)];

    /// <summary>Row-major offset of <paramref name="position"/>.</summary>
    public int Offset(IReadOnlyList<int> position) => GridIndex.Offset(Shape, position);

    /// <summary>Every position of the grid in row-major order.</summary>
    public IEnumerable<int[]> Positions() => GridIndex.Positions(Shape);
}

/// <summary>Row-major index arithmetic over shapes of any rank.</summary>
public static class GridIndex
{
    /// <summary>Row-major offset of <paramref name="position"/> in <paramref name="shape"/>.</summary>
    public static int Offset(IReadOnlyList<int> shape, IReadOnlyList<int> position)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(position);
        if (position.Count != shape.Count)
        {
            throw new ArgumentException($"position [{string.Join(", ", position)}] has {position.Count} indices but the grid has {shape.Count} axes", nameof(position));
        }

        var offset = 0;
        for (var a = 0; a < shape.Count; a++)
        {
            if ((uint)position[a] >= (uint)shape[a])
            {
                throw new ArgumentOutOfRangeException(nameof(position), $"position [{string.Join(", ", position)}] lies outside the grid [{string.Join(", ", shape)}]");
            }

            offset = offset * shape[a] + position[a];
        }

        return offset;
    }

    /// <summary>Every position of <paramref name="shape"/> in row-major order.</summary>
    public static IEnumerable<int[]> Positions(IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Any(l => l <= 0))
        {
            yield break;
        }

        var position = new int[shape.Count];
        while (true)
        {
            yield return [.. position];
            var a = shape.Count - 1;
            while (a >= 0 && ++position[a] == shape[a])
            {
                position[a] = 0;
                a--;
            }

            if (a < 0)
            {
                yield break;
            }
        }
    }

    /// <summary>Number of elements of <paramref name="shape"/>.</summary>
    public static long Count(IReadOnlyList<int> shape) => shape.Aggregate(1L, (p, l) => p * l);
}
