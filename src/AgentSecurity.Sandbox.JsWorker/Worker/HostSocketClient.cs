using System.Net.Sockets;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;

namespace AgentSecurity.Sandbox.Worker;

/// <summary>
/// The worker's side of the host API: the native sandbox's host socket and its line protocol
/// (<see cref="HostCallLine"/>), one call at a time. The silo answers each call only after the agent's grain checked it;
/// a connection that fails answers <c>unavailable</c>, never a value.
/// </summary>
internal sealed class HostSocketClient(string path) : IHostApi, IDisposable
{
    private Socket? _socket;
    private NetworkStream? _stream;
    private readonly List<byte> _line = [];
    private readonly byte[] _chunk = new byte[16 * 1024];

    /// <summary>Connects before the job arrives, so that its first call pays nothing for it.</summary>
    public void Connect()
    {
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _socket.Connect(new UnixDomainSocketEndPoint(path));
        _stream = new NetworkStream(_socket, ownsSocket: true);
    }

    public ValueTask<HostReply> CallAsync(HostCall call)
    {
        if (_stream is null)
        {
            return ValueTask.FromResult(HostReply.Fail(ReasonCodes.Unavailable, "the worker has no host connection"));
        }

        try
        {
            _stream.Write(HostCallLine.WriteRequest(call));
            return ValueTask.FromResult(HostCallLine.ParseReply(ReadLine()));
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            _stream.Dispose();
            _stream = null;
            return ValueTask.FromResult(HostReply.Fail(ReasonCodes.Unavailable, "the host connection failed"));
        }
    }

    private byte[] ReadLine()
    {
        while (true)
        {
            var newline = _line.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _line.GetRange(0, newline).ToArray();
                _line.RemoveRange(0, newline + 1);
                return line;
            }

            var read = _stream!.Read(_chunk);
            if (read == 0)
            {
                throw new IOException("the host closed the connection");
            }

            _line.AddRange(_chunk.AsSpan(0, read));
        }
    }

    public void Dispose() => _stream?.Dispose();
}
