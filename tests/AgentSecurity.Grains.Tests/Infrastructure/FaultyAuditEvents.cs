using System.Collections.Concurrent;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Tests.Infrastructure;

/// <summary>
/// The silos' event publisher, whose queue writes tests can make fail for one tenant, as an unreachable queue service
/// would, or hold until released, as a slow one would. A fake at the write: the in-process streams of these tests
/// cannot be made to fail or stall for one tenant, and the batching above the write is the code under test.
/// </summary>
public sealed class FaultyAuditEvents(
    [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
    ILocalSiloDetails silo,
    IClusterClient client,
    IOptions<AuditOptions> options,
    AgentSecurityMetrics metrics) : AuditEvents(time, silo, client, options, metrics)
{
    private static readonly ConcurrentDictionary<string, bool> Failing = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Hold> Holds = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Refusals = new(StringComparer.Ordinal);

    /// <summary>Completes once a queue write of the tenant has been refused: a marker that the kernel tried, not a sleep.</summary>
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

    /// <summary>
    /// Holds every queue write of the tenant (on every silo) until <see cref="Hold.Release"/>, and records what is
    /// published and written until disposed.
    /// </summary>
    public static Hold HoldWrites(string tenant, int publishes) => Holds[tenant] = new Hold(tenant, publishes);

    public override Task PublishAsync(string tenantId, IReadOnlyList<SecurityEvent> events)
    {
        var published = base.PublishAsync(tenantId, events);
        if (Holds.TryGetValue(tenantId, out var hold))
        {
            hold.Published(events);
        }

        return published;
    }

    protected override async Task WriteAsync(string tenantId, IReadOnlyList<SecurityEvent> events)
    {
        if (Holds.TryGetValue(tenantId, out var hold))
        {
            await hold.WaitAsync(events);
        }

        if (Failing.ContainsKey(tenantId))
        {
            RefusalOf(tenantId).TrySetResult();
            throw new InvalidOperationException($"test: publishing to {tenantId} fails");
        }

        await base.WriteAsync(tenantId, events);
    }

    public sealed class Hold(string tenant, int publishes) : IDisposable
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _allPublished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _publishedTypes = new(StringComparer.Ordinal);
        private int _published;

        /// <summary>The events of each queue write, in the order the writes started.</summary>
        public ConcurrentQueue<IReadOnlyList<SecurityEvent>> Writes { get; } = new();

        /// <summary>Completes when <c>publishes</c> events were handed to the publisher (each queued for a write on return).</summary>
        public Task AllPublished => _allPublished.Task;

        /// <summary>
        /// Completes when an event of the type was handed to the publisher: a marker that the turn publishing it got that
        /// far (other events of the tenant, such as allowed-check summaries, do not count).
        /// </summary>
        public Task PublishedAsync(string type) => PublishedOf(type).Task;

        private TaskCompletionSource PublishedOf(string type) =>
            _publishedTypes.GetOrAdd(type, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        /// <summary>The events handed to the publisher, in the order they were handed over (each queued for a write on return).</summary>
        public ConcurrentQueue<SecurityEvent> Handed { get; } = new();

        internal void Published(IReadOnlyList<SecurityEvent> events)
        {
            foreach (var e in events)
            {
                PublishedOf(e.Type).TrySetResult();
                Handed.Enqueue(e);
            }

            if (Interlocked.Add(ref _published, events.Count) >= publishes)
            {
                _allPublished.TrySetResult();
            }
        }

        internal Task WaitAsync(IReadOnlyList<SecurityEvent> events)
        {
            Writes.Enqueue(events);
            return _released.Task;
        }

        /// <summary>Lets held and later writes go.</summary>
        public void Release() => _released.TrySetResult();

        public void Dispose()
        {
            Holds.TryRemove(KeyValuePair.Create(tenant, this));
            Release();
        }
    }
}
