using AgentSecurity.Abstractions.Boundary;
using Orleans.Concurrency;

namespace AgentSecurity.Abstractions.Kernel;

/// <summary>What the kernel's agent and issuer grains call on a tenant's shared budget: refused to every client.</summary>
[KernelOnly]
public interface ITenantQuotaKernelGrain : ITenantQuotaGrain
{
    /// <summary>
    /// Leases up to <paramref name="wanted"/> units of a tenant-wide limit (by its wire name) to an agent, and nothing
    /// unless at least <paramref name="needed"/> are left (a check that cannot be covered takes nothing from the other
    /// agents), first taking back the <paramref name="returned"/> units it did not spend of a lease that lapsed: an agent
    /// returns each lapsed lease's remainder once, with its next lease, so that the tenant's budget follows what agents
    /// spend. No more comes back than was leased to that agent, and nothing while its lease is live.
    /// </summary>
    Task<QuotaLease> LeaseAsync(string agentId, string limit, long needed, long wanted, long returned);

    /// <summary>
    /// The tenant's limits as an agent reads them to meter its checks: the tenant remembers who read them, and tells
    /// those agents when its limits change (<see cref="IAgentKernelGrain.NotifyTenantLimitsChangedAsync"/>).
    /// </summary>
    [AlwaysInterleave]
    Task<TenantLimits> ReadLimitsAsync(string agentId);

    /// <summary>Re-reads the tenant's limits from its issuer (which verified the signed document).</summary>
    Task RefreshAsync();

    /// <summary>
    /// Tells the agents that read the tenant's limits recently that they changed, so that the new limits hold for their
    /// next checks; the issuer calls it after <see cref="RefreshAsync"/>. Interleaves: leases go on meanwhile.
    /// </summary>
    [AlwaysInterleave]
    Task NotifyLimitReadersAsync();
}
