using System.Text;
using System.Text.Json;
using Deconv.Explain;

namespace Deconv.Cli.Explain;

/// <summary>
/// One self-contained HTML page (inline SVG, CSS and JavaScript; no network): the SVG picture plus buttons and keys
/// that step the gather view through the output positions and the scatter view through the input positions,
/// and the whole text explanation underneath. The page is well-formed XML so tests can parse it.
/// </summary>
internal static class HtmlRenderer
{
    public static string Render(Explanation e, string call, string values, int[]? at)
    {
        ArgumentNullException.ThrowIfNull(e);
        var (gather, scatter) = SvgRenderer.Selection(e, at);
        var data = new
        {
            start = new { gather, scatter },
            gather = e.Gather.Steps.Select(s => new
            {
                label = "y" + TextRenderer.Pos(s.Output),
                window = s.Terms.Select(t => e.Gather.Padded.Offset(t.GridCell)).ToArray(),
                output = GridIndex.Offset(e.OutputShape, s.Output),
                text = SvgRenderer.GatherEquation(s),
            }),
            scatter = e.Scatter.Stamps.Select(s => new
            {
                label = "x" + TextRenderer.Pos(s.Input),
                input = e.Input.Offset(s.Input),
                cells = s.Products.Where(p => p.Inside).Select(p => GridIndex.Offset(e.OutputShape, p.Output)).ToArray(),
                running = s.RunningSum.Values.Select(TextRenderer.N).ToArray(),
                text = SvgRenderer.ScatterEquation(s),
            }),
        };
        // The default encoder escapes <, > and &, so the JSON cannot end the script element.
        var json = JsonSerializer.Serialize(data);
        var text = TextRenderer.Render(e, call, values, null, colour: false);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>deconv explain</title>\n<style>\n")
            .Append("  body { font-family: 'DejaVu Sans', sans-serif; margin: 16px; color: #222; }\n")
            .Append("  #controls { position: sticky; top: 0; background: #f4f6fa; padding: 8px; border: 1px solid #ccd; margin: 8px 0; }\n")
            .Append("  button { font-size: 14px; margin-right: 6px; }\n  #position { font-family: monospace; margin-left: 12px; }\n")
            .Append("  .keys { color: #666; font-size: 12px; margin-left: 12px; }\n  pre { background: #fafafa; border: 1px solid #ddd; padding: 8px; }\n")
            .Append("</style>\n</head>\n<body>\n<h1>deconv explain</h1>\n")
            .Append("<p id=\"call\"><code>").Append(SvgRenderer.Escape(call)).Append("</code></p>\n")
            .Append("<div id=\"controls\">\n")
            .Append("  <button id=\"gather-mode\" type=\"button\">gather: output positions</button>\n")
            .Append("  <button id=\"scatter-mode\" type=\"button\">scatter: input positions</button>\n")
            .Append("  <button id=\"prev\" type=\"button\">&#9664; previous</button>\n")
            .Append("  <button id=\"next\" type=\"button\">next &#9654;</button>\n")
            .Append("  <span id=\"position\"></span>\n")
            .Append("  <span class=\"keys\">keys: left/right arrow step, g gather, s scatter</span>\n")
            .Append("</div>\n<div id=\"picture\">\n")
            .Append(SvgRenderer.Svg(e, call, gather, scatter))
            .Append("</div>\n<details>\n<summary>The whole explanation as text</summary>\n<pre id=\"text\">")
            .Append(SvgRenderer.Escape(text))
            .Append("</pre>\n</details>\n<script>\n//<![CDATA[\n")
            .Append("const data = ").Append(json).Append(";\n")
            .Append(Script)
            .Append("//]]>\n</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private const string Script = """
        (function () {
          let mode = 'gather';
          let current = { gather: data.start.gather, scatter: data.start.scatter };
          const byId = id => document.getElementById(id);
          const mark = (id, on) => { const el = byId(id); if (el) { el.classList.toggle('hl', on); } };
          function paintGather(n, on) {
            const step = data.gather[n];
            if (!step) { return; }
            step.window.forEach(o => mark('gp-' + o, on));
            mark('go-' + step.output, on);
            if (on) { byId('gather-eq').textContent = step.text; }
          }
          function paintScatter(n, on) {
            const stamp = data.scatter[n];
            if (!stamp) { return; }
            mark('si-' + stamp.input, on);
            stamp.cells.forEach(o => mark('so-' + o, on));
            if (on) {
              stamp.running.forEach((v, o) => { byId('so-t-' + o).textContent = v; });
              byId('scatter-eq').textContent = stamp.text;
            }
          }
          function show(view, n) {
            const list = data[view];
            if (list.length === 0) { return; }
            n = (n + list.length) % list.length;
            if (view === 'gather') { paintGather(current.gather, false); paintGather(n, true); }
            else { paintScatter(current.scatter, false); paintScatter(n, true); }
            current[view] = n;
            label();
          }
          function label() {
            const list = data[mode];
            const n = current[mode];
            byId('position').textContent = mode + ': ' + (list[n] ? list[n].label : '-') + ' (' + (n + 1) + ' of ' + list.length + ')';
            byId('gather-mode').disabled = mode === 'gather';
            byId('scatter-mode').disabled = mode === 'scatter';
          }
          function setMode(m) { mode = m; label(); }
          byId('gather-mode').addEventListener('click', () => setMode('gather'));
          byId('scatter-mode').addEventListener('click', () => setMode('scatter'));
          byId('prev').addEventListener('click', () => show(mode, current[mode] - 1));
          byId('next').addEventListener('click', () => show(mode, current[mode] + 1));
          document.addEventListener('keydown', ev => {
            if (ev.key === 'ArrowRight') { show(mode, current[mode] + 1); }
            else if (ev.key === 'ArrowLeft') { show(mode, current[mode] - 1); }
            else if (ev.key === 'g') { setMode('gather'); }
            else if (ev.key === 's') { setMode('scatter'); }
          });
          window.deconvExplain = { show: show, setMode: setMode, current: current };
          label();
        })();

        """;
}
