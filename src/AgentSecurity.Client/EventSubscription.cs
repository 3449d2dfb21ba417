using AgentSecurity.Abstractions.Audit;

namespace AgentSecurity.Client;

/// <summary>
/// A subscription to a tenant's security events through the cluster: the tenant's audit grain calls this observer with
/// each event once it is in the log. Renewed every minute with the last sequence received, which also fills any gap
/// (the log's silo died, a delivery failed): events arrive in log order, each once.
/// </summary>
internal sealed class EventSubscription(IClusterClient cluster, IAuditStreamGrain log, Func<SecurityEvent, Task> onEvent)
    : ISecurityEventObserver, IAsyncDisposable
{
    /// <summary>Well within the grain's lapse (three minutes).</summary>
    private static readonly TimeSpan Renewal = TimeSpan.FromMinutes(1);

    private readonly SemaphoreSlim _delivering = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private ISecurityEventObserver? _reference;
    private Task _renewals = Task.CompletedTask;
    private long _last;

    public async Task StartAsync(long afterSequence)
    {
        _reference = cluster.CreateObjectReference<ISecurityEventObserver>(this);
        var last = await log.SubscribeAsync(_reference, afterSequence);
        _last = afterSequence < 0 ? last : afterSequence;
        _renewals = RenewAsync(_stop.Token);
    }

    public async Task OnEventsAsync(IReadOnlyList<LoggedEvent> events)
    {
        await _delivering.WaitAsync();
        try
        {
            foreach (var logged in events)
            {
                if (logged.Sequence > _last)
                {
                    await onEvent(logged.Event);
                    _last = logged.Sequence;
                }
            }
        }
        finally
        {
            _delivering.Release();
        }
    }

    private async Task RenewAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(Renewal, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                await log.SubscribeAsync(_reference!, Volatile.Read(ref _last));
            }
#pragma warning disable CA1031 // The cluster may be away for a while; the next renewal catches up from the log.
            catch (Exception) when (!stop.IsCancellationRequested)
#pragma warning restore CA1031
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _renewals;
        if (_reference is not null)
        {
            try
            {
                await log.UnsubscribeAsync(_reference);
            }
#pragma warning disable CA1031 // An unsubscription that does not arrive lapses within minutes.
            catch (Exception)
#pragma warning restore CA1031
            {
            }

            cluster.DeleteObjectReference<ISecurityEventObserver>(_reference);
        }

        _stop.Dispose();
        _delivering.Dispose();
    }
}
