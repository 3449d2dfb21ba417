using System.Collections.Concurrent;
using AgentSecurity.Abstractions.Boundary;
using System.Diagnostics;
using AgentSecurity.Abstractions.Audit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using AgentSecurity.Grains.Telemetry;
using Orleans.Streams;

namespace AgentSecurity.Grains.Audit;

/// <summary>
/// Makes and publishes security events for the grains of one silo: each event gets a unique id, the kernel's time,
/// this silo's address and the current trace id, and goes to its tenant's stream, in group commits per tenant
/// (<see cref="TenantEventBatcher"/>): publishers that arrive while a write of their tenant is in flight share the next.
/// </summary>
public class AuditEvents(
    [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
    ILocalSiloDetails silo,
    IClusterClient client,
    IOptions<AuditOptions> options,
    AgentSecurityMetrics metrics)
{
    private readonly string _silo = silo.SiloAddress.ToString();

    // Only tenants with a write in flight or waiting: a batcher leaves when its tenant goes idle.
    private readonly ConcurrentDictionary<string, TenantEventBatcher> _batchers = new(StringComparer.Ordinal);

    /// <summary>Fills in what every event carries, within the bounds of <see cref="SecurityEventBounds"/>; callers set the rest.</summary>
    public T Stamp<T>(T e)
        where T : SecurityEvent
    {
        var now = time.GetUtcNow();
        return (T)SecurityEventBounds.Clamp(e with
        {
            Id = e.Id.Length > 0 ? e.Id : Guid.CreateVersion7(now).ToString("N"),
            Time = now,
            Silo = _silo,
            TraceId = Activity.Current?.TraceId.ToHexString(),
            SpanId = KernelTracing.RecordingSpanId(),
        });
    }

    /// <summary>An administrative event (a change of trust, grants or status, or a refused document), stamped.</summary>
    public AdministrativeEvent Administrative(string tenantId, string type, string? agentId = null, string? grantId = null, string? signer = null, string? reason = null, string? message = null) =>
        Stamp(new AdministrativeEvent
        {
            Id = string.Empty,
            Type = type,
            TenantId = tenantId,
            AgentId = agentId,
            GrantId = grantId,
            SignerDid = signer,
            Reason = reason,
            Message = message,
        });

    /// <summary>
    /// Publishes to the tenant's stream and returns once the stream holds the events (with Azure Queue streams:
    /// once the queue message holding them is written, so a crash after this loses nothing). The events may share that
    /// message with other publishers' of the tenant; a failed write fails every publisher in it.
    /// </summary>
    public virtual Task PublishAsync(string tenantId, IReadOnlyList<SecurityEvent> events)
    {
        if (events.Count == 0)
        {
            return Task.CompletedTask;
        }

        while (true)
        {
            var batcher = _batchers.GetOrAdd(tenantId, static (tenant, self) => self.NewBatcher(tenant), this);
            if (batcher.TryPublish(events) is { } published)
            {
                return published;
            }

            _batchers.TryRemove(KeyValuePair.Create(tenantId, batcher));
        }
    }

    /// <summary>
    /// Writes one batch to the tenant's stream: one queue message. Runs off every grain's scheduler with an empty request
    /// context, so no session, kernel token, principal or trace parent travels into storage.
    /// </summary>
    protected virtual async Task WriteAsync(string tenantId, IReadOnlyList<SecurityEvent> events)
    {
        metrics.RecordQueueWrite(events.Count);
        var stream = client.GetStreamProvider(AuditStreams.ProviderName).GetStream<SecurityEvent>(AuditStreams.For(tenantId));
        var started = Stopwatch.GetTimestamp(); // a metric of real waiting, not the kernel's clock
        var written = false;
        try
        {
            await PublishCoreAsync(stream, events);
            written = true;
        }
        finally
        {
            metrics.RecordQueueWriteDuration(Stopwatch.GetElapsedTime(started), written);
        }
    }

    private TenantEventBatcher NewBatcher(string tenantId)
    {
        var bounds = options.Value;
        return new TenantEventBatcher(events => WriteAsync(tenantId, events), bounds.QueueMessageMaxEvents, bounds.QueueMessageMaxBytes,
            retired => _batchers.TryRemove(KeyValuePair.Create(tenantId, retired)));
    }

    // The batcher writes without the publishers' flow; removing the caller's credentials here as well keeps a subclass or
    // a future caller from carrying them into storage and to every consumer. Async, so the writing flow keeps its own context.
    private static async Task PublishCoreAsync(IAsyncStream<SecurityEvent> stream, IReadOnlyList<SecurityEvent> events)
    {
        RequestContext.Remove(CallerContext.SessionKey);
        RequestContext.Remove(CallerContext.KernelKey);
        RequestContext.Remove(CallerContext.PrincipalKey);
        RequestContext.Remove(KernelTracing.ParentKey); // the event carries its trace itself
        await (events.Count == 1 ? stream.OnNextAsync(events[0]) : stream.OnNextBatchAsync(events));
    }
}
