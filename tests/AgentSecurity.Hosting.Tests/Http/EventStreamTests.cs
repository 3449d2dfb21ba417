using System.Net.ServerSentEvents;
using System.Reflection;
using System.Text.Json;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants;
using AgentSecurity.Hosting.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Hosting.Tests.Http;

/// <summary>
/// One HTTP event stream against a stand-in for the tenant's audit grain, on a fake clock: what it sends, in which order,
/// and each way it ends. No waiting on real time: the clock is moved and the stream's next item awaited.
/// </summary>
public sealed class EventStreamTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly AuditLogStandIn _log = AuditLogStandIn.Create();
    private int _released;

    private EventStream Stream(int buffer = 16, TimeSpan? keepAlive = null, TimeSpan? sessionLeft = null) => new(
        GrainFactoryStandIn.Create(),
        "acme",
        _log.Grain,
        "did:key:z6MkService",
        () => CallerSession.Enter(new HttpCaller("did:key:z6MkService", "the session")),
        new HttpApiOptions { EventStreamBuffer = buffer, EventStreamKeepAlive = keepAlive ?? TimeSpan.FromSeconds(30) },
        _time,
        _time.GetUtcNow() + (sessionLeft ?? TimeSpan.FromHours(1)),
        () => Interlocked.Increment(ref _released),
        NullLogger.Instance);

    private static LoggedEvent Logged(long sequence) => new(sequence, new DecisionEvent
    {
        Id = $"e{sequence}", Type = SecurityEventTypes.CheckDenied, TenantId = "acme", AgentId = "bot", Capability = "llm", Reason = ReasonCodes.CapabilityNotGranted,
    });

    [Fact]
    public async Task ReadAllAsync_EventsDeliveredTwice_AreSentOnceInOrderWithTheirSequenceAsId()
    {
        await using var stream = Stream();
        Assert.Null(await stream.StartAsync(-1));
        await stream.OnEventsAsync([Logged(1), Logged(2)]);
        await stream.OnEventsAsync([Logged(2), Logged(3)]); // a renewal's replay overlapping what was sent
        await using var items = stream.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();

        Assert.Equal("keepalive", await NextTypeAsync(items));
        var sent = new List<string?>();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await items.MoveNextAsync());
            sent.Add(items.Current.EventId);
            Assert.Equal(SseParser.EventTypeDefault, items.Current.EventType);
            Assert.Equal(SecurityEventTypes.CheckDenied, JsonDocument.Parse(items.Current.Data).RootElement.GetProperty("type").GetString());
        }

        Assert.Equal(["1", "2", "3"], sent);
        Assert.Equal("the session", _log.SessionOfLastCall);
    }

    [Fact]
    public async Task StartAsync_AfterASequence_SubscribesFromItAndSkipsWhatTheClientHas()
    {
        await using var stream = Stream();
        Assert.Null(await stream.StartAsync(5));
        await stream.OnEventsAsync([Logged(4), Logged(5), Logged(6)]);
        await using var items = stream.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();

        Assert.Equal(5, _log.SubscribedAfter);
        await NextTypeAsync(items);
        Assert.True(await items.MoveNextAsync());
        Assert.Equal("6", items.Current.EventId);
    }

    [Theory]
    [InlineData(ReasonCodes.Forbidden)]
    [InlineData(ReasonCodes.Unauthenticated)]
    public async Task StartAsync_RefusedByTheBoundary_ReturnsTheRefusal(string code)
    {
        _log.Refuse = code;
        await using var stream = Stream();

        Assert.Equal(code, (await stream.StartAsync(-1))?.Code);
    }

    [Fact]
    public async Task OnEventsAsync_ClientReadingTooSlowly_EndsTheStreamWithUnavailableAfterWhatItHolds()
    {
        await using var stream = Stream(buffer: 2);
        await stream.StartAsync(-1);
        await stream.OnEventsAsync([Logged(1), Logged(2), Logged(3)]);

        var items = await ToListAsync(stream);

        Assert.Equal(["keepalive", "message", "message", "end"], items.Select(i => i.EventType));
        Assert.Equal(ReasonCodes.Unavailable, ErrorOf(items[^1]));
    }

    [Fact]
    public async Task ReadAllAsync_SessionExpires_EndsWithUnauthenticated()
    {
        await using var stream = Stream(sessionLeft: TimeSpan.FromSeconds(10));
        await stream.StartAsync(-1);
        await using var items = stream.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();
        await NextTypeAsync(items);

        var next = items.MoveNextAsync();
        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(await next);
        Assert.Equal("end", items.Current.EventType);
        Assert.Equal(ReasonCodes.Unauthenticated, ErrorOf(items.Current));
        Assert.False(await items.MoveNextAsync());
    }

    [Fact]
    public async Task ReadAllAsync_Idle_SendsAKeepAliveAtItsInterval()
    {
        await using var stream = Stream(keepAlive: TimeSpan.FromSeconds(15));
        await stream.StartAsync(-1);
        await using var items = stream.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();
        await NextTypeAsync(items);

        var next = items.MoveNextAsync();
        _time.Advance(TimeSpan.FromSeconds(15));

        Assert.True(await next);
        Assert.Equal("keepalive", items.Current.EventType);
        Assert.Equal(string.Empty, items.Current.Data);
    }

    [Fact]
    public async Task ReadAllAsync_RenewalRefusedByTheBoundary_EndsWithTheRefusal()
    {
        await using var stream = Stream(keepAlive: TimeSpan.FromMinutes(10));
        await stream.StartAsync(-1);
        await stream.OnEventsAsync([Logged(7)]);
        await using var items = stream.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();
        await NextTypeAsync(items);
        await NextTypeAsync(items);
        _log.Refuse = ReasonCodes.Forbidden; // the access document was revoked meanwhile

        var next = items.MoveNextAsync();
        _time.Advance(EventStream.Renewal);

        Assert.True(await next);
        Assert.Equal(ReasonCodes.Forbidden, ErrorOf(items.Current));
        Assert.Equal(7, _log.SubscribedAfter); // renewed from the last event sent
    }

    [Fact]
    public async Task End_SiloStopping_EndsWithUnavailable()
    {
        await using var stream = Stream();
        await stream.StartAsync(-1);

        stream.End(new EventStreamEnd(ReasonCodes.Unavailable, "the silo is stopping"));

        Assert.Equal(["keepalive", "end"], (await ToListAsync(stream)).Select(i => i.EventType));
    }

    [Fact]
    public async Task DisposeAsync_Twice_UnsubscribesAndReleasesItsSlotOnce()
    {
        var stream = Stream();
        await stream.StartAsync(-1);

        await stream.DisposeAsync();
        await stream.DisposeAsync();

        Assert.Equal(1, _log.Unsubscribed);
        Assert.Equal(1, _released);
    }

    private static async Task<string?> NextTypeAsync(IAsyncEnumerator<SseItem<string>> items)
    {
        Assert.True(await items.MoveNextAsync());
        return items.Current.EventType;
    }

    private static async Task<List<SseItem<string>>> ToListAsync(EventStream stream)
    {
        var items = new List<SseItem<string>>();
        await foreach (var item in stream.ReadAllAsync(CancellationToken.None))
        {
            items.Add(item);
        }

        return items;
    }

    private static string? ErrorOf(SseItem<string> end) => JsonDocument.Parse(end.Data).RootElement.GetProperty("error").GetString();

    /// <summary>The tenant's audit grain as the stream sees it: subscriptions with the caller's session, or the boundary's refusal.</summary>
    public class AuditLogStandIn : DispatchProxy
    {
        public IAuditStreamGrain Grain => (IAuditStreamGrain)(object)this;

        public string? Refuse { get; set; }

        public long SubscribedAfter { get; private set; } = long.MinValue;

        public string? SessionOfLastCall { get; private set; }

        public int Unsubscribed { get; private set; }

        public static AuditLogStandIn Create() => (AuditLogStandIn)(object)Create<IAuditStreamGrain, AuditLogStandIn>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            SessionOfLastCall = RequestContext.Get(CallerContext.SessionKey) as string;
            switch (targetMethod?.Name)
            {
                case nameof(IAuditStreamGrain.SubscribeAsync):
                    SubscribedAfter = (long)args![1]!;
                    if (Refuse is { } code)
                    {
                        return Task.FromException<long>(new CallRefusedException(code, $"{code}: refused"));
                    }

                    return Task.FromResult(0L); // the log was empty when the stream subscribed
                case nameof(IAuditStreamGrain.UnsubscribeAsync):
                    Unsubscribed++;
                    return Task.CompletedTask;
                default:
                    throw new NotSupportedException(targetMethod?.Name);
            }
        }
    }

    /// <summary>A grain factory whose observer references are the observers themselves.</summary>
    public class GrainFactoryStandIn : DispatchProxy
    {
        public static IGrainFactory Create() => Create<IGrainFactory, GrainFactoryStandIn>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(IGrainFactory.CreateObjectReference) => args![0],
            nameof(IGrainFactory.DeleteObjectReference) => null,
            _ => throw new NotSupportedException(targetMethod?.Name),
        };
    }
}
