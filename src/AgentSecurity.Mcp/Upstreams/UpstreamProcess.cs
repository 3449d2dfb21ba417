namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// A started upstream program whose standard input and output the gateway speaks MCP over: a child process of the
/// gateway (<see cref="LocalUpstreamLauncher"/>), or a server someone else started, such as a silo's sandboxed server
/// of the agent. The gateway bounds the output's lines itself, whatever the launcher does.
/// </summary>
public abstract class UpstreamProcess : IAsyncDisposable
{
    /// <summary>The program's standard input; closing it asks a stdio server to end.</summary>
    public abstract Stream Input { get; }

    /// <summary>The program's standard output, read-only.</summary>
    public abstract Stream Output { get; }

    /// <summary>Completes once the program has ended (crashed, was killed, or ended by itself); never faults.</summary>
    public abstract Task Exited { get; }

    /// <summary>The operating system's process id, where there is one the gateway may name (tests crash it); else null.</summary>
    public virtual int? ProcessId => null;

    /// <summary>Whether the launcher stopped the program for a line over its own bound (<c>output_limit</c>).</summary>
    public virtual bool OutputLimited => false;

    /// <summary>
    /// Why the program ended, once <see cref="Exited"/> completed: <c>exited (code N)</c>, and with
    /// <paramref name="withErrorTail"/> the end of its standard error (for the gateway's log only).
    /// </summary>
    public abstract string DescribeExit(bool withErrorTail = false);

    /// <summary>Kills the program (and its children) now; idempotent.</summary>
    public abstract void Kill();

    public abstract ValueTask DisposeAsync();
}
