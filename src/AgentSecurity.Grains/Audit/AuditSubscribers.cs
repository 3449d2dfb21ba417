using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Audit;

/// <summary>
/// The subscribers of one tenant's log (clients' observers, the silo's event endpoint): each gets every event once it is
/// in the log, in order, with its sequence. What a subscriber missed (it subscribed late, its connection broke, the log's
/// silo died) it gets from the log when it subscribes again with the last sequence it saw. A subscriber that cannot be
/// reached is dropped; one not renewed lapses. Before each delivery the subscriber's principal must still hold the
/// <c>audit</c> right (<paramref name="mayStillRead"/>, decided from the silo's memory): a revoked auditor stops
/// receiving at once, not when its subscription lapses.
/// </summary>
internal sealed class AuditSubscribers(string tenant, IAuditLogStore store, TimeProvider clock, Func<string?, ValueTask<bool>> mayStillRead, ILogger logger)
{
    /// <summary>A subscription not renewed for this long lapses (a client that went away without unsubscribing).</summary>
    public static readonly TimeSpan Lapse = TimeSpan.FromMinutes(3);

    /// <summary>The most subscribers a tenant's log serves at once.</summary>
    public const int MaxSubscribers = 256;

    /// <summary>
    /// The most events a subscriber may be behind before it is dropped: a slow observer must not hold a growing queue in the
    /// log's memory. It catches up from the log when it subscribes again.
    /// </summary>
    public const long MaxBehind = 10_000;

    private const int Page = 256;

    private readonly Dictionary<ISecurityEventObserver, Subscriber> _subscribers = [];

    public int Count => _subscribers.Count;

    /// <summary>
    /// Subscribes or renews for <paramref name="principal"/> (null: the kernel's own); the events after
    /// <paramref name="afterSequence"/> up to <paramref name="last"/> are sent from the log first. False when the log
    /// already serves <see cref="MaxSubscribers"/>.
    /// </summary>
    public bool Subscribe(ISecurityEventObserver observer, string? principal, long afterSequence, long last)
    {
        var from = afterSequence < 0 ? last : Math.Max(afterSequence, last - IAuditStreamGrain.MaxReplay);
        if (!_subscribers.TryGetValue(observer, out var subscriber))
        {
            if (_subscribers.Count >= MaxSubscribers)
            {
                return false;
            }

            subscriber = new Subscriber(observer, principal, from);
            _subscribers[observer] = subscriber;
        }
        else if (from < subscriber.Queued)
        {
            // It says it has less than was sent or queued (a delivery was lost): the log has the rest.
            subscriber.Sent = Math.Min(subscriber.Sent, from);
            subscriber.Queued = from;
        }

        subscriber.LapsesAt = clock.GetUtcNow() + Lapse;
        if (subscriber.Queued < last)
        {
            Queue(subscriber, ReplayAsync(subscriber.Queued + 1, last), last);
        }

        return true;
    }

    public void Unsubscribe(ISecurityEventObserver observer) => _subscribers.Remove(observer);

    /// <summary>Events just appended (with their sequences): every subscriber gets those it has not had.</summary>
    public void Appended(IReadOnlyList<LoggedEvent> events)
    {
        if (_subscribers.Count == 0 || events.Count == 0)
        {
            return;
        }

        var now = clock.GetUtcNow();
        foreach (var subscriber in _subscribers.Values.ToList())
        {
            if (subscriber.LapsesAt <= now || events[^1].Sequence - subscriber.Sent > MaxBehind)
            {
                _subscribers.Remove(subscriber.Observer);
            }
            else if (subscriber.Queued < events[^1].Sequence)
            {
                Queue(subscriber, Once(events.Where(e => e.Sequence > subscriber.Queued).ToArray()), events[^1].Sequence);
            }
        }
    }

    /// <summary>Queues a delivery after the subscriber's previous ones, so that it sees the log in order.</summary>
    private void Queue(Subscriber subscriber, IAsyncEnumerable<IReadOnlyList<LoggedEvent>> batches, long upTo)
    {
        subscriber.Queued = Math.Max(subscriber.Queued, upTo);
        subscriber.Sending = DeliverAsync(subscriber, subscriber.Sending, batches);
    }

    private async Task DeliverAsync(Subscriber subscriber, Task previous, IAsyncEnumerable<IReadOnlyList<LoggedEvent>> batches)
    {
        await previous;
        try
        {
            await foreach (var batch in batches)
            {
                var unsent = batch.Where(e => e.Sequence > subscriber.Sent).ToArray();
                if (unsent.Length == 0)
                {
                    continue;
                }

                if (!_subscribers.ContainsKey(subscriber.Observer))
                {
                    return; // dropped or unsubscribed meanwhile
                }

                if (!await mayStillRead(subscriber.Principal))
                {
                    Log.SubscriberNoLongerAllowed(logger, tenant, subscriber.Principal);
                    _subscribers.Remove(subscriber.Observer);
                    return;
                }

                await subscriber.Observer.OnEventsAsync(unsent);
                subscriber.Sent = unsent[^1].Sequence;
            }
        }
#pragma warning disable CA1031 // A subscriber that cannot be reached is dropped; it catches up from the log when it subscribes again.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.SubscriberDropped(logger, e, tenant);
            _subscribers.Remove(subscriber.Observer);
        }
    }

    private async IAsyncEnumerable<IReadOnlyList<LoggedEvent>> ReplayAsync(long first, long last)
    {
        var batch = new List<LoggedEvent>(Page);
        await foreach (var record in store.ReadAsync(tenant, first, last))
        {
            batch.Add(new LoggedEvent(record.Sequence, SecurityEventJson.Read(record.EventJson)));
            if (batch.Count == Page)
            {
                yield return batch;
                batch = new List<LoggedEvent>(Page);
            }
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    private static async IAsyncEnumerable<IReadOnlyList<LoggedEvent>> Once(IReadOnlyList<LoggedEvent> events)
    {
        await Task.CompletedTask;
        yield return events;
    }

    private sealed class Subscriber(ISecurityEventObserver observer, string? principal, long sent)
    {
        public ISecurityEventObserver Observer { get; } = observer;

        /// <summary>Who subscribed, as the boundary verified it; null for the kernel's own subscribers.</summary>
        public string? Principal { get; } = principal;

        /// <summary>The last sequence it was sent.</summary>
        public long Sent { get; set; } = sent;

        /// <summary>The last sequence queued for it: what <see cref="Appended"/> queues after.</summary>
        public long Queued { get; set; } = sent;

        public DateTimeOffset LapsesAt { get; set; }

        public Task Sending { get; set; } = Task.CompletedTask;
    }
}
