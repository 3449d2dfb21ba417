using AgentSecurity.Grants.Identity;
using AgentSecurity.Grants.Verification;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains;

/// <summary>Settings of the security kernel on every silo (configuration section <c>AgentSecurity</c>).</summary>
public sealed class AgentSecurityOptions
{
    public const string SectionName = "AgentSecurity";

    /// <summary>
    /// The platform operator's DID: the only signer of <c>agentsec.tenant.v1</c> documents the cluster accepts.
    /// Required; there is no default, because a default operator would be a key someone else holds.
    /// </summary>
    public string OperatorDid { get; set; } = string.Empty;

    /// <summary>
    /// How far in the future a document's <c>issuedAt</c> and <c>notBefore</c> may be, for signers whose clocks run
    /// ahead. Default 60 s, at most 10 minutes. Never extends an expiry.
    /// </summary>
    public TimeSpan ClockSkew { get; set; } = DocumentChecks.DefaultClockSkew;

    /// <summary>How many previous grant ids an agent keeps for operators (default 16, 0–256).</summary>
    public int GrantHistoryLength { get; set; } = 16;

    /// <summary>How long an unanswered permission request stays open (default 24 h).</summary>
    public TimeSpan PermissionRequestLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The longest an elevation (a grant answering a permission request) may last (default 24 h).</summary>
    public TimeSpan MaxElevationLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Open permission requests per agent (default 8) and per tenant (default 512).</summary>
    public int MaxPendingRequestsPerAgent { get; set; } = 8;

    public int MaxPendingRequestsPerTenant { get; set; } = 512;

    /// <summary>Registered admins per tenant (default 64).</summary>
    public int MaxAdminsPerTenant { get; set; } = 64;

    /// <summary>Live (unexpired) grants a tenant may have accepted at once (default 50,000).</summary>
    public int MaxLiveGrantsPerTenant { get; set; } = 50_000;

    /// <summary>How often an active agent re-reads its tenant's shared limits (default 30 s).</summary>
    public TimeSpan TenantLimitsRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bytes an agent's memory may hold when its grant sets no <c>memoryBytesStored</c>, and at most (default 1 MiB).</summary>
    public long MaxMemoryBytesPerAgent { get; set; } = 1 << 20;

    /// <summary>Keys an agent's memory may hold (default 256).</summary>
    public int MaxMemoryKeys { get; set; } = 256;

    /// <summary>The largest single value (default 64 KiB).</summary>
    public int MaxMemoryValueBytes { get; set; } = 64 << 10;
}

/// <summary>Refuses to start a silo with settings that would weaken or break the kernel.</summary>
public sealed class AgentSecurityOptionsValidator : IValidateOptions<AgentSecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentSecurityOptions options)
    {
        var failures = new List<string>();
        var did = DidKey.Parse(options.OperatorDid);
        if (!did.Succeeded)
        {
            failures.Add($"AgentSecurity:OperatorDid must be the operator's did:key ({did.Failure.Message}); got \"{options.OperatorDid}\"");
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(10))
        {
            failures.Add($"AgentSecurity:ClockSkew must be between 0 and 10 minutes; got {options.ClockSkew}");
        }

        if (options.GrantHistoryLength is < 0 or > 256)
        {
            failures.Add($"AgentSecurity:GrantHistoryLength must be between 0 and 256; got {options.GrantHistoryLength}");
        }

        if (options.PermissionRequestLifetime <= TimeSpan.Zero || options.MaxElevationLifetime <= TimeSpan.Zero)
        {
            failures.Add("AgentSecurity:PermissionRequestLifetime and MaxElevationLifetime must be positive");
        }

        if (options.MaxLiveGrantsPerTenant < 1 || options.TenantLimitsRefreshInterval <= TimeSpan.Zero ||
            options.MaxMemoryBytesPerAgent < 0 || options.MaxMemoryKeys < 0 || options.MaxMemoryValueBytes < 0)
        {
            failures.Add("AgentSecurity:MaxLiveGrantsPerTenant and TenantLimitsRefreshInterval must be positive, the memory caps not negative");
        }

        if (options.MaxPendingRequestsPerAgent < 1 || options.MaxPendingRequestsPerTenant < options.MaxPendingRequestsPerAgent || options.MaxAdminsPerTenant < 1)
        {
            failures.Add("AgentSecurity:MaxPendingRequestsPerAgent, MaxPendingRequestsPerTenant (at least the former) and MaxAdminsPerTenant must be at least 1");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
