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
/// A SIGKILL of the silo that matters: the one hosting the tenant's audit grain, the pulling agent of the tenant's
/// event queue and the agents under load, each found through the management grain before the kill. Against
/// docs/durability.md: no acknowledged denial or administrative event is lost, no applied grant is undone, and each
/// agent's allowed-check counts lose only what the stated window holds, computed from what the client saw: an allow
/// answered an interval or more before a later allow of the same agent started was handed to the queue writer by then,
/// and is written once a denial that started after that later allow returned was acknowledged (the silo writes a
/// tenant's events in the order they were handed over, a denial only before it is answered).
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class SiloKillWhereItHurtsTests(ClusterProcessFixture cluster, ITestOutputHelper output)
{
    /// <summary>The silos' <c>AllowedSummaryInterval</c>, set explicitly: the window below is counted in it.</summary>
    private static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(1);

    private const int LoadedAgents = 6;

    [Fact]
    public async Task KillSiloHostingAuditGrainQueueReaderAndAgents_NoAcknowledgedEventLostAndCountsWithinWindow()
    {
        var clusterId = $"hurt-{Guid.NewGuid():N}"[..20];
        var settings = cluster.SiloSettings(new Dictionary<string, string>
        {
            ["AGENTSEC_SERVICE_ID"] = clusterId,
            ["AgentSecurity__Audit__Rules__DenyBurst__Enabled"] = "false", // every check here is counted, not detected
            ["AgentSecurity__Audit__AllowedSummaryInterval"] = SummaryInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
            [ClusterPlacement.ManagementSetting.Key] = ClusterPlacement.ManagementSetting.Value,
        });
        // Storage of its own: the test freezes it around the kill, which the other tests' silo must not feel.
        using var storage = await AzuriteProcess.StartAsync();
        using var first = new SiloProcess(storage.ConnectionString, cluster.Operator.Did.Value, clusterId, cluster.AuditKeyFile, settings);
        using var second = new SiloProcess(storage.ConnectionString, cluster.Operator.Did.Value, clusterId, cluster.AuditKeyFile, settings);
        await first.StartAsync();
        await second.StartAsync();
        var silos = new Dictionary<int, SiloProcess> { [first.SiloPort] = first, [second.SiloPort] = second };
        await using var host = await OrleansClientHost.StartAsync(
            $"127.0.0.1:{first.GatewayPort},127.0.0.1:{second.GatewayPort}", clusterId, cluster.Operator, cluster.ClientTls, clusterId);
        var client = host.Client;
        var placement = new ClusterPlacement(host.Grains, clusterId);
        // Whose pulling agent reads which queue: a queue whose agent only one silo lists is read by that silo.
        var readers = await placement.ExclusiveQueueReadersAsync(TimeSpan.FromSeconds(90));
        var allReaders = await placement.QueueReadersAsync();
        output.WriteLine("queue readers: " + string.Join("; ", allReaders.Select(r => $"silo {r.Key}: {string.Join(",", r.Value)}")) +
            "; read by one silo alone: " + string.Join("; ", readers.Select(r => $"silo {r.Key}: {string.Join(",", r.Value)}")));

        // The tenant: one whose audit grain landed on the silo that alone reads its queue. Which silo reads a queue is
        // known before the tenant exists; where its audit grain activates is not, so tenants are tried until they
        // coincide, each try aiming at the other silo than the last (placement may favour one).
        var issuedAt = DateTimeOffset.UtcNow.AddMinutes(-50);
        var received = new ConcurrentDictionary<string, SecurityEvent>();
        using var summarisedHeard = new SemaphoreSlim(0); // released for every summary the subscriber receives
        string? tenant = null;
        IAsyncDisposable? subscription = null;
        var victimPort = 0;
        var aims = readers.Where(r => r.Value.Count > 0).Select(r => r.Key).Order().ToList();
        // A client per aimed silo, through its gateway alone: the audit grain is first called from there, and placement
        // prefers the silo a call enters through. The test's load and subscription go through both gateways.
        var aimed = new Dictionary<int, OrleansClientHost>();
        foreach (var aim in aims)
        {
            aimed[aim] = await OrleansClientHost.StartAsync($"127.0.0.1:{silos[aim].GatewayPort}", clusterId, cluster.Operator, cluster.ClientTls, clusterId);
        }

        for (var attempt = 0; attempt < 24 && tenant is null; attempt++)
        {
            var aim = aims[attempt % aims.Count];
            string candidate;
            do
            {
                candidate = "hurt-" + Guid.NewGuid().ToString("N")[..10];
            }
            while (!readers[aim].Contains(placement.QueueOf(candidate)));

            var created = await aimed[aim].Client.CreateTenantAsync(TestDocuments.Tenant(candidate, issuedAt, TestKeys.Root.Did.Value).SignWith(cluster.Operator));
            Assert.True(created.Error is null, created.Message);
            await aimed[aim].Client.Audit(candidate).ReadAsync(1, 1); // activates the audit grain, from the aimed silo
            var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var candidateSubscription = await client.SubscribeAsync(candidate, e =>
            {
                received.TryAdd(e.Id, e);
                if (e.Type == SecurityEventTypes.ChecksAllowed)
                {
                    summarisedHeard.Release();
                }

                if (e.Type == SecurityEventTypes.TenantCreated)
                {
                    heard.TrySetResult();
                }

                return Task.CompletedTask;
            });
            // Delivered through the queue: the audit grain is active. A queue whose reader the silos were still handing
            // over when it was listed may keep its message until a visibility timeout: that tenant is left for another.
            if (await Task.WhenAny(heard.Task, Task.Delay(TimeSpan.FromSeconds(45))) != heard.Task)
            {
                var now = await placement.QueueReadersAsync();
                output.WriteLine($"tenant {candidate}: its creation did not reach the subscriber in 45 s; queue readers now: " +
                    string.Join("; ", now.Select(r => $"silo {r.Key}: {string.Join(",", r.Value)}")));
                await candidateSubscription.DisposeAsync();
                received.Clear();
                continue;
            }

            var auditSilo = await placement.SiloOfAsync(client.Audit(candidate));
            output.WriteLine($"tenant {candidate}: queue read by silo {aim}, audit grain on silo {auditSilo}");
            if (auditSilo == aim)
            {
                (tenant, subscription, victimPort) = (candidate, candidateSubscription, aim);
            }
            else
            {
                await candidateSubscription.DisposeAsync();
                received.Clear();
            }
        }

        foreach (var one in aimed.Values)
        {
            await one.DisposeAsync();
        }

        Assert.True(tenant is not null, "no tenant's audit grain activated on the silo reading its queue in 24 tries");
        await using var tenantSubscription = subscription;
        var victim = silos[victimPort];

        // Agents: grants applied until enough agents are active on the victim; those are the ones under load.
        var grantSeconds = 0;
        var appliedReturned = new ConcurrentDictionary<string, (string Agent, int Second)>();
        var loaded = new List<string>();
        for (var i = 0; i < 64 && loaded.Count < LoadedAgents; i++)
        {
            var agent = $"a{i}";
            var grantId = $"g-{agent}-{++grantSeconds}";
            var applied = await client.ApplyGrantAsync(TestDocuments.Grant(tenant!, agent, issuedAt.AddSeconds(grantSeconds), grantId).SignWith(TestKeys.Root));
            Assert.True(applied.Error is null, applied.Message);
            appliedReturned[grantId] = (agent, grantSeconds);
            if (await placement.SiloOfAsync(client.Agent(tenant!, agent)) == victimPort)
            {
                loaded.Add(agent);
            }
        }

        Assert.True(loaded.Count == LoadedAgents, $"only {loaded.Count} of 64 agents activated on the victim silo");
        Assert.Equal(victimPort, await placement.SiloOfAsync(client.Audit(tenant!)));
        var readersNow = await placement.QueueReadersAsync();
        Assert.Contains(placement.QueueOf(tenant!), readersNow[victimPort]);
        Assert.DoesNotContain(readersNow, r => r.Key != victimPort && r.Value.Contains(placement.QueueOf(tenant!)));
        output.WriteLine($"victim silo {victimPort} hosts the audit grain of {tenant}, the reader of queue {placement.QueueOf(tenant!)} and agents {string.Join(",", loaded)}");

        // Load on the victim's agents: denials (a unique resource each), allowed checks and denials timed when they started
        // and returned (the client's clock), grant applies with distinct issuedAt. What returned is recorded.
        var deniedReturned = new ConcurrentBag<string>();
        var denialTimes = new ConcurrentBag<(long Started, long Returned)>();
        var allowedReturned = new ConcurrentDictionary<string, ConcurrentBag<(long Started, long Returned)>>();
        foreach (var agent in loaded)
        {
            allowedReturned[agent] = [];
        }

        var unavailable = 0;
        long killedAt = 0; // Stopwatch timestamp; 0 while the victim runs
        long stalledAt = 0, resumedAt = 0; // Stopwatch timestamps of the storage stall around the kill; 0 until then
        var startedInStall = 0;
        var answeredInStall = 0; // denials that started during the stall and came back out_of_scope before it ended
        var answeredInStallMark = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var afterKill = new int[3]; // denials, allows, applies returned after the kill
        var before = new int[3];
        var loadRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var recovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Returned(int kind)
        {
            var killed = Interlocked.Read(ref killedAt) != 0;
            var counts = killed ? afterKill : before;
            Interlocked.Increment(ref counts[kind]);
            if (!killed && before[0] >= 100 && before[1] >= 100 && before[2] >= 5)
            {
                loadRan.TrySetResult();
            }

            if (killed && afterKill[0] >= 30 && afterKill[1] >= 30 && afterKill[2] >= 3)
            {
                recovered.TrySetResult();
            }
        }

        using var stop = new CancellationTokenSource();
        // A denial worker keeps to one agent: the agent whose grant is being applied waits for storage in its turn, and workers
        // going round all agents would all end up waiting there (in the stall below too, hiding what the others answer).
        var workers = Enumerable.Range(0, 6).Select(worker => Task.Run(async () =>
        {
            var agent = loaded[worker % loaded.Count];
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var resource = $"/secrets/w{worker}-{n}";
                var started = Stopwatch.GetTimestamp();
                if (Interlocked.Read(ref stalledAt) is not 0 and var stalling && started > stalling && Interlocked.Read(ref resumedAt) == 0)
                {
                    Interlocked.Increment(ref startedInStall);
                }

                var decision = await client.CheckAsync(tenant!, agent, new CheckRequest("fileSystem:read", resource));
                if (decision.Reason == ReasonCodes.OutOfScope)
                {
                    var stall = Interlocked.Read(ref stalledAt);
                    if (stall != 0 && started > stall && Interlocked.Read(ref resumedAt) == 0 && Interlocked.Increment(ref answeredInStall) >= 10)
                    {
                        answeredInStallMark.TrySetResult();
                    }

                    denialTimes.Add((started, Stopwatch.GetTimestamp()));
                    deniedReturned.Add($"{agent} {resource}");
                    Returned(0);
                }
                else
                {
                    Assert.Equal(ReasonCodes.Unavailable, decision.Reason); // never an allow
                    Interlocked.Increment(ref unavailable);
                }
            }
        })).Concat(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var agent = loaded[(worker + n) % loaded.Count];
                var started = Stopwatch.GetTimestamp();
                var decision = await client.CheckAsync(tenant!, agent, new CheckRequest("fileSystem:read", $"/workspace/w{worker}-{n}"));
                if (decision.Allowed)
                {
                    allowedReturned[agent].Add((started, Stopwatch.GetTimestamp()));
                    Returned(1);
                }
                else
                {
                    Assert.Equal(ReasonCodes.Unavailable, decision.Reason);
                    Interlocked.Increment(ref unavailable);
                }
            }
        }))).Append(Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var agent = loaded[n % loaded.Count];
                var second = Interlocked.Increment(ref grantSeconds); // a distinct issuedAt for every grant
                var grantId = $"g-{agent}-{second}";
                var applied = await client.ApplyGrantAsync(TestDocuments.Grant(tenant!, agent, issuedAt.AddSeconds(second), grantId).SignWith(TestKeys.Root));
                if (applied.Error is null)
                {
                    appliedReturned[grantId] = (agent, second);
                    Returned(2);
                }
            }
        })).ToList();

        string State() => $"before the kill {before[0]} denials, {before[1]} allows, {before[2]} applies; after {afterKill[0]}, {afterKill[1]}, {afterKill[2]}; {unavailable} unavailable";
        await LoadWait.ForAsync(loadRan.Task, workers, TimeSpan.FromSeconds(150), State);
        // Counts of every loaded agent were summarised under the load, and a summary of each reached the subscriber: the
        // window below is then a part of each agent's counts, not all of them.
        bool Summarised() => loaded.All(a => received.Values.OfType<DecisionEvent>().Count(e => e.Type == SecurityEventTypes.ChecksAllowed && e.AgentId == a) >= 2);
        await LoadWait.ForAsync(WhenAsync(Summarised, summarisedHeard), workers, TimeSpan.FromSeconds(120), State);

        // Storage stalls, and the victim dies during the stall: with queue writes that finish in milliseconds a kill rarely
        // catches one, and a kernel that answered a denial before its write would then lose nothing visible. In the
        // stall every denial the victim answers must wait for its write; one that came back would be lost with the
        // victim. The stall ends at the kill, or early once ten such denials came back (which fails the test below).
        await storage.PauseAsync();
        Interlocked.Exchange(ref stalledAt, Stopwatch.GetTimestamp());
        await Task.WhenAny(answeredInStallMark.Task, Task.Delay(TimeSpan.FromSeconds(2)));
        victim.Kill(); // SIGKILL, and waits until the process is gone
        Interlocked.Exchange(ref killedAt, Stopwatch.GetTimestamp());
        Interlocked.Exchange(ref resumedAt, Stopwatch.GetTimestamp());
        await storage.ResumeAsync();
        var stalledFor = Stopwatch.GetElapsedTime(Interlocked.Read(ref stalledAt), Interlocked.Read(ref resumedAt));
        var recovery = Stopwatch.StartNew();
        await LoadWait.ForAsync(recovered.Task, workers, TimeSpan.FromSeconds(120), State);
        var recoveredIn = recovery.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        var expectedDenials = deniedReturned.ToHashSet();
        var expectedApplies = appliedReturned.Keys.ToHashSet();
        output.WriteLine($"returned: {expectedDenials.Count} denials ({before[0]} before the kill, {afterKill[0]} after), " +
            $"{allowedReturned.Values.Sum(b => b.Count)} allows ({before[1]} before, {afterKill[1]} after), " +
            $"{expectedApplies.Count} applied grants ({before[2]} under load before, {afterKill[2]} after), {unavailable} unavailable; " +
            $"load returned on the survivor {recoveredIn.TotalSeconds:F1} s after the kill; storage stalled {stalledFor.TotalSeconds:F2} s before it, " +
            $"{startedInStall} denials started in the stall, {answeredInStall} answered in it");

        // The stated window, per agent, from the client's own times. An allow x is covered when a later allow y of the
        // same agent started at least an interval after x was answered (so y's check found an interval gone since any
        // summary before x and handed x's count over, in its turn) and y was answered before some denial started that
        // was acknowledged before the kill (so the write holding x, handed over before that denial, had succeeded).
        // Only uncovered allows answered by the victim may be missing: those of the last summary interval the agent
        // reached and of the writes in flight. Allows started after the kill are answered by the survivor, whose counts
        // are not lost; the few that started before it and came back from the survivor are counted as uncovered.
        var kill = Interlocked.Read(ref killedAt);
        var interval = (long)(SummaryInterval.TotalSeconds * Stopwatch.Frequency);
        var lastAcknowledgedDenialStart = denialTimes.Where(d => d.Returned < kill).Select(d => d.Started).DefaultIfEmpty(0).Max();
        var mayLose = new Dictionary<string, int>();
        var inLastInterval = new Dictionary<string, int>();
        foreach (var agent in loaded)
        {
            var allows = allowedReturned[agent].Where(c => c.Started < kill).OrderBy(c => c.Started).ToList();
            // The latest start of an allow of this agent answered before that denial started: x is covered when this is at
            // least an interval after x's answer.
            var latestWitness = allows.Where(c => c.Returned < lastAcknowledgedDenialStart).Select(c => c.Started).DefaultIfEmpty(0).Max();
            mayLose[agent] = allows.Count(c => c.Returned + interval > latestWitness);
            inLastInterval[agent] = allows.Count(c => c.Returned > kill - interval);
        }

        // The log, read through the survivor (redelivery of what the victim's reader had taken can wait for a queue
        // visibility timeout), converges to: every denial and apply, and counts short by at most the window. Polls the
        // silo process with a deadline.
        var audit = client.Audit(tenant!);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        List<SecurityEvent> records;
        Dictionary<string, long> lost;
        bool Converged(List<SecurityEvent> events, out Dictionary<string, long> lostCounts)
        {
            var (denials, applies) = Keys(events);
            lostCounts = loaded.ToDictionary(a => a, a => allowedReturned[a].Count - events.OfType<DecisionEvent>()
                .Where(e => e.Type == SecurityEventTypes.ChecksAllowed && e.AgentId == a).Sum(e => e.Count));
            return expectedDenials.IsSubsetOf(denials) && expectedApplies.IsSubsetOf(applies) && lostCounts.All(l => l.Value <= mayLose[l.Key]);
        }

        while (!Converged(records = await AuditLogReader.ReadAllAsync(audit), out lost) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        var (loggedDenials, loggedApplies) = Keys(records);
        var (heardDenials, heardApplies) = Keys(received.Values);
        while ((!expectedDenials.IsSubsetOf(heardDenials) || !expectedApplies.IsSubsetOf(heardApplies)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            (heardDenials, heardApplies) = Keys(received.Values);
        }

        output.WriteLine($"the last denial acknowledged before the kill started {Stopwatch.GetElapsedTime(lastAcknowledgedDenialStart, kill).TotalSeconds:F2} s before it");
        output.WriteLine($"events lost: log {expectedDenials.Except(loggedDenials).Count()} denials, {expectedApplies.Except(loggedApplies).Count()} administrative; " +
            $"subscriber {expectedDenials.Except(heardDenials).Count()} denials, {expectedApplies.Except(heardApplies).Count()} administrative ({records.Count} records)");
        foreach (var agent in loaded)
        {
            // The shortest window before the kill that holds as many allows as were lost: how far back the loss reached.
            var returnedBeforeKill = allowedReturned[agent].Where(c => c.Started < kill).Select(c => c.Returned).OrderDescending().ToList();
            var reach = lost[agent] <= 0 ? TimeSpan.Zero
                : lost[agent] > returnedBeforeKill.Count ? TimeSpan.MaxValue
                : Stopwatch.GetElapsedTime(returnedBeforeKill[(int)lost[agent] - 1], kill);
            output.WriteLine($"counts of {agent}: {allowedReturned[agent].Count} allows returned, {allowedReturned[agent].Count - lost[agent]} logged, " +
                $"lost {lost[agent]} (the allows of the last {reach.TotalSeconds:F2} s before the kill); bound of the stated window {mayLose[agent]} " +
                $"(allows answered in the last {SummaryInterval.TotalSeconds:F0} s before the kill: {inLastInterval[agent]})");
        }

        Assert.True(answeredInStall == 0, $"{answeredInStall} denials were answered while storage stalled, before their write could be made");
        Assert.Empty(expectedDenials.Except(loggedDenials));
        Assert.Empty(expectedApplies.Except(loggedApplies));
        Assert.Empty(expectedDenials.Except(heardDenials));
        Assert.Empty(expectedApplies.Except(heardApplies));
        Assert.All(loaded, agent => Assert.True(lost[agent] <= mayLose[agent],
            $"{agent} lost {lost[agent]} allowed checks from its counts; the stated window holds {mayLose[agent]}"));
        Assert.True(before[1] > 0 && afterKill[1] > 0, "allowed checks did not run on both sides of the kill");

        // No applied grant was undone: each agent holds its latest acknowledged grant, or a later one whose answer the
        // kill swallowed.
        foreach (var agent in loaded)
        {
            var latest = appliedReturned.Values.Where(g => g.Agent == agent).Max(g => g.Second);
            var status = await client.GetStatusAsync(tenant!, agent);
            var holds = int.Parse(status.GrantId!.Split('-')[^1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(holds >= latest, $"{agent} holds {status.GrantId}, older than its acknowledged g-{agent}-{latest}");
        }

        Assert.Equal(records.Count, records.Select(r => r.Id).Distinct().Count());
        var verification = await audit.VerifyAsync();
        Assert.True(verification.Valid, verification.Problem);
    }

    /// <summary>Completes when <paramref name="condition"/> holds, checked again each time <paramref name="signal"/> is released.</summary>
    private static async Task WhenAsync(Func<bool> condition, SemaphoreSlim signal)
    {
        while (!condition())
        {
            await signal.WaitAsync();
        }
    }

    private static (HashSet<string> Denials, HashSet<string> Applies) Keys(IEnumerable<SecurityEvent> events)
    {
        var list = events.ToList();
        return (list.OfType<DecisionEvent>().Where(e => e.Type == SecurityEventTypes.CheckDenied).Select(e => $"{e.AgentId} {e.Resource}").ToHashSet(),
            list.OfType<AdministrativeEvent>().Where(e => e.Type == SecurityEventTypes.GrantApplied && e.GrantId is not null).Select(e => e.GrantId!).ToHashSet());
    }
}
