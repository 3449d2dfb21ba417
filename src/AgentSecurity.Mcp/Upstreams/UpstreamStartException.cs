namespace AgentSecurity.Mcp.Upstreams;

/// <summary>An upstream that could not be started or did not complete the MCP handshake; the message says why.</summary>
public sealed class UpstreamStartException : Exception
{
    public UpstreamStartException()
    {
    }

    public UpstreamStartException(string message)
        : base(message)
    {
    }

    public UpstreamStartException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>The end of what the upstream wrote to standard error, for the gateway's log (never for a refusal).</summary>
    public string ErrorTail { get; init; } = string.Empty;
}
