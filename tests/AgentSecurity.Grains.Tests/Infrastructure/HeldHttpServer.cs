using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentSecurity.Grains.Tests.Infrastructure;

/// <summary>
/// An HTTP server on loopback that holds its one request until the test releases it: running code that fetches from it
/// waits there, so a test can change the agent between two host calls of one execution (a real socket, no fake).
/// </summary>
internal sealed class HeldHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _serving;

    public HeldHttpServer()
    {
        _listener.Start();
        _serving = ServeAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Completes once the request has arrived: the code is waiting for its answer.</summary>
    public Task Arrived => _arrived.Task;

    public void Release() => _release.TrySetResult();

    private async Task ServeAsync()
    {
        using var client = await _listener.AcceptTcpClientAsync();
        var stream = client.GetStream();
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer);
            if (n == 0)
            {
                return;
            }

            received.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        _arrived.TrySetResult();
        await _release.Task;
        await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nheld"u8.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        _listener.Stop();
        try
        {
            await _serving;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            // No request came, or the execution hung up: nothing to answer.
        }
    }
}
