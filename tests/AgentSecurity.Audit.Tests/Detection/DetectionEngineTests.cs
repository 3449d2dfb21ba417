using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Audit.Detection;
using DetectionResult = AgentSecurity.Audit.Detection.Detection;

namespace AgentSecurity.Audit.Tests.Detection;

public sealed class DetectionEngineTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly DetectionRuleSettings[] Rules =
    [
        new("deny-burst", SecurityEventTypes.CheckDenied, 5, TimeSpan.FromSeconds(10), Quarantine: true),
        new("quota-storm", SecurityEventTypes.QuotaExceeded, 3, TimeSpan.FromSeconds(10), Quarantine: false),
    ];

    private static DecisionEvent Denial(string agent, DateTimeOffset time, string type = SecurityEventTypes.CheckDenied, long count = 1) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        Type = type,
        TenantId = "t",
        AgentId = agent,
        Capability = "subprocess",
        Time = time,
        Count = count,
    };

    [Fact]
    public void Observe_ThresholdWithinWindow_FiresOnceOnTheThresholdEvent()
    {
        var engine = new DetectionEngine();

        var fired = Enumerable.Range(0, 5).Select(i => engine.Observe(Denial("bot", Start.AddSeconds(i)), Rules)).ToList();

        Assert.All(fired.Take(4), Assert.Empty);
        var detection = Assert.Single(fired[4]);
        Assert.Equal(new DetectionResult("deny-burst", "bot", 5, Quarantine: true), detection);
    }

    [Fact]
    public void Observe_EventsSpreadBeyondTheWindow_DoNotFire()
    {
        var engine = new DetectionEngine();

        var fired = Enumerable.Range(0, 20).SelectMany(i => engine.Observe(Denial("bot", Start.AddSeconds(i * 3)), Rules)).ToList();

        Assert.Empty(fired);
    }

    [Fact]
    public void Observe_OtherAgentsAndOtherTypes_AreCountedApart()
    {
        var engine = new DetectionEngine();

        var fired = Enumerable.Range(0, 4).SelectMany(i => engine.Observe(Denial($"a{i % 2}", Start.AddSeconds(i)), Rules))
            .Concat(Enumerable.Range(0, 2).SelectMany(i => engine.Observe(Denial("a0", Start.AddSeconds(5), SecurityEventTypes.QuotaExceeded), Rules)))
            .Concat(engine.Observe(Denial("a0", Start.AddSeconds(6), SecurityEventTypes.GrantApplied), Rules))
            .ToList();

        Assert.Empty(fired);
    }

    [Fact]
    public void Observe_EventStandingForSeveral_CountsEachOccurrence()
    {
        var engine = new DetectionEngine();

        var fired = engine.Observe(Denial("bot", Start, SecurityEventTypes.QuotaExceeded, count: 7), Rules);

        Assert.Equal(new DetectionResult("quota-storm", "bot", 3, Quarantine: false), Assert.Single(fired));
    }

    [Fact]
    public void Observe_AfterFiring_CountsAfresh()
    {
        var engine = new DetectionEngine();
        for (var i = 0; i < 5; i++)
        {
            engine.Observe(Denial("bot", Start.AddSeconds(i)), Rules);
        }

        var next = Enumerable.Range(5, 4).SelectMany(i => engine.Observe(Denial("bot", Start.AddSeconds(i)), Rules)).ToList();
        var fifth = engine.Observe(Denial("bot", Start.AddSeconds(9)), Rules);

        Assert.Empty(next);
        Assert.Single(fifth);
    }

    [Fact]
    public void Observe_ManyAgentsThatFallQuiet_AreForgotten()
    {
        var engine = new DetectionEngine();
        for (var i = 0; i < 50_000; i++)
        {
            // A thousand agents at a time, each active for one second of its own.
            engine.Observe(Denial($"agent-{i}", Start.AddMilliseconds(i)), Rules);
        }

        // Within the 10 s window are the last 10,000 agents; the sweep keeps at most twice what it last kept.
        Assert.InRange(engine.TrackedWindows, 10_000, 2 * 10_001 + 4096);
        Assert.Single(Enumerable.Range(0, 5).SelectMany(i => engine.Observe(Denial("agent-49999", Start.AddMilliseconds(49_999 + i)), Rules)));
    }
}
