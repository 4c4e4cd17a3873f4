using System.Globalization;
using System.Text;
using Deconv.Explain;

namespace Deconv.Cli.Explain;

/// <summary>
/// Draws an <see cref="Explanation"/> as hand-written SVG: the gather view (padded grid with the window of one
/// output position, flipped kernel, output), the scatter view (input with one position, kernel, the running sum
/// with that position's stamp), the overlap counts and the result. Every cell has an id so the HTML page can
/// move the highlights.
/// </summary>
internal static class SvgRenderer
{
    private const int CellSize = 30;
    private const int Gap = 36;
    private const int SliceGap = 12;
    private const int Margin = 16;

    /// <summary>A standalone SVG document.</summary>
    public static string Render(Explanation e, string call, int[]? at)
    {
        ArgumentNullException.ThrowIfNull(e);
        var (gather, scatter) = Selection(e, at);
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + Svg(e, call, gather, scatter);
    }

    /// <summary>The gather step and scatter stamp shown first: the output position <paramref name="at"/> (default: the middle one) and the first stamp that reaches it.</summary>
    public static (int Gather, int Scatter) Selection(Explanation e, int[]? at)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Gather.Steps.Count == 0)
        {
            return (-1, e.Scatter.Stamps.Count > 0 ? 0 : -1);
        }

        at ??= [.. e.OutputShape.Select(o => (o - 1) / 2)];
        var gather = GridIndex.Offset(e.OutputShape, at);
        var scatter = e.Scatter.Stamps.ToList().FindIndex(s => s.Products.Any(p => p.Inside && p.Output.SequenceEqual(at)));
        if (scatter < 0 && e.Scatter.Stamps.Count > 0)
        {
            scatter = GridIndex.Offset(e.InputShape, [.. e.InputShape.Select(i => (i - 1) / 2)]);
        }

        return (gather, scatter);
    }

    /// <summary>The <c>&lt;svg&gt;</c> element with gather step <paramref name="gatherIndex"/> and scatter stamp <paramref name="scatterIndex"/> highlighted.</summary>
    public static string Svg(Explanation e, string call, int gatherIndex, int scatterIndex) => ToSvg(Draw(e, call, gatherIndex, scatterIndex));

    /// <summary>The picture as shapes (cells and texts), drawn once for SVG and PNG alike.</summary>
    public static Picture Draw(Explanation e, string call, int gatherIndex, int scatterIndex)
    {
        ArgumentNullException.ThrowIfNull(e);
        var body = new Picture();
        var y = Margin;
        Text(body, Margin, y + 12, call, "title");
        y += 26;
        var axes = string.Join("; ", e.Axes.Select(a =>
            $"axis {a.Axis}: O = {a.Stride}*({a.Input}-1) + {a.Dilation}*({a.Kernel}-1) + 1 - {a.CropBegin} - {a.CropEnd} = {a.Output}"));
        Text(body, Margin, y + 12, axes, "note");
        y += 30;

        var step = gatherIndex >= 0 ? e.Gather.Steps[gatherIndex] : null;
        var window = step is null ? [] : step.Terms.Select(t => e.Gather.Padded.Offset(t.GridCell)).ToHashSet();
        Text(body, Margin, y + 12, "Gather: zero-insert, pad, slide the flipped kernel", "heading");
        y += 24;
        var x = Margin;
        var rowHeight = 0;
        x = Panel(body, x, y, "padded input (grey: inserted zeros, dark: padding)", e.Gather.Padded, "gp",
            (p, v) => TextRenderer.N(v), o => window.Contains(o), o => e.Gather.PaddedKinds.Values[o] switch
            {
                CellKind.InsertedZero => "inserted",
                CellKind.Padding => "padding",
                _ => "input",
            }, ref rowHeight);
        x = Panel(body, x, y, "flipped kernel", e.Gather.FlippedKernel, "gk", (p, v) => TextRenderer.N(v), _ => true, _ => "kernel", ref rowHeight);
        var outputOffset = step is null ? -1 : GridIndex.Offset(e.OutputShape, step.Output);
        Panel(body, x, y, "output y (this channel pair)", new Grid<float>(e.OutputShape, [.. e.Gather.Steps.Select(s => s.Sum)]), "go",
            (p, v) => TextRenderer.N(v), o => o == outputOffset, _ => "output", ref rowHeight);
        y += rowHeight + 8;
        Text(body, Margin, y + 12, step is null ? "" : GatherEquation(step), "equation", "gather-eq");
        y += 34;

        var stamp = scatterIndex >= 0 ? e.Scatter.Stamps[scatterIndex] : null;
        var stampCells = stamp is null ? [] : stamp.Products.Where(p => p.Inside).Select(p => GridIndex.Offset(e.OutputShape, p.Output)).ToHashSet();
        var inputOffset = stamp is null ? -1 : e.Input.Offset(stamp.Input);
        Text(body, Margin, y + 12, "Scatter: every input value stamps value*w onto the output", "heading");
        y += 24;
        x = Margin;
        rowHeight = 0;
        x = Panel(body, x, y, "input x", e.Input, "si", (p, v) => TextRenderer.N(v), o => o == inputOffset, _ => "input", ref rowHeight);
        x = Panel(body, x, y, "kernel w", e.Kernel, "sk", (p, v) => TextRenderer.N(v), _ => true, _ => "kernel", ref rowHeight);
        var running = stamp?.RunningSum ?? new Grid<float>(e.OutputShape, new float[e.Result.Values.Length]);
        Panel(body, x, y, "running sum after this stamp", running, "so", (p, v) => TextRenderer.N(v), o => stampCells.Contains(o), _ => "output", ref rowHeight);
        y += rowHeight + 8;
        Text(body, Margin, y + 12, stamp is null ? "" : ScatterEquation(stamp), "equation", "scatter-eq");
        y += 34;

        y = OtherViews(body, e, y, outputOffset);

        Text(body, Margin, y + 12, "Overlap and result", "heading");
        y += 24;
        x = Margin;
        rowHeight = 0;
        x = Panel(body, x, y, "products per output cell", e.Scatter.Overlap, "ov", (p, v) => v.ToString(CultureInfo.InvariantCulture), _ => false, _ => "output", ref rowHeight);
        Panel(body, x, y, "result y = ConvOps.Transpose", e.Result, "re", (p, v) => TextRenderer.N(v), _ => false, _ => "output", ref rowHeight);
        y += rowHeight + 8;
        Text(body, Margin, y + 12, CheckLine(e), e.AllChecksPassed ? "check" : "failed");
        y += 24;

        body.Width = Math.Max(body.MaxRight, 400) + Margin;
        body.Height = y + Margin;
        return body;
    }

    /// <summary>The phase view (stride > 1), the matrix view (small sizes) and the gradient view, below the scatter view.</summary>
    private static int OtherViews(Picture body, Explanation e, int y, int outputOffset)
    {
        int x, rowHeight;
        if (e.Phases.Count > 1)
        {
            Text(body, Margin, y + 12, "Phases: each output phase is a stride-1 convolution with its own sub-kernel", "heading");
            y += 24;
            x = Margin;
            rowHeight = 0;
            foreach (var (phase, index) in e.Phases.Select((p, i) => (p, i)))
            {
                var cells = phase.Outputs.Select(o => GridIndex.Offset(e.OutputShape, o.Output)).ToHashSet();
                var name = $"r=({string.Join(",", phase.Residue)})";
                if (x > Margin && x + (e.OutputShape[^1] + phase.SubKernel.Shape[^1]) * CellSize + Gap > 1200)
                {
                    // Start a new row of phases rather than a very wide picture.
                    y += rowHeight + 8;
                    x = Margin;
                    rowHeight = 0;
                }

                x = Panel(body, x, y, $"{name} sub-kernel", phase.SubKernel, $"ph{index}k", (p, v) => TextRenderer.N(v), _ => false, _ => "kernel", ref rowHeight);
                x = Panel(body, x, y, $"{name} outputs", e.Result, $"ph{index}o", (p, v) => TextRenderer.N(v), cells.Contains, _ => "output", ref rowHeight);
            }

            y += rowHeight + 16;
        }

        if (e.Matrix is { } m)
        {
            Text(body, Margin, y + 12, "Matrix: y = C^T x, C the forward convolution's matrix (rows: inputs x, columns: outputs y)", "heading");
            y += 24;
            var (rows, columns) = (m.C.GetLength(0), m.C.GetLength(1));
            var transposed = new float[columns * rows];
            for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++)
            {
                transposed[(c * rows) + r] = m.C[r, c];
            }

            x = Margin;
            rowHeight = 0;
            x = Panel(body, x, y, "C^T", new Grid<float>([columns, rows], transposed), "mc", (p, v) => TextRenderer.N(v), o => o / rows == outputOffset, _ => "kernel", ref rowHeight);
            x = Panel(body, x, y, "x", new Grid<float>([rows, 1], m.X), "mx", (p, v) => TextRenderer.N(v), _ => false, _ => "input", ref rowHeight);
            Panel(body, x, y, "y", new Grid<float>([columns, 1], m.Y), "my", (p, v) => TextRenderer.N(v), o => o == outputOffset, _ => "output", ref rowHeight);
            y += rowHeight + 16;
        }

        if (e.Gradient is { } g)
        {
            Text(body, Margin, y + 12, "Gradient: y[o] = d<conv(z), x>/dz[o], the forward convolution's gradient with respect to its input", "heading");
            y += 24;
            rowHeight = 0;
            Panel(body, Margin, y, "gradient", g.Gradient, "gr", (p, v) => TextRenderer.N(v), o => o == outputOffset, _ => "output", ref rowHeight);
            y += rowHeight + 16;
        }

        return y;
    }

    /// <summary>Writes a picture as an SVG element.</summary>
    public static string ToSvg(Picture picture)
    {
        ArgumentNullException.ThrowIfNull(picture);
        var (width, height) = (picture.Width, picture.Height);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n");
        svg.Append("<style>\n")
            .Append("  text { font-family: 'DejaVu Sans Mono', monospace; font-size: 12px; fill: #222; }\n")
            .Append("  text.v { text-anchor: middle; dominant-baseline: central; }\n")
            .Append("  text.title { font-size: 13px; font-weight: bold; }\n")
            .Append("  text.heading { font-size: 14px; font-weight: bold; fill: #124; }\n")
            .Append("  text.label, text.note { font-size: 11px; fill: #555; }\n")
            .Append("  text.check { fill: #060; }\n  text.failed { fill: #a00; font-weight: bold; }\n")
            .Append("  rect.input, rect.output, rect.kernel { fill: #fff; stroke: #888; }\n")
            .Append("  rect.inserted { fill: #e8e8e8; stroke: #aaa; }\n  rect.padding { fill: #c8c8c8; stroke: #aaa; }\n")
            .Append("  rect.hl { fill: #ffd27f; stroke: #c07000; stroke-width: 2; }\n")
            .Append("</style>\n");
        foreach (var shape in picture.Shapes)
        {
            switch (shape)
            {
                case Cell c:
                    svg.Append(CultureInfo.InvariantCulture, $"<rect id=\"{c.Id}\" class=\"{c.Classes}\" x=\"{c.X}\" y=\"{c.Y}\" width=\"{c.Size}\" height=\"{c.Size}\"/>");
                    svg.Append(CultureInfo.InvariantCulture, $"<text id=\"{c.TextId}\" class=\"v\" x=\"{c.X + c.Size / 2}\" y=\"{c.Y + c.Size / 2}\">{Escape(c.Text)}</text>\n");
                    break;
                case Label t:
                    svg.Append(CultureInfo.InvariantCulture, $"<text{(t.Id is null ? "" : $" id=\"{t.Id}\"")} class=\"{t.Class}\" x=\"{t.X}\" y=\"{t.Y}\">{Escape(t.Text)}</text>\n");
                    break;
            }
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    public static string GatherEquation(GatherStep step) =>
        $"y{TextRenderer.Pos(step.Output)} = " + string.Join(" + ", step.Terms.Select(t => $"{TextRenderer.N(t.GridValue)}*{TextRenderer.N(t.Weight)}")) + $" = {TextRenderer.N(step.Sum)}";

    public static string ScatterEquation(ScatterStamp stamp)
    {
        var inside = stamp.Products.Where(p => p.Inside).Select(p => $"y{TextRenderer.Pos(p.Output)} += {TextRenderer.N(stamp.Value)}*{TextRenderer.N(p.Weight)}").ToList();
        var dropped = stamp.Products.Count(p => !p.Inside);
        return $"x{TextRenderer.Pos(stamp.Input)} = {TextRenderer.N(stamp.Value)}: " + (inside.Count == 0 ? "every product falls outside y" : string.Join(", ", inside))
            + (dropped > 0 ? $" ({dropped} dropped outside y)" : "");
    }

    public static string CheckLine(Explanation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.AllChecksPassed
            ? $"check: {string.Join(", ", e.Checks.Select(c => c.View))} agree with the result at all {e.Result.Values.Length} positions (max difference {TextRenderer.N((float)e.Checks.Max(c => c.MaxDifference))})"
            : "check FAILED: " + string.Join(", ", e.Checks.Where(c => !c.Passed).Select(c => $"{c.View} differs by {c.MaxDifference}"));
    }

    /// <summary>Draws a labelled grid (rank 3: depth slices side by side) and returns the x where the next panel starts.</summary>
    private static int Panel<T>(Picture canvas, int x, int y, string label, Grid<T> grid, string id, Func<int[], T, string> text,
        Func<int, bool> highlight, Func<int, string> kind, ref int rowHeight)
    {
        Text(canvas, x, y + 10, label, "label");
        var top = y + 18;
        var columns = grid.Rank == 0 ? 1 : grid.Shape[^1];
        var rows = grid.Rank == 1 ? 1 : grid.Shape[^2];
        var slices = grid.Rank == 3 ? grid.Shape[0] : 1;
        var offset = 0;
        foreach (var p in grid.Positions())
        {
            var slice = grid.Rank == 3 ? p[0] : 0;
            var row = grid.Rank == 1 ? 0 : p[^2];
            var cx = x + slice * (columns * CellSize + SliceGap) + p[^1] * CellSize;
            var cy = top + row * CellSize;
            var classes = kind(offset) + (highlight(offset) ? " hl" : "");
            canvas.Shapes.Add(new Cell($"{id}-{offset}", $"{id}-t-{offset}", classes, cx, cy, CellSize, text(p, grid.Values[offset])));
            offset++;
        }

        if (grid.Rank == 3)
        {
            // Name each depth slice under it.
            for (var s = 0; s < slices; s++)
            {
                Text(canvas, x + s * (columns * CellSize + SliceGap), top + rows * CellSize + 13, $"[{s},:,:]", "label");
            }
        }

        var width = Math.Max(slices * columns * CellSize + (slices - 1) * SliceGap, label.Length * 7);
        rowHeight = Math.Max(rowHeight, 18 + rows * CellSize + (grid.Rank == 3 ? 16 : 0));
        canvas.MaxRight = Math.Max(canvas.MaxRight, x + width);
        return x + width + Gap;
    }

    private static void Text(Picture canvas, int x, int y, string text, string cls, string? id = null)
    {
        canvas.Shapes.Add(new Label(id, cls, x, y, text));
        // Monospace: about 0.6 em per character (12px text; titles and headings are larger and bold).
        var perCharacter = cls is "title" or "heading" ? 8.6 : 7.3;
        canvas.MaxRight = Math.Max(canvas.MaxRight, x + (int)(text.Length * perCharacter));
    }

    public static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);
}

/// <summary>A drawn explanation: shapes in drawing order and the size they need.</summary>
internal sealed class Picture
{
    public List<Shape> Shapes { get; } = [];

    /// <summary>The rightmost x reached so far (the picture's width is this plus a margin).</summary>
    public int MaxRight { get; set; }

    public int Width { get; set; }

    public int Height { get; set; }
}

/// <summary>A shape of a <see cref="Picture"/>.</summary>
internal abstract record Shape;

/// <summary>A square grid cell with its value centred in it; <see cref="Classes"/> say how it is filled (input, inserted, padding, kernel, output, hl).</summary>
internal sealed record Cell(string Id, string TextId, string Classes, int X, int Y, int Size, string Text) : Shape;

/// <summary>A line of text with its baseline at <see cref="Y"/>; <see cref="Class"/> is title, heading, label, note, equation, check or failed.</summary>
internal sealed record Label(string? Id, string Class, int X, int Y, string Text) : Shape;
