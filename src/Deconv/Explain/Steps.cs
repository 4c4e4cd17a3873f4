namespace Deconv.Explain;

/// <summary>
/// The facts of one spatial axis: <c>O = S*(I-1) + D*(K-1) + 1 - crop_begin - crop_end</c>, and how the
/// gather view pads the zero-inserted input (<c>EK-1-crop</c> at each end; negative: cropped).
/// </summary>
/// <param name="Axis">Spatial axis index, outermost first.</param>
/// <param name="Input">I: input length.</param>
/// <param name="Kernel">K: kernel taps.</param>
/// <param name="Stride">S.</param>
/// <param name="Dilation">D.</param>
/// <param name="CropBegin">Positions of the full result dropped at the start.</param>
/// <param name="CropEnd">Positions dropped at the end (negative: the output extends past the full result with zeros).</param>
/// <param name="Output">O: output length.</param>
/// <param name="ValidOutputSizes">Every output length the framework's rule accepts for these parameters (null when no rule was given); <c>Last</c> is <see cref="long.MaxValue"/> when unbounded.</param>
public sealed record AxisFacts(int Axis, int Input, int Kernel, int Stride, int Dilation, int CropBegin, long CropEnd, int Output,
    (long First, long Last)? ValidOutputSizes)
{
    /// <summary>EK = D*(K-1) + 1.</summary>
    public long EffectiveKernel => (long)Dilation * (Kernel - 1) + 1;

    /// <summary>F = S*(I-1) + EK: the uncropped length.</summary>
    public long FullLength => (long)Stride * (Input - 1) + EffectiveKernel;

    /// <summary>Length after inserting S-1 zeros between inputs: <c>S*(I-1) + 1</c>.</summary>
    public long ZeroInsertedLength => (long)Stride * (Input - 1) + 1;

    /// <summary>Zeros the gather view pads before the zero-inserted input: <c>EK-1-crop_begin</c> (negative: that many are cropped).</summary>
    public long PadBegin => EffectiveKernel - 1 - CropBegin;

    /// <summary>Zeros padded after: <c>EK-1-crop_end</c> (negative: cropped).</summary>
    public long PadEnd => EffectiveKernel - 1 - CropEnd;

    /// <summary>Length of the padded grid: <c>O + EK - 1</c>.</summary>
    public long PaddedLength => Output + EffectiveKernel - 1;
}

/// <summary>The framework rule for valid output sizes, one range per axis, with a short description of the rule.</summary>
/// <param name="Description">For example <c>tf VALID: O in [F, F+S-1]</c>.</param>
/// <param name="PerAxis">The accepted output lengths per axis (<c>Last</c> = <see cref="long.MaxValue"/>: unbounded).</param>
public sealed record OutputSizeRule(string Description, IReadOnlyList<(long First, long Last)> PerAxis);

/// <summary>What a cell of the zero-inserted or padded grid holds.</summary>
public enum CellKind
{
    /// <summary>An input value.</summary>
    Input,

    /// <summary>One of the S-1 zeros inserted between input values.</summary>
    InsertedZero,

    /// <summary>A padding zero outside the zero-inserted input.</summary>
    Padding,
}

/// <summary>One window cell of the gather view: padded-grid value times flipped-kernel tap.</summary>
/// <param name="Tap">Tap of the flipped kernel (tap <c>K-1-k</c> of w).</param>
/// <param name="GridCell">Cell of the padded grid under the tap: <c>o + tap*D</c>.</param>
/// <param name="Kind">What that cell holds.</param>
/// <param name="InputPosition">The input position the cell holds, or null for a zero.</param>
/// <param name="GridValue">The cell's value.</param>
/// <param name="Weight">The flipped kernel's value at <see cref="Tap"/>.</param>
/// <param name="Product">GridValue * Weight.</param>
public sealed record GatherTerm(int[] Tap, int[] GridCell, CellKind Kind, int[]? InputPosition, float GridValue, float Weight, float Product);

/// <summary>One output position of the gather view: its window and the sum, accumulated in tap order.</summary>
/// <param name="Output">Output position.</param>
/// <param name="Terms">Every tap of the window, row-major.</param>
/// <param name="Sum">The sum of the products.</param>
public sealed record GatherStep(int[] Output, IReadOnlyList<GatherTerm> Terms, float Sum);

