using AgentSecurity.Mcp.Gateway;
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
    private readonly CancellationTokenRegistration _killSwitch;

    private UpstreamConnection(UpstreamLink link, McpClient client, CancellationTokenRegistration killSwitch)
    {
        _link = link;
        Client = client;
        _killSwitch = killSwitch;
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

    /// <summary>
    /// Starts or connects to the upstream and completes the MCP handshake, or throws <see cref="UpstreamStartException"/>
    /// saying why not. The session ends at once when <paramref name="killSwitch"/> is cancelled, calls in flight included.
    /// </summary>
    public static async Task<UpstreamConnection> StartAsync(
        IUpstreamLauncher launcher,
        UpstreamOptions options,
        McpGatewayOptions gateway,
        Func<CancellationToken, ValueTask> onToolListChanged,
        ILoggerFactory loggerFactory,
        CancellationToken killSwitch,
        CancellationToken cancellationToken)
    {
        var initializationTimeout = gateway.InitializationTimeout;
        UpstreamLink link = options.Url is null
            ? await StdioUpstreamLink.StartAsync(launcher, options, gateway.MaxLineBytes, loggerFactory, cancellationToken).ConfigureAwait(false)
            : new HttpUpstreamLink(options, gateway, loggerFactory);
        var stop = killSwitch.Register(link.Stop);
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
        _ = link.Ended.ContinueWith(
            _ =>
            {
                try
                {
                    endedOrCancelled.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // Started, or failed, before the session ended: nothing waits for it any more.
                }
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            var client = await McpClient.CreateAsync(link.Transport, clientOptions, loggerFactory, endedOrCancelled.Token).ConfigureAwait(false);
            link.Attach(client);
            return new UpstreamConnection(link, client, stop);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            await stop.DisposeAsync().ConfigureAwait(false);
            link.Stop();
            await link.Ended.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            var why = link.DescribeStartFailure(e);
            var detail = link.Ended.IsCompleted ? link.DescribeEnd(withErrorTail: true) : string.Empty;
            await link.DisposeAsync().ConfigureAwait(false);
            throw new UpstreamStartException(why, e) { ErrorTail = detail };
        }
        catch
        {
            await stop.DisposeAsync().ConfigureAwait(false);
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
            // Closing the client closes a program's stdin, which ends a well-behaved server, and ends an HTTP session
            // (a DELETE, which a hostile server may never answer: the link's request timeout and disposal bound it).
            await Client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            await Exited.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or IOException or ObjectDisposedException or OperationCanceledException or HttpRequestException)
        {
            // Stopped below.
        }
        finally
        {
            await _killSwitch.DisposeAsync().ConfigureAwait(false);
            _link.Stop();
            await _link.DisposeAsync().ConfigureAwait(false);
        }
    }
}
