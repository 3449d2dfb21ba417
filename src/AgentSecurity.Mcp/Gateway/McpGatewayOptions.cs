using AgentSecurity.Mcp.Upstreams;

namespace AgentSecurity.Mcp.Gateway;

/// <summary>The gateway's upstreams and bounds. Every bound has a default that suits an interactive agent.</summary>
public sealed class McpGatewayOptions
{
    /// <summary>The upstream servers; their names are unique.</summary>
    public List<UpstreamOptions> Upstreams { get; set; } = [];

    /// <summary>
    /// The largest tool result passed to the client, serialized (default 1 MiB). A larger one is refused
    /// (<c>output_limit</c>), never truncated: a silently cut file would look complete to the agent.
    /// </summary>
    public long MaxResultBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The longest line an upstream may write on its standard output (default 4 MiB, at least <see cref="MaxResultBytes"/>
    /// plus room for the JSON-RPC envelope). An upstream that writes a longer one is stopped and the call refused
    /// (<c>output_limit</c>), so no upstream can exhaust the gateway's memory.
    /// </summary>
    public long MaxLineBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How long one <c>tools/call</c> may take upstream (default 60 s, the TypeScript client's own request timeout); then <c>timeout</c>.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an upstream has to answer <c>initialize</c> and list its tools (default 10 s), so a program that is no MCP server fails fast.</summary>
    public TimeSpan InitializationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The wait before restarting an upstream after its second consecutive failure, doubled after each further one up to
    /// <see cref="MaxRestartBackoff"/> (default 1 s). The first restart after a crash is immediate.
    /// </summary>
    public TimeSpan RestartBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between restart attempts (default 30 s).</summary>
    public TimeSpan MaxRestartBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>At most this many tools of one upstream are listed (default 4,096); the rest are hidden and logged.</summary>
    public int MaxToolsPerUpstream { get; set; } = 4096;
}
