namespace AgentSecurity.Sandbox.Workspaces;

/// <summary>Where workspaces live on a silo and which user ids their owners get.</summary>
public sealed record WorkspaceOptions
{
    /// <summary>Agents' workspaces: <c>{root}/{tenant}/{agent}</c>, scratch space local to the machine.</summary>
    public required string Root { get; init; }

    /// <summary>The first user id given to an agent (as root); ids of the range must belong to no one else on the machine.</summary>
    public uint FirstUserId { get; init; } = 1_500_000_000;

    /// <summary>How many user ids the range has.</summary>
    public uint UserIdCount { get; init; } = 1_000_000;
}
