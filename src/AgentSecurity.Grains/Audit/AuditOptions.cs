using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Audit;

/// <summary>The audit log and its detection rules (configuration section <c>AgentSecurity:Audit</c>).</summary>
public sealed class AuditOptions
{
    public const string SectionName = "AgentSecurity:Audit";

    /// <summary>
    /// Key file of the cluster's audit key, which signs checkpoints (the one private key the cluster holds). Without
    /// one, the silo makes a key for its own lifetime and logs its DID: fine for a demo, useless for verifying later.
    /// </summary>
    public string? KeyFile { get; set; }

    /// <summary>DIDs of earlier audit keys whose checkpoints still verify (the current key's DID is always trusted).</summary>
    public List<string> TrustedDids { get; set; } = [];

    /// <summary>A checkpoint after this many new records (default 1,000)...</summary>
    public int CheckpointEveryRecords { get; set; } = 1_000;

    /// <summary>...or after this long with new records (default 10 s).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long allowed checks are summarised per agent and capability before they are published (default 1 s).</summary>
    public TimeSpan AllowedSummaryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Most events in one write to a tenant's queue (default 256, 1..10,000). Publishers of a tenant that arrive while a
    /// write is in flight share the next write (a group commit), up to this and <see cref="QueueMessageMaxBytes"/>.
    /// </summary>
    public int QueueMessageMaxEvents { get; set; } = 256;

    /// <summary>
    /// Most estimated bytes of events in one queue write, before base64 (default 32,768, 1,024..46,000). An Azure queue
    /// message holds 64 KiB, and Orleans' queue adapter writes the serialized batch as base64 (4 bytes for 3), so 48 KiB
    /// of serialized batch at most, less its envelope. One event larger than this is written alone.
    /// </summary>
    public int QueueMessageMaxBytes { get; set; } = 32_768;

    /// <summary>The detection rules of every tenant, unless <see cref="Tenants"/> says otherwise.</summary>
    public DetectionRuleSet Rules { get; set; } = new();

    /// <summary>Per-tenant detection rules, by tenant id.</summary>
    public Dictionary<string, DetectionRuleSet> Tenants { get; set; } = new(StringComparer.Ordinal);

    public DetectionRuleSet RulesFor(string tenant) => Tenants.GetValueOrDefault(tenant) ?? Rules;
}

/// <summary>The three rules: bursts of denials, repeated sandbox violations, quota storms, each for one agent.</summary>
public sealed class DetectionRuleSet
{
    public DetectionRule DenyBurst { get; set; } = new() { Threshold = 50, Window = TimeSpan.FromSeconds(10) };

    public DetectionRule SandboxViolations { get; set; } = new() { Threshold = 3, Window = TimeSpan.FromMinutes(1) };

    public DetectionRule QuotaStorm { get; set; } = new() { Threshold = 200, Window = TimeSpan.FromSeconds(10) };
}

/// <summary>Fires when an agent has <see cref="Threshold"/> matching events within <see cref="Window"/>.</summary>
public sealed class DetectionRule
{
    public bool Enabled { get; set; } = true;

    public int Threshold { get; set; }

    public TimeSpan Window { get; set; }

    /// <summary>Quarantine the agent when the rule fires (a signed release lifts it); else only alert.</summary>
    public bool Quarantine { get; set; } = true;
}

/// <summary>
/// Refuses audit settings a silo must not run with. Outside development that includes having no audit key: a key made at
/// start would sign checkpoints no one can verify after a restart, and silos with different keys could not call one
/// another (the kernel's token derives from it).
/// </summary>
public sealed class AuditOptionsValidator(IHostEnvironment environment) : IValidateOptions<AuditOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrEmpty(options.KeyFile) && !environment.IsDevelopment())
        {
            failures.Add($"AgentSecurity:Audit:KeyFile (AGENTSEC_AUDIT_KEY) is required outside development (environment \"{environment.EnvironmentName}\"): " +
                "create one with agentsec key new, or set DOTNET_ENVIRONMENT=Development to let a single silo use a throw-away key");
        }
        else if (!string.IsNullOrEmpty(options.KeyFile) && !File.Exists(options.KeyFile))
        {
            failures.Add($"AgentSecurity:Audit:KeyFile: {options.KeyFile} does not exist");
        }

        if (options.CheckpointEveryRecords < 1 || options.CheckpointInterval <= TimeSpan.Zero || options.AllowedSummaryInterval <= TimeSpan.Zero)
        {
            failures.Add("AgentSecurity:Audit: CheckpointEveryRecords, CheckpointInterval and AllowedSummaryInterval must be positive");
        }

        if (options.QueueMessageMaxEvents is < 1 or > 10_000 || options.QueueMessageMaxBytes is < 1_024 or > 46_000)
        {
            failures.Add("AgentSecurity:Audit: QueueMessageMaxEvents 1..10000 and QueueMessageMaxBytes 1024..46000 (an Azure queue message holds 64 KiB of base64)");
        }

        foreach (var (tenant, rules) in options.Tenants.Append(new("(default)", options.Rules)))
        {
            foreach (var (ruleName, rule) in new[] { ("DenyBurst", rules.DenyBurst), ("SandboxViolations", rules.SandboxViolations), ("QuotaStorm", rules.QuotaStorm) })
            {
                if (rule.Threshold is < 1 or > 1_000_000 || rule.Window <= TimeSpan.Zero || rule.Window > TimeSpan.FromDays(1))
                {
                    failures.Add($"AgentSecurity:Audit rule {ruleName} of {tenant}: Threshold 1..1000000 and Window up to a day");
                }
            }
        }

        foreach (var did in options.TrustedDids)
        {
            if (!Grants.Identity.DidKey.Parse(did).Succeeded)
            {
                failures.Add($"AgentSecurity:Audit:TrustedDids: \"{did}\" is not a did:key");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
