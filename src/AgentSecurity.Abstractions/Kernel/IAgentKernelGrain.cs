using AgentSecurity.Abstractions.Boundary;
using Orleans.Concurrency;

namespace AgentSecurity.Abstractions.Kernel;

/// <summary>What the kernel's own grains call on an agent, besides what clients may: refused to every client.</summary>
[KernelOnly]
public interface IAgentKernelGrain : IAgentGrain
{
    /// <summary>
    /// Quarantines the agent because a detection rule fired (the tenant's audit grain calls it). Unsigned, so it can only
    /// make the agent stricter; a signed release issued after it lifts it.
    /// </summary>
    Task<QuarantineResult> QuarantineByRuleAsync(string rule, string reason);

    /// <summary>
    /// The issuer's notice that a grant was revoked. The agent confirms with the issuer before acting, so the call
    /// can only make an agent stricter, and only for a revocation that really happened. Interleaves, so an issuer
    /// can deliver it while the agent waits on that issuer.
    /// </summary>
    [AlwaysInterleave]
    Task NotifyRevokedAsync(string grantId);

    /// <summary>
    /// The tenant's notice that its limits changed: the agent reads them again at its next check, from the tenant
    /// (the notice carries nothing, so it cannot loosen anything). Interleaves, so a tenant can deliver it while the
    /// agent waits on that tenant for a lease. An agent that cannot answer within seconds (its silo unreachable) is not
    /// waited for: it reads the limits again at its next refresh.
    /// </summary>
    [AlwaysInterleave, ResponseTimeout("00:00:05")]
    Task NotifyTenantLimitsChangedAsync();

    /// <summary>The active grant's signed text, if it is the given grant: what a delegation is checked against.</summary>
    [AlwaysInterleave]
    Task<string?> GetActiveGrantAsync(string grantId);
}
