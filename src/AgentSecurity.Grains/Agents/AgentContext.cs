using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Agents;

/// <summary>What every part of one agent's activation shares: who the agent is, the kernel's clock and settings, its log.</summary>
internal sealed class AgentContext
{
    public AgentContext(string key, IGrainFactory grains, TimeProvider time, AgentSecurityOptions options, AuditEvents events, AgentSecurityMetrics metrics, ILogger logger)
    {
        Metrics = metrics;
        Grains = grains;
        Key = key;
        IsValidKey = AgentKey.TryParse(key, out var tenantId, out var agentId);
        TenantId = IsValidKey ? Permissions.SharedStrings.Tenants.For(tenantId) : tenantId; // 32 bytes an agent otherwise
        AgentId = agentId;
        Time = time;
        Options = options;
        Events = events;
        Logger = logger;
    }

    /// <summary><c>tenant/agent</c>, as the grain is keyed; not necessarily a valid agent key.</summary>
    public string Key { get; }

    /// <summary>Whether the key names an agent. A grain with any other key refuses every document and publishes nothing.</summary>
    public bool IsValidKey { get; }

    public string TenantId { get; }

    public string AgentId { get; }

    public IGrainFactory Grains { get; }

    /// <summary>The tenant's issuer: the verifier of every document that changes what this agent may do.</summary>
    public IIssuerKernelGrain Issuer => Grains.GetGrain<IIssuerKernelGrain>(TenantId);

    public TimeProvider Time { get; }

    public AgentSecurityOptions Options { get; }

    /// <summary>Makes and publishes the agent's security events.</summary>
    public AuditEvents Events { get; }

    public ILogger Logger { get; }

    public AgentSecurityMetrics Metrics { get; }

    public DateTimeOffset Now => Time.GetUtcNow();

    public Failure? KeyFailure => IsValidKey ? null : new Failure(ReasonCodes.InvalidField, $"\"{Key}\" is not an agent key (tenant/agent)");

    public AdministrativeEvent Administrative(string type, string? grantId = null, string? signer = null, string? reason = null, string? message = null) =>
        Events.Administrative(TenantId, type, AgentId, grantId, signer, reason, message);
}
