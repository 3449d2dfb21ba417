using AgentSecurity.Grains;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Hosting.Storage;

/// <summary>
/// Degraded (never unhealthy) while the kernel's storage does not answer: the silo still decides from memory what it
/// can, and refuses writes with <c>unavailable</c>; restarting it would not bring storage back, so probes that restart
/// on unhealthy must not see a storage outage as a sick silo.
/// </summary>
/// <remarks>
/// One probe (the three services at once, each call bounded by <see cref="ProbeTimeout"/>) answers every health request
/// for <see cref="CacheFor"/>, and health requests that come while it runs wait for it: probes cannot pile up storage
/// calls however often they come.
/// </remarks>
public sealed partial class StorageHealthCheck(
    KernelStorage storage,
    [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
    ILogger<StorageHealthCheck> logger) : IHealthCheck
{
    /// <summary>
    /// How long a probe waits for storage before it calls it unreachable (Azure SDK retries included): long enough for a
    /// loaded machine's first call, well within the 10 s the probes of deploy/kubernetes wait for an answer.
    /// </summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long one probe's answer stands.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private Task<HealthCheckResult>? _probe;
    private DateTimeOffset _probeStarted;
    private bool _wasReachable = true;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        Task<HealthCheckResult> probe;
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (_probe is null || (_probe.IsCompleted && now - _probeStarted >= CacheFor))
            {
                _probe = ProbeAsync();
                _probeStarted = now;
            }

            probe = _probe;
        }

        return probe.WaitAsync(cancellationToken);
    }

    private async Task<HealthCheckResult> ProbeAsync()
    {
        var names = storage.Names;
        var failures = (await Task.WhenAll(
            Reach("tables", t => FirstPageAsync(storage.Tables.GetTableClient(names.GrainsTable), t)),
            Reach("blobs", t => storage.Blobs.GetBlobContainerClient(names.IssuersContainer).ExistsAsync(t)),
            Reach("queues", t => storage.Queues.GetQueueClient(names.AuditQueues[0]).ExistsAsync(t))))
            .OfType<string>()
            .ToList();
        lock (_gate)
        {
            if (failures.Count > 0 && _wasReachable)
            {
                LogUnreachable(logger, string.Join(", ", failures));
            }
            else if (failures.Count == 0 && !_wasReachable)
            {
                LogReachable(logger);
            }

            _wasReachable = failures.Count == 0;
        }

        return failures.Count == 0
            ? HealthCheckResult.Healthy("storage answers")
            : HealthCheckResult.Degraded($"storage does not answer: {string.Join(", ", failures)}; writes answer unavailable");
    }

    private static async Task FirstPageAsync(TableClient table, CancellationToken cancellationToken)
    {
        await foreach (var _ in table.QueryAsync<TableEntity>("PartitionKey eq 'healthz'", maxPerPage: 1, cancellationToken: cancellationToken).AsPages())
        {
            break;
        }
    }

    // Null when the service answered; an answer that is an error (a missing table, say) still means storage is there.
    private async Task<string?> Reach(string service, Func<CancellationToken, Task> call)
    {
        using var limit = new CancellationTokenSource(ProbeTimeout, time);
        try
        {
            await call(limit.Token);
            return null;
        }
        catch (RequestFailedException e) when (e.Status is > 0 and not 401 and not 403)
        {
            return null;
        }
#pragma warning disable CA1031 // Whatever stops the call (refused connection, timeout, credentials) makes storage unreachable for the silo.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return $"{service} ({e.GetType().Name})";
        }
    }

    [LoggerMessage(EventId = 5201, Level = LogLevel.Warning, Message = "The kernel's storage does not answer ({Services}): health is degraded, writes answer unavailable")]
    private static partial void LogUnreachable(ILogger logger, string services);

    [LoggerMessage(EventId = 5202, Level = LogLevel.Information, Message = "The kernel's storage answers again: health is no longer degraded by storage")]
    private static partial void LogReachable(ILogger logger);
}
