namespace AgentSecurity.Grains.Issuers;

/// <summary>What a tenant's issuer persists: the tenant document and the grant ids it has accepted.</summary>
[GenerateSerializer, Alias("agentsec.IssuerGrainState.v1")]
public sealed class IssuerGrainState
{
    /// <summary>The canonical signed tenant document; null until the tenant is created.</summary>
    [Id(0)] public string? TenantDocument { get; set; }

    /// <summary>
    /// Accepted grant ids. An entry lives until its grant expires: after that the grant itself is refused as
    /// expired, so the id no longer needs remembering and the map stays bounded by the grants alive.
    /// </summary>
    [Id(1)] public Dictionary<string, AcceptedGrant> AcceptedGrants { get; set; } = new(StringComparer.Ordinal);
}

[GenerateSerializer, Alias("agentsec.AcceptedGrant.v1")]
public sealed class AcceptedGrant
{
    /// <summary>SHA-256 of the signed bytes: the same id with other content is a replay.</summary>
    [Id(0)] public string ContentHash { get; set; } = string.Empty;

    [Id(1)] public string AgentId { get; set; } = string.Empty;

    [Id(2)] public DateTimeOffset ExpiresAt { get; set; }
}
