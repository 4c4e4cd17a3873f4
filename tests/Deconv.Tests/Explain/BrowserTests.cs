using System.Text.Json;
using Deconv.Cli.Commands;
using Deconv.Cli.Explain;

namespace Deconv.Tests.Explain;

/// <summary>The interactive page in real headless Chromium: it loads, shows the library's numbers, and stepping moves the highlight.</summary>
public sealed class BrowserTests
{
    [ChromiumFact]
    public async Task Page_loads_shows_the_numbers_and_stepping_changes_the_highlight()
    {
        var request = new ExplainRequest { InputSize = [3], Kernel = [2], Stride = [1], Values = "range" };
        var (e, call) = ExplainCommand.Explain(request, null);
        var file = Path.Combine(Path.GetTempPath(), $"deconv-browser-{Guid.NewGuid():N}.html");
        await File.WriteAllTextAsync(file, HtmlRenderer.Render(e, call, request.Values, null));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var cancel = timeout.Token;
        try
        {
            await using var browser = await DevToolsBrowser.Open(ChromiumFactAttribute.Path, new Uri(file).AbsoluteUri, cancel);
            // The first page may still be about:blank: wait for ours, loaded, with its script run.
            await browser.WaitFor("location.protocol === 'file:' && document.readyState === 'complete' && (document.getElementById('position')?.textContent.length ?? 0) > 0", cancel);

            // The numbers: every result cell shows the library's value.
            var shown = await browser.Evaluate("[...document.querySelectorAll('text[id^=\"re-t-\"]')].map(t => t.textContent)", cancel);
            Assert.Equal(e.Result.Values.Select(TextRenderer.N), shown.EnumerateArray().Select(v => v.GetString()));

            // The first highlight is the middle output's window.
            var (gather, _) = SvgRenderer.Selection(e, null);
            Assert.Equal(GatherHighlight(e, gather), await Highlighted(browser, cancel));
            Assert.Equal(SvgRenderer.GatherEquation(e.Gather.Steps[gather]), (await browser.Evaluate("document.getElementById('gather-eq').textContent", cancel)).GetString());

            // A real right-arrow key press steps to the next output position.
            await browser.Press("ArrowRight", 39, cancel);
            Assert.Equal(GatherHighlight(e, gather + 1), await Highlighted(browser, cancel));
            Assert.Equal(SvgRenderer.GatherEquation(e.Gather.Steps[gather + 1]), (await browser.Evaluate("document.getElementById('gather-eq').textContent", cancel)).GetString());
            Assert.StartsWith($"gather: y{TextRenderer.Pos(e.Gather.Steps[gather + 1].Output)}", (await browser.Evaluate("document.getElementById('position').textContent", cancel)).GetString(), StringComparison.Ordinal);

            // Mouse clicks: scatter mode, then "next" moves the stamp to another input position.
            await browser.Click("scatter-mode", cancel);
            var before = await Highlighted(browser, cancel, "si-");
            await browser.Click("next", cancel);
            var after = await Highlighted(browser, cancel, "si-");
            Assert.Single(after);
            Assert.NotEqual(before, after);
            var stamp = e.Scatter.Stamps[int.Parse(after[0]["si-".Length..], System.Globalization.CultureInfo.InvariantCulture)];
            Assert.Equal(SvgRenderer.ScatterEquation(stamp), (await browser.Evaluate("document.getElementById('scatter-eq').textContent", cancel)).GetString());
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The ids the gather view highlights for output step <paramref name="step"/>: its window in the padded grid and its output cell.</summary>
    private static string[] GatherHighlight(Deconv.Explain.Explanation e, int step) =>
        [.. e.Gather.Steps[step].Terms.Select(t => $"gp-{e.Gather.Padded.Offset(t.GridCell)}").Append($"go-{step}").Order(StringComparer.Ordinal)];

    private static async Task<string[]> Highlighted(DevToolsBrowser browser, CancellationToken cancel, string prefix = "g")
    {
        var ids = await browser.Evaluate($"[...document.querySelectorAll('rect.hl')].map(r => r.id).filter(id => id.startsWith('{prefix}'))", cancel);
        return [.. ids.EnumerateArray().Select(v => v.GetString()!).Where(id => prefix != "g" || id.StartsWith("gp-", StringComparison.Ordinal) || id.StartsWith("go-", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
    }
}
