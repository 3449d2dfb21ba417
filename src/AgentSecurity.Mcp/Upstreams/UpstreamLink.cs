using ModelContextProtocol.Client;

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// What carries one MCP session with an upstream: the standard input and output of its program
/// (<see cref="StdioUpstreamLink"/>) or HTTP to its URL (<see cref="HttpUpstreamLink"/>). Either way what the upstream
/// sends is bounded per message, and the link says when and why the session can serve no more calls.
/// </summary>
internal abstract class UpstreamLink : IAsyncDisposable
{
    /// <summary>The SDK transport over this link.</summary>
    public abstract IClientTransport Transport { get; }

    /// <summary>Completes when the session can serve no more calls (the program exited, the HTTP session ended); never faults.</summary>
    public abstract Task Ended { get; }

    /// <summary>Whether the upstream sent a message over the bound (and its session is being ended).</summary>
    public abstract bool Overflowed { get; }

    /// <summary>The operating system's process id of a local upstream, for tests that crash it; else null.</summary>
    public virtual int? ProcessId => null;

    /// <summary>Why the session ended, once <see cref="Ended"/> completed; with <paramref name="withErrorTail"/> what only the log may get.</summary>
    public abstract string DescribeEnd(bool withErrorTail = false);

    /// <summary>Why the MCP handshake over this link failed, for the start's error.</summary>
    public abstract string DescribeStartFailure(Exception exception);

    /// <summary>Once the session is up: the client whose completion may also end it.</summary>
    public virtual void Attach(McpClient client)
    {
    }

    /// <summary>
    /// A call over the session failed without an answer: settles whether the session is still usable, so the refusal can
    /// say why (a stdio program is given a moment to exit; an HTTP session is ended, and the next call opens a new one).
    /// </summary>
    public abstract Task SettleAfterFailureAsync(Exception exception);

    /// <summary>Ends the session now (kills a program and its children); idempotent.</summary>
    public abstract void Stop();

    public abstract ValueTask DisposeAsync();
}
