using System.Collections.Concurrent;
using System.Diagnostics;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;
using Xunit.Abstractions;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// Two clusters (separate silo processes, different cluster ids, one service id) on the same storage: the worst case
/// of a duplicate activation, where each cluster activates the same agent and neither knows of the other. Against
/// docs/quotas.md and docs/durability.md: the agent's quota is not overspent (reservations are ETag-checked writes of
/// the agent's state), and no acknowledged grant is lost.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class DuplicateActivationTests(ClusterProcessFixture cluster, ITestOutputHelper output)
{
    private const long TokensPerHour = 600;

    [Fact]
    public async Task SameAgentActiveInTwoClustersOnSharedStorage_NoQuotaOverspendAndNoLostGrant()
    {
        var serviceId = $"dup-{Guid.NewGuid():N}"[..20];
        var settings = cluster.SiloSettings(new Dictionary<string, string>
        {
            ["AGENTSEC_SERVICE_ID"] = serviceId,
            ["AgentSecurity__Audit__Rules__DenyBurst__Enabled"] = "false",
            [ClusterPlacement.ManagementSetting.Key] = ClusterPlacement.ManagementSetting.Value,
        });
        var clusterIds = new[] { serviceId + "-1", serviceId + "-2" };
        using var silo1 = new SiloProcess(cluster.StorageConnectionString, cluster.Operator.Did.Value, clusterIds[0], cluster.AuditKeyFile, settings);
        using var silo2 = new SiloProcess(cluster.StorageConnectionString, cluster.Operator.Did.Value, clusterIds[1], cluster.AuditKeyFile, settings);
        await silo1.StartAsync();
        await silo2.StartAsync();
        await using var host1 = await OrleansClientHost.StartAsync($"127.0.0.1:{silo1.GatewayPort}", clusterIds[0], cluster.Operator, cluster.ClientTls, serviceId);
        await using var host2 = await OrleansClientHost.StartAsync($"127.0.0.1:{silo2.GatewayPort}", clusterIds[1], cluster.Operator, cluster.ClientTls, serviceId);
        var clients = new[] { host1.Client, host2.Client };

        var tenant = "dup-" + Guid.NewGuid().ToString("N")[..10];
        var issuedAt = DateTimeOffset.UtcNow.AddMinutes(-50);
        var created = await host1.Client.CreateTenantAsync(TestDocuments.Tenant(tenant, issuedAt, TestKeys.Root.Did.Value).SignWith(cluster.Operator));
        Assert.True(created.Error is null, created.Message);
        string Grant(int second) => TestDocuments.Grant(tenant, "twin", issuedAt.AddSeconds(second), $"g-twin-{second}")
            .SetJson("resourceLimits", $$"""{"llmTokensPerHour":{{TokensPerHour}}}""").SignWith(TestKeys.Root);
        var first = await host1.Client.ApplyGrantAsync(Grant(0));
        Assert.True(first.Error is null, first.Message);

        // Both clusters activate the agent: each answers a check of it from its own activation.
        Assert.Equal("g-twin-0", (await host1.Client.GetStatusAsync(tenant, "twin")).GrantId);
        Assert.Equal("g-twin-0", (await host2.Client.GetStatusAsync(tenant, "twin")).GrantId);
        Assert.NotNull(await new ClusterPlacement(host1.Grains, serviceId).SiloOfAsync(host1.Client.Agent(tenant, "twin")));
        Assert.NotNull(await new ClusterPlacement(host2.Grains, serviceId).SiloOfAsync(host2.Client.Agent(tenant, "twin")));

        // Load: one-token llm checks through both clusters until each has been refused for the quota 100 times, while
        // grants with distinct issuedAt (same limits: a new grant does not reset counters) are applied through both
        // clusters in turn. An apply that returns unavailable is sent again: the caller's retry.
        var allowed = new int[2];
        var exceeded = new int[2];
        var other = new ConcurrentDictionary<string, int>();
        var appliedReturned = new ConcurrentDictionary<int, int>(); // issuedAt second -> cluster
        appliedReturned[0] = 0;
        var retriedApplies = 0;
        var spent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var firstCheck = TimeSpan.MaxValue;
        var lastAllowed = TimeSpan.Zero;
        var gate = new object();
        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var side = worker % 2;
            while (!stop.IsCancellationRequested)
            {
                var started = clock.Elapsed;
                var decision = await clients[side].CheckAsync(tenant, "twin", new CheckRequest("llm", null, 1));
                lock (gate)
                {
                    firstCheck = started < firstCheck ? started : firstCheck;
                    lastAllowed = decision.Allowed && clock.Elapsed > lastAllowed ? clock.Elapsed : lastAllowed;
                }

                if (decision.Allowed)
                {
                    Interlocked.Increment(ref allowed[side]);
                }
                else if (decision.Reason == ReasonCodes.QuotaExceeded)
                {
                    if (Interlocked.Increment(ref exceeded[side]) >= 100 && Volatile.Read(ref exceeded[1 - side]) >= 100)
                    {
                        spent.TrySetResult();
                    }
                }
                else
                {
                    other.AddOrUpdate(decision.Reason, 1, (_, n) => n + 1);
                }
            }
        })).Append(Task.Run(async () =>
        {
            for (var second = 1; !stop.IsCancellationRequested && second < 2000; second++)
            {
                var side = second % 2;
                for (var attempt = 0; attempt < 10; attempt++)
                {
                    var applied = await clients[side].ApplyGrantAsync(Grant(second));
                    if (applied.Error is null)
                    {
                        appliedReturned[second] = side;
                        break;
                    }

                    Assert.Equal(ReasonCodes.Unavailable, applied.Error); // a conflict is unavailable, never a refusal
                    Interlocked.Increment(ref retriedApplies);
                }
            }
        })).ToList();

        await LoadWait.ForAsync(spent.Task, workers, TimeSpan.FromSeconds(120), () =>
            $"allowed {allowed[0]} + {allowed[1]}, quota_exceeded {exceeded[0]} + {exceeded[1]}, other {string.Join(", ", other.Select(p => $"{p.Key} {p.Value}"))}, grants applied {appliedReturned.Count}");
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        // GCRA: the budget is the whole limit at once, plus what refills while the load runs.
        var ran = lastAllowed - firstCheck;
        var budget = TokensPerHour + (long)Math.Ceiling(ran.TotalHours * TokensPerHour);
        var total = allowed[0] + allowed[1];
        output.WriteLine($"allowed {total} tokens ({allowed[0]} via cluster 1, {allowed[1]} via cluster 2) in {ran.TotalSeconds:F1} s; " +
            $"budget {budget} (limit {TokensPerHour} + refill); overspend {total - budget}; quota_exceeded {exceeded[0]} + {exceeded[1]}; " +
            $"other answers: {string.Join(", ", other.Select(p => $"{p.Key} {p.Value}"))}; grants applied {appliedReturned.Count} " +
            $"({appliedReturned.Values.Count(s => s == 0)} via cluster 1, {appliedReturned.Values.Count(s => s == 1)} via cluster 2), {retriedApplies} applies answered unavailable and sent again");

        Assert.True(total <= budget, $"the two activations allowed {total} tokens; the limit allows {budget}");
        // Both activations decided checks (the marker needs 100 quota refusals from each); which of them spent the tokens
        // is a race between their reservations, and the bound is on the sum.
        Assert.True(allowed[0] + exceeded[0] > 0 && allowed[1] + exceeded[1] > 0, "one of the clusters decided no check");
        Assert.All(other.Keys, reason => Assert.Equal(ReasonCodes.Unavailable, reason));

        // No lost grant: a third cluster, started after both, reads the agent from storage; it holds the latest
        // acknowledged grant (or a later one whose answer was unavailable), and every acknowledged grant is in the log.
        var latest = appliedReturned.Keys.Max();
        using var silo3 = new SiloProcess(cluster.StorageConnectionString, cluster.Operator.Did.Value, serviceId + "-3", cluster.AuditKeyFile, settings);
        silo1.Kill();
        silo2.Kill();
        await silo3.StartAsync();
        await using var host3 = await OrleansClientHost.StartAsync($"127.0.0.1:{silo3.GatewayPort}", serviceId + "-3", cluster.Operator, cluster.ClientTls, serviceId);
        var status = await host3.Client.GetStatusAsync(tenant, "twin");
        var holds = int.Parse(status.GrantId!.Split('-')[^1], System.Globalization.CultureInfo.InvariantCulture);
        var expected = appliedReturned.Keys.Select(s => $"g-twin-{s}").ToHashSet();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        HashSet<string> logged;
        while (!expected.IsSubsetOf(logged = (await AuditLogReader.ReadAllAsync(host3.Client.Audit(tenant))).OfType<AdministrativeEvent>()
            .Where(e => e.Type == SecurityEventTypes.GrantApplied).Select(e => e.GrantId!).ToHashSet()) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(2)); // polls the silo process, with a deadline
        }

        output.WriteLine($"after both clusters: the agent holds {status.GrantId} (latest acknowledged g-twin-{latest}); " +
            $"acknowledged grants missing from the log: {expected.Except(logged).Count()}");
        Assert.True(holds >= latest, $"the agent holds {status.GrantId}, older than the acknowledged g-twin-{latest}");
        Assert.Empty(expected.Except(logged));
    }
}
