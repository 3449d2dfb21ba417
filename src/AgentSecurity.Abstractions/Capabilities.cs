namespace AgentSecurity.Abstractions;

/// <summary>
/// The capabilities a check can name, spelled as the kernel reads them: exactly, case-sensitively. Any other name is
/// denied with <c>unknown_capability</c>. <see cref="CheckRequests"/> builds checks of them with the resource in the
/// form each one expects.
/// </summary>
public static class Capabilities
{
    /// <summary>Reading a file; the resource is an absolute path.</summary>
    public const string FileSystemRead = "fileSystem:read";

    /// <summary>Writing a file; the resource is an absolute path, the amount the bytes written.</summary>
    public const string FileSystemWrite = "fileSystem:write";

    /// <summary>Deleting a file; the resource is an absolute path.</summary>
    public const string FileSystemDelete = "fileSystem:delete";

    /// <summary>Reading the agent's memory; the resource is a key (<c>notes/today</c>).</summary>
    public const string MemoryRead = "memory:read";

    /// <summary>Writing the agent's memory; the resource is a key, the amount the bytes written.</summary>
    public const string MemoryWrite = "memory:write";

    /// <summary>Deleting from the agent's memory; the resource is a key.</summary>
    public const string MemoryDelete = "memory:delete";

    /// <summary>A connection the agent opens; the resource is <c>host:port</c>.</summary>
    public const string NetworkOutbound = "network:outbound";

    /// <summary>A connection the agent accepts; the resource is <c>host:port</c>.</summary>
    public const string NetworkInbound = "network:inbound";

    /// <summary>Starting a process; no resource is matched (one given is recorded in the audit log).</summary>
    public const string Subprocess = "subprocess";

    /// <summary>Querying a vector database; no resource is matched.</summary>
    public const string VectorDb = "vectorDb";

    /// <summary>Calling a language model; the amount is the tokens the call may use, metered by <c>llmTokensPerHour</c>.</summary>
    public const string Llm = "llm";

    /// <summary>
    /// Calling a tool (grant v2); the resource is the exact tool <c>server/tool</c>, and a pinned tool's check carries
    /// its definition hash (<see cref="CheckRequest.DefinitionHash"/>).
    /// </summary>
    public const string ToolCall = "tool:call";

    /// <summary>Every capability above.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        FileSystemRead, FileSystemWrite, FileSystemDelete,
        MemoryRead, MemoryWrite, MemoryDelete,
        NetworkOutbound, NetworkInbound,
        Subprocess, VectorDb, Llm,
        ToolCall,
    ];
}
