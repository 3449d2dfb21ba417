namespace AgentSecurity.Sandbox.Servers;

/// <summary>
/// Starts long-lived programs of an agent (an MCP server, say) under the same sandbox as its native executions, and
/// hands back their standard input and output as streams for the caller to speak a protocol over. Unlike
/// <see cref="ISandboxRuntime"/>, nothing is copied in: the command is a program already on the machine, bound
/// read-only. There is no unsandboxed fallback: where the sandbox cannot run, starting fails <c>unavailable</c>.
/// </summary>
public interface ISandboxServerHost
{
    /// <summary>Why servers cannot run on this machine (no Linux, not root, no bubblewrap), or null when they can.</summary>
    string? Unavailable { get; }

    /// <summary>
    /// Starts the server. <paramref name="cancellation"/> is its kill switch for its whole life, not only for the start
    /// (the kernel's: the agent was quarantined or its grant revoked): once signalled the server's process tree is
    /// killed and <see cref="SandboxServer.Error"/> is <see cref="SandboxResult.Cancelled"/>.
    /// </summary>
    /// <exception cref="SandboxException"><c>invalid_request</c> for a spec that <see cref="SandboxServerSpec.Validate"/>
    /// refuses or whose binds do not exist, <c>unavailable</c> when the sandbox cannot run here or the workspace has no owner.</exception>
    Task<SandboxServer> StartAsync(SandboxServerSpec spec, CancellationToken cancellation);
}
