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

    /// <summary>
    /// One allowed check in this many gets a span when traces are exported (default 100; 1: every check; 0: none).
    /// Denials, and checks inside a sampled trace, always get one. See <c>docs/operations.md</c>, Traces.
    /// </summary>
    public int CheckTraceSampleEvery { get; set; } = 100;
}

/// <summary>Refuses to start a silo with settings that would weaken or break the kernel.</summary>
public sealed class AgentSecurityOptionsValidator : IValidateOptions<AgentSecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentSecurityOptions options)
    {
        var did = DidKey.Parse(options.OperatorDid);
        return new SettingChecks(AgentSecurityOptions.SectionName)
            .Require(did.Succeeded, "OperatorDid", $"must be the operator's did:key ({did.Failure?.Message})", $"\"{options.OperatorDid}\"")
            .Require(options.ClockSkew >= TimeSpan.Zero && options.ClockSkew <= TimeSpan.FromMinutes(10), "ClockSkew", "must be between 0 and 10 minutes", options.ClockSkew)
            .Require(options.GrantHistoryLength is >= 0 and <= 256, "GrantHistoryLength", "must be between 0 and 256", options.GrantHistoryLength)
            .Positive("PermissionRequestLifetime", options.PermissionRequestLifetime)
            .Positive("MaxElevationLifetime", options.MaxElevationLifetime)
            .Positive("MaxLiveGrantsPerTenant", options.MaxLiveGrantsPerTenant)
            .Positive("TenantLimitsRefreshInterval", options.TenantLimitsRefreshInterval)
            .NotNegative("MaxMemoryBytesPerAgent", options.MaxMemoryBytesPerAgent)
            .NotNegative("MaxMemoryKeys", options.MaxMemoryKeys)
            .NotNegative("MaxMemoryValueBytes", options.MaxMemoryValueBytes)
            .Positive("MaxPendingRequestsPerAgent", options.MaxPendingRequestsPerAgent)
            .Require(options.MaxPendingRequestsPerTenant >= options.MaxPendingRequestsPerAgent, "MaxPendingRequestsPerTenant", $"must be at least MaxPendingRequestsPerAgent ({options.MaxPendingRequestsPerAgent})", options.MaxPendingRequestsPerTenant)
            .Positive("MaxAdminsPerTenant", options.MaxAdminsPerTenant)
            .NotNegative("CheckTraceSampleEvery", options.CheckTraceSampleEvery)
            .Result;
    }
}
