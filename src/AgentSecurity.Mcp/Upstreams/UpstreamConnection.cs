using System.Diagnostics;
using System.Globalization;
using AgentSecurity.Mcp.Telemetry;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// One running upstream process and the MCP client session over its stdio. The process is started by the gateway itself
/// (not the SDK's stdio transport) so that its standard output can be bounded (<see cref="BoundedLineStream"/>) and its
/// environment built from nothing.
/// </summary>
internal sealed class UpstreamConnection : IAsyncDisposable
{
    /// <summary>The protocol revision the npm servers speak; fixed so the client does not probe (a silent upstream would cost the probe's timeout).</summary>
    public const string ProtocolVersion = "2025-11-25";

    private readonly Process _process;
    private readonly BoundedLineStream _output;
    private readonly StandardErrorTail _standardError;

    private UpstreamConnection(Process process, BoundedLineStream output, StandardErrorTail standardError, McpClient client)
    {
        _process = process;
        _output = output;
        _standardError = standardError;
        Client = client;
        Exited = process.WaitForExitAsync();
    }

    public McpClient Client { get; }

    /// <summary>Completes when the process has exited (crashed, was stopped, or ended on its own).</summary>
    public Task Exited { get; }

    public bool HasExited => Exited.IsCompleted;

    /// <summary>Whether the upstream was stopped for writing a line over the bound.</summary>
    public bool Overflowed => _output.Overflowed;

    /// <summary>
    /// Whether the session can serve no more calls: the process exited, or it overflowed (and is being stopped: its exit
    /// may not have been seen yet, and a call in between must start a new one rather than use this one).
    /// </summary>
    public bool IsBroken => HasExited || Overflowed;

    public int ProcessId => _process.Id;

    /// <summary>
    /// Why the process is gone: the line bound, or its exit code, and with <paramref name="withErrorTail"/> the end of its
    /// standard error. Only the gateway's log gets the tail: an upstream's error output can hold what its environment was
    /// given (a token), and a refusal goes to the agent.
    /// </summary>
    public string DescribeExit(bool withErrorTail = false)
    {
        if (Overflowed)
        {
            return $"it wrote a line over {_output.MaxLineBytes} bytes and was stopped";
        }

        var code = HasExited ? _process.ExitCode.ToString(CultureInfo.InvariantCulture) : "unknown";
        var tail = _standardError.Text;
        return $"exited (code {code})" + (withErrorTail && tail.Length > 0 ? $": {tail}" : string.Empty);
    }

    /// <summary>Starts the process and completes the MCP handshake, or throws <see cref="UpstreamStartException"/> saying why not.</summary>
    public static async Task<UpstreamConnection> StartAsync(
        UpstreamOptions options,
        long maxLineBytes,
        TimeSpan initializationTimeout,
        Func<CancellationToken, ValueTask> onToolListChanged,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        var logger = loggerFactory.CreateLogger(typeof(UpstreamConnection).FullName!);
        var start = new ProcessStartInfo(options.Command)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = options.WorkingDirectory ?? string.Empty,
        };
        foreach (var argument in options.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Built from nothing: the gateway's own environment carries the caller's key and TLS files.
        start.Environment.Clear();
        foreach (var (name, value) in StdioClientTransportOptions.GetDefaultEnvironmentVariables())
        {
            start.Environment[name] = value;
        }

        foreach (var (name, value) in options.Environment)
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new UpstreamStartException($"{options.Command} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new UpstreamStartException($"{options.Command} cannot be started: {e.Message}", e);
        }

        var standardError = new StandardErrorTail();
        _ = standardError.PumpAsync(process.StandardError, block => Log.UpstreamStandardError(logger, options.Name, block));
        var output = new BoundedLineStream(process.StandardOutput.BaseStream, maxLineBytes, () => Kill(process));
        var transport = new StreamClientTransport(process.StandardInput.BaseStream, output, loggerFactory);
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

        // A process that exits before answering (not an MCP server, a bad argument) fails the start at once, not after the timeout.
        using var exitedOrCancelled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var exited = process.WaitForExitAsync(cancellationToken);
        _ = exited.ContinueWith(_ => exitedOrCancelled.Cancel(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            var client = await McpClient.CreateAsync(transport, clientOptions, loggerFactory, exitedOrCancelled.Token).ConfigureAwait(false);
            return new UpstreamConnection(process, output, standardError, client);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            Kill(process);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            var why = output.Overflowed
                ? $"it wrote a line over {maxLineBytes} bytes"
                : process.HasExited && exited.IsCompleted && e is OperationCanceledException
                    ? $"it exited (code {process.ExitCode}) before answering initialize"
                    : $"it did not complete the MCP handshake ({e.GetType().Name}: {e.Message})";
            process.Dispose();
            throw new UpstreamStartException($"{options.Command} is not an MCP server on stdio: {why}", e) { ErrorTail = standardError.Text };
        }
    }

    /// <summary>Stops the process (and its children): the session is useless once its output broke the bound or the gateway ends.</summary>
    public void Stop() => Kill(_process);

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }

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
            Kill(_process);
            _process.Dispose();
        }
    }
}
