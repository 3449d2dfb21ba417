namespace AgentSecurity.Sandbox.Host;

/// <summary>
/// One call of the host API, the same in every runtime. Operations and their arguments:
/// <list type="table">
/// <item><c>fs.read</c> (path) → the file's text</item>
/// <item><c>fs.write</c> (path, text)</item>
/// <item><c>http.fetch</c> (url, body or null: GET without, POST with) → the response body</item>
/// <item><c>memory.get</c> (key) → the value, or null when absent</item>
/// <item><c>memory.put</c> (key, value)</item>
/// <item><c>memory.delete</c> (key)</item>
/// <item><c>llm.complete</c> (prompt) → the completion</item>
/// <item><c>vectordb.query</c> (collection, query) → JSON results</item>
/// </list>
/// Paths are as the agent sees them (<c>/workspace/...</c>).
/// </summary>
public sealed record HostCall(string Operation, string? Argument = null, string? Second = null)
{
    public const string FsRead = "fs.read";
    public const string FsWrite = "fs.write";
    public const string HttpFetch = "http.fetch";
    public const string MemoryGet = "memory.get";
    public const string MemoryPut = "memory.put";
    public const string MemoryDelete = "memory.delete";
    public const string LlmComplete = "llm.complete";
    public const string VectorDbQuery = "vectordb.query";

    /// <summary>Longest operation name a runtime passes on (longer is <c>invalid_request</c>, decoded no further).</summary>
    public const int MaxOperationBytes = 64;

    /// <summary>
    /// Largest argument of a host call in UTF-8 (1 MiB): what a runtime decodes from agent memory before the kernel sees
    /// the call, and so what one call can make the host copy.
    /// </summary>
    public const int MaxArgumentBytes = 1024 * 1024;

    public static readonly IReadOnlyList<string> Operations = [FsRead, FsWrite, HttpFetch, MemoryGet, MemoryPut, MemoryDelete, LlmComplete, VectorDbQuery];
}

/// <summary>The answer to a host call: a value, or an error code (a denial's reason, or why the operation failed).</summary>
public sealed record HostReply(bool Ok, string? Value, string? Error = null, string? Message = null)
{
    public static HostReply Success(string? value = null) => new(true, value);

    public static HostReply Fail(string code, string message) => new(false, null, code, message);

    /// <summary>Whether the kernel refused the call (as opposed to the operation failing after it was allowed).</summary>
    public bool Denied { get; init; }
}
