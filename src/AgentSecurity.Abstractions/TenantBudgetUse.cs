namespace AgentSecurity.Abstractions;

/// <summary>
/// How much of one tenant-wide limit is spent now, as the tenant's budget sees it: units leased to its agents within the
/// limit's period (what an agent holds in a live lease counts as spent until it comes back).
/// </summary>
[GenerateSerializer, Immutable, Alias("agentsec.TenantBudgetUse.v1")]
public sealed record TenantBudgetUse
{
    /// <summary>The limit's wire name (<c>checksPerSecond</c>, <c>llmTokensPerHour</c>, ...).</summary>
    [Id(0)] public required string Limit { get; init; }

    /// <summary>The limit: units per period.</summary>
    [Id(1)] public long Value { get; init; }

    [Id(2)] public long Used { get; init; }

    [Id(3)] public TimeSpan Period { get; init; }
}
