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

    /// <summary>The active grant's signed text, if it is the given grant: what a delegation is checked against.</summary>
    [AlwaysInterleave]
    Task<string?> GetActiveGrantAsync(string grantId);
}
