using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants.Access;
using Orleans.Concurrency;

namespace AgentSecurity.Abstractions;

/// <summary>
/// A tenant's shared budget (key: the tenant id): the tenant-wide limits of its <c>agentsec.limits.v1</c>, metered
/// by leasing chunks to agent grains, so that a check stays local to its agent grain and the tenant grain is asked
/// only when a chunk runs out.
/// </summary>
public interface ITenantQuotaGrain : IGrainWithStringKey
{
    [Requires(AccessRights.Check, CallScope.Tenant)]
    [AlwaysInterleave, ReadOnly]
    Task<TenantLimits> GetLimitsAsync();

    /// <summary>How much of each tenant-wide limit is spent now (empty: the tenant has none).</summary>
    [Requires(AccessRights.Check, CallScope.Tenant)]
    [AlwaysInterleave, ReadOnly]
    Task<IReadOnlyList<TenantBudgetUse>> GetBudgetUseAsync();
}

/// <summary>Units of a tenant-wide limit an agent may spend until <see cref="ValidUntil"/>; unspent ones lapse (and are returned with the next lease).</summary>
[GenerateSerializer, Immutable, Alias("agentsec.QuotaLease.v1")]
public sealed record QuotaLease
{
    [Id(0)] public long Granted { get; init; }

    [Id(1)] public DateTimeOffset ValidUntil { get; init; }

    /// <summary>False when the tenant has no such limit (nothing to lease: the agent stops asking).</summary>
    [Id(2)] public bool Limited { get; init; }

    /// <summary>Set when the lease could not be given (storage); the check is then denied as unavailable.</summary>
    [Id(3)] public string? Error { get; init; }

    /// <summary>What the tenant has left of the limit after this lease (when it granted nothing: less than was needed).</summary>
    [Id(4)] public long Available { get; init; }
}

/// <summary>A tenant's limits as verified from its latest <c>agentsec.limits.v1</c>.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.TenantLimits.v1")]
public sealed record TenantLimits
{
    public static readonly TenantLimits None = new();

    /// <summary>Limit values by wire name (<c>checksPerSecond</c>, ...).</summary>
    [Id(0)] public IReadOnlyDictionary<string, long> Limits { get; init; } = new Dictionary<string, long>();

    [Id(1)] public long? MaxAgents { get; init; }

    [Id(2)] public DateTimeOffset? IssuedAt { get; init; }

    /// <summary>
    /// True when the tenant's stored limits failed verification: shared limits cannot be metered, so checks of its
    /// agents are denied as unavailable rather than run unmetered.
    /// </summary>
    [Id(3)] public bool Unavailable { get; init; }
}
