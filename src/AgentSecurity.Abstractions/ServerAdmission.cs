namespace AgentSecurity.Abstractions;

/// <summary>
/// Whether the agent may have a long-lived server (an MCP upstream) started for it as a native execution, and on what
/// terms: how it may see its workspace and the most memory it may have. Decided like a native execution's admission
/// (standing, <c>environmentIsolation native</c> with <c>subprocess</c>, executions not forbidden); the silo that starts
/// the server holds it to these terms and kills it when the grant stops admitting it.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentsec.ServerAdmission.v1")]
public sealed record ServerAdmission : IOutcome
{
    bool IOutcome.Succeeded => Admitted;

    [Id(0)] public bool Admitted { get; init; }

    /// <summary>Null when admitted; else e.g. <c>isolation_forbids</c>, <c>quarantined</c>, <c>no_grant</c>, <c>invalid_request</c>.</summary>
    [Id(1)] public string? Error { get; init; }

    [Id(2)] public string? Message { get; init; }

    /// <summary>The grant it was admitted under.</summary>
    [Id(3)] public string? GrantId { get; init; }

    /// <summary>How the server sees <c>/workspace</c>: <c>none</c> (empty, read-only), <c>read</c> or <c>write</c>.</summary>
    [Id(4)] public string WorkspaceAccess { get; init; } = ServerWorkspaceAccess.None;

    /// <summary>The most address space the server may have: the grant's <c>maxMemoryBytes</c>, else the silo's maximum.</summary>
    [Id(5)] public long MaxMemoryBytes { get; init; }

    /// <summary>Processes and threads of the agent's user.</summary>
    [Id(6)] public int Processes { get; init; }

    /// <summary>Largest file the server may write.</summary>
    [Id(7)] public long FileBytes { get; init; }

    /// <summary>When the grant ends, in the kernel's time; the server must not outlive it.</summary>
    [Id(8)] public DateTimeOffset ExpiresAt { get; init; }

    public static ServerAdmission Refused(string code, string message, string? grantId = null) =>
        new() { Admitted = false, Error = code, Message = message, GrantId = grantId };
}

/// <summary>The values of <see cref="ServerAdmission.WorkspaceAccess"/>.</summary>
public static class ServerWorkspaceAccess
{
    public const string None = "none";

    public const string Read = "read";

    public const string Write = "write";
}
