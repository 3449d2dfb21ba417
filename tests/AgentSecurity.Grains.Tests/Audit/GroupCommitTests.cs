using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests.Audit;

/// <summary>
/// Denials of many agents of one tenant, answered while their queue writes are held (as under a slow queue), share
/// writes: each reaches the log once, and none is answered before the write that holds it has succeeded.
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
}
