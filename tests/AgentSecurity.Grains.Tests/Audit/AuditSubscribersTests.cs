using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests.Audit;

/// <summary>The subscribers of one log, driven directly: who still gets events, and what keeps them bounded.</summary>
public sealed class AuditSubscribersTests
{
    private const string Tenant = "subs";
    private readonly HashSet<string> _allowed = new(StringComparer.Ordinal) { "did:key:a", "did:key:b" };

    private AuditSubscribers Subscribers() => new(Tenant, new TestAuditLogStore(), new FakeTimeProvider(), principal =>
        ValueTask.FromResult(principal is null || _allowed.Contains(principal)), NullLogger.Instance);

    private static LoggedEvent[] Events(long first, int count) => Enumerable.Range(0, count).Select(i => new LoggedEvent(first + i, new DecisionEvent
    {
        Id = $"e{first + i}",
        Type = SecurityEventTypes.CheckDenied,
        TenantId = Tenant,
        AgentId = "bot",
        Capability = "llm",
        Reason = ReasonCodes.CapabilityNotGranted,
    })).ToArray();

    [Fact]
    public void Appended_SubscriberWhoseRightEnded_IsDroppedBeforeItGetsTheEvent()
    {
        var subscribers = Subscribers();
        var (a, b) = (new Observer(), new Observer());
        subscribers.Subscribe(a, "did:key:a", afterSequence: -1, last: 0);
        subscribers.Subscribe(b, "did:key:b", afterSequence: -1, last: 0);

        _allowed.Remove("did:key:b"); // its access document was revoked
        subscribers.Appended(Events(1, 3));

        Assert.Equal([1L, 2, 3], a.Sequences);
        Assert.Empty(b.Sequences);
        Assert.Equal(1, subscribers.Count);
    }

    [Fact]
    public void Subscribe_BeyondTheMaximum_IsRefusedAndRenewalsStillWork()
    {
        var subscribers = Subscribers();
        var first = new Observer();
        Assert.True(subscribers.Subscribe(first, "did:key:a", -1, 0));
        for (var i = 1; i < AuditSubscribers.MaxSubscribers; i++)
        {
            Assert.True(subscribers.Subscribe(new Observer(), "did:key:a", -1, 0));
        }

        Assert.False(subscribers.Subscribe(new Observer(), "did:key:a", -1, 0));
        Assert.True(subscribers.Subscribe(first, "did:key:a", -1, 0)); // a renewal is no new subscriber
        Assert.Equal(AuditSubscribers.MaxSubscribers, subscribers.Count);
    }

    [Fact]
    public void Appended_SubscriberThatNeverAnswers_IsDroppedOnceTooFarBehind()
    {
        var subscribers = Subscribers();
        var stuck = new Observer(answer: new TaskCompletionSource().Task);
        subscribers.Subscribe(stuck, "did:key:a", -1, 0);

        subscribers.Appended(Events(1, 1)); // sent, never answered
        subscribers.Appended(Events(2, (int)AuditSubscribers.MaxBehind - 1)); // exactly MaxBehind unanswered
        Assert.Equal(1, subscribers.Count);
        subscribers.Appended(Events(1 + AuditSubscribers.MaxBehind, 1));

        Assert.Equal(0, subscribers.Count);
    }

    private sealed class Observer(Task? answer = null) : ISecurityEventObserver
    {
        public List<long> Sequences { get; } = [];

        public Task OnEventsAsync(IReadOnlyList<LoggedEvent> events)
        {
            Sequences.AddRange(events.Select(e => e.Sequence));
            return answer ?? Task.CompletedTask;
        }
    }
}
