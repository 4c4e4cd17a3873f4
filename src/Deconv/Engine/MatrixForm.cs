using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Deconv.Engine;

/// <summary>
/// A tiny linear operation in matrix form: each image's output, as SIMD vectors, is the sum over the rows r of the
/// input value at <c>x[input(r)]</c> times row r of a matrix built once from the weights, then plus each output's
/// bias. Every output lane is one chain of fused multiply-adds from zero over the rows in order, so a builder that
/// orders the rows as the loops over products order each output's products (see <see cref="DirectPath"/> and
/// <see cref="ConvForwardPlan"/>) gets their bits: the other rows add value * 0, which is +-0 for a finite value and
/// changes no sum but a zero's sign (as the padding of the fast paths does). A value that is not finite would make
/// those NaN, so <see cref="Run"/> checks the input as it reads it and reports it.
/// </summary>
internal sealed unsafe class MatrixForm
{
    /// <summary>Largest matrix (floats): 64 KB, in L2 (the seed cases' are 9-16 rows of 16 outputs, 0.6-1 KB).</summary>
    private const long Limit = 16 * 1024;

    /// <summary>Most vectors of sums kept in registers at once (independent chains, so the fused multiply-adds overlap).</summary>
    private const int BlockVectors = 4;

    private readonly AlignedBuffer _matrix; // [row][_rowLength]: one image's outputs in the output's order, zero past them
    private readonly AlignedBuffer _biasRow; // each output's bias, zero past them to whole blocks
    private readonly int[] _rowInputs; // row r multiplies x[_rowInputs[r]] (an offset within the image)
    private readonly int _rows, _outputs, _rowLength, _imageInputs;
    private readonly SimdWidth _simd;

    /// <summary>A zero matrix of <paramref name="rows"/> rows over <paramref name="outputs"/> outputs per image.</summary>
    public MatrixForm(int rows, int outputs, int imageInputs, SimdWidth simd)
    {
        var width = (int)simd;
        (_rows, _outputs, _imageInputs, _simd) = (rows, outputs, imageInputs, simd);
        _rowLength = checked((int)RowLength(outputs, simd));
        _matrix = new AlignedBuffer((long)rows * _rowLength);
        _matrix.AsSpan().Clear();
        var block = BlockVectors * width;
        _biasRow = new AlignedBuffer((_rowLength + block - 1) / block * block);
        _biasRow.AsSpan().Clear();
        _rowInputs = new int[rows];
    }

    public long ExtraFloats => _matrix.Length + _biasRow.Length + _rowInputs.Length;

    /// <summary>
    /// Whether the matrix form suits: at most <see cref="Limit"/> floats of matrix, and no more vector multiply-adds per
    /// image than the <paramref name="products"/> the loops over products make.
    /// </summary>
    public static bool Suits(long rows, long outputs, long products, SimdWidth simd)
    {
        var rowLength = RowLength(outputs, simd);
        return outputs > 0 && rows * rowLength <= Limit && rows * (rowLength / (int)simd) <= products;
    }

    /// <summary>Row <paramref name="row"/> multiplies the input value at offset <paramref name="input"/> of each image.</summary>
    public void SetInput(int row, int input) => _rowInputs[row] = input;

    public void Set(int row, long output, float weight) => _matrix.Data[(long)row * _rowLength + output] = weight;

    public void SetBias(long output, float bias) => _biasRow.Data[output] = bias;

    /// <summary>y for <paramref name="images"/> images; false (y partly written) when an input value is not finite.</summary>
    public bool Run(ReadOnlySpan<float> x, Span<float> y, int images) => _simd switch
    {
        SimdWidth.V512 => Run<Vector512<float>, Simd512>(x, y, images),
        SimdWidth.V256 => Run<Vector256<float>, Simd256>(x, y, images),
        SimdWidth.V128 => Run<Vector128<float>, Simd128>(x, y, images),
        _ => Run<float, SimdScalar>(x, y, images),
    };

    private static long RowLength(long outputs, SimdWidth simd) => (outputs + (int)simd - 1) / (int)simd * (int)simd;

    /// <summary>
    /// Each image's outputs, <see cref="BlockVectors"/> vectors at a time, each vector's lanes one chain over the rows;
    /// beside them a chain of value * 0 (NaN once a value is not finite) checks the input as it is read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Run<TV, TS>(ReadOnlySpan<float> x, Span<float> y, int images)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        var width = TS.Width;
        var (rows, outputs, rowLength, imageInputs) = (_rows, _outputs, _rowLength, _imageInputs);
        var matrix = _matrix.Data;
        var biasRow = _biasRow.Data;
        var check = TS.Zero;
        fixed (float* xp = x, yp = y)
        fixed (int* rowInputs = _rowInputs)
        {
            for (var n = 0; n < images; n++)
            {
                var image = xp + (long)n * imageInputs;
                var target = yp + (long)n * outputs;
                for (var first = 0; first < outputs; first += BlockVectors * width)
                {
                    var vectors = Math.Min(BlockVectors, (rowLength - first) / width);
                    TV s0 = TS.Zero, s1 = TS.Zero, s2 = TS.Zero, s3 = TS.Zero;
                    var row = matrix + first;
                    for (var r = 0; r < rows; r++, row += rowLength)
                    {
                        var value = TS.Broadcast(image[rowInputs[r]]);
                        check = TS.Fma(value, TS.Zero, check);
                        s0 = TS.Fma(value, TS.Load(row), s0);
                        if (vectors > 1)
                        {
                            s1 = TS.Fma(value, TS.Load(row + width), s1);
                            if (vectors > 2)
                            {
                                s2 = TS.Fma(value, TS.Load(row + 2 * width), s2);
                                if (vectors > 3)
                                {
                                    s3 = TS.Fma(value, TS.Load(row + 3 * width), s3);
                                }
                            }
                        }
                    }

                    // sum + bias, as the loops over products add it (the bias row is padded to whole blocks).
                    var bias = biasRow + first;
                    var to = target + first;
                    var valid = outputs - first;
                    Store<TV, TS>(TS.Add(s0, TS.Load(bias)), to, valid);
                    Store<TV, TS>(TS.Add(s1, TS.Load(bias + width)), to + width, valid - width);
                    Store<TV, TS>(TS.Add(s2, TS.Load(bias + 2 * width)), to + 2 * width, valid - 2 * width);
                    Store<TV, TS>(TS.Add(s3, TS.Load(bias + 3 * width)), to + 3 * width, valid - 3 * width);
                }
            }
        }

        return float.IsFinite(TS.Lane(check, 0));
    }

    /// <summary>Stores the <paramref name="valid"/> first lanes of <paramref name="sums"/> (all when a vector's worth or more; none when none) at <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TV, TS>(TV sums, float* y, int valid)
        where TV : struct
        where TS : struct, ISimd<TV>
    {
        if (valid >= TS.Width)
        {
            TS.Store(y, sums);
            return;
        }

        for (var i = 0; i < valid; i++)
        {
            y[i] = TS.Lane(sums, i);
        }
    }
}
