using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// One running upstream program and the MCP client session over its stdio. The program is started by an
/// <see cref="IUpstreamLauncher"/> (not the SDK's stdio transport) so that its standard output can be bounded
/// (<see cref="BoundedLineStream"/>) and its environment built from nothing, whoever starts it.
/// </summary>
internal sealed class UpstreamConnection : IAsyncDisposable
{
    /// <summary>The protocol revision the npm servers speak; fixed so the client does not probe (a silent upstream would cost the probe's timeout).</summary>
    public const string ProtocolVersion = "2025-11-25";

    private readonly UpstreamProcess _process;
    private readonly BoundedLineStream _output;

    private UpstreamConnection(UpstreamProcess process, BoundedLineStream output, McpClient client)
    {
        _process = process;
        _output = output;
        Client = client;
    }

    public McpClient Client { get; }

    /// <summary>Completes when the program has exited (crashed, was stopped, or ended on its own).</summary>
    public Task Exited => _process.Exited;

    public bool HasExited => Exited.IsCompleted;

    /// <summary>Whether the upstream was stopped for writing a line over the bound (the gateway's or its launcher's).</summary>
    public bool Overflowed => _output.Overflowed || _process.OutputLimited;

    /// <summary>
    /// Whether the session can serve no more calls: the program exited, or it overflowed (and is being stopped: its exit
    /// may not have been seen yet, and a call in between must start a new one rather than use this one).
    /// </summary>
    public bool IsBroken => HasExited || Overflowed;

    public int? ProcessId => _process.ProcessId;

    /// <summary>
    /// Why the program is gone: the line bound, or its exit, and with <paramref name="withErrorTail"/> the end of its
    /// standard error. Only the gateway's log gets the tail: an upstream's error output can hold what its environment was
    /// given (a token), and a refusal goes to the agent.
    /// </summary>
    public string DescribeExit(bool withErrorTail = false) => _output.Overflowed
        ? $"it wrote a line over {_output.MaxLineBytes} bytes and was stopped"
        : _process.DescribeExit(withErrorTail);

    /// <summary>Starts the program and completes the MCP handshake, or throws <see cref="UpstreamStartException"/> saying why not.</summary>
    public static async Task<UpstreamConnection> StartAsync(
        IUpstreamLauncher launcher,
        UpstreamOptions options,
        long maxLineBytes,
        TimeSpan initializationTimeout,
        Func<CancellationToken, ValueTask> onToolListChanged,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        var process = await launcher.StartAsync(options, cancellationToken).ConfigureAwait(false);
        var output = new BoundedLineStream(process.Output, maxLineBytes, process.Kill);
        var transport = new StreamClientTransport(process.Input, output, loggerFactory);
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

        // A program that exits before answering (not an MCP server, a bad argument) fails the start at once, not after the timeout.
        using var exitedOrCancelled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _ = process.Exited.ContinueWith(_ => exitedOrCancelled.Cancel(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            var client = await McpClient.CreateAsync(transport, clientOptions, loggerFactory, exitedOrCancelled.Token).ConfigureAwait(false);
            return new UpstreamConnection(process, output, client);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill();
            await process.Exited.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            var why = output.Overflowed || process.OutputLimited
                ? $"it wrote a line over {maxLineBytes} bytes"
                : process.Exited.IsCompleted && e is OperationCanceledException
                    ? $"before answering initialize it {process.DescribeExit()}"
                    : $"it did not complete the MCP handshake ({e.GetType().Name}: {e.Message})";
            var detail = process.Exited.IsCompleted ? process.DescribeExit(withErrorTail: true) : string.Empty;
            await process.DisposeAsync().ConfigureAwait(false);
            throw new UpstreamStartException($"{options.Command} is not an MCP server on stdio: {why}", e) { ErrorTail = detail };
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the program (and its children): the session is useless once its output broke the bound or the gateway ends.</summary>
    public void Stop() => _process.Kill();

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Closing the client closes the upstream's stdin, which ends a well-behaved server.
            await Client.DisposeAsync().ConfigureAwait(false);
            await Exited.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Stopped below.
        }
        finally
        {
            _process.Kill();
            await _process.DisposeAsync().ConfigureAwait(false);
        }
    }
}
