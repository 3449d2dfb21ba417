using System.Collections.Concurrent;
using System.Diagnostics;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;
using Xunit.Abstractions;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// A revocation racing checks that enter the cluster through both of its silo processes, with checks in flight while the
/// revoke call runs: once the call has returned, no check that starts is allowed (docs/grants.md).
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class RevocationRaceTests(ClusterProcessFixture cluster, ITestOutputHelper output)
{
    private const int WorkersPerSilo = 4;

    [Fact]
    public async Task RevokeWhileChecksRunOnTwoSilos_NoCheckStartedAfterRevokeReturnedIsAllowed()
    {
        var clusterId = $"race-{Guid.NewGuid():N}"[..20];
        var settings = cluster.SiloSettings(new Dictionary<string, string>
        {
            ["AGENTSEC_SERVICE_ID"] = clusterId,
            ["AgentSecurity__Audit__Rules__DenyBurst__Enabled"] = "false", // else the burst of revoked answers quarantines the agent
            [ClusterPlacement.ManagementSetting.Key] = ClusterPlacement.ManagementSetting.Value,
        });
        using var first = new SiloProcess(cluster.StorageConnectionString, cluster.Operator.Did.Value, clusterId, cluster.AuditKeyFile, settings);
        using var second = new SiloProcess(cluster.StorageConnectionString, cluster.Operator.Did.Value, clusterId, cluster.AuditKeyFile, settings);
        await first.StartAsync();
        await second.StartAsync();

        // One client per silo, each knowing only that silo's gateway: every check enters through the silo it names.
        await using var viaFirst = await OrleansClientHost.StartAsync($"127.0.0.1:{first.GatewayPort}", clusterId, cluster.Operator, cluster.ClientTls, clusterId);
        await using var viaSecond = await OrleansClientHost.StartAsync($"127.0.0.1:{second.GatewayPort}", clusterId, cluster.Operator, cluster.ClientTls, clusterId);
        var tenant = "race-" + Guid.NewGuid().ToString("N")[..10];
        var issuedAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        var created = await viaFirst.Client.CreateTenantAsync(TestDocuments.Tenant(tenant, issuedAt, TestKeys.Root.Did.Value).SignWith(cluster.Operator));
        Assert.True(created.Error is null, created.Message);
        var applied = await viaSecond.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "racer", issuedAt, "g-race").SignWith(TestKeys.Root));
        Assert.True(applied.Error is null, applied.Message);
        var agentSilo = await new ClusterPlacement(viaFirst.Grains, clusterId).SiloOfAsync(viaFirst.Client.Agent(tenant, "racer"));

        var checks = new ConcurrentBag<(int Silo, long Started, long Returned, Decision Decision)>();
        long revokeReturned = 0;
        var allowedPerSilo = new int[2];
        var reasons = new ConcurrentDictionary<string, int>();
        var startedAfter = 0;
        var warm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var enoughAfter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var clients = new[] { viaFirst.Client, viaSecond.Client };
        var workers = Enumerable.Range(0, 2 * WorkersPerSilo).Select(worker => Task.Run(async () =>
        {
            var silo = worker % 2;
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var started = Stopwatch.GetTimestamp();
                var decision = await clients[silo].CheckAsync(tenant, "racer", new CheckRequest("fileSystem:read", $"/workspace/w{worker}-{n}"));
                checks.Add((silo, started, Stopwatch.GetTimestamp(), decision));
                reasons.AddOrUpdate($"{silo}:{decision.Reason}", 1, (_, c) => c + 1);
                if (decision.Allowed && Interlocked.Increment(ref allowedPerSilo[silo]) >= 200 && Volatile.Read(ref allowedPerSilo[1 - silo]) >= 200)
                {
                    warm.TrySetResult();
                }

                var revoked = Interlocked.Read(ref revokeReturned);
                if (revoked != 0 && started > revoked && Interlocked.Increment(ref startedAfter) >= 300)
                {
                    enoughAfter.TrySetResult();
                }
            }
        })).ToList();

        string State() => string.Join(", ", reasons.Select(r => $"via {r.Key} {r.Value}"));
        await LoadWait.ForAsync(warm.Task, workers, TimeSpan.FromSeconds(90), State); // checks are being allowed through both silos
        var revokeStarted = Stopwatch.GetTimestamp();
        var revocation = await viaFirst.Client.RevokeAsync(TestDocuments.Revocation(tenant, "g-race", DateTimeOffset.UtcNow).SignWith(TestKeys.Root));
        Interlocked.Exchange(ref revokeReturned, Stopwatch.GetTimestamp());
        Assert.True(revocation.Error is null, revocation.Message);
        await LoadWait.ForAsync(enoughAfter.Task, workers, TimeSpan.FromSeconds(150), State); // denials are queued before they return: slower
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        var returnedAt = Interlocked.Read(ref revokeReturned);
        var all = checks.ToList();
        var inFlight = all.Where(c => c.Started < returnedAt && c.Returned > revokeStarted).ToList();
        var after = all.Where(c => c.Started > returnedAt).ToList();
        var allowedAfter = after.Where(c => c.Decision.Allowed).ToList();
        output.WriteLine($"agent on silo {agentSilo} (silos {first.SiloPort}, {second.SiloPort}); revoke took {Stopwatch.GetElapsedTime(revokeStarted, returnedAt).TotalMilliseconds:F1} ms; " +
            $"{all.Count} checks: {inFlight.Count} in flight during the call ({inFlight.Count(c => c.Decision.Allowed)} allowed), " +
            $"{after.Count} started after it returned ({after.Count(c => c.Silo == 0)} via silo {first.SiloPort}, {after.Count(c => c.Silo == 1)} via silo {second.SiloPort}); " +
            $"allows after revoke returned: {allowedAfter.Count}; reasons after: {string.Join(", ", after.GroupBy(c => c.Decision.Reason).Select(g => $"{g.Key} {g.Count()}"))}");

        Assert.True(inFlight.Count > 0, "no check was in flight while the revoke call ran");
        Assert.True(after.Count(c => c.Silo == 0) > 50 && after.Count(c => c.Silo == 1) > 50, "checks after the revocation did not run through both silos");
        Assert.Empty(allowedAfter);
        Assert.All(after, c => Assert.Contains(c.Decision.Reason, new[] { ReasonCodes.Revoked, ReasonCodes.NoGrant, ReasonCodes.Unavailable }));
    }
}
