namespace AgentSecurity.Abstractions;

/// <summary>Whether an agent may act at all, before its grant is consulted.</summary>
public enum AgentState
{
    Active = 0,
    Suspended = 1,
    Quarantined = 2,
}

/// <summary>An agent's state and active grant, as operators and tools see them.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.AgentStatus.v1")]
public sealed record AgentStatus
{
    [Id(0)] public required string Agent { get; init; }

    [Id(1)] public AgentState State { get; init; }

    [Id(2)] public string? GrantId { get; init; }

    [Id(3)] public long Version { get; init; }

    [Id(4)] public string? SignedBy { get; init; }

    [Id(5)] public DateTimeOffset? NotBefore { get; init; }

    [Id(6)] public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The ids of grants installed before the active one, newest first, bounded.</summary>
    [Id(7)] public IReadOnlyList<string> PreviousGrantIds { get; init; } = [];

    /// <summary>Why the agent cannot decide, when its stored grant could not be loaded (fail closed).</summary>
    [Id(8)] public string? Problem { get; init; }

    /// <summary>True when the active grant (or one it was delegated from) has been revoked.</summary>
    [Id(9)] public bool Revoked { get; init; }

    /// <summary>Ids of the unexpired elevations (approved permission requests) in force.</summary>
    [Id(10)] public IReadOnlyList<string> ElevationGrantIds { get; init; } = [];

    /// <summary>Why the agent is quarantined, when it is.</summary>
    [Id(11)] public string? QuarantineReason { get; init; }
}
