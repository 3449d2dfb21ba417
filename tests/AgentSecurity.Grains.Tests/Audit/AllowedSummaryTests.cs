using System.Diagnostics.Metrics;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests.Audit;

/// <summary>
/// The loss window of allowed-check counts (docs/durability.md): the check that finds an interval gone since the last
/// summary hands the counts to the queue writer in its own turn, without waiting for the write, and a timer hands over
/// what an idle agent still holds. The kernel clock is the fixture's fake one; the timer runs on the machine's clock.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AllowedSummaryTests(ClusterFixture fixture)
{
    // The fixture's silos keep the default interval.
    private static readonly TimeSpan Interval = new AuditOptions().AllowedSummaryInterval;

    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(10);

    private static long HandedCounts(FaultyAuditEvents.Hold hold) =>
        hold.Handed.OfType<DecisionEvent>().Where(e => e.Type == SecurityEventTypes.ChecksAllowed).Sum(e => e.Count);

    [Fact]
    public async Task Check_AnIntervalAfterTheLastSummary_HandsTheCountsOverInItsTurnWithoutWaitingForTheWrite()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", fixture.Now).SignWith(TestKeys.Root));
        using var hold = FaultyAuditEvents.HoldWrites(tenant, int.MaxValue); // every queue write of the tenant waits

        // No summary was handed over before: the first allow is due at once. Its write is held, its answer is not.
        Assert.True((await fixture.CheckAsync(tenant, "bot", "llm").WaitAsync(Answer)).Allowed);
        Assert.Equal(1, HandedCounts(hold));

        // An interval later the next allow is due: its count is handed over before it is answered, while the first
        // summary's write is still held. No timer was started (nothing was left pending), so only the check can have.
        ClusterFixture.Time.Advance(Interval);
        Assert.True((await fixture.CheckAsync(tenant, "bot", "llm").WaitAsync(Answer)).Allowed);
        Assert.Equal(2, HandedCounts(hold));

        // Within the interval an allow is counted, not published one by one; once the agent is idle the timer hands it over.
        Assert.True((await fixture.CheckAsync(tenant, "bot", "llm").WaitAsync(Answer)).Allowed);
        hold.Release();
        var logged = await fixture.AuditLog.WaitForEventsAsync(tenant,
            e => e.OfType<DecisionEvent>().Where(d => d.Type == SecurityEventTypes.ChecksAllowed).Sum(d => d.Count) >= 3, TimeSpan.FromSeconds(15));

        var summaries = logged.OfType<DecisionEvent>().Where(d => d.Type == SecurityEventTypes.ChecksAllowed).ToList();
        Assert.Equal([1L, 1L, 1L], summaries.Select(s => s.Count));
    }

    [Fact]
    public async Task Check_AllowedChecks_ReachTheChecksMetricWithTheirSummaryNotOneByOne()
    {
        var tenant = await fixture.NewTenantAsync();

        // Measurements of this test's checks only: other agents' summaries are measured too, but in other turns. A
        // summary is measured in the turn that hands it over, whose request context is the check's.
        var marker = Guid.NewGuid().ToString("N");
        long measured = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == AgentSecurityMetrics.MeterName && instrument.Name == "agentsec.checks")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (RequestContext.Get(MarkerKey) as string == marker && tags.ToArray().Contains(new("reason", ReasonCodes.Allowed)))
            {
                Interlocked.Add(ref measured, value);
            }
        });
        listener.Start();
        RequestContext.Set(MarkerKey, marker);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var agent = $"bot{attempt}";
                await fixture.ApplyAsync(TestDocuments.Grant(tenant, agent, fixture.Now).SignWith(TestKeys.Root));
                Interlocked.Exchange(ref measured, 0);

                // No summary was handed over before: the first allow is due at once, and measured with it.
                Assert.True((await fixture.CheckAsync(tenant, agent, "llm")).Allowed);
                Assert.Equal(1, Interlocked.Read(ref measured));

                // Within the interval allows are counted, and measured with the next summary, not each on its own.
                var pending = System.Diagnostics.Stopwatch.StartNew();
                for (var i = 0; i < 3; i++)
                {
                    Assert.True((await fixture.CheckAsync(tenant, agent, "llm")).Allowed);
                }

                var withinInterval = Interlocked.Read(ref measured);

                // An interval later the next allow hands over the summary of all four, and the metric gets them: each once.
                ClusterFixture.Time.Advance(Interval);
                Assert.True((await fixture.CheckAsync(tenant, agent, "llm")).Allowed);

                // The summary timer (started by the second check) runs on the machine's clock: if an interval of it went
                // by, its tick may have handed the counts over in a turn of its own, which the marker cannot pick out.
                if (pending.Elapsed >= Interval && attempt < 3)
                {
                    continue;
                }

                Assert.Equal(1, withinInterval);
                Assert.Equal(5, Interlocked.Read(ref measured));
                break;
            }
        }
        finally
        {
            RequestContext.Remove(MarkerKey);
        }
    }

    private const string MarkerKey = "test-metric-marker";
}
