using AgentSecurity.Mcp.Upstreams;
using AgentSecurity.Testing;

namespace AgentSecurity.Mcp.Tests.Support;

/// <summary>The real npm MCP servers pinned in <c>mcp-servers/</c>, started with node (never npx, which resolves at run time).</summary>
internal static class NpmServers
{
    public static string NodeModules { get; } = Path.Combine(RepositoryPaths.Root, "mcp-servers", "node_modules");

    public static UpstreamOptions Filesystem(string name, string root) => new()
    {
        Name = name,
        Command = "node",
        Arguments = [Path.Combine(NodeModules, "@modelcontextprotocol", "server-filesystem", "dist", "index.js"), root],
    };

    public static UpstreamOptions Everything(string name, params string[] arguments) => new()
    {
        Name = name,
        Command = "node",
        Arguments = [Path.Combine(NodeModules, "@modelcontextprotocol", "server-everything", "dist", "index.js"), .. arguments.Length == 0 ? ["stdio"] : arguments],
    };

    /// <summary>The small upstream written for the one case the real servers cannot produce (see changing-server.mjs).</summary>
    public static UpstreamOptions Changing(string name) => new()
    {
        Name = name,
        Command = "node",
        Arguments = [Path.Combine(AppContext.BaseDirectory, "Upstreams", "changing-server.mjs"), NodeModules],
    };
}