/// <summary>The gather (textbook) view: insert zeros, pad, correlate with the flipped kernel.</summary>
/// <param name="ZeroInserted">The input with S-1 zeros between values: <c>S*(I-1)+1</c> per axis.</param>
/// <param name="ZeroInsertedKinds">Input or inserted zero, per cell of <see cref="ZeroInserted"/>.</param>
/// <param name="Padded">The zero-inserted input padded by <c>EK-1-crop</c> at each end: <c>O+EK-1</c> per axis.</param>
/// <param name="PaddedKinds">What each padded cell holds.</param>
/// <param name="FlippedKernel">w flipped along every spatial axis.</param>
/// <param name="Steps">One step per output position, row-major.</param>
public sealed record GatherViewData(Grid<float> ZeroInserted, Grid<CellKind> ZeroInsertedKinds, Grid<float> Padded, Grid<CellKind> PaddedKinds,
    Grid<float> FlippedKernel, IReadOnlyList<GatherStep> Steps);

/// <summary>One product of a scatter stamp.</summary>
/// <param name="Tap">Kernel tap k.</param>
/// <param name="Output">Where it lands, <c>i*S + k*D - crop_begin</c> (may lie outside the output).</param>
/// <param name="Inside">Whether <see cref="Output"/> lies inside the output (else the product is dropped).</param>
/// <param name="Weight">w[k].</param>
/// <param name="Product">x[i] * w[k].</param>
public sealed record ScatterProduct(int[] Tap, int[] Output, bool Inside, float Weight, float Product);

/// <summary>The stamp of one input value and the output accumulated after it.</summary>
/// <param name="Input">Input position i.</param>
/// <param name="Value">x[i].</param>
/// <param name="Products">One product per kernel tap, row-major.</param>
/// <param name="RunningSum">The output after adding this stamp to all earlier ones.</param>
public sealed record ScatterStamp(int[] Input, float Value, IReadOnlyList<ScatterProduct> Products, Grid<float> RunningSum);

/// <summary>The scatter view: every input value stamps value*w onto the output.</summary>
/// <param name="Stamps">One stamp per input position, row-major.</param>
/// <param name="Overlap">How many products land on each output cell.</param>
/// <param name="Sum">The output after all stamps.</param>
public sealed record ScatterViewData(IReadOnlyList<ScatterStamp> Stamps, Grid<int> Overlap, Grid<float> Sum);

/// <summary>The matrix view: the forward convolution's matrix C and <c>y = C^T x</c>.</summary>
/// <param name="C">Rows: input positions (forward outputs); columns: output positions (forward inputs); row-major order both.</param>
/// <param name="Rows">Input position of each row.</param>
/// <param name="Columns">Output position of each column.</param>
/// <param name="X">x as a vector (one entry per row).</param>
/// <param name="Y"><c>C^T x</c> (one entry per column).</param>
public sealed record MatrixViewData(float[,] C, IReadOnlyList<int[]> Rows, IReadOnlyList<int[]> Columns, float[] X, float[] Y);

/// <summary>One output value of a phase, computed by the phase's dense stride-1 sum.</summary>
/// <param name="Output">Output position.</param>
/// <param name="Value">Its value.</param>
public sealed record PhaseOutput(int[] Output, float Value);

/// <summary>
/// One phase of a strided transposed convolution: the outputs with <c>(o + crop_begin) mod S = r</c> per axis
/// receive exactly the taps k with <c>k*D mod S = r</c> (for D = 1 the sub-kernel <c>w[r::S]</c>).
/// </summary>
/// <param name="Residue">r per axis.</param>
/// <param name="Taps">The taps of the sub-kernel, per axis.</param>
/// <param name="SubKernel">w at those taps.</param>
/// <param name="Outputs">The output positions of the phase with their values.</param>
public sealed record Phase(int[] Residue, IReadOnlyList<int[]> Taps, Grid<float> SubKernel, IReadOnlyList<PhaseOutput> Outputs);

/// <summary>
/// The gradient view: <c>y[o] = d/dz[o] &lt;conv(z), x&gt;</c>, computed as <c>&lt;conv(e_o), x&gt;</c> with the forward
/// convolution (the adjoint) of one unit vector per output position.
/// </summary>
/// <param name="Gradient">The gradient, one value per output position.</param>
public sealed record GradientViewData(Grid<float> Gradient);

/// <summary>The comparison of one view's numbers with the library's result.</summary>
/// <param name="View">What was compared, e.g. <c>gather</c>.</param>
/// <param name="Positions">How many output positions were compared.</param>
/// <param name="MaxDifference">Largest absolute difference.</param>
/// <param name="Tolerance">Largest rounding difference allowed: 1e-5 times the largest sum of |products| at one position.</param>
public sealed record ViewCheck(string View, int Positions, double MaxDifference, double Tolerance)
{
    /// <summary>Whether the view agrees with the result.</summary>
    public bool Passed => MaxDifference <= Tolerance;
}
