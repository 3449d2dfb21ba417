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
/// The durability contract of the audit stream on real storage: a denial or an administrative event whose call has
/// returned is in the log and reaches subscribers, even when a silo process is killed while it is being produced.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class AuditDurabilityTests(ClusterProcessFixture cluster, ITestOutputHelper output)
{
    private const int Agents = 12;

    [Fact]
    public async Task SiloProcessKilledDuringLoad_NoReturnedDenialOrAppliedGrantIsMissingFromLogOrSubscriber()
    {
        // A cluster of its own (two silo processes, one to kill) on the shared Azurite. Its own service id gives it its
        // own event queues; the deny-burst rule is off because every check here is a denial and this test counts
        // them, it does not test detection.
        var clusterId = $"kill-{Guid.NewGuid():N}"[..20];
        var settings = cluster.SiloSettings(new Dictionary<string, string>
        {
            ["AGENTSEC_SERVICE_ID"] = clusterId,
            ["AgentSecurity__Audit__Rules__DenyBurst__Enabled"] = "false",
        });
        using var survivor = new SiloProcess(cluster.StorageConnectionString, cluster.Operator.Did.Value, clusterId, cluster.AuditKeyFile, settings);
        using var victim = new SiloProcess(cluster.StorageConnectionString, cluster.Operator.Did.Value, clusterId, cluster.AuditKeyFile, settings);
        await survivor.StartAsync();
        await victim.StartAsync();
        await using var host = await OrleansClientHost.StartAsync(
            $"127.0.0.1:{survivor.GatewayPort},127.0.0.1:{victim.GatewayPort}", clusterId, cluster.Operator, cluster.ClientTls, clusterId);
        var client = host.Client;

        var tenant = "kill-" + Guid.NewGuid().ToString("N")[..10];
        var issuedAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        var created = await client.CreateTenantAsync(TestDocuments.Tenant(tenant, issuedAt, TestKeys.Root.Did.Value).SignWith(cluster.Operator));
        Assert.True(created.Error is null, created.Message);
        var received = new ConcurrentDictionary<string, SecurityEvent>();
        await using var subscription = await client.SubscribeAsync(tenant, e =>
        {
            received.TryAdd(e.Id, e);
            return Task.CompletedTask;
        });
        for (var i = 0; i < Agents; i++)
        {
            var applied = await client.ApplyGrantAsync(TestDocuments.Grant(tenant, $"a{i}", issuedAt, $"g-a{i}-0").SignWith(TestKeys.Root));
            Assert.True(applied.Error is null, applied.Message);
        }

        // Load: denials with a unique resource each, and grant applies with a unique id each. What returned is recorded.
        var deniedReturned = new ConcurrentBag<string>();
        var appliedReturned = new ConcurrentBag<string>();
        var unavailable = 0;
        var deniedAfterKill = 0;
        var killed = 0;
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var agent = $"a{(worker + n) % Agents}";
                var resource = $"/secrets/w{worker}-{n}";
                var decision = await client.CheckAsync(tenant, agent, new CheckRequest("fileSystem:read", resource));
                if (decision.Reason == ReasonCodes.OutOfScope)
                {
                    deniedReturned.Add($"{agent} {resource}");
                    if (Volatile.Read(ref killed) == 1)
                    {
                        Interlocked.Increment(ref deniedAfterKill);
                    }
                }
                else
                {
                    Assert.Equal(ReasonCodes.Unavailable, decision.Reason); // never an allow
                    Interlocked.Increment(ref unavailable);
                }
            }
        })).Append(Task.Run(async () =>
        {
            for (var n = 1; !stop.IsCancellationRequested; n++)
            {
                var grantId = $"g-a{n % Agents}-{n}";
                var applied = await client.ApplyGrantAsync(TestDocuments.Grant(tenant, $"a{n % Agents}", issuedAt, grantId).SignWith(TestKeys.Root));
                if (applied.Error is null)
                {
                    appliedReturned.Add(grantId);
                }
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(4)); // the load's length before the kill: the scenario, not a wait for something
        victim.Kill();
        Volatile.Write(ref killed, 1);
        var deniedAtKill = deniedReturned.Count;

        // Load after the kill until the cluster has noticed and denials return again (slow on a loaded machine).
        var recovery = Stopwatch.StartNew();
        while (Volatile.Read(ref deniedAfterKill) < 50 && recovery.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(250); // a poll of the load's own counter, with a deadline
        }

        await Task.Delay(TimeSpan.FromSeconds(1)); // a second more of load once denials return: the scenario
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        var expectedDenials = deniedReturned.ToHashSet();
        var expectedApplies = appliedReturned.ToHashSet();
        output.WriteLine($"returned: {expectedDenials.Count} denials ({deniedAtKill} before the kill, {deniedAfterKill} after), " +
            $"{expectedApplies.Count} applied grants, {unavailable} unavailable");
        Assert.True(deniedAtKill > 50 && deniedAfterKill > 0 && expectedApplies.Count > 3, "the load did not run on both sides of the kill");

        // The log, read through the surviving silo, holds every one of them (redelivery after the kill can take a
        // queue-visibility timeout), and so does the external subscriber.
        var audit = client.Audit(tenant);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(150);
        var (loggedDenials, loggedApplies, records) = await ReadLogAsync(audit);
        while ((!expectedDenials.IsSubsetOf(loggedDenials) || !expectedApplies.IsSubsetOf(loggedApplies)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(2)); // a poll of the log through the surviving silo process, with a deadline
            (loggedDenials, loggedApplies, records) = await ReadLogAsync(audit);
        }

        var (heardDenials, heardApplies) = Keys(received.Values);
        while ((!expectedDenials.IsSubsetOf(heardDenials) || !expectedApplies.IsSubsetOf(heardApplies)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(1)); // a poll of what the external subscriber heard, with the same deadline
            (heardDenials, heardApplies) = Keys(received.Values);
        }

        output.WriteLine($"logged: {records.Count} records; missing from the log: {expectedDenials.Except(loggedDenials).Count()} denials, " +
            $"{expectedApplies.Except(loggedApplies).Count()} applies; missing at the subscriber: {expectedDenials.Except(heardDenials).Count()} denials, " +
            $"{expectedApplies.Except(heardApplies).Count()} applies");
        Assert.Empty(expectedDenials.Except(loggedDenials));
        Assert.Empty(expectedApplies.Except(loggedApplies));
        Assert.Empty(expectedDenials.Except(heardDenials));
        Assert.Empty(expectedApplies.Except(heardApplies));

        // At-least-once delivery and the crash did not put any event in the log twice, and the chain is intact.
        Assert.Equal(records.Count, records.Select(r => r.Id).Distinct().Count());
        var verification = await audit.VerifyAsync();
        Assert.True(verification.Valid, verification.Problem);
    }

    private static async Task<(HashSet<string> Denials, HashSet<string> Applies, List<SecurityEvent> Records)> ReadLogAsync(IAuditStreamGrain audit)
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

        var (denials, applies) = Keys(events);
        return (denials, applies, events);
    }

    private static (HashSet<string> Denials, HashSet<string> Applies) Keys(IEnumerable<SecurityEvent> events)
    {
        var list = events.ToList();
        return (list.OfType<DecisionEvent>().Where(e => e.Type == SecurityEventTypes.CheckDenied).Select(e => $"{e.AgentId} {e.Resource}").ToHashSet(),
            list.OfType<AdministrativeEvent>().Where(e => e.Type == SecurityEventTypes.GrantApplied && e.GrantId is not null).Select(e => e.GrantId!).ToHashSet());
    }
}
