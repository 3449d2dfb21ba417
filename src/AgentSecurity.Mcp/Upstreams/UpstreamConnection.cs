using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>One MCP client session with an upstream, over its program's stdio or over HTTP (<see cref="UpstreamLink"/>).</summary>
internal sealed class UpstreamConnection : IAsyncDisposable
{
    /// <summary>The protocol revision the npm servers speak; fixed so the client does not probe (a silent upstream would cost the probe's timeout).</summary>
    public const string ProtocolVersion = "2025-11-25";

    private readonly UpstreamLink _link;

    private UpstreamConnection(UpstreamLink link, McpClient client)
    {
        _link = link;
        Client = client;
    }

    public McpClient Client { get; }

    /// <summary>Completes when the session has ended (the program crashed, was stopped or ended on its own; the HTTP session ended).</summary>
    public Task Exited => _link.Ended;

    public bool HasExited => Exited.IsCompleted;

    /// <summary>Whether the upstream was stopped for sending a message over the bound (the gateway's or its launcher's).</summary>
    public bool Overflowed => _link.Overflowed;

    /// <summary>
    /// Whether the session can serve no more calls: it ended, or it overflowed (and is being stopped: its end may not have
    /// been seen yet, and a call in between must start a new one rather than use this one).
    /// </summary>
    public bool IsBroken => HasExited || Overflowed;

    public int? ProcessId => _link.ProcessId;

    /// <inheritdoc cref="UpstreamLink.DescribeEnd"/>
    public string DescribeExit(bool withErrorTail = false) => _link.DescribeEnd(withErrorTail);

    /// <inheritdoc cref="UpstreamLink.SettleAfterFailureAsync"/>
    public Task SettleAfterFailureAsync(Exception exception) => _link.SettleAfterFailureAsync(exception);

    /// <summary>Starts or connects to the upstream and completes the MCP handshake, or throws <see cref="UpstreamStartException"/> saying why not.</summary>
    public static async Task<UpstreamConnection> StartAsync(
        IUpstreamLauncher launcher,
        UpstreamOptions options,
        long maxMessageBytes,
        TimeSpan initializationTimeout,
        Func<CancellationToken, ValueTask> onToolListChanged,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        UpstreamLink link = options.Url is null
            ? await StdioUpstreamLink.StartAsync(launcher, options, maxMessageBytes, loggerFactory, cancellationToken).ConfigureAwait(false)
            : new HttpUpstreamLink(options, maxMessageBytes, initializationTimeout, loggerFactory);
        var clientOptions = new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "agentsec-mcp-gateway", Version = typeof(UpstreamConnection).Assembly.GetName().Version?.ToString() ?? "0" },
            ProtocolVersion = ProtocolVersion,
            InitializationTimeout = initializationTimeout,
            // No capabilities: an upstream must not ask the agent's client for roots (the filesystem server would replace
            // its configured roots with them), sampling or elicitation through the gateway. Only tools pass.
            Capabilities = new ClientCapabilities(),
            Handlers = new McpClientHandlers
            {
                NotificationHandlers = [new(NotificationMethods.ToolListChangedNotification, (_, ct) => onToolListChanged(ct))],
            },
        };

        // A session that ends before answering (a program that is no MCP server, a bad argument) fails the start at once, not after the timeout.
        using var endedOrCancelled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _ = link.Ended.ContinueWith(_ => endedOrCancelled.Cancel(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            var client = await McpClient.CreateAsync(link.Transport, clientOptions, loggerFactory, endedOrCancelled.Token).ConfigureAwait(false);
            link.Attach(client);
            return new UpstreamConnection(link, client);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            link.Stop();
            await link.Ended.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            var why = link.DescribeStartFailure(e);
            var detail = link.Ended.IsCompleted ? link.DescribeEnd(withErrorTail: true) : string.Empty;
            await link.DisposeAsync().ConfigureAwait(false);
            throw new UpstreamStartException(why, e) { ErrorTail = detail };
        }
        catch
        {
            await link.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Ends the session (a program and its children are killed): it is useless once it broke the bound or the gateway ends.</summary>
    public void Stop() => _link.Stop();

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Closing the client closes a program's stdin, which ends a well-behaved server, and ends an HTTP session.
            await Client.DisposeAsync().ConfigureAwait(false);
            await Exited.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or IOException or ObjectDisposedException or OperationCanceledException or HttpRequestException)
        {
            // Stopped below.
        }
        finally
        {
            _link.Stop();
            await _link.DisposeAsync().ConfigureAwait(false);
        }
    }
}
