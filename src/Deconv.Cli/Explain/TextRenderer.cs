using System.Text;
using Deconv.Explain;

namespace Deconv.Cli.Explain;

/// <summary>Writes an <see cref="Explanation"/> step by step as plain text (ANSI colour only when asked).</summary>
internal sealed class TextRenderer
{
    /// <summary>Output positions whose sums are written out in full before the rest is summarised.</summary>
    public const int MaxListed = 36;

    /// <summary>Scatter stamps whose running sums are printed before the rest is summarised.</summary>
    public const int MaxStamps = 16;

    private readonly Explanation _e;
    private readonly bool _colour;
    private readonly StringBuilder _text = new();

    private TextRenderer(Explanation e, bool colour)
    {
        _e = e;
        _colour = colour;
    }

    /// <summary>The whole explanation; <paramref name="at"/> (an output position) narrows the sums to one position.</summary>
    public static string Render(Explanation e, string call, string values, int[]? at, bool colour)
    {
        ArgumentNullException.ThrowIfNull(e);
        var r = new TextRenderer(e, colour);
        r.Write(call, values, at);
        return r._text.ToString();
    }

    private void Write(string call, string values, int[]? at)
    {
        var e = _e;
        Line($"deconv explain: {call}");
        Line(values == "ones"
            ? "values: ones (every x and w is 1); try --values range to see the kernel flip"
            : "values: range (x = 1, 2, 3, ... and w = 1, 2, 3, ... in flat order)");
        var shown = $"shown: batch {e.Batch}, input channel {e.InChannel} -> output channel {e.OutChannel}";
        if (e.OtherChannelIndices.Count > 0 || e.HasBias)
        {
            shown += "; summarised: " + string.Join(" and ", new[]
            {
                e.OtherChannelIndices.Count > 0 ? $"input channel{(e.OtherChannelIndices.Count > 1 ? "s" : "")} {string.Join(", ", e.OtherChannelIndices)} of the same group" : null,
                e.HasBias ? $"bias {N(e.Bias)}" : null,
            }.Where(s => s is not null));
        }

        Line(shown);
        Line();

        Heading("1. Geometry (per axis; I input, K kernel, S stride, D dilation, O output)");
        foreach (var a in e.Axes)
        {
            Line($"  axis {a.Axis} ({AxisName(a.Axis)}): O = S*(I-1) + D*(K-1) + 1 - crop_begin - crop_end = {a.Stride}*({a.Input}-1) + {a.Dilation}*({a.Kernel}-1) + 1 - {a.CropBegin} - {Paren(a.CropEnd)} = {a.Output}");
            Line($"    EK = D*(K-1)+1 = {a.EffectiveKernel}, F = S*(I-1)+EK = {a.FullLength}, crop_begin {a.CropBegin}, crop_end {a.CropEnd}"
                + (a.CropEnd < 0 ? $" (the output extends {-a.CropEnd} past the full result: zeros)" : ""));
            if (a.ValidOutputSizes is { } valid)
            {
                Line($"    valid output sizes ({e.OutputSizeRule!.Description}): {Range(valid)}");
            }
        }

        Line();
        Heading($"2. Input x[{e.Batch}, {e.InChannel}] ({Dims(e.InputShape)}) and kernel w[{e.InChannel}, {e.OutChannel - e.InChannel / e.Geometry.InputChannelsPerGroup * e.Geometry.OutputChannelsPerGroup}] ({Dims(e.KernelShape)})");
        Line("  x:");
        Grid(e.Input, (_, v) => N(v), null, "    ");
        Line("  w:");
        Grid(e.Kernel, (_, v) => N(v), null, "    ");
        Line();

        WriteGather(at);
        WriteScatter(at);
        WriteMatrix();
        WritePhases();
        WriteGradient();

        Heading("8. Result y = ConvOps.Transpose(geometry, x, w, bias)" + $" at batch {e.Batch}, output channel {e.OutChannel} ({Dims(e.OutputShape)})");
        Grid(e.Result, (_, v) => N(v), at is null ? null : p => p.SequenceEqual(at), "  ");
        if (e.OtherChannelIndices.Count > 0 || e.HasBias)
        {
            Line($"  = this channel pair (the views above) + input channel{(e.OtherChannelIndices.Count == 1 ? "" : "s")} {(e.OtherChannelIndices.Count > 0 ? string.Join(", ", e.OtherChannelIndices) : "(none)")} + bias {N(e.Bias)}; the other channels contribute:");
            Grid(e.OtherChannels, (_, v) => N(v), null, "    ");
        }

        Line();
        WriteCheck();
    }

