using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Hosting.Storage;
using Orleans.Streams;

namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>
/// Where a cluster of silo processes runs what matters to a tenant, as its management grain reports it: the silo of an
/// activation, and the silo whose pulling agent reads the queue of the tenant's audit stream. Silos are named by their
/// silo port, which is how <see cref="SiloProcess"/> knows them.
/// </summary>
internal sealed class ClusterPlacement(IClusterClient grains, string serviceId)
{
    /// <summary>
    /// The setting that lets a test's client call the management grain: the kernel's boundary refuses it to clients
    /// (it would tell anyone where every tenant's grains are), so only the silos these tests start get it.
    /// </summary>
    public static KeyValuePair<string, string> ManagementSetting { get; } = new("AgentSecurity__Boundary__ClientInfrastructure__0", "Orleans.Runtime.IManagementGrain");

    private readonly IManagementGrain _management = grains.GetGrain<IManagementGrain>(0);

    // The same queues and the same mapping as the silo's Azure Queue stream provider (its adapter factory maps streams
    // to these queue names with this mapper).
    private readonly HashRingBasedPartitionedStreamQueueMapper _queues = new(
        [.. new KernelStorageNames(StorageNamePrefix.Resolve(null, serviceId).Prefix!).AuditQueues], AuditStreams.ProviderName);

    /// <summary>The silo port of the silo hosting <paramref name="grain"/>'s activation; null when it has none.</summary>
    public async Task<int?> SiloOfAsync(IAddressable grain) => (await _management.GetActivationAddress(grain))?.Endpoint.Port;

    /// <summary>The queue that carries <paramref name="tenant"/>'s security events.</summary>
    public QueueId QueueOf(string tenant) => _queues.GetQueueForStream(AuditStreams.For(tenant));

    /// <summary>For each active silo (by silo port), the audit queues its pulling agents read.</summary>
    public async Task<Dictionary<int, HashSet<QueueId>>> QueueReadersAsync()
    {
        var hosts = await _management.GetHosts(onlyActive: true);
        var all = _queues.GetAllQueues().ToList();
        var readers = new Dictionary<int, HashSet<QueueId>>();
        foreach (var silo in hosts.Keys)
        {
            // A pulling agent is a system target whose id ends with its queue's id and hash.
            var ids = (await _management.GetDetailedGrainStatistics(null, [silo])).Select(s => s.GrainId.ToString()).ToList();
            readers[silo.Endpoint.Port] = all.Where(q => ids.Any(id => id.EndsWith(q.ToStringWithHashCode(), StringComparison.Ordinal))).ToHashSet();
        }

        return readers;
    }

    /// <summary>
    /// Waits until every audit queue has a pulling agent and some silo is the only one with an agent for some queue;
    /// returns, for each silo (by silo port), the queues only it reads. A silo that hands a queue to a silo that joined
    /// may still list the queue's agent for a while (or keep reading it): a queue listed by one silo alone is read by
    /// that silo. Polls the cluster's processes, with a deadline.
    /// </summary>
    public async Task<Dictionary<int, HashSet<QueueId>>> ExclusiveQueueReadersAsync(TimeSpan timeout)
    {
        var all = _queues.GetAllQueues().ToHashSet();
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var readers = await QueueReadersAsync();
            var exclusive = readers.ToDictionary(r => r.Key, r => r.Value.Where(q => readers.Count(o => o.Value.Contains(q)) == 1).ToHashSet());
            if (all.SetEquals(readers.Values.SelectMany(q => q)) && exclusive.Values.Any(q => q.Count > 0))
            {
                return exclusive;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("no audit queue was read by one silo alone: " +
                    string.Join("; ", readers.Select(r => $"{r.Key}: {string.Join(",", r.Value)}")));
            }

            // A poll with a deadline: the silos' queue readers start on their own schedule and announce it nowhere.
            await Task.Delay(500);
        }
    }
}
