using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// A Streamable HTTP session with an upstream that runs elsewhere, given by its URL. Its answers and events are bounded
/// (<see cref="BoundedResponseStream"/>), it is never redirected (a redirect could carry the configured headers to
/// another host), and any failed exchange ends the session: the next call opens a new one, initialized and listed
/// again like a restarted program.
/// </summary>
internal sealed class HttpUpstreamLink : UpstreamLink
{
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HttpClient _http;
    private readonly BoundingHandler _bounding;
    private readonly Uri _url;
    private string? _why;

    public HttpUpstreamLink(UpstreamOptions options, long maxMessageBytes, TimeSpan connectTimeout, ILoggerFactory loggerFactory)
    {
        _url = options.Url ?? throw new ArgumentException("an HTTP upstream has a URL", nameof(options));
        _bounding = new BoundingHandler(maxMessageBytes, () => End($"sent a message over {maxMessageBytes} bytes and its session was ended"))
        {
            InnerHandler = new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = connectTimeout },
        };
        // The standalone event stream lives as long as the session: the call timeout bounds each call instead.
        _http = new HttpClient(_bounding) { Timeout = Timeout.InfiniteTimeSpan, MaxResponseContentBufferSize = maxMessageBytes };
        Transport = new HttpClientTransport(
            new HttpClientTransportOptions
            {
                Endpoint = _url,
                Name = options.Name,
                TransportMode = HttpTransportMode.StreamableHttp,
                ConnectionTimeout = connectTimeout,
                AdditionalHeaders = options.Headers,
                // A dropped event stream ends the session rather than reconnecting behind the gateway's back.
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
        ? $"{_url} is not an MCP server over Streamable HTTP: it {_why}"
        : $"{_url} is not an MCP server over Streamable HTTP: it did not complete the MCP handshake ({exception.GetType().Name}: {exception.Message})";

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

    public override void Stop() => End("was disconnected by the gateway");

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

    /// <summary>Wraps each response's body in a <see cref="BoundedResponseStream"/> before anything reads it.</summary>
    private sealed class BoundingHandler(long maxMessageBytes, Action onOverflow) : DelegatingHandler
    {
        private int _overflowed;

        public bool Overflowed => Volatile.Read(ref _overflowed) == 1;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var eventStream = response.Content.Headers.ContentType?.MediaType == "text/event-stream";
            if (!eventStream && response.Content.Headers.ContentLength > maxMessageBytes)
            {
                response.Dispose();
                Overflow();
                throw new IOException($"the upstream sent an answer over {maxMessageBytes} bytes");
            }

            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var bounded = new StreamContent(new BoundedResponseStream(body, maxMessageBytes, eventStream, Overflow));
            foreach (var header in response.Content.Headers)
            {
                bounded.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            response.Content = bounded;
            return response;
        }

        private void Overflow()
        {
            if (Interlocked.Exchange(ref _overflowed, 1) == 0)
            {
                onOverflow();
            }
        }
    }
}
