using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests.Audit;

/// <summary>
/// Denials of many agents of one tenant, answered while their queue writes are held (as under a slow queue), share
/// writes: each reaches the log once, and none is answered before the write that holds it has succeeded. Writes are
/// shared within a tenant only: another tenant's denials, at the same moment, never ride in them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GroupCommitTests(ClusterFixture fixture)
{
    // One denial per agent: an agent answers its checks one at a time, so its second denial would wait behind its first.
    private const int Agents = 64;
    private const int Denials = Agents;

    private async Task<string> TenantWithAgentsAsync()
    {
        var tenant = await fixture.NewTenantAsync();
        await Task.WhenAll(Enumerable.Range(0, Agents).Select(a => fixture.ApplyAsync(TestDocuments.Grant(tenant, $"bot{a}", fixture.Now, $"g-{a}").SignWith(TestKeys.Root))));
        await fixture.AuditLog.WaitForEventsAsync(tenant, e => e.Count(x => x.Type == SecurityEventTypes.GrantApplied) == Agents, TimeSpan.FromSeconds(15));
        return tenant;
    }

    private List<Task<Decision>> DenyAll(string tenant) =>
        [.. Enumerable.Range(0, Denials).Select(i => fixture.CheckAsync(tenant, $"bot{i % Agents}", "fileSystem:read", $"/etc/secret-{i}"))];

    [Fact]
    public async Task Denials_ManyAgentsConcurrently_AreEachLoggedOnceInFewerWritesThanDenials()
    {
        var tenant = await TenantWithAgentsAsync();
        using var hold = FaultyAuditEvents.HoldWrites(tenant, Denials);

        var checks = DenyAll(tenant);
        await hold.AllPublished.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(checks, c => c.IsCompleted); // every write is held: no denial may be answered yet
        hold.Release();
        var decisions = await Task.WhenAll(checks);

        Assert.All(decisions, d => Assert.Equal((false, ReasonCodes.OutOfScope), (d.Allowed, d.Reason)));
        var logged = await fixture.AuditLog.WaitForEventsAsync(tenant, e => e.Count(x => x.Type == SecurityEventTypes.CheckDenied) >= Denials, TimeSpan.FromSeconds(30));
        var denials = logged.OfType<DecisionEvent>().Where(d => d.Type == SecurityEventTypes.CheckDenied).ToList();
        Assert.Equal(Enumerable.Range(0, Denials).Select(i => $"/etc/secret-{i}").Order(StringComparer.Ordinal), denials.Select(d => d.Resource!).Order(StringComparer.Ordinal));
        Assert.Equal(Denials, denials.Select(d => d.Id).Distinct(StringComparer.Ordinal).Count());
        var writes = hold.Writes.ToList();
        Assert.Equal(Denials, writes.Sum(w => w.Count));
        Assert.True(writes.Count <= 4, $"{Denials} denials took {writes.Count} queue writes, not one held write and one after it on each of the two silos");
    }

    [Fact]
    public async Task Denials_TheirSharedWriteFails_AreAllAnsweredUnavailableAndNoneIsLogged()
    {
        var tenant = await TenantWithAgentsAsync();
        using (var hold = FaultyAuditEvents.HoldWrites(tenant, Denials))
        {
            FaultyAuditEvents.FailPublishing(tenant, true);
            try
            {
                var checks = DenyAll(tenant);
                await hold.AllPublished.WaitAsync(TimeSpan.FromSeconds(30));
                hold.Release();
                var decisions = await Task.WhenAll(checks);

                Assert.All(decisions, d => Assert.Equal((false, ReasonCodes.Unavailable), (d.Allowed, d.Reason)));
                Assert.True(hold.Writes.Count < Denials, $"{Denials} denials took {hold.Writes.Count} queue writes");
            }
            finally
            {
                FaultyAuditEvents.FailPublishing(tenant, false);
            }
        }

        // A denial after the queue is back marks the end of the log: nothing of the failed writes is before it.
        var marker = await fixture.CheckAsync(tenant, "bot0", "fileSystem:read", "/etc/after");
        Assert.Equal(ReasonCodes.OutOfScope, marker.Reason);
        var logged = await fixture.AuditLog.WaitForEventsAsync(tenant, e => e.Any(x => x is DecisionEvent { Resource: "/etc/after" }), TimeSpan.FromSeconds(15));
        Assert.Equal(["/etc/after"], logged.OfType<DecisionEvent>().Where(d => d.Type == SecurityEventTypes.CheckDenied).Select(d => d.Resource));
    }

    [Fact]
    public async Task Denials_OfTwoTenantsAtOnce_NeverShareAWriteAndOneTenantsFailedWriteStaysItsOwn()
    {
        var (a, b) = (await TenantWithAgentsAsync(), await TenantWithAgentsAsync());
        IReadOnlyList<IReadOnlyList<SecurityEvent>> writesOfA, writesOfB;
        using (var holdA = FaultyAuditEvents.HoldWrites(a, Denials))
        using (var holdB = FaultyAuditEvents.HoldWrites(b, Denials))
        {
            FaultyAuditEvents.FailPublishing(a, true);
            try
            {
                var (checksA, checksB) = (DenyAll(a), DenyAll(b));
                await Task.WhenAll(holdA.AllPublished, holdB.AllPublished).WaitAsync(TimeSpan.FromSeconds(30));
                holdA.Release();
                holdB.Release();

                Assert.All(await Task.WhenAll(checksA), d => Assert.Equal(ReasonCodes.Unavailable, d.Reason));
                Assert.All(await Task.WhenAll(checksB), d => Assert.Equal(ReasonCodes.OutOfScope, d.Reason));
            }
            finally
            {
                FaultyAuditEvents.FailPublishing(a, false);
            }

            (writesOfA, writesOfB) = (holdA.Writes.ToList(), holdB.Writes.ToList());
        }

        // Each write went to its tenant's stream with that tenant's events only, and all of B's reached B's log.
        Assert.All(writesOfA.SelectMany(w => w), e => Assert.Equal(a, e.TenantId));
        Assert.All(writesOfB.SelectMany(w => w), e => Assert.Equal(b, e.TenantId));
        Assert.Equal(Denials, writesOfB.Sum(w => w.Count));
        var logOfB = await fixture.AuditLog.WaitForEventsAsync(b, e => e.Count(x => x.Type == SecurityEventTypes.CheckDenied) >= Denials, TimeSpan.FromSeconds(30));
        Assert.Equal(Denials, logOfB.Count(x => x.Type == SecurityEventTypes.CheckDenied));
        Assert.All(logOfB, e => Assert.Equal(b, e.TenantId));

        // A's failed denials are nowhere: a denial after its queue is back is the first of its log.
        Assert.Equal(ReasonCodes.OutOfScope, (await fixture.CheckAsync(a, "bot0", "fileSystem:read", "/etc/after")).Reason);
        var logOfA = await fixture.AuditLog.WaitForEventsAsync(a, e => e.Any(x => x is DecisionEvent { Resource: "/etc/after" }), TimeSpan.FromSeconds(15));
        Assert.Equal(["/etc/after"], logOfA.OfType<DecisionEvent>().Where(d => d.Type == SecurityEventTypes.CheckDenied).Select(d => d.Resource));
        Assert.All(logOfA, e => Assert.Equal(a, e.TenantId));
    }
}