    private void WriteGather(int[]? at)
    {
        var e = _e;
        var gather = e.Gather;
        Heading("3. Gather view: insert S-1 zeros between the inputs, pad EK-1-crop at each end, slide the flipped kernel");
        Line($"  zero-inserted input ({Dims(gather.ZeroInserted.Shape)}; inserted zeros shown as 0):");
        Grid(gather.ZeroInserted, (_, v) => N(v), null, "    ");
        var pads = string.Join("; ", e.Axes.Select(a => $"axis {a.Axis}: {PadText(a.PadBegin)} at the start, {PadText(a.PadEnd)} at the end"));
        Line($"  padded ({Dims(gather.Padded.Shape)} = O+EK-1; {pads}; padding shown as .):");
        var window = at is null ? null : gather.Steps.First(s => s.Output.SequenceEqual(at)).Terms.Select(t => gather.Padded.Offset(t.GridCell)).ToHashSet();
        Grid(gather.Padded, (p, v) => gather.PaddedKinds[p] == CellKind.Padding ? "." : N(v), window is null ? null : p => window.Contains(gather.Padded.Offset(p)), "    ");
        Line($"  flipped kernel (w reversed along every axis):");
        Grid(gather.FlippedKernel, (_, v) => N(v), null, "    ");
        Line(at is null ? "  each output is the sum of window cell x flipped tap (window starts at the output position):" : $"  the window of y{Pos(at)} (marked [ ]):");
        var steps = at is null ? gather.Steps : gather.Steps.Where(s => s.Output.SequenceEqual(at)).ToList();
        foreach (var step in steps.Take(MaxListed))
        {
            Line($"    y{Pos(step.Output)} = {string.Join(" + ", step.Terms.Select(t => $"{N(t.GridValue)}*{N(t.Weight)}"))} = {N(step.Sum)}");
        }

        More(steps.Count - MaxListed, "output positions");
        Line();
    }

    private void WriteScatter(int[]? at)
    {
        var e = _e;
        var scatter = e.Scatter;
        Heading("4. Scatter view: x[i] stamps x[i]*w onto y at i*S - crop_begin (taps D apart); products outside y are dropped");
        var stamps = at is null ? scatter.Stamps : scatter.Stamps.Where(s => s.Products.Any(p => p.Inside && p.Output.SequenceEqual(at))).ToList();
        if (at is not null)
        {
            Line($"  the stamps that reach y{Pos(at)} (marked [ ]):");
        }

        foreach (var stamp in stamps.Take(MaxStamps))
        {
            var inside = stamp.Products.Where(p => p.Inside).Select(p => $"y{Pos(p.Output)} += {N(stamp.Value)}*{N(p.Weight)}");
            var dropped = stamp.Products.Where(p => !p.Inside).Select(p => $"y{Pos(p.Output)}").ToList();
            Line($"  x{Pos(stamp.Input)} = {N(stamp.Value)}: {string.Join(", ", inside)}" + (dropped.Count > 0 ? $" (dropped: {string.Join(", ", dropped)})" : ""));
            var touched = stamp.Products.Where(p => p.Inside).Select(p => scatter.Sum.Offset(p.Output)).ToHashSet();
            Line("    running sum:");
            Grid(stamp.RunningSum, (_, v) => N(v), p => touched.Contains(scatter.Sum.Offset(p)), "      ");
        }

        More(stamps.Count - MaxStamps, "stamps");
        Line("  overlap (products landing on each output cell):");
        Grid(scatter.Overlap, (_, v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture), null, "    ");
        Line("  sum of all stamps:");
        Grid(scatter.Sum, (_, v) => N(v), null, "    ");
        Line();
    }

    private void WriteMatrix()
    {
        var e = _e;
        Heading("5. Matrix view: C is the forward convolution's matrix (rows: x positions, columns: y positions); y = C^T x");
        if (e.Matrix is not { } m)
        {
            Line($"  skipped: the matrix would have more than {Explanation.MaxMatrixEntries} entries");
            Line();
            return;
        }

        var rows = m.C.GetLength(0);
        var columns = m.C.GetLength(1);
        Line($"  C ({rows} x {columns}):");
        Matrix(rows, columns, (r, c) => m.C[r, c], r => "x" + Pos(m.Rows[r]));
        Line($"  C^T ({columns} x {rows}):");
        Matrix(columns, rows, (r, c) => m.C[c, r], r => "y" + Pos(m.Columns[r]));
        Line($"  x = [{string.Join(", ", m.X.Select(N))}]");
        Line($"  y = C^T x = [{string.Join(", ", m.Y.Select(N))}]");
        Line();
    }

    private void WritePhases()
    {
        var e = _e;
        Heading("6. Phase view: with stride S, outputs with (o + crop_begin) mod S = r use only the taps k with k*D mod S = r");
        if (e.Phases.Count == 0)
        {
            Line("  stride 1 on every axis: a single phase that uses the whole kernel");
            Line();
            return;
        }

        foreach (var phase in e.Phases)
        {
            var taps = string.Join(", ", phase.Taps.Select((t, a) => $"k{a} in {{{string.Join(",", t)}}}"));
            Line($"  phase r = ({string.Join(",", phase.Residue)}): taps {taps}" + (phase.SubKernel.Values.Length == 0 ? " (no taps: these outputs get nothing)" : ""));
            if (phase.SubKernel.Values.Length > 0)
            {
                Line("    sub-kernel:");
                Grid(phase.SubKernel, (_, v) => N(v), null, "      ");
            }

            var outputs = phase.Outputs.Take(MaxListed).Select(o => $"y{Pos(o.Output)} = {N(o.Value)}");
            Line($"    outputs: {(phase.Outputs.Count == 0 ? "none" : string.Join(", ", outputs))}" + (phase.Outputs.Count > MaxListed ? $", ... ({phase.Outputs.Count - MaxListed} more)" : ""));
        }

        Line();
    }

