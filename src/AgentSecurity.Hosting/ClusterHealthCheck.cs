using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentSecurity.Hosting;

/// <summary>
/// Healthy when this silo is an active member of its cluster in its own view of the membership. The view is kept in
/// memory and by silos probing each other, so it answers during a storage outage too (a grain call to the management
/// grain would read the membership table and call every silo unhealthy then); storage is <see cref="Storage.StorageHealthCheck"/>'s.
/// </summary>
public sealed class ClusterHealthCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = membership.CurrentSnapshot;
        var status = snapshot.GetSiloStatus(silo.SiloAddress);
        var active = snapshot.Members.Values.Count(m => m.Status == SiloStatus.Active);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"{active} active silo(s)")
            : HealthCheckResult.Unhealthy($"this silo is {status}"));
    }
}
