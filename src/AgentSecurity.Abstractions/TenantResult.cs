namespace AgentSecurity.Abstractions;

[GenerateSerializer, Immutable, Alias("agentsec.TenantResult.v1")]
public sealed record TenantResult : IOutcome
{
    bool IOutcome.Succeeded => Created;

    [Id(0)] public bool Created { get; init; }

    [Id(1)] public required string TenantId { get; init; }

    /// <summary>True when this exact tenant document had already been applied.</summary>
    [Id(2)] public bool Unchanged { get; init; }

    [Id(3)] public string? Error { get; init; }

    [Id(4)] public string? Message { get; init; }
}

[GenerateSerializer, Immutable, Alias("agentsec.TenantInfo.v1")]
public sealed record TenantInfo
{
    [Id(0)] public required string TenantId { get; init; }

    [Id(1)] public required IReadOnlyList<string> RootDids { get; init; }

    [Id(2)] public DateTimeOffset IssuedAt { get; init; }

    /// <summary>Admins with their expiry.</summary>
    [Id(3)] public IReadOnlyList<AdminInfo> Admins { get; init; } = [];

    /// <summary>Roots that rotated away; grants they signed and the tenant accepted stay valid until they end.</summary>
    [Id(4)] public IReadOnlyList<string> RetiredRootDids { get; init; } = [];
}

[GenerateSerializer, Immutable, Alias("agentsec.AdminInfo.v1")]
public sealed record AdminInfo
{
    [Id(0)] public required string AdminDid { get; init; }

    [Id(1)] public DateTimeOffset ExpiresAt { get; init; }

    [Id(2)] public required string SignedBy { get; init; }
}