    private void WriteGradient()
    {
        var e = _e;
        Heading("7. Gradient view: y[o] = d<conv(z), x>/dz[o], computed as <conv(e_o), x> with the forward convolution (the adjoint)");
        if (e.Gradient is not { } g)
        {
            Line($"  skipped: more than {Explanation.MaxGradientWork} multiply-adds");
        }
        else
        {
            Grid(g.Gradient, (_, v) => N(v), null, "  ");
        }

        Line();
    }

    private void WriteCheck()
    {
        var e = _e;
        var views = e.Checks.Where(c => c.View != "channels + bias").Select(c => c.View).ToList();
        var positions = e.Result.Values.Length;
        var max = e.Checks.Max(c => c.MaxDifference);
        if (e.AllChecksPassed)
        {
            Line(Paint($"check: {string.Join(", ", views)} equal ConvOps.Transpose for this channel pair, and pair + other channels + bias equals the result, at all {positions} output positions (max difference {N((float)max)})", "32"));
        }
        else
        {
            foreach (var c in e.Checks.Where(c => !c.Passed))
            {
                Line(Paint($"check FAILED: {c.View} differs from the result by {c.MaxDifference} (tolerance {c.Tolerance})", "31"));
            }
        }
    }

    private void Grid<T>(Grid<T> grid, Func<int[], T, string> cell, Func<int[], bool>? highlight, string indent)
    {
        if (grid.Values.Length == 0)
        {
            Line(indent + "(empty)");
            return;
        }

        var positions = grid.Positions().ToList();
        var texts = positions.Select(p => cell(p, grid[p])).ToList();
        var width = texts.Max(t => t.Length);
        var columns = grid.Shape[^1];
        var rows = grid.Rank == 1 ? 1 : grid.Shape[^2];
        var slices = grid.Rank == 3 ? grid.Shape[0] : 1;
        for (var s = 0; s < slices; s++)
        {
            if (grid.Rank == 3)
            {
                Line($"{indent}[{s}, :, :]");
            }

            for (var r = 0; r < rows; r++)
            {
                var line = new StringBuilder(indent);
                for (var c = 0; c < columns; c++)
                {
                    var index = (s * rows + r) * columns + c;
                    var marked = highlight is not null && highlight(positions[index]);
                    var text = texts[index].PadLeft(width);
                    line.Append(marked ? Paint("[" + text + "]", "33;1") : " " + text + " ");
                }

                Line(line.ToString().TrimEnd());
            }
        }
    }

    private void Matrix(int rows, int columns, Func<int, int, float> value, Func<int, string> label)
    {
        var width = Enumerable.Range(0, rows).SelectMany(r => Enumerable.Range(0, columns).Select(c => N(value(r, c)).Length)).DefaultIfEmpty(1).Max();
        var labels = Enumerable.Range(0, rows).Select(label).ToList();
        var labelWidth = labels.Select(l => l.Length).DefaultIfEmpty(0).Max();
        for (var r = 0; r < rows; r++)
        {
            Line($"    {labels[r].PadRight(labelWidth)}  {string.Join(" ", Enumerable.Range(0, columns).Select(c => N(value(r, c)).PadLeft(width)))}");
        }
    }

    private void More(int count, string what)
    {
        if (count > 0)
        {
            Line($"    ... {count} more {what} (use --at o0,o1 to show one output position)");
        }
    }

    private void Heading(string text) => Line(Paint(text, "1"));

    private string Paint(string text, string code) => _colour ? $"\u001b[{code}m{text}\u001b[0m" : text;

    private void Line(string text = "") => _text.Append(text).Append('\n');

    private string AxisName(int axis) => (_e.Axes.Count, axis) switch
    {
        (1, _) => "W",
        (2, 0) => "H",
        (2, _) => "W",
        (_, 0) => "D",
        (_, 1) => "H",
        _ => "W",
    };

    internal static string N(float v) => MatrixText.Number(v);

    internal static string Pos(IEnumerable<int> p) => "[" + string.Join(",", p) + "]";

    internal static string Dims(IEnumerable<int> shape) => string.Join("x", shape);

    internal static string Range((long First, long Last) r) =>
        r.Last == long.MaxValue ? $"any size >= {r.First}" : r.Last < r.First ? "none" : r.First == r.Last ? $"{r.First}" : $"{r.First} to {r.Last}";

    private static string Paren(long v) => v < 0 ? $"({v})" : $"{v}";

    private static string PadText(long pad) => pad >= 0 ? $"{pad} zero{(pad == 1 ? "" : "s")}" : $"{-pad} cropped";
}
