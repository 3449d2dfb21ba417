using AgentSecurity.Abstractions.Boundary;
using System.Diagnostics;
using AgentSecurity.Abstractions.Audit;
using Microsoft.Extensions.DependencyInjection;
using AgentSecurity.Grains.Telemetry;
using Orleans.Streams;

namespace AgentSecurity.Grains.Audit;

/// <summary>
/// Makes and publishes security events for the grains of one silo: each event gets a unique id, the kernel's time,
/// this silo's address and the current trace id, and goes to its tenant's stream.
/// </summary>
public class AuditEvents(
    [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
    ILocalSiloDetails silo,
    IClusterClient client)
{
    private readonly string _silo = silo.SiloAddress.ToString();

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
    /// once the queue message is written, so a crash after this loses nothing).
    /// </summary>
    public virtual Task PublishAsync(string tenantId, IReadOnlyList<SecurityEvent> events)
    {
        if (events.Count == 0)
        {
            return Task.CompletedTask;
        }

        return PublishCoreAsync(client.GetStreamProvider(AuditStreams.ProviderName).GetStream<SecurityEvent>(AuditStreams.For(tenantId)), events);
    }

    // A stream message carries the publisher's request context into storage and to every consumer: not the caller's
    // session (a bearer credential) nor the kernel's token. Async, so the publishing flow keeps its own context.
    private static async Task PublishCoreAsync(IAsyncStream<SecurityEvent> stream, IReadOnlyList<SecurityEvent> events)
    {
        RequestContext.Remove(CallerContext.SessionKey);
        RequestContext.Remove(CallerContext.KernelKey);
        RequestContext.Remove(CallerContext.PrincipalKey);
        RequestContext.Remove(KernelTracing.ParentKey); // the event carries its trace itself
        await (events.Count == 1 ? stream.OnNextAsync(events[0]) : stream.OnNextBatchAsync(events));
    }
}
