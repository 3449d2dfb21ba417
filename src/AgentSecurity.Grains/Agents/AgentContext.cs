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
    private readonly AgentServices _services;

    public AgentContext(string key, AgentServices services)
    {
        _services = services;
        Key = key;
        IsValidKey = AgentKey.TryParse(key, out var tenantId, out var agentId);
        // A key is not verified: it only finds a tenant id an agent with a verified grant shared (32 bytes an agent otherwise).
        TenantId = IsValidKey ? Permissions.SharedStrings.Tenants.Find(tenantId) : tenantId;
        AgentId = agentId;
    }

    /// <summary><c>tenant/agent</c>, as the grain is keyed; not necessarily a valid agent key.</summary>
    public string Key { get; }

    /// <summary>Whether the key names an agent. A grain with any other key refuses every document and publishes nothing.</summary>
    public bool IsValidKey { get; }

    public string TenantId { get; }

    public string AgentId { get; }

    public IGrainFactory Grains => _services.Grains;

    /// <summary>The tenant's issuer: the verifier of every document that changes what this agent may do.</summary>
    public IIssuerKernelGrain Issuer => Grains.GetGrain<IIssuerKernelGrain>(TenantId);

    public TimeProvider Time => _services.Time;

    public AgentSecurityOptions Options => _services.Options;

    /// <summary>Makes and publishes the agent's security events.</summary>
    public AuditEvents Events => _services.Events;

    public ILogger Logger => _services.Logger;

    public AgentSecurityMetrics Metrics => _services.Metrics;

    public DateTimeOffset Now => Time.GetUtcNow();

    public Failure? KeyFailure => IsValidKey ? null : new Failure(ReasonCodes.InvalidField, $"\"{Key}\" is not an agent key (tenant/agent)");

    public AdministrativeEvent Administrative(string type, string? grantId = null, string? signer = null, string? reason = null, string? message = null) =>
        Events.Administrative(TenantId, type, AgentId, grantId, signer, reason, message);
}
