using Orleans.Runtime;

namespace AgentSecurity.Abstractions.Audit;

/// <summary>Where security events travel: one Orleans stream per tenant, in this provider and namespace.</summary>
public static class AuditStreams
{
    /// <summary>The stream provider: Azure Queue streams (durable, at-least-once) on a real cluster.</summary>
    public const string ProviderName = "agentsec-audit";

    /// <summary>The stream namespace; the stream key is the tenant id.</summary>
    public const string Namespace = "agentsec.audit";

    public static StreamId For(string tenantId) => StreamId.Create(Namespace, tenantId);
}
