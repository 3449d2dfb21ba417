using System.Text;
using AgentSecurity.Abstractions.Audit;

namespace AgentSecurity.Grains.Audit;

/// <summary>
/// Group commit of one tenant's events on one silo: while a queue write is in flight, what other publishers hand in waits
/// and then goes as one write (one queue message), up to a count and an estimated serialized size. Nothing waits on a
/// timer: the first publisher on an idle tenant is written at once, so batching costs no latency when idle and grows
/// only with the writes in flight. Each publisher's task completes when the write that holds its events has succeeded,
/// or fails with that write's exception, so every denial is still in the queue before its caller hears of it.
/// Writes of one tenant are sequential: events of one tenant from this silo reach the queue in publish order.
/// </summary>
internal sealed class TenantEventBatcher(Func<IReadOnlyList<SecurityEvent>, Task> write, int maxEvents, int maxBytes, Action<TenantEventBatcher> retired)
{
    // What the estimate adds per event and per text field beyond the UTF-8 of its texts: Orleans' field and type headers,
    // the time and a count. EventSizeTests checks the estimate against the Azure queue adapter's real message.
    internal const int EventOverhead = 160;
    internal const int FieldOverhead = 8;

    private readonly Lock _lock = new();
    private readonly Queue<Pending> _waiting = new();
    private bool _writing;

    // Once idle the batcher leaves the silo's table; a publisher that still holds it takes a new one, whose first write
    // cannot start before this one's last has ended (it retires only with nothing in flight), so order holds.
    private bool _retired;

    /// <summary>
    /// Queues the events for the next write, or returns <see langword="null"/> when this batcher has retired and the
    /// caller must take a fresh one. A set larger than one write allows is split into writes within the bounds, in order;
    /// its task completes when all of them have succeeded.
    /// </summary>
    public Task? TryPublish(IReadOnlyList<SecurityEvent> events)
    {
        var parts = Split(events);
        bool start;
        lock (_lock)
        {
            if (_retired)
            {
                return null;
            }

            foreach (var part in parts)
            {
                _waiting.Enqueue(part);
            }

            start = !_writing;
            _writing = true;
        }

        if (start)
        {
            // Off the publishing grain's scheduler, and without its flow: the write serves other grains' events too and must
            // neither run in nor keep alive one activation, nor carry its request context (a session, the kernel's token,
            // the caller's principal or trace parent) into storage.
            using (ExecutionContext.SuppressFlow())
            {
                _ = Task.Run(WriteAllAsync);
            }
        }

        return parts.Count == 1 ? parts[0].Done.Task : Task.WhenAll(parts.Select(p => p.Done.Task));
    }

    private async Task WriteAllAsync()
    {
        while (true)
        {
            List<Pending> batch;
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _writing = false;
                    _retired = true;
                    break;
                }

                batch = TakeBatch();
            }

            IReadOnlyList<SecurityEvent> events = batch.Count == 1 ? batch[0].Events : batch.SelectMany(p => p.Events).ToList();
            try
            {
                RequestContext.Clear();
                await write(events);
            }
#pragma warning disable CA1031 // Every publisher of the failed write hears of it; the denials among them become unavailable.
            catch (Exception e)
#pragma warning restore CA1031
            {
                foreach (var pending in batch)
                {
                    pending.Done.TrySetException(e);
                }

                continue;
            }

            foreach (var pending in batch)
            {
                pending.Done.TrySetResult();
            }
        }

        retired(this);
    }

    /// <summary>Whole sets from the front of the queue while they fit; always at least one.</summary>
    private List<Pending> TakeBatch()
    {
        var batch = new List<Pending> { _waiting.Dequeue() };
        var (count, bytes) = (batch[0].Events.Count, batch[0].Bytes);
        while (_waiting.TryPeek(out var next) && count + next.Events.Count <= maxEvents && bytes + next.Bytes <= maxBytes)
        {
            batch.Add(_waiting.Dequeue());
            count += next.Events.Count;
            bytes += next.Bytes;
        }

        return batch;
    }

    /// <summary>The publisher's events in parts within the bounds (one part unless they exceed them), in order.</summary>
    private List<Pending> Split(IReadOnlyList<SecurityEvent> events)
    {
        var parts = new List<Pending>(1);
        var start = 0;
        var bytes = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var size = EstimatedSize(events[i]);
            if (i > start && (i - start >= maxEvents || bytes + size > maxBytes))
            {
                parts.Add(new Pending(Slice(events, start, i), bytes));
                (start, bytes) = (i, 0);
            }

            bytes += size;
        }

        parts.Add(new Pending(Slice(events, start, events.Count), bytes));
        return parts;
    }

    private static IReadOnlyList<SecurityEvent> Slice(IReadOnlyList<SecurityEvent> events, int from, int to) =>
        from == 0 && to == events.Count ? events : events.Skip(from).Take(to - from).ToList();

    /// <summary>
    /// An upper estimate of an event's size in a queue message before base64: the UTF-8 of its texts plus headers. An
    /// event of a kind this does not know is taken as large as any can be, so that it goes alone.
    /// </summary>
    internal static int EstimatedSize(SecurityEvent e)
    {
        var size = EventOverhead + Text(e.Id) + Text(e.Type) + Text(e.TenantId) + Text(e.AgentId) + Text(e.Silo) + Text(e.TraceId)
            + Text(e.SpanId) + Text(e.Message) + Text(e.Reason);
        return size + e switch
        {
            DecisionEvent d => Text(d.Capability) + Text(d.Resource) + Text(d.GrantId),
            AdministrativeEvent a => Text(a.GrantId) + Text(a.SignerDid) + Text(a.Capability) + Text(a.Resource),
            SandboxEvent s => Text(s.Capability) + Text(s.Resource) + Text(s.Runtime),
            ToolEvent t => Text(t.Server) + Text(t.Tool) + Text(t.GrantId) + Text(t.DefinitionHash) + Text(t.Capability) + Text(t.Resource) + Text(t.RequestId),
            AlertEvent a => Text(a.Action),
            _ => int.MaxValue / 2,
        };
    }

    private static int Text(string? text) => text is null ? 1 : FieldOverhead + Encoding.UTF8.GetByteCount(text);

    private sealed class Pending(IReadOnlyList<SecurityEvent> events, int bytes)
    {
        public IReadOnlyList<SecurityEvent> Events { get; } = events;

        public int Bytes { get; } = bytes;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
