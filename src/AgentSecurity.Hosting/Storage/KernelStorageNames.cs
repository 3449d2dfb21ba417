using AgentSecurity.Abstractions.Audit;
using Orleans.Providers.Streams.AzureQueue;

namespace AgentSecurity.Hosting.Storage;

/// <summary>The name of every table, container and queue the kernel uses, each starting with the prefix.</summary>
public sealed record KernelStorageNames(string Prefix)
{
    /// <summary>Agents' and tenants' quota state (Azure Table; a table name has letters and digits only).</summary>
    public string GrainsTable => Prefix + "grains";

    /// <summary>The tenants' audit logs (Azure Table).</summary>
    public string AuditLogTable => Prefix + "auditlog";

    /// <summary>Issuers' and access registries' state (Azure Blob).</summary>
    public string IssuersContainer => Prefix + "-issuers";

    /// <summary>Agents' memory (Azure Blob).</summary>
    public string MemoryContainer => Prefix + "-memory";

    /// <summary>The security events' queues: Orleans' own naming with the prefix in the service id's place.</summary>
    public IReadOnlyList<string> AuditQueues => AzureQueueStreamProviderUtils.GenerateDefaultAzureQueueNames(Prefix, AuditStreams.ProviderName);
}
