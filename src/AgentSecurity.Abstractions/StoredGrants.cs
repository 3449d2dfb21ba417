namespace AgentSecurity.Abstractions;

/// <summary>A grant an agent read back from storage: its id and the hash of its signed content.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.StoredGrantRef.v1")]
public sealed record StoredGrantRef(
    [property: Id(0)] string GrantId,
    [property: Id(1)] string ContentHash);

public enum StoredGrantState
{
    /// <summary>Accepted by the tenant with this content, not revoked.</summary>
    Accepted = 0,

    Revoked = 1,

    /// <summary>Not a grant this tenant accepted with this content: storage was altered, or the grant is long gone.</summary>
    Unknown = 2,
}

[GenerateSerializer, Immutable, Alias("agentsec.StoredGrantStatus.v1")]
public sealed record StoredGrantStatus(
    [property: Id(0)] string GrantId,
    [property: Id(1)] StoredGrantState State);
