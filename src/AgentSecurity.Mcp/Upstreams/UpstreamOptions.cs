using AgentSecurity.Mcp.Arguments;

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// One upstream MCP server: a program the gateway starts and speaks to over its standard input and output
/// (<see cref="Command"/>), or a server that runs elsewhere, reached over Streamable HTTP (<see cref="Url"/>).
/// </summary>
public sealed class UpstreamOptions
{
    /// <summary>The server part of the tools it exposes (<c>fs</c> in <c>fs/read_text_file</c>): a tool name (<c>[A-Za-z0-9][A-Za-z0-9._-]{0,63}</c>).</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The program to start (found on <c>PATH</c> when it has no slash); empty for a <see cref="Url"/> upstream.</summary>
    public string Command { get; set; } = string.Empty;

    /// <summary>
    /// The Streamable HTTP endpoint of a server that runs elsewhere, instead of a <see cref="Command"/>: <c>https</c>, or
    /// <c>http</c> to a loopback address only; no user or password in it (give them as <see cref="Headers"/>).
    /// </summary>
    public Uri? Url { get; set; }

    /// <summary>Headers sent with every request to a <see cref="Url"/> upstream (its credentials, e.g. <c>Authorization</c>); never shown to the agent.</summary>
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public List<string> Arguments { get; set; } = [];

    /// <summary>
    /// Environment variables of the upstream, added to the minimal default set (<c>HOME</c>, <c>LOGNAME</c>, <c>PATH</c>,
    /// <c>SHELL</c>, <c>TERM</c>, <c>USER</c>). The gateway's own environment is never inherited: it holds the caller's
    /// key (<c>AGENTSEC_KEY</c>) and TLS settings, which an upstream must not see.
    /// </summary>
    public Dictionary<string, string> Environment { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The working directory; default the gateway's.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>
    /// Which arguments name resources. Null (the default): <see cref="ArgumentMap.Filesystem"/> when the command is the
    /// reference filesystem server (<see cref="ArgumentMaps.Detect"/>), else none, so only <c>tool:call</c> is checked.
    /// </summary>
    public ArgumentMap? ArgumentMap { get; set; }

    /// <summary>
    /// Whether the upstream runs on this machine with the gateway's view of the file system (default true): mapped paths
    /// are then also checked as their real paths (<see cref="LocalPaths"/>). A <see cref="Url"/> upstream never is.
    /// </summary>
    public bool IsLocal { get; set; } = true;

    /// <summary>The map that applies: the configured one, else the built-in one the command is recognised by.</summary>
    public ArgumentMap EffectiveArgumentMap => ArgumentMap ?? ArgumentMaps.Detect(Command, Arguments);
}
