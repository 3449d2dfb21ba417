using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// One client's stream of a tenant's security events over HTTP: an observer of the tenant's audit grain (as the typed
/// client's subscription is, no storage keys), subscribed and renewed as <paramref name="callAs"/> makes the calls: with
/// the client's own session, so that the trust boundary requires the <c>audit</c> right at the start and at every
/// renewal (or, for the security console, which the operator guard admitted, as the operator's reads). Events come in log order, each once, with
/// their sequence as the event id. The stream ends, with a last <c>end</c> event naming why, when the session expires,
/// the boundary refuses a renewal, the client reads too slowly for its buffer, or the silo stops; and silently when the
/// client goes away. A client resumes with <c>Last-Event-ID</c>.
/// </summary>
internal sealed class EventStream(
    IGrainFactory grains,
    string tenant,
    IAuditStreamGrain log,
    string principal,
    Func<IDisposable> callAs,
    HttpApiOptions options,
    TimeProvider time,
    DateTimeOffset sessionEnd,
    Action released,
    ILogger logger) : ISecurityEventObserver, IAsyncDisposable
{
    /// <summary>How often the subscription is renewed: well within the audit grain's lapse (three minutes).</summary>
    public static readonly TimeSpan Renewal = TimeSpan.FromMinutes(1);

    private readonly Channel<LoggedEvent> _events = Channel.CreateBounded<LoggedEvent>(
        new BoundedChannelOptions(options.EventStreamBuffer) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>Empty data: an EventSource dispatches nothing; proxies and the server see that the connection lives.</summary>
    private static readonly SseItem<string> KeepAlive = new(string.Empty, "keepalive");

    private readonly Lock _lock = new();
    private ISecurityEventObserver? _reference;
    private EventStreamEnd? _end;
    private long _last = -1;
    private int _disposed;

    /// <summary>Subscribes after <paramref name="afterSequence"/> (-1: only new events); null, or the boundary's refusal.</summary>
    public async Task<Failure?> StartAsync(long afterSequence)
    {
        _last = afterSequence;
        _reference = grains.CreateObjectReference<ISecurityEventObserver>(this);
        try
        {
            long last;
            using (callAs())
            {
                last = await log.SubscribeAsync(_reference, afterSequence);
            }

            lock (_lock)
            {
                _last = Math.Max(_last, afterSequence < 0 ? last : afterSequence);
            }

            return null;
        }
        catch (CallRefusedException e)
        {
            return new Failure(e.Code, e.Message);
        }
#pragma warning disable CA1031 // The subscription could not be made: the client is told the silo cannot serve it now.
        catch (Exception e)
#pragma warning restore CA1031
        {
            HttpLog.EventStreamFailed(logger, e, tenant);
            return new Failure(ReasonCodes.Unavailable, "the tenant's event log could not be reached now; try again");
        }
    }

    /// <summary>From the tenant's audit grain: events once they are in the log. Never blocks the log on a slow client.</summary>
    public Task OnEventsAsync(IReadOnlyList<LoggedEvent> events)
    {
        lock (_lock)
        {
            foreach (var logged in events)
            {
                if (logged.Sequence <= _last)
                {
                    continue;
                }

                if (!_events.Writer.TryWrite(logged))
                {
                    End(new EventStreamEnd(ReasonCodes.Unavailable, $"the client read more slowly than events came ({options.EventStreamBuffer} waiting); reconnect with Last-Event-ID"));
                    break;
                }

                _last = logged.Sequence;
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Ends the stream after what it holds, with <paramref name="end"/> as its last event (the first reason wins).</summary>
    public void End(EventStreamEnd end)
    {
        lock (_lock)
        {
            _end ??= end;
        }

        _events.Writer.TryComplete();
    }

    /// <summary>The stream's events for the response, until it ends or <paramref name="cancellation"/> (the client left).</summary>
    public async IAsyncEnumerable<SseItem<string>> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellation)
    {
        var reader = _events.Reader;
        var renewAt = time.GetUtcNow() + Renewal;
        var keepAliveAt = time.GetUtcNow() + options.EventStreamKeepAlive;
        Task<bool>? waiting = null;

        // First a keep-alive: the response's headers go out at once, so a client knows the subscription holds before any
        // event comes (an EventSource opens; a keep-alive's empty data dispatches nothing).
        yield return KeepAlive;
        while (true)
        {
            while (reader.TryRead(out var logged))
            {
                yield return new SseItem<string>(SecurityEventJson.Write(logged.Event)) { EventId = logged.Sequence.ToString(CultureInfo.InvariantCulture) };
                keepAliveAt = time.GetUtcNow() + options.EventStreamKeepAlive;
            }

            if (reader.Completion.IsCompleted)
            {
                break;
            }

            var now = time.GetUtcNow();
            if (now >= sessionEnd)
            {
                End(new EventStreamEnd(ReasonCodes.Unauthenticated, "the session expired; reconnect with a new session and Last-Event-ID"));
                continue;
            }

            if (now >= renewAt)
            {
                renewAt = now + Renewal;
                await RenewAsync();
                continue;
            }

            if (now >= keepAliveAt)
            {
                keepAliveAt = now + options.EventStreamKeepAlive;
                yield return KeepAlive;
                continue;
            }

            waiting ??= reader.WaitToReadAsync(cancellation).AsTask();
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            var due = new[] { renewAt, keepAliveAt, sessionEnd }.Min() - now;
            var woke = await Task.WhenAny(waiting, Task.Delay(due, time, timer.Token));
            await timer.CancelAsync();
            if (woke == waiting)
            {
                await waiting; // throws when the client left
                waiting = null;
            }

            cancellation.ThrowIfCancellationRequested();
        }

        EventStreamEnd? end;
        lock (_lock)
        {
            end = _end;
        }

        if (end is not null)
        {
            HttpLog.EventStreamEnded(logger, tenant, principal, end.Error, end.Message);
            yield return new SseItem<string>(JsonSerializer.Serialize(end, HttpJson.Default.EventStreamEnd), "end");
        }
    }

    /// <summary>Renews with the client's session: a refusal (access revoked, session expired) ends the stream.</summary>
    private async Task RenewAsync()
    {
        try
        {
            long after;
            lock (_lock)
            {
                after = _last;
            }

            using (callAs())
            {
                await log.SubscribeAsync(_reference!, after);
            }
        }
        catch (CallRefusedException e)
        {
            End(new EventStreamEnd(e.Code, e.Message));
        }
#pragma warning disable CA1031 // The cluster may be away for a while; the next renewal catches up from the log.
        catch (Exception e)
#pragma warning restore CA1031
        {
            HttpLog.EventStreamFailed(logger, e, tenant);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _events.Writer.TryComplete();
        if (_reference is not null)
        {
            try
            {
                using (callAs())
                {
                    await log.UnsubscribeAsync(_reference);
                }
            }
#pragma warning disable CA1031 // An unsubscription that does not arrive lapses within minutes.
            catch (Exception)
#pragma warning restore CA1031
            {
            }

            grains.DeleteObjectReference<ISecurityEventObserver>(_reference);
        }

        released();
    }
}
