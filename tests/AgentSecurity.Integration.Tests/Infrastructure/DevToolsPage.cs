using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>
/// One page of a browser over the Chrome DevTools protocol (a WebSocket of JSON commands and answers): navigate, run
/// script in the page (awaiting its promise), take a screenshot. Events the browser sends unasked are ignored.
/// </summary>
internal sealed class DevToolsPage : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _reading;
    private int _nextId;

    private DevToolsPage(ClientWebSocket socket)
    {
        _socket = socket;
        _reading = ReadAsync();
    }

    public static async Task<DevToolsPage> ConnectAsync(Uri page, CancellationToken cancellation)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(page, cancellation);
        return new DevToolsPage(socket);
    }

    /// <summary>Sends one command and returns its <c>result</c>; an <c>error</c> answer throws.</summary>
    public async Task<JsonElement> SendAsync(string method, JsonObject? parameters, CancellationToken cancellation)
    {
        var id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await _sending.WaitAsync(cancellation);
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, cancellation);
        }
        finally
        {
            _sending.Release();
        }

        using (cancellation.Register(() => answer.TrySetCanceled(cancellation)))
        {
            return await answer.Task;
        }
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page, awaiting a promise, and returns its value as JSON.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression, CancellationToken cancellation)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject
        {
            ["expression"] = expression,
            ["awaitPromise"] = true,
            ["returnByValue"] = true,
        }, cancellation);
        if (result.TryGetProperty("exceptionDetails", out var exception))
        {
            throw new InvalidOperationException($"the page's script threw: {exception}");
        }

        return result.GetProperty("result").TryGetProperty("value", out var value) ? value : default;
    }

    public Task NavigateAsync(Uri url, CancellationToken cancellation) =>
        SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() }, cancellation);

    /// <summary>
    /// Waits until <paramref name="valueExpression"/> is truthy in the page and returns that value: asked every 50 ms
    /// (a condition of another process, the browser), so that no question outlives a document the page navigated away
    /// from. What it measures the page stamps itself (when an event row was added), not this loop. When
    /// <paramref name="cancellation"/> ends it, the exception says what the page showed last.
    /// </summary>
    public async Task<JsonElement> WaitForAsync(string valueExpression, CancellationToken cancellation)
    {
        var expression = $"(() => {{ try {{ return ({valueExpression}); }} catch {{ return null; }} }})()";
        try
        {
            while (true)
            {
                JsonElement value;
                try
                {
                    value = await EvaluateAsync(expression, cancellation);
                }
                catch (InvalidOperationException e) when (e.Message.Contains("Execution context was destroyed", StringComparison.Ordinal) || e.Message.Contains("Cannot find context", StringComparison.Ordinal))
                {
                    continue; // the page navigated while asked: ask the new document
                }

                if (value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.False))
                {
                    return value;
                }

                // A poll of the page's DOM with the caller's deadline: the browser pushes nothing over this protocol use.
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellation);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            using var diagnosis = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var shown = await EvaluateAsync("location.href + '\\n' + document.body?.innerText", diagnosis.Token);
            throw new TimeoutException($"the page never showed {valueExpression}; it showed:\n{shown}");
        }
    }

    public async Task<byte[]> ScreenshotAsync(CancellationToken cancellation)
    {
        var shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true }, cancellation);
        return Convert.FromBase64String(shot.GetProperty("data").GetString()!);
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var received = await _socket.ReceiveAsync(buffer, _closing.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, received.Count);
                if (!received.EndOfMessage)
                {
                    continue;
                }

                using (var document = JsonDocument.Parse(message.ToArray()))
                {
                    var root = document.RootElement;
                    if (root.TryGetProperty("id", out var id) && _pending.TryRemove(id.GetInt32(), out var answer))
                    {
                        if (root.TryGetProperty("error", out var error))
                        {
                            answer.TrySetException(new InvalidOperationException($"DevTools refused the command: {error}"));
                        }
                        else
                        {
                            answer.TrySetResult(root.GetProperty("result").Clone());
                        }
                    }
                }

                message.SetLength(0);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }

        foreach (var pending in _pending.Values)
        {
            pending.TrySetException(new InvalidOperationException("the DevTools connection closed"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        await _reading;
        _socket.Dispose();
        _sending.Dispose();
        _closing.Dispose();
    }
}
