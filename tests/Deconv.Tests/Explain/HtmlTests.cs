using System.Diagnostics;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using Deconv.Cli.Commands;
using Deconv.Cli.Explain;
using Deconv.Explain;

namespace Deconv.Tests.Explain;

/// <summary>The interactive page: well-formed, self-contained, carrying the numbers, and its script moves the highlights.</summary>
public class HtmlTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static (Explanation E, string Html) Page(params string[] args)
    {
        var request = new ExplainRequest
        {
            InputSize = ExplainRequest.ParseInts(args.ElementAtOrDefault(0) ?? "3", "--input-size"),
            Stride = ExplainRequest.ParseInts(args.ElementAtOrDefault(1) ?? "1", "--stride"),
            Kernel = ExplainRequest.ParseInts(args.ElementAtOrDefault(2) ?? "2", "--kernel"),
            Values = "range",
        };
        var (e, call) = ExplainCommand.Explain(request, null);
        return (e, HtmlRenderer.Render(e, call, request.Values, null));
    }

    private static XDocument Parse(string html) =>
        XDocument.Load(XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore }));

    private static JsonElement Data(string html)
    {
        const string start = "const data = ";
        var from = html.IndexOf(start, StringComparison.Ordinal) + start.Length;
        var to = html.IndexOf(";\n", from, StringComparison.Ordinal);
        return JsonDocument.Parse(html[from..to]).RootElement;
    }

    [Theory]
    [InlineData("3", "1", "2")]
    [InlineData("3", "2", "3")]
    [InlineData("4", "3", "2")]
    public void Page_is_well_formed_and_holds_every_number(string input, string stride, string kernel)
    {
        var (e, html) = Page(input, stride, kernel);
        var doc = Parse(html);
        Assert.Equal("html", doc.Root!.Name.LocalName);
        var svg = Assert.Single(doc.Descendants(Svg + "svg"));
        var ids = svg.Descendants().Select(d => (string?)d.Attribute("id")).Where(i => i is not null).ToHashSet();

        // Every cell the script will highlight exists in the picture.
        var data = Data(html);
        Assert.Equal(e.Gather.Steps.Count, data.GetProperty("gather").GetArrayLength());
        Assert.Equal(e.Scatter.Stamps.Count, data.GetProperty("scatter").GetArrayLength());
        foreach (var step in data.GetProperty("gather").EnumerateArray())
        {
            Assert.All(step.GetProperty("window").EnumerateArray(), o => Assert.Contains($"gp-{o.GetInt32()}", ids));
            Assert.Contains($"go-{step.GetProperty("output").GetInt32()}", ids);
        }

        foreach (var stamp in data.GetProperty("scatter").EnumerateArray())
        {
            Assert.Contains($"si-{stamp.GetProperty("input").GetInt32()}", ids);
            Assert.All(stamp.GetProperty("cells").EnumerateArray(), o => Assert.Contains($"so-{o.GetInt32()}", ids));
        }

        // The last stamp's running sum is the result, and the result grid shows the library's numbers.
        var last = data.GetProperty("scatter")[e.Scatter.Stamps.Count - 1].GetProperty("running").EnumerateArray().Select(v => v.GetString()).ToList();
        Assert.Equal(e.Result.Values.Select(TextRenderer.N), last);
        for (var o = 0; o < e.Result.Values.Length; o++)
        {
            var cell = svg.Descendants(Svg + "text").Single(t => (string?)t.Attribute("id") == $"re-t-{o}");
            Assert.Equal(TextRenderer.N(e.Result.Values[o]), cell.Value);
        }

        // The text explanation is on the page too, ending with the check.
        var text = doc.Descendants().Single(d => (string?)d.Attribute("id") == "text").Value;
        Assert.Contains("check: gather, scatter", text, StringComparison.Ordinal);
        Assert.Contains(string.Join(", ", e.Result.Values.Select(TextRenderer.N)), text, StringComparison.Ordinal);
    }

    [Fact]
    public void Page_needs_no_network()
    {
        var (_, html) = Page();
        var doc = Parse(html);
        Assert.DoesNotContain(doc.Descendants(), d => d.Attribute("src") is not null || d.Attribute("href") is not null);
        Assert.DoesNotContain("http", html.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal(["gather-mode", "scatter-mode", "prev", "next"], doc.Descendants().Where(d => d.Name.LocalName == "button").Select(b => (string?)b.Attribute("id")));
    }

    [NodeFact]
    public void Script_moves_the_highlights_when_stepping()
    {
        // Runs the page's own script in Node against a minimal DOM built from the page's SVG ids.
        var (e, html) = Page("3", "2", "3");
        var doc = Parse(html);
        var cells = doc.Descendants().Where(d => d.Attribute("id") is not null)
            .ToDictionary(d => (string)d.Attribute("id")!, d => ((string?)d.Attribute("class") ?? "").Split(' ').Contains("hl"));
        var script = html[(html.IndexOf("const data = ", StringComparison.Ordinal))..html.IndexOf("//]]>", StringComparison.Ordinal)];
        var dom = """
            const initial = INITIAL;
            const elements = {};
            function make(id, hl) {
              const classes = new Set(hl ? ['hl'] : []);
              return { id: id, textContent: '', disabled: false, listeners: {},
                classList: { toggle: (c, on) => { if (on) { classes.add(c); } else { classes.delete(c); } }, contains: c => classes.has(c) },
                addEventListener: function (t, f) { this.listeners[t] = f; } };
            }
            for (const [id, hl] of Object.entries(initial)) { elements[id] = make(id, hl); }
            const docListeners = {};
            globalThis.window = globalThis;
            globalThis.document = { getElementById: id => elements[id] || null, addEventListener: (t, f) => { docListeners[t] = f; } };
            """.Replace("INITIAL", JsonSerializer.Serialize(cells), StringComparison.Ordinal);
        var actions = """
            const lit = prefix => Object.values(elements).filter(x => x.id.startsWith(prefix) && !x.id.includes('-t-') && x.classList.contains('hl')).map(x => x.id).sort();
            const report = {};
            report.startPosition = elements['position'].textContent;
            elements['next'].listeners.click();
            report.gather = { pad: lit('gp-'), out: lit('go-'), eq: elements['gather-eq'].textContent, position: elements['position'].textContent };
            elements['scatter-mode'].listeners.click();
            docListeners.keydown({ key: 'ArrowLeft' });
            report.scatter = { input: lit('si-'), out: lit('so-'), eq: elements['scatter-eq'].textContent, position: elements['position'].textContent,
              running: Object.keys(elements).filter(k => k.startsWith('so-t-')).sort((a, b) => +a.slice(5) - +b.slice(5)).map(k => elements[k].textContent) };
            console.log(JSON.stringify(report));
            """;
        var file = Path.Combine(Path.GetTempPath(), $"deconv-explain-{Guid.NewGuid():N}.js");
        File.WriteAllText(file, dom + script + actions);
        try
        {
            var report = JsonDocument.Parse(RunNode(file)).RootElement;
            var (gather, scatter) = SvgRenderer.Selection(e, null);
            var step = e.Gather.Steps[gather + 1];
            Assert.Equal(step.Terms.Select(t => $"gp-{e.Gather.Padded.Offset(t.GridCell)}").Distinct().Order(StringComparer.Ordinal),
                report.GetProperty("gather").GetProperty("pad").EnumerateArray().Select(v => v.GetString()));
            Assert.Equal([$"go-{gather + 1}"], report.GetProperty("gather").GetProperty("out").EnumerateArray().Select(v => v.GetString()));
            Assert.Equal(SvgRenderer.GatherEquation(step), report.GetProperty("gather").GetProperty("eq").GetString());
            Assert.Equal($"gather: y{TextRenderer.Pos(step.Output)} ({gather + 2} of {e.Gather.Steps.Count})", report.GetProperty("gather").GetProperty("position").GetString());

            var stamp = e.Scatter.Stamps[scatter - 1];
            Assert.Equal([$"si-{scatter - 1}"], report.GetProperty("scatter").GetProperty("input").EnumerateArray().Select(v => v.GetString()));
            Assert.Equal(stamp.Products.Where(p => p.Inside).Select(p => $"so-{GridIndex.Offset(e.OutputShape, p.Output)}").Order(StringComparer.Ordinal),
                report.GetProperty("scatter").GetProperty("out").EnumerateArray().Select(v => v.GetString()));
            Assert.Equal(stamp.RunningSum.Values.Select(TextRenderer.N), report.GetProperty("scatter").GetProperty("running").EnumerateArray().Select(v => v.GetString()));
            Assert.Equal(SvgRenderer.ScatterEquation(stamp), report.GetProperty("scatter").GetProperty("eq").GetString());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [ChromiumFact]
    public void Headless_chromium_runs_the_page()
    {
        var (e, html) = Page();
        var file = Path.Combine(Path.GetTempPath(), $"deconv-explain-{Guid.NewGuid():N}.html");
        File.WriteAllText(file, html);
        try
        {
            var start = new ProcessStartInfo(ChromiumFactAttribute.Path,
                ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--dump-dom", "file://" + file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var dom = process.StandardOutput.ReadToEnd();
            Assert.True(process.WaitForExit(60_000), "chromium did not finish within 60 s");
            // The script ran: it wrote the position label.
            var (gather, _) = SvgRenderer.Selection(e, null);
            Assert.Contains($"gather: y{TextRenderer.Pos(e.Gather.Steps[gather].Output)} ({gather + 1} of {e.Gather.Steps.Count})", dom, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string RunNode(string file)
    {
        var start = new ProcessStartInfo(NodeFactAttribute.Path, [file]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(30_000), "node did not finish within 30 s");
        Assert.True(process.ExitCode == 0, error);
        return output;
    }
}

/// <summary>A test that needs Node.js at /usr/bin/node; skipped with the reason when it is missing.</summary>
public sealed class NodeFactAttribute : FactAttribute
{
    public const string Path = "/usr/bin/node";

    public NodeFactAttribute()
    {
        if (!File.Exists(Path))
        {
            Skip = $"the page-script test needs Node.js at {Path}, which is not installed";
        }
    }
}

/// <summary>
/// A test that needs /usr/bin/chromium. When it is missing and the tests run as root (as CI does), Debian's chromium
/// package is installed once; the test is skipped with the reason only where that is impossible.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Path = "/usr/bin/chromium";

    private static readonly Lazy<string?> Missing = new(Install);

    public ChromiumFactAttribute()
    {
        if (Missing.Value is { } reason)
        {
            Skip = $"headless browser test skipped: {reason}";
        }
    }

    /// <summary>Installs Chromium if needed; null when it is there, else why it is not.</summary>
    private static string? Install()
    {
        if (File.Exists(Path))
        {
            return null;
        }

        if (Environment.UserName != "root" || !File.Exists("/usr/bin/apt-get"))
        {
            return $"{Path} is not installed and this user cannot install it (as root: apt-get install chromium)";
        }

        foreach (var arguments in new[] { "update -qq", "install -y -qq --no-install-recommends chromium" })
        {
            var start = new ProcessStartInfo("/usr/bin/apt-get", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(600_000) || process.ExitCode != 0)
            {
                return $"{Path} is not installed and 'apt-get {arguments}' failed: {error.Result.Trim().Split('\n').LastOrDefault()}";
            }
        }

        return File.Exists(Path) ? null : $"apt-get installed chromium but {Path} does not exist";
    }
}
