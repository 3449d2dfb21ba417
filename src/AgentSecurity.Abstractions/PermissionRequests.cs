namespace AgentSecurity.Abstractions;

/// <summary>What an agent asks for: a capability, optionally on a resource, and why.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.PermissionRequestInput.v1")]
public sealed record PermissionRequestInput
{
    [Id(0)] public required string Capability { get; init; }

    [Id(1)] public string? Resource { get; init; }

    /// <summary>Why the agent needs it, for the admins who answer (1–512 characters).</summary>
    [Id(2)] public required string Justification { get; init; }
}

public enum PermissionRequestStatus
{
    Pending = 0,
    Approved = 1,
    Expired = 2,
}

[GenerateSerializer, Immutable, Alias("agentsec.PermissionRequestResult.v1")]
public sealed record PermissionRequestResult : IOutcome
{
    bool IOutcome.Succeeded => Recorded;

    [Id(0)] public bool Recorded { get; init; }

    [Id(1)] public string? RequestId { get; init; }

    /// <summary>True when the agent may already do it; nothing is recorded then.</summary>
    [Id(2)] public bool AlreadyAllowed { get; init; }

    [Id(3)] public DateTimeOffset? ExpiresAt { get; init; }

    [Id(4)] public string? Error { get; init; }

    [Id(5)] public string? Message { get; init; }
}

[GenerateSerializer, Immutable, Alias("agentsec.PermissionRequestInfo.v1")]
public sealed record PermissionRequestInfo
{
    [Id(0)] public required string RequestId { get; init; }

    [Id(1)] public required string AgentId { get; init; }

    [Id(2)] public required string Capability { get; init; }

    [Id(3)] public string? Resource { get; init; }

    [Id(4)] public required string Justification { get; init; }

    [Id(5)] public DateTimeOffset RequestedAt { get; init; }

    [Id(6)] public DateTimeOffset ExpiresAt { get; init; }

    [Id(7)] public PermissionRequestStatus Status { get; init; }

    /// <summary>The grant that answered the request, once approved.</summary>
    [Id(8)] public string? GrantId { get; init; }
}
