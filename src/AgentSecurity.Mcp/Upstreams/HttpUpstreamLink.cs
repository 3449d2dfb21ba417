using AgentSecurity.Mcp.Gateway;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// A Streamable HTTP session with an upstream that runs elsewhere, given by its URL. What it sends is bounded
/// (<see cref="BoundedResponseHandler"/>); every request has a deadline, so a server that never answers (a call, or the
/// DELETE that ends a session) holds nothing for long; it is never redirected (a redirect could carry the configured
/// headers to another host) and never reached through a proxy when it is on loopback (a proxy would read the headers
/// and reach its own loopback). The session has no standalone event stream: a server's notifications arrive with its
/// answers. Any failed exchange ends the session, and the next call opens a new one, initialized and listed again like a
/// restarted program.
/// </summary>
internal sealed class HttpUpstreamLink : UpstreamLink
{
    /// <summary>Connections to one upstream at once: calls past it wait, so a server that holds answers open cannot make the gateway open ever more.</summary>
    private const int MaxConnections = 8;

    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HttpClient _http;
    private readonly BoundedResponseHandler _bounding;
    private readonly string _where;
    private string? _why;

    public HttpUpstreamLink(UpstreamOptions options, McpGatewayOptions gateway, ILoggerFactory loggerFactory)
    {
        var url = options.Url ?? throw new ArgumentException("an HTTP upstream has a URL", nameof(options));
        // The scheme and authority only: a path or query can hold a key, and this text reaches the agent in refusals.
        _where = url.GetLeftPart(UriPartial.Authority);
        _bounding = new BoundedResponseHandler(gateway.MaxLineBytes, () => End($"sent a message over {gateway.MaxLineBytes} bytes and its session was ended"))
        {
            InnerHandler = new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = !url.IsLoopback,
                ConnectTimeout = gateway.InitializationTimeout,
                MaxConnectionsPerServer = MaxConnections,
            },
        };
        // Until the answer's headers; reading an answer is bounded by the call's own timeout.
        var deadline = gateway.CallTimeout > gateway.InitializationTimeout ? gateway.CallTimeout : gateway.InitializationTimeout;
        _http = new HttpClient(_bounding) { Timeout = deadline };
        Transport = new HttpClientTransport(
            new HttpClientTransportOptions
            {
                Endpoint = url,
                Name = options.Name,
                TransportMode = HttpTransportMode.StreamableHttp,
                ConnectionTimeout = gateway.InitializationTimeout,
                AdditionalHeaders = options.Headers,
                EnableStandaloneGetStream = false,
                // An answer's event stream that drops before its answer fails the call rather than being resumed.
                MaxReconnectionAttempts = 0,
            },
            _http,
            loggerFactory,
            ownsHttpClient: false);
    }

    public override IClientTransport Transport { get; }

    public override Task Ended => _ended.Task;

    public override bool Overflowed => _bounding.Overflowed;

    public override string DescribeEnd(bool withErrorTail = false) => _why ?? "ended the session";

    public override string DescribeStartFailure(Exception exception) => Overflowed
        ? $"{_where} is not an MCP server over Streamable HTTP: it {_why}"
        : $"{_where} is not an MCP server over Streamable HTTP: it did not complete the MCP handshake ({exception.GetType().Name}: {exception.Message})";

    public override void Attach(McpClient client) =>
        _ = client.Completion.ContinueWith(
            t => End(t.IsCompletedSuccessfully && t.Result is HttpClientCompletionDetails { HttpStatusCode: { } status }
                ? $"ended the session (HTTP {(int)status})"
                : t.IsCompletedSuccessfully && t.Result.Exception is { } e ? $"ended the session ({e.GetType().Name}: {e.Message})" : "ended the session"),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    public override Task SettleAfterFailureAsync(Exception exception)
    {
        End($"failed over HTTP ({exception.GetType().Name}: {exception.Message})");
        return Task.CompletedTask;
    }

    /// <summary>Ends the session now: requests in flight are cancelled (the agent's kill switch cuts off calls this way).</summary>
    public override void Stop()
    {
        End("was disconnected by the gateway");
        _http.CancelPendingRequests();
    }

    private void End(string why)
    {
        Interlocked.CompareExchange(ref _why, why, null);
        _ended.TrySetResult();
    }

    public override ValueTask DisposeAsync()
    {
        Stop();
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
