using System.Text;

namespace Deconv.Cli.Run;

/// <summary>
/// Prints a tensor as 2-D matrices: one matrix per index of the other axes, each under a header such as
/// <c>[0, :, :, 0]</c> that says which slice it is.
/// </summary>
internal static class TensorText
{
    /// <summary>
    /// Writes <paramref name="values"/> (C order, <paramref name="shape"/>) with <paramref name="rowAxis"/> down
    /// and <paramref name="columnAxis"/> across; <paramref name="rowAxis"/> -1 prints each slice as one row.
    /// </summary>
    public static void Write<T>(TextWriter output, T[] values, long[] shape, int rowAxis, int columnAxis)
        where T : IFormattable
    {
        if (shape.Length == 0)
        {
            output.WriteLine("[]");
            output.Write(MatrixText.Format(values, 1, 1));
            return;
        }

        if (values.Length == 0)
        {
            output.WriteLine("(no elements)");
            return;
        }

        var rows = rowAxis < 0 ? 1 : (int)shape[rowAxis];
        var columns = (int)shape[columnAxis];
        var strides = new long[shape.Length];
        long stride = 1;
        for (var axis = shape.Length - 1; axis >= 0; axis--)
        {
            strides[axis] = stride;
            stride *= shape[axis];
        }

        // Walk every index of the other axes in C order (an odometer over them).
        var index = new long[shape.Length];
        var slice = new T[rows * columns];
        while (true)
        {
            long offset = 0;
            for (var axis = 0; axis < shape.Length; axis++)
            {
                offset += index[axis] * strides[axis];
            }

            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < columns; c++)
                {
                    slice[(r * columns) + c] = values[offset + (rowAxis < 0 ? 0 : r * strides[rowAxis]) + (c * strides[columnAxis])];
                }
            }

            output.WriteLine(Header(index, rowAxis, columnAxis));
            output.Write(MatrixText.Format(slice, rows, columns));
            if (!Advance(index, shape, rowAxis, columnAxis))
            {
                return;
            }
        }
    }

    /// <summary>The matrix axes for a tensor in a data layout: the last two spatial axes, or the only one.</summary>
    public static (int Row, int Column) SpatialAxes(int[] spatialAxes) => spatialAxes.Length switch
    {
        0 => (-1, 0),
        1 => (-1, spatialAxes[0]),
        _ => (spatialAxes[^2], spatialAxes[^1]),
    };

    private static string Header(long[] index, int rowAxis, int columnAxis)
    {
        var text = new StringBuilder("[");
        for (var axis = 0; axis < index.Length; axis++)
        {
            text.Append(axis == 0 ? "" : ", ").Append(axis == rowAxis || axis == columnAxis ? ":" : index[axis].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return text.Append(']').ToString();
    }

    private static bool Advance(long[] index, long[] shape, int rowAxis, int columnAxis)
    {
        for (var axis = shape.Length - 1; axis >= 0; axis--)
        {
            if (axis == rowAxis || axis == columnAxis)
            {
                continue;
            }

            if (++index[axis] < shape[axis])
            {
                return true;
            }

            index[axis] = 0;
        }

        return false;
    }
}
