using AgentSecurity.Grants.Tools;
using AgentSecurity.Mcp.Arguments;
using AgentSecurity.Mcp.Gateway;
using AgentSecurity.Mcp.Upstreams;
using AgentSecurity.Sandbox.Servers;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Mcp;

/// <summary>
/// The silo's MCP endpoint (configuration section <c>AgentSecurity:Mcp</c>): the upstream servers every agent's
/// gateway on <c>/mcp/{tenant}/{agent}</c> has, each started per agent as a sandboxed native execution of that agent.
/// Without servers the endpoint is not mapped.
/// </summary>
public sealed class McpEndpointOptions
{
    public const string SectionName = "AgentSecurity:Mcp";

    /// <summary>The upstreams by name (<c>AgentSecurity:Mcp:Servers:{name}</c>); the name is the server part of their tools.</summary>
    public Dictionary<string, McpServerConfig> Servers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>An agent's gateway and servers with no request for this long are stopped (default 10 min).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Agents with a running gateway on this silo at once (default 64); past it, <c>unavailable</c>.</summary>
    public int MaxAgents { get; set; } = 64;

    /// <summary>The largest request body a client may send (default 4 MiB); a larger one is refused before it is read.</summary>
    public long MaxRequestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The gateway's bounds (result size, call timeout, ...), shared by every agent's gateway.</summary>
    public long MaxResultBytes { get; set; } = 1024 * 1024;

    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan InitializationTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// One upstream: a program already on the machine, started in the agent's sandbox (<see cref="Command"/>), or a server
/// that runs elsewhere, reached over Streamable HTTP (<see cref="Url"/>) by one session per agent.
/// </summary>
public sealed class McpServerConfig
{
    /// <summary>The program as an absolute path inside the sandbox, e.g. <c>/usr/bin/node</c> (the sandbox shows the system's <c>/usr</c>).</summary>
    public string Command { get; set; } = string.Empty;

    /// <summary>
    /// Its arguments. Node servers need flags that fit the memory limit: <c>--jitless --max-old-space-size=128
    /// --max-semi-space-size=4</c> and <see cref="MemoryBytes"/> at least 192 MiB.
    /// </summary>
    public List<string> Arguments { get; set; } = [];

    /// <summary>Its whole environment (nothing of the silo's is inherited).</summary>
    public Dictionary<string, string> Environment { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Directories of the machine it sees read-only (its package and <c>node_modules</c>).</summary>
    public List<McpBindConfig> ReadOnlyBinds { get; set; } = [];

    /// <summary>Address space (default 256 MiB), never above what the agent's admission allows.</summary>
    public long MemoryBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// <c>filesystem</c> (the reference filesystem server's map), <c>none</c>, or unset to recognise the filesystem server
    /// by its arguments or by the name it gives in <c>initialize</c>.
    /// </summary>
    public string? ArgumentMap { get; set; }

    /// <summary>
    /// The Streamable HTTP endpoint of a server that runs elsewhere, instead of a command: <c>https</c>, or <c>http</c> to
    /// a loopback address. Nothing of it runs in the agent's sandbox: the gateway checks every call, and the server must
    /// keep agents apart itself (it sees one session per agent, all from the silo).
    /// </summary>
    public Uri? Url { get; set; }

    /// <summary>Headers sent with every request to <see cref="Url"/> (its credentials); the agent never sees them.</summary>
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The gateway's view of this server, named <paramref name="name"/>.</summary>
    internal UpstreamOptions ToUpstream(string name) => new()
    {
        Name = name,
        Command = Command,
        Arguments = Arguments,
        Url = Url,
        Headers = Headers,
        ArgumentMap = ConfiguredArgumentMap,
        // Paths are the sandbox's (/workspace/...) or another machine's, not this one's: they are checked as written.
        IsLocal = false,
    };

    /// <summary>The map named by <see cref="ArgumentMap"/>; unset leaves it to the gateway (the command, else the server's name).</summary>
    internal ArgumentMap? ConfiguredArgumentMap => ArgumentMap switch
    {
        "filesystem" => AgentSecurity.Mcp.Arguments.ArgumentMap.Filesystem,
        "none" => AgentSecurity.Mcp.Arguments.ArgumentMap.Empty,
        _ => null,
    };
}

public sealed class McpBindConfig
{
    public string HostPath { get; set; } = string.Empty;

    public string SandboxPath { get; set; } = string.Empty;
}

internal sealed class McpEndpointOptionsValidator : IValidateOptions<McpEndpointOptions>
{
    public ValidateOptionsResult Validate(string? name, McpEndpointOptions options)
    {
        var problems = new List<string>();
        if (options.IdleTimeout < TimeSpan.FromSeconds(1))
        {
            problems.Add($"AgentSecurity:Mcp:IdleTimeout must be at least a second (is {options.IdleTimeout})");
        }

        if (options.MaxRequestBytes < 1024)
        {
            problems.Add($"AgentSecurity:Mcp:MaxRequestBytes must be at least 1024 (is {options.MaxRequestBytes})");
        }

        if (options.MaxAgents < 1)
        {
            problems.Add($"AgentSecurity:Mcp:MaxAgents must be at least 1 (is {options.MaxAgents})");
        }

        foreach (var (server, config) in options.Servers)
        {
            var prefix = $"AgentSecurity:Mcp:Servers:{server}";
            if (!ToolNames.IsName(server))
            {
                problems.Add($"{prefix}: a server's name is [A-Za-z0-9][A-Za-z0-9._-], at most 64 characters");
            }

            if (config.ArgumentMap is not (null or "filesystem" or "none"))
            {
                problems.Add($"{prefix}:ArgumentMap is filesystem, none or unset, not \"{config.ArgumentMap}\"");
            }

            if (config.Url is not null || config.Headers.Count > 0)
            {
                problems.AddRange(McpGatewayOptionsValidator.UrlProblems(config.ToUpstream(server)).Select(p => $"{prefix}: {p}"));
                if (config.Url is not null && (config.Arguments.Count > 0 || config.Environment.Count > 0 || config.ReadOnlyBinds.Count > 0))
                {
                    problems.Add($"{prefix}: Arguments, Environment and ReadOnlyBinds are for a command; a URL upstream runs elsewhere");
                }

                continue;
            }

            // The spec the sandbox would get, with a stand-in workspace: the same rules, checked at start.
            var spec = new SandboxServerSpec
            {
                Command = config.Command,
                Arguments = config.Arguments,
                Environment = config.Environment,
                ReadOnlyBinds = [.. config.ReadOnlyBinds.Select(b => new SandboxBind(b.HostPath, b.SandboxPath))],
                Workspace = null!,
                Limits = new SandboxServerLimits { MemoryBytes = config.MemoryBytes },
            };
            problems.AddRange(spec.Problems().Select(p => $"{prefix}: {p}"));
        }

        var gateway = new McpGatewayOptionsValidator().Validate(null, GatewayOptions(options, []));
        if (gateway.Failed)
        {
            problems.AddRange(gateway.Failures);
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    internal static McpGatewayOptions GatewayOptions(McpEndpointOptions options, List<UpstreamOptions> upstreams) => new()
    {
        Upstreams = upstreams,
        MaxResultBytes = options.MaxResultBytes,
        CallTimeout = options.CallTimeout,
        InitializationTimeout = options.InitializationTimeout,
    };
}
