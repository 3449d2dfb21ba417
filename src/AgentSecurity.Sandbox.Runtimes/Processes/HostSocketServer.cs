using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// The host API for native processes: a Unix socket, bound into the sandbox at <c>/run/agentsec/host.sock</c>,
/// speaking JSON lines. A request is <c>{"op": "fs.read", "arg": "/workspace/a.txt", "arg2": null}</c>; the reply is
/// <c>{"ok": true, "value": ...}</c> or <c>{"ok": false, "error": code, "message": ..., "denied": bool}</c>. Calls on
/// one connection are answered in order; a few connections may be open at once (a process and its children).
/// </summary>
internal sealed class HostSocketServer : IAsyncDisposable
{
    /// <summary>Longest request line: processes write their files directly, so host calls carry little.</summary>
    public const int MaxRequestBytes = 1024 * 1024;

    private const int MaxConnections = 8;

    private readonly Socket _listener;
    private readonly IHostApi _host;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly List<Task> _connections = [];
    private readonly SemaphoreSlim _slots = new(MaxConnections);

    public HostSocketServer(string path, IHostApi host)
    {
        _host = host;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(MaxConnections);
        _accepting = AcceptAsync();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                await _slots.WaitAsync(_stop.Token);
                var connection = await _listener.AcceptAsync(_stop.Token);
                lock (_connections)
                {
                    _connections.Add(ServeAsync(connection));
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        try
        {
            await using var stream = new NetworkStream(connection, ownsSocket: true);
            var buffer = new List<byte>();
            var chunk = new byte[16 * 1024];
            while (true)
            {
                var read = await stream.ReadAsync(chunk, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                var start = 0;
                for (var i = 0; i < read; i++)
                {
                    if (chunk[i] != (byte)'\n')
                    {
                        continue;
                    }

                    buffer.AddRange(chunk.AsSpan(start, i - start));
                    var reply = await AnswerAsync(buffer.ToArray());
                    await stream.WriteAsync(reply, _stop.Token);
                    buffer.Clear();
                    start = i + 1;
                }

                buffer.AddRange(chunk.AsSpan(start, read - start));
                if (buffer.Count > MaxRequestBytes)
                {
                    await stream.WriteAsync(HostCallLine.Write(HostReply.Fail(ReasonCodes.InvalidRequest, $"a request is one line of at most {MaxRequestBytes} bytes")), _stop.Token);
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // the process went away, or the execution ended
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<byte[]> AnswerAsync(byte[] line) => HostCallLine.Parse(line).TryGetValue(out var call, out var invalid)
        ? HostCallLine.Write(await _host.CallAsync(call))
        : HostCallLine.Write(HostReply.Fail(invalid.Code, invalid.Message));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        Task[] open;
        lock (_connections)
        {
            open = [.. _connections];
        }

        await Task.WhenAll(open);
        _stop.Dispose();
        _slots.Dispose();
    }
}
