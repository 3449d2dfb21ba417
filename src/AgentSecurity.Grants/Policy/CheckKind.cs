namespace AgentSecurity.Grants.Policy;

/// <summary>The actions a check can ask about (<c>fileSystem:write</c>, <c>llm</c>, ...).</summary>
public enum CheckKind
{
    FileSystemRead,
    FileSystemWrite,
    FileSystemDelete,
    MemoryRead,
    MemoryWrite,
    MemoryDelete,
    NetworkOutbound,
    NetworkInbound,
    Subprocess,
    VectorDb,
    Llm,

    /// <summary>Calling a tool <c>server/tool</c> (grant v2).</summary>
    ToolCall,
}

public static class CheckKinds
{
    private static readonly Dictionary<string, CheckKind> ByName = new(StringComparer.Ordinal)
    {
        ["fileSystem:read"] = CheckKind.FileSystemRead,
        ["fileSystem:write"] = CheckKind.FileSystemWrite,
        ["fileSystem:delete"] = CheckKind.FileSystemDelete,
        ["memory:read"] = CheckKind.MemoryRead,
        ["memory:write"] = CheckKind.MemoryWrite,
        ["memory:delete"] = CheckKind.MemoryDelete,
        ["network:outbound"] = CheckKind.NetworkOutbound,
        ["network:inbound"] = CheckKind.NetworkInbound,
        ["subprocess"] = CheckKind.Subprocess,
        ["vectorDb"] = CheckKind.VectorDb,
        ["llm"] = CheckKind.Llm,
        ["tool:call"] = CheckKind.ToolCall,
    };

    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>Exact, case-sensitive: a capability spelled any other way is unknown.</summary>
    public static bool TryParse(string? name, out CheckKind kind)
    {
        kind = default;
        return name is not null && ByName.TryGetValue(name, out kind);
    }

    private static readonly string[] NameOf = ByName.OrderBy(p => p.Value).Select(p => p.Key).ToArray();

    /// <summary>The capability's wire name (<c>fileSystem:write</c>).</summary>
    public static string Name(this CheckKind kind) => NameOf[(int)kind];

    /// <summary>
    /// The smallest capabilities that allow this check: what answering a request for it may grant. For
    /// <see cref="CheckKind.ToolCall"/> none of them: an answer grants the one tool (<c>capabilities.tools</c>).
    /// </summary>
    public static Capabilities.CapabilitySet MinimalCapabilities(this CheckKind kind)
    {
        Capabilities.AccessLevel Level(CheckKind read, CheckKind write, CheckKind delete) =>
            kind == read ? Capabilities.AccessLevel.Read
            : kind == write ? Capabilities.AccessLevel.Write
            : kind == delete ? Capabilities.AccessLevel.Full
            : Capabilities.AccessLevel.None;

        return new Capabilities.CapabilitySet(
            Level(CheckKind.FileSystemRead, CheckKind.FileSystemWrite, CheckKind.FileSystemDelete),
            kind == CheckKind.NetworkOutbound ? Capabilities.NetworkAccess.Outbound : kind == CheckKind.NetworkInbound ? Capabilities.NetworkAccess.Inbound : Capabilities.NetworkAccess.None,
            Level(CheckKind.MemoryRead, CheckKind.MemoryWrite, CheckKind.MemoryDelete),
            kind == CheckKind.Subprocess,
            kind == CheckKind.VectorDb,
            kind == CheckKind.Llm);
    }

    /// <summary>The kind of resource the check names, or null when the capability takes no resource.</summary>
    public static ResourceKind? ResourceKindOf(this CheckKind kind) => kind switch
    {
        CheckKind.FileSystemRead or CheckKind.FileSystemWrite or CheckKind.FileSystemDelete => ResourceKind.Path,
        CheckKind.MemoryRead or CheckKind.MemoryWrite or CheckKind.MemoryDelete => ResourceKind.Key,
        CheckKind.NetworkOutbound or CheckKind.NetworkInbound => ResourceKind.Host,
        CheckKind.ToolCall => ResourceKind.Tool,
        _ => null,
    };
}
