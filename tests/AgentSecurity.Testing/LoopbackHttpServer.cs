using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentSecurity.Testing;

/// <summary>
/// A minimal HTTP/1.1 server on a free loopback port for tests of outbound calls (http.fetch, the LLM provider): every
/// request gets <see cref="Respond"/>'s answer and is recorded. One request per connection, no keep-alive.
/// </summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    public LoopbackHttpServer(Func<Request, (int Status, string Body)> respond)
    {
        Respond = respond;
        _listener.Start();
        _serving = ServeAsync();
    }

    public sealed record Request(string Method, string Path, string Body);

    public Func<Request, (int Status, string Body)> Respond { get; set; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    public ConcurrentQueue<Request> Requests { get; } = new();

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _ = Task.Run(() => AnswerAsync(client));
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
            var requestLine = await reader.ReadLineAsync() ?? string.Empty;
            var length = 0;
            string? header;
            while (!string.IsNullOrEmpty(header = await reader.ReadLineAsync()))
            {
                if (header.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                {
                    length = int.Parse(header["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            var body = new char[length];
            var read = 0;
            while (read < length && await reader.ReadAsync(body.AsMemory(read)) is var n and > 0)
            {
                read += n;
            }

            var parts = requestLine.Split(' ');
            var request = new Request(parts[0], parts.Length > 1 ? parts[1] : "/", new string(body, 0, read));
            Requests.Enqueue(request);
            var (status, text) = Respond(request);
            var bytes = Encoding.UTF8.GetBytes(text);
            var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(head);
            await stream.WriteAsync(bytes);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serving;
        _stop.Dispose();
    }
}
