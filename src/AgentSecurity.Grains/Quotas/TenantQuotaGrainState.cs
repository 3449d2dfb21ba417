
namespace AgentSecurity.Grains.Quotas;

[GenerateSerializer, Alias("agentsec.TenantQuotaGrainState.v1")]
public sealed class TenantQuotaGrainState
{
    /// <summary>Reservations of each tenant-wide limit, by wire name.</summary>
    [Id(0)] public Dictionary<string, BucketRecord> Buckets { get; set; } = new(StringComparer.Ordinal);
}
