namespace AgentSecurity.Mcp.Arguments;

/// <summary>The built-in argument maps, by name (<c>filesystem</c>, <c>none</c>) or recognised from an upstream's command.</summary>
public static class ArgumentMaps
{
    public const string FilesystemName = "filesystem";

    public const string NoneName = "none";

    /// <summary>The built-in map called <paramref name="name"/>, or null.</summary>
    public static ArgumentMap? Named(string? name) => name switch
    {
        FilesystemName => ArgumentMap.Filesystem,
        NoneName => ArgumentMap.Empty,
        _ => null,
    };

    /// <summary>
    /// The filesystem map when the command starts the reference filesystem server (its <c>mcp-server-filesystem</c> bin,
    /// or <c>node …/server-filesystem/dist/index.js</c>, or <c>npx @modelcontextprotocol/server-filesystem</c>); else none.
    /// Another file server is not recognised: configure its map, or only <c>tool:call</c> holds for it. Once started, the
    /// reference server is also recognised by the name it gives itself (<see cref="FilesystemServerName"/>), however it
    /// was launched (a container, a wrapper script).
    /// </summary>
    public static ArgumentMap Detect(string command, IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        return new[] { command }.Concat(arguments).Any(IsFilesystemServer) ? ArgumentMap.Filesystem : ArgumentMap.Empty;
    }

    /// <summary>The <c>serverInfo.name</c> the reference filesystem server answers <c>initialize</c> with.</summary>
    public const string FilesystemServerName = "secure-filesystem-server";

    private static bool IsFilesystemServer(string word) =>
        Path.GetFileName(word) == "mcp-server-filesystem"
        || word.StartsWith("@modelcontextprotocol/server-filesystem", StringComparison.Ordinal)
        || word.Replace('\\', '/').EndsWith("server-filesystem/dist/index.js", StringComparison.Ordinal);
}
