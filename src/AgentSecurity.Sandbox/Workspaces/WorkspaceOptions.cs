namespace AgentSecurity.Sandbox.Workspaces;

/// <summary>Where workspaces live on a silo, which user ids their owners get, and how much one may hold.</summary>
public sealed record WorkspaceOptions
{
    /// <summary>Agents' workspaces: <c>{root}/{tenant}/{agent}</c>, scratch space local to the machine.</summary>
    public required string Root { get; init; }

    /// <summary>The first user id given to an agent (as root); ids of the range must belong to no one else on the machine.</summary>
    public uint FirstUserId { get; init; } = 1_500_000_000;

    /// <summary>How many user ids the range has.</summary>
    public uint UserIdCount { get; init; } = 1_000_000;

    /// <summary>Bytes of files one workspace may hold (default 256 MiB): host writes past it fail, native executions stop.</summary>
    public long MaxBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Files, directories and links one workspace may hold (default 10,000); also bounds the cost of measuring it.</summary>
    public int MaxEntries { get; init; } = 10_000;
}
