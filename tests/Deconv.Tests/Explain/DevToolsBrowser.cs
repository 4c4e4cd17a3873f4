using System.Diagnostics;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Deconv.Tests.Explain;

/// <summary>
/// Headless Chromium driven over the DevTools protocol (a WebSocket on loopback): open a page, evaluate
/// JavaScript, and send real key presses and mouse clicks. Enough for the explain page's browser test.
/// </summary>
internal sealed partial class DevToolsBrowser : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ClientWebSocket _socket = new();
    private readonly string _profile;
    private int _nextId;

    private DevToolsBrowser(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>Starts Chromium on <paramref name="url"/> and attaches to that page.</summary>
    public static async Task<DevToolsBrowser> Open(string chromium, string url, CancellationToken cancel)
    {
        var profile = Directory.CreateTempSubdirectory("deconv-chromium-").FullName;
        var start = new ProcessStartInfo(chromium,
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}", "--remote-debugging-port=0", url,
        ])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        var browser = new DevToolsBrowser(Process.Start(start) ?? throw new InvalidOperationException("chromium did not start"), profile);
        try
        {
            // Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" on stderr.
            var port = 0;
            while (port == 0 && await browser._process.StandardError.ReadLineAsync(cancel) is { } line)
            {
                if (ListeningLine().Match(line) is { Success: true } m)
                {
                    port = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            if (port == 0)
            {
                throw new InvalidOperationException("chromium exited without opening its DevTools port");
            }

            _ = browser._process.StandardError.ReadToEndAsync(cancel); // keep draining so Chromium never blocks on a full pipe
            using var http = new HttpClient();
            string? socketUrl = null;
            while (socketUrl is null)
            {
                var targets = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/json/list"), cancel)).RootElement;
                socketUrl = targets.EnumerateArray().Where(t => t.GetProperty("type").GetString() == "page")
                    .Select(t => t.GetProperty("webSocketDebuggerUrl").GetString()).FirstOrDefault();
                if (socketUrl is null)
                {
                    await Task.Delay(50, cancel);
                }
            }

            await browser._socket.ConnectAsync(new Uri(socketUrl), cancel);
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page and returns its value as JSON.</summary>
    public async Task<JsonElement> Evaluate(string expression, CancellationToken cancel)
    {
        var result = await Send("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true }, cancel);
        if (result.TryGetProperty("exceptionDetails", out var error))
        {
            throw new InvalidOperationException($"page script failed: {error}");
        }

        return result.GetProperty("result").TryGetProperty("value", out var value) ? value.Clone() : default;
    }

    /// <summary>Waits until <paramref name="expression"/> is true in the page.</summary>
    public async Task WaitFor(string expression, CancellationToken cancel)
    {
        while (!(await Evaluate(expression, cancel)).ValueKind.Equals(JsonValueKind.True))
        {
            await Task.Delay(50, cancel);
        }
    }

    /// <summary>A real key press (keyDown and keyUp) as the keyboard sends it.</summary>
    public async Task Press(string key, int keyCode, CancellationToken cancel)
    {
        await Send("Input.dispatchKeyEvent", new { type = "keyDown", key, code = key, windowsVirtualKeyCode = keyCode }, cancel);
        await Send("Input.dispatchKeyEvent", new { type = "keyUp", key, code = key, windowsVirtualKeyCode = keyCode }, cancel);
    }

    /// <summary>A real mouse click in the middle of the element with id <paramref name="id"/>.</summary>
    public async Task Click(string id, CancellationToken cancel)
    {
        var box = await Evaluate($"(() => {{ const r = document.getElementById('{id}').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()", cancel);
        var (x, y) = (box[0].GetDouble(), box[1].GetDouble());
        await Send("Input.dispatchMouseEvent", new { type = "mousePressed", x, y, button = "left", clickCount = 1 }, cancel);
        await Send("Input.dispatchMouseEvent", new { type = "mouseReleased", x, y, button = "left", clickCount = 1 }, cancel);
    }

    private async Task<JsonElement> Send(string method, object parameters, CancellationToken cancel)
    {
        var id = ++_nextId;
        var message = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters });
        await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancel);
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var received = new MemoryStream();
            WebSocketReceiveResult part;
            do
            {
                part = await _socket.ReceiveAsync(buffer, cancel);
                received.Write(buffer, 0, part.Count);
            }
            while (!part.EndOfMessage);

            var reply = JsonDocument.Parse(received.ToArray()).RootElement;
            // Events (no id) and other replies are skipped.
            if (reply.TryGetProperty("id", out var replyId) && replyId.GetInt32() == id)
            {
                return reply.TryGetProperty("error", out var error)
                    ? throw new InvalidOperationException($"{method} failed: {error}")
                    : reply.GetProperty("result").Clone();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be releasing its profile; a temp folder left behind is harmless.
        }
    }

    [GeneratedRegex(@"DevTools listening on ws://[^:]+:(\d+)/")]
    private static partial Regex ListeningLine();
}
