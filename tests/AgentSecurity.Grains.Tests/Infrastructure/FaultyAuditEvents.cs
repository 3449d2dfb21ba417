using System.Collections.Concurrent;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains;
using AgentSecurity.Grains.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace AgentSecurity.Grains.Tests.Infrastructure;

/// <summary>The silos' event publisher, which tests can make fail for one tenant, as an unreachable queue service would.</summary>
public sealed class FaultyAuditEvents(
    [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
    ILocalSiloDetails silo,
    IClusterClient client) : AuditEvents(time, silo, client)
{
    private static readonly ConcurrentDictionary<string, bool> Failing = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Refusals = new(StringComparer.Ordinal);

    /// <summary>Completes once a publish to the tenant has been refused: a marker that the kernel tried, not a sleep.</summary>
    public static Task RefusedAsync(string tenant) => RefusalOf(tenant).Task;

    private static TaskCompletionSource RefusalOf(string tenant) =>
        Refusals.GetOrAdd(tenant, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public static void FailPublishing(string tenant, bool fail)
    {
        if (fail)
        {
            Failing[tenant] = true;
        }
        else
        {
            Failing.TryRemove(tenant, out _);
        }
    }

    public override Task PublishAsync(string tenantId, IReadOnlyList<SecurityEvent> events)
    {
        if (!Failing.ContainsKey(tenantId))
        {
            return base.PublishAsync(tenantId, events);
        }

        RefusalOf(tenantId).TrySetResult();
        return Task.FromException(new InvalidOperationException($"test: publishing to {tenantId} fails"));
    }
}
