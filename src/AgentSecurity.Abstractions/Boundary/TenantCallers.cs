namespace AgentSecurity.Abstractions.Boundary;

/// <summary>
/// Who may call for one tenant besides the operator, as its issuer verified it: the roots, the admins with the end of
/// their registration, and the access documents in force (signed texts, verified when applied; parsed again, not
/// re-verified, by each silo that keeps a copy).
/// </summary>
[GenerateSerializer, Immutable, Alias("agentsec.TenantCallers.v1")]
public sealed record TenantCallers
{
    public static readonly TenantCallers Unknown = new();

    /// <summary>False when the tenant does not exist (or its stored trust failed verification): only the operator may call.</summary>
    [Id(0)] public bool Exists { get; init; }

    [Id(1)] public IReadOnlyList<string> RootDids { get; init; } = [];

    [Id(2)] public IReadOnlyList<TenantAdmin> Admins { get; init; } = [];

    [Id(3)] public IReadOnlyList<string> AccessDocuments { get; init; } = [];
}

[GenerateSerializer, Immutable, Alias("agentsec.TenantAdmin.v1")]
public sealed record TenantAdmin([property: Id(0)] string Did, [property: Id(1)] DateTimeOffset ExpiresAt);
