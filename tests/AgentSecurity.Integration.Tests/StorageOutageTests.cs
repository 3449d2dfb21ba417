using System.Collections.Concurrent;
using System.Diagnostics;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Client;
using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;
using Xunit.Abstractions;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// A storage outage on real processes: the cluster's own Azurite is stopped under load and started again on the same
/// ports and data, while two silos keep running. What must hold (docs/durability.md): no allow the grant does not
/// give; every write refused with <c>unavailable</c> within a bounded time; <c>/healthz</c> degraded; recovery
/// without restarting a silo; nothing acknowledged lost.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class StorageOutageTests(ClusterProcessFixture cluster, ITestOutputHelper output)
{
    /// <summary>Within what the cluster survives (docs/durability.md: up to 30 s with Orleans' default membership settings).</summary>
    private static readonly TimeSpan OutageLength = TimeSpan.FromSeconds(20);

    /// <summary>What "bounded" means for a refused write: an Orleans call would time out at 30 s.</summary>
    private static readonly TimeSpan RefusalBound = TimeSpan.FromSeconds(15);

    private const int CheckedAgents = 4;

    // A tenth of it is one reservation (docs/quotas.md), and each metered check below asks for more than half of that:
    // every check spends what is left of a reservation, so the next one needs a reservation written first. The hour's
    // budget is about 19 such checks.
    private const long TokensPerHour = 36_000_000;
    private const long TokensPerCheck = (TokensPerHour / 20) + 1;

    [Fact]
    public async Task AzuriteStoppedUnderLoad_FailsClosedDegradesAndRecoversWithoutRestartOrLoss()
    {
        using var azurite = await AzuriteProcess.StartAsync();
        var clusterId = $"outage-{Guid.NewGuid():N}"[..20];
        var settings = cluster.SiloSettings(new Dictionary<string, string>
        {
            ["AGENTSEC_SERVICE_ID"] = clusterId,
            // Every denial here is counted; the deny-burst rule would quarantine the agents that make them.
            ["AgentSecurity__Audit__Rules__DenyBurst__Enabled"] = "false",
        });
        using var first = new SiloProcess(azurite.ConnectionString, cluster.Operator.Did.Value, clusterId, cluster.AuditKeyFile, settings);
        using var second = new SiloProcess(azurite.ConnectionString, cluster.Operator.Did.Value, clusterId, cluster.AuditKeyFile, settings);
        await first.StartAsync();
        await second.StartAsync();
        SiloProcess[] silos = [first, second];
        await using var host = await OrleansClientHost.StartAsync(
            $"127.0.0.1:{first.GatewayPort},127.0.0.1:{second.GatewayPort}", clusterId, cluster.Operator, cluster.ClientTls, clusterId);
        var client = host.Client;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };

        var tenant = "outage-" + Guid.NewGuid().ToString("N")[..10];
        var issuedAt = DateTimeOffset.UtcNow.AddMinutes(-10);
        var created = await client.CreateTenantAsync(TestDocuments.Tenant(tenant, issuedAt, TestKeys.Root.Did.Value).SignWith(cluster.Operator));
        Assert.True(created.Error is null, created.Message);

        // Agents c* are only checked (their grants are in memory once active); g* receive grants under load; q is metered;
        // z is quarantined and released; r's grant is what the outage's revocations try to revoke.
        for (var i = 0; i < CheckedAgents; i++)
        {
            await ApplyAsync(client, TestDocuments.Grant(tenant, $"c{i}", issuedAt, $"g-c{i}"));
        }

        await ApplyAsync(client, TestDocuments.Grant(tenant, "q", issuedAt, "g-q").SetJson("resourceLimits", $$"""{"llmTokensPerHour":{{TokensPerHour}}}"""));
        await ApplyAsync(client, TestDocuments.Grant(tenant, "z", issuedAt, "g-z"));
        await ApplyAsync(client, TestDocuments.Grant(tenant, "r", issuedAt, "g-r"));
        for (var i = 0; i < CheckedAgents; i++)
        {
            Assert.True((await client.CheckAsync(tenant, $"c{i}", new CheckRequest("fileSystem:read", "/workspace/warm"))).Allowed);
        }

        var healthyBefore = await WaitForHealthAsync(http, silos, "Healthy", TimeSpan.FromSeconds(60));
        Assert.True(healthyBefore.All(h => h == "Healthy"), $"before the outage: {string.Join(", ", healthyBefore)}; {StorageLog(silos)}");

        var clock = Stopwatch.StartNew();
        var calls = new ConcurrentBag<Call>();
        var acknowledgedDenials = new ConcurrentBag<string>();
        var acknowledgedAdmin = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();

        async Task<T> Timed<T>(string kind, Func<Task<T>> call, Func<T, (bool Ok, string Code, bool InGrant)> outcome, string? resource = null)
        {
            var started = clock.Elapsed;
            var result = await call();
            var (ok, code, inGrant) = outcome(result);
            calls.Add(new Call(kind, started, clock.Elapsed, ok, code, inGrant, resource));
            return result;
        }

        var checks = Enumerable.Range(0, 3).Select(worker => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var agent = $"c{(worker + n) % CheckedAgents}";
                // Half the checks ask for what the grant gives, half for what it does not; each denial names a resource of
                // its own, so the log can show every acknowledged one.
                var resource = n % 2 == 0 ? $"/workspace/w{worker}-{n}" : $"/secrets/w{worker}-{n}";
                var decision = await Timed("check", () => client.CheckAsync(tenant, agent, new CheckRequest("fileSystem:read", resource)),
                    d => (d.Allowed, d.Reason, resource.StartsWith("/workspace/", StringComparison.Ordinal)), resource);
                if (!decision.Allowed && decision.Reason != ReasonCodes.Unavailable)
                {
                    acknowledgedDenials.Add($"{agent} {resource}");
                }
            }
        }));
        var grants = Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var grantId = $"g-g{n}";
                var applied = await Timed("grant apply", () => client.ApplyGrantAsync(TestDocuments.Grant(tenant, $"g{n % 4}", issuedAt, grantId).SignWith(TestKeys.Root)),
                    r => (r.Applied, r.Error ?? "applied", true));
                if (applied.Applied)
                {
                    acknowledgedAdmin.Add($"{SecurityEventTypes.GrantApplied} {grantId}");
                    var revoked = await Timed("revoke", () => client.RevokeAsync(TestDocuments.Revocation(tenant, grantId, issuedAt.AddMinutes(1)).SignWith(TestKeys.Root)),
                        r => (r.Revoked, r.Error ?? "revoked", true));
                    if (revoked.Revoked)
                    {
                        acknowledgedAdmin.Add($"{SecurityEventTypes.GrantRevoked} {grantId}");
                    }
                }
                else
                {
                    // While grants cannot be applied, the revocation of one applied before the outage is tried instead.
                    var revoked = await Timed("revoke", () => client.RevokeAsync(TestDocuments.Revocation(tenant, "g-r", issuedAt.AddMinutes(1)).SignWith(TestKeys.Root)),
                        r => (r.Revoked, r.Error ?? "revoked", true));
                    if (revoked.Revoked)
                    {
                        acknowledgedAdmin.Add($"{SecurityEventTypes.GrantRevoked} g-r");
                    }
                }

                await Task.Delay(100, CancellationToken.None); // pacing of the load, not synchronization
            }
        });
        var quarantines = Task.Run(async () =>
        {
            var quarantined = false;
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var reason = $"outage-{n}";
                var document = TestDocuments.Quarantine(tenant, "z", issuedAt.AddSeconds(n + 1), quarantine: !quarantined, reason: reason).SignWith(TestKeys.Root);
                var result = await Timed("quarantine", () => client.QuarantineAsync(document), r => (r.Accepted, r.Error ?? "accepted", true));
                if (result.Accepted)
                {
                    acknowledgedAdmin.Add($"{(quarantined ? SecurityEventTypes.AgentReleased : SecurityEventTypes.AgentQuarantined)} {reason}");
                    quarantined = !quarantined;
                }

                await Task.Delay(200, CancellationToken.None); // pacing
            }
        });
        var reservations = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Timed("reservation", () => client.CheckAsync(tenant, "q", new CheckRequest("llm", "model", TokensPerCheck)), d => (d.Allowed, d.Reason, true));
                await Task.Delay(2000, CancellationToken.None); // pacing: the hour's budget is about 19 such checks
            }
        });
        List<Task> load = [.. checks, grants, quarantines, reservations];

        // Load before the outage until every kind of write has gone through at least once.
        await WaitUntilAsync(() => new[] { "grant apply", "revoke", "quarantine", "reservation" }.All(k => calls.Any(c => c.Kind == k && c.Ok)), TimeSpan.FromSeconds(60), "the load's writes before the outage");

        await azurite.StopAsync();
        var outageStarted = clock.Elapsed;
        var healthDuringOutage = await WaitForHealthAsync(http, silos, "Degraded", OutageLength);
        var degradedAfter = clock.Elapsed - outageStarted;
        var remaining = OutageLength - (clock.Elapsed - outageStarted);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining); // the outage's length is the scenario, not a wait for something to happen
        }

        var outageEnded = clock.Elapsed;
        await azurite.StartAgainAsync();
        var restarted = clock.Elapsed;

        // Recovery: each kind of write is acknowledged again, denials are recorded again, and both silos are healthy.
        string[] kinds = ["grant apply", "quarantine", "reservation"];
        await WaitUntilAsync(() => kinds.All(k => calls.Any(c => c.Kind == k && c.Ok && c.Started >= restarted))
            && calls.Any(c => c.Kind == "check" && !c.InGrant && c.Code == ReasonCodes.OutOfScope && c.Started >= restarted),
            TimeSpan.FromSeconds(120), "the writes and recorded denials after storage returned");
        var healthyAgain = await WaitForHealthAsync(http, silos, "Healthy", TimeSpan.FromSeconds(60));
        var recovered = clock.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(load);

        var during = calls.Where(c => c.Started >= outageStarted && c.Ended <= outageEnded).ToList();
        var duringChecks = during.Where(c => c.Kind == "check").ToList();
        var writes = during.Where(c => c.Kind != "check").ToList();
        var firstAfter = kinds.Append("check").ToDictionary(k => k, k => calls.Where(c => c.Kind == k && c.Ok && c.Started >= restarted).Select(c => c.Ended - restarted).DefaultIfEmpty().Min());
        output.WriteLine($"outage: {OutageLength.TotalSeconds:0} s with Azurite stopped (SIGTERM), two silos, {calls.Count} calls in all");
        output.WriteLine($"/healthz during the outage: {string.Join(", ", healthDuringOutage)} ({degradedAfter.TotalSeconds:0.0} s after the stop); after: {string.Join(", ", healthyAgain)}");
        output.WriteLine($"checks answered during the outage: {duringChecks.Count}; allowed: {duringChecks.Count(c => c.Ok)} " +
            $"(all within the grant: {duringChecks.Where(c => c.Ok).All(c => c.InGrant)}); denied unavailable: {duringChecks.Count(c => c.Code == ReasonCodes.Unavailable)}; " +
            $"other denials: {duringChecks.Count(c => !c.Ok && c.Code != ReasonCodes.Unavailable)}");
        output.WriteLine("writes refused during the outage: " + string.Join(", ", writes.GroupBy(c => c.Kind).OrderBy(g => g.Key)
            .Select(g => $"{g.Key} {g.Count(c => !c.Ok)} of {g.Count()} ({string.Join("/", g.Select(c => c.Code).Distinct())}), slowest answer {g.Max(c => c.Ended - c.Started).TotalSeconds:0.0} s")));
        output.WriteLine($"time to recover after Azurite listened again: {(recovered - restarted).TotalSeconds:0.0} s (first acknowledged " +
            string.Join(", ", firstAfter.Select(p => $"{p.Key} {p.Value.TotalSeconds:0.0} s")) + $"); silo processes still running: {silos.Count(s => s.IsRunning)} of 2");

        // Never an allow the grant does not give, before, during or after.
        Assert.DoesNotContain(calls, c => c.Ok && !c.InGrant);
        // Decidable from memory: the checked agents' grants answer during the outage.
        Assert.Contains(duringChecks, c => c.Ok);
        // A denial that could not be recorded is unavailable, never an unrecorded out_of_scope.
        Assert.All(duringChecks.Where(c => !c.Ok), c => Assert.Equal(ReasonCodes.Unavailable, c.Code));
        // Every write is refused, as unavailable and within a bounded time; every kind was tried.
        Assert.Equal(["grant apply", "quarantine", "reservation", "revoke"], writes.Select(c => c.Kind).Distinct().Order().ToArray());
        Assert.All(writes.Where(c => c.Kind != "reservation"), c => Assert.Equal(ReasonCodes.Unavailable, c.Code));
        // A metered check may still spend a reservation written before the outage; once that is gone, it is refused.
        Assert.All(writes.Where(c => c.Kind == "reservation"), c => Assert.True(c.Ok || c.Code == ReasonCodes.Unavailable, c.Code));
        Assert.Contains(writes, c => c.Kind == "reservation" && !c.Ok);
        Assert.All(writes, c => Assert.True(c.Ended - c.Started < RefusalBound, $"{c.Kind} answered after {c.Ended - c.Started}"));
        Assert.True(healthDuringOutage.All(h => h == "Degraded"), $"during the outage: {string.Join(", ", healthDuringOutage)}");
        // Recovered without a restart: the same two processes answer, healthy (a silo its cluster declares dead stops).
        Assert.All(silos, s => Assert.True(s.IsRunning, s.Output));
        Assert.True(healthyAgain.All(h => h == "Healthy"), $"after the outage: {string.Join(", ", healthyAgain)}; {StorageLog(silos)}");

        // Nothing acknowledged is lost: every denial that was answered as such, and every administrative change that was
        // acknowledged, is in the tenant's log.
        var expectedDenials = acknowledgedDenials.ToHashSet();
        var expectedAdmin = acknowledgedAdmin.ToHashSet();
        var audit = client.Audit(tenant);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(150);
        var (denials, admin, records) = await ReadLogAsync(audit);
        while ((!expectedDenials.IsSubsetOf(denials) || !expectedAdmin.IsSubsetOf(admin)) && DateTime.UtcNow < deadline)
        {
            // A poll of the log with a deadline. The stream redelivers what storage refused on its own retry schedule;
            // an audit subscription would be the better signal (left for the next change, see the note).
            await Task.Delay(TimeSpan.FromSeconds(1));
            (denials, admin, records) = await ReadLogAsync(audit);
        }

        var lostDenials = expectedDenials.Except(denials).ToList();
        var lostAdmin = expectedAdmin.Except(admin).ToList();
        output.WriteLine($"events lost: {lostDenials.Count + lostAdmin.Count} (acknowledged: {expectedDenials.Count} denials, {expectedAdmin.Count} administrative events; " +
            $"missing: {lostDenials.Count} denials, {lostAdmin.Count} administrative: {string.Join(", ", lostAdmin.Take(5))}); log: {records.Count} records");
        Assert.Empty(lostDenials);
        Assert.Empty(lostAdmin);
        Assert.Equal(records.Count, records.Select(r => r.Id).Distinct().Count());
        var verification = await audit.VerifyAsync();
        Assert.True(verification.Valid, verification.Problem);
    }

    // What the silos logged about storage's health (events 5201 and 5202), for a failure's message.
    private static string StorageLog(SiloProcess[] silos) =>
        string.Join(" | ", silos.SelectMany(s => s.Output.Split('\n')).Where(l => l.Contains("storage does not answer", StringComparison.Ordinal) || l.Contains("storage answers again", StringComparison.Ordinal)).Select(l => l.Trim()));

    private static async Task ApplyAsync(AgentSecurityClient client, DocumentTemplate grant)
    {
        var applied = await client.ApplyGrantAsync(grant.SignWith(TestKeys.Root));
        Assert.True(applied.Applied, applied.Message);
    }

    private static async Task<string[]> HealthAsync(HttpClient http, SiloProcess[] silos) =>
        await Task.WhenAll(silos.Select(async silo =>
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{silo.HttpPort}/healthz"));
                return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}" switch
                {
                    "200 Healthy" => "Healthy",
                    "200 Degraded" => "Degraded",
                    var other => other,
                };
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return e.GetType().Name;
            }
        }));

    // Polls the silos' health (an external process's state) until every silo reports it, or the time is up.
    private static async Task<string[]> WaitForHealthAsync(HttpClient http, SiloProcess[] silos, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var health = await HealthAsync(http, silos);
            if (health.All(h => h == status) || DateTime.UtcNow > deadline)
            {
                return health;
            }

            // A poll with a deadline: /healthz and the Azurite process answer when asked and push nothing.
            await Task.Delay(250);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            // A poll with a deadline: /healthz and the Azurite process answer when asked and push nothing.
            await Task.Delay(250);
        }
    }

    private static async Task<(HashSet<string> Denials, HashSet<string> Admin, List<SecurityEvent> Records)> ReadLogAsync(IAuditStreamGrain audit)
    {
        var events = new List<SecurityEvent>();
        for (long next = 1; ;)
        {
            var page = await audit.ReadAsync(next, 1000);
            events.AddRange(page.Select(r => SecurityEventJson.Read(r.EventJson)));
            if (page.Count < 1000)
            {
                break;
            }

            next = page[^1].Sequence + 1;
        }

        var denials = events.OfType<DecisionEvent>().Where(e => e.Type == SecurityEventTypes.CheckDenied).Select(e => $"{e.AgentId} {e.Resource}").ToHashSet();
        var admin = events.OfType<AdministrativeEvent>().SelectMany(e => e.Type switch
        {
            SecurityEventTypes.GrantApplied or SecurityEventTypes.GrantRevoked => [$"{e.Type} {e.GrantId}"],
            SecurityEventTypes.AgentQuarantined or SecurityEventTypes.AgentReleased => [$"{e.Type} {e.Message}"],
            _ => Array.Empty<string>(),
        }).ToHashSet();
        return (denials, admin, events);
    }

    private sealed record Call(string Kind, TimeSpan Started, TimeSpan Ended, bool Ok, string Code, bool InGrant, string? Resource);
}
