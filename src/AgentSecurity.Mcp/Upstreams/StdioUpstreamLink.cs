using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// A session over the standard input and output of an upstream program. The program is started by an
/// <see cref="IUpstreamLauncher"/> (not the SDK's stdio transport) so that its standard output can be bounded
/// (<see cref="BoundedLineStream"/>) and its environment built from nothing, whoever starts it.
/// </summary>
internal sealed class StdioUpstreamLink : UpstreamLink
{
    private readonly UpstreamProcess _process;
    private readonly BoundedLineStream _output;
    private readonly string _command;

    private StdioUpstreamLink(UpstreamProcess process, long maxLineBytes, string command, ILoggerFactory loggerFactory)
    {
        _process = process;
        _command = command;
        _output = new BoundedLineStream(process.Output, maxLineBytes, process.Kill);
        Transport = new StreamClientTransport(process.Input, _output, loggerFactory);
    }

    public static async Task<StdioUpstreamLink> StartAsync(IUpstreamLauncher launcher, UpstreamOptions options, long maxLineBytes, ILoggerFactory loggerFactory, CancellationToken cancellationToken) =>
        new(await launcher.StartAsync(options, cancellationToken).ConfigureAwait(false), maxLineBytes, options.Command, loggerFactory);

    public override IClientTransport Transport { get; }

    public override Task Ended => _process.Exited;

    public override bool Overflowed => _output.Overflowed || _process.OutputLimited;

    public override int? ProcessId => _process.ProcessId;

    /// <summary>
    /// The line bound, or the program's exit, and with <paramref name="withErrorTail"/> the end of its standard error. Only
    /// the gateway's log gets the tail: an upstream's error output can hold what its environment was given (a token), and
    /// a refusal goes to the agent.
    /// </summary>
    public override string DescribeEnd(bool withErrorTail = false) => _output.Overflowed
        ? $"wrote a line over {_output.MaxLineBytes} bytes and was stopped"
        : _process.DescribeExit(withErrorTail);

    public override string DescribeStartFailure(Exception exception)
    {
        var why = Overflowed
            ? $"it wrote a line over {_output.MaxLineBytes} bytes"
            : _process.Exited.IsCompleted && exception is OperationCanceledException
                ? $"before answering initialize it {_process.DescribeExit()}"
                : $"it did not complete the MCP handshake ({exception.GetType().Name}: {exception.Message})";
        return $"{_command} is not an MCP server on stdio: {why}";
    }

    public override Task SettleAfterFailureAsync(Exception exception) =>
        // A broken pipe usually means the program is exiting: wait briefly, so the refusal says its code.
        Task.WhenAny(_process.Exited, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));

    public override void Stop() => _process.Kill();

    public override async ValueTask DisposeAsync()
    {
        _process.Kill();
        await _process.DisposeAsync().ConfigureAwait(false);
    }
}
