using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Audit.Chain;
using AgentSecurity.Audit.Merkle;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;

namespace AgentSecurity.Grains.Tests;

/// <summary>Security events reach the tenant's log, its subscribers and its detection rules.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AuditTests(ClusterFixture fixture)
{
    private DateTimeOffset Now => fixture.Now;

    private Task<IReadOnlyList<SecurityEvent>> LoggedAsync(string tenant, Func<IReadOnlyList<SecurityEvent>, bool> until) =>
        fixture.AuditLog.WaitForEventsAsync(tenant, until, TimeSpan.FromSeconds(15));

    [Fact]
    public async Task Events_DenialsAndAdministrativeChanges_ReachTheLogInOrder()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "g-a").SignWith(TestKeys.Root));
        var denied = await fixture.CheckAsync(tenant, "bot", "fileSystem:read", "/etc/shadow");
        await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "g-a", Now, "done").SignWith(TestKeys.Root));

        var events = await LoggedAsync(tenant, e => e.Any(x => x.Type == SecurityEventTypes.GrantRevoked));

        Assert.Equal(ReasonCodes.OutOfScope, denied.Reason);
        Assert.Equal([SecurityEventTypes.TenantCreated, SecurityEventTypes.GrantApplied, SecurityEventTypes.CheckDenied, SecurityEventTypes.GrantRevoked],
            events.Select(e => e.Type).Where(t => t != SecurityEventTypes.ChecksAllowed));
        var denial = Assert.IsType<DecisionEvent>(events.Single(e => e.Type == SecurityEventTypes.CheckDenied));
        Assert.Equal(("bot", "fileSystem:read", "/etc/shadow", ReasonCodes.OutOfScope, "g-a"), (denial.AgentId, denial.Capability, denial.Resource, denial.Reason, denial.GrantId));
        Assert.False(string.IsNullOrEmpty(denial.Silo));
        var applied = Assert.IsType<AdministrativeEvent>(events.Single(e => e.Type == SecurityEventTypes.GrantApplied));
        Assert.Equal(TestKeys.Root.Did.Value, applied.SignerDid);
        Assert.True((await fixture.Client.Audit(tenant).VerifyAsync()).Valid);
    }

    [Fact]
    public async Task Events_AllowedChecks_AreSummarisedPerCapability()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));
        for (var i = 0; i < 7; i++)
        {
            Assert.True((await fixture.CheckAsync(tenant, "bot", "llm")).Allowed);
        }

        var events = await LoggedAsync(tenant, e => e.OfType<DecisionEvent>().Where(d => d.Type == SecurityEventTypes.ChecksAllowed).Sum(d => d.Count) >= 7);

        var summaries = events.OfType<DecisionEvent>().Where(d => d.Type == SecurityEventTypes.ChecksAllowed).ToList();
        Assert.Equal(7, summaries.Sum(s => s.Count));
        Assert.All(summaries, s => Assert.Equal("llm", s.Capability));
        Assert.True(summaries.Count <= 2, "one summary per interval, not one event per check");
    }

    [Fact]
    public async Task Events_ChecksOfAgentsThatNeverHadAGrant_AreNotLogged()
    {
        var tenant = await fixture.NewTenantAsync();
        for (var i = 0; i < 5; i++)
        {
            await fixture.CheckAsync(tenant, $"probe{i}", "llm");
        }

        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));
        var events = await LoggedAsync(tenant, e => e.Any(x => x.Type == SecurityEventTypes.GrantApplied));

        Assert.DoesNotContain(events, e => e.AgentId?.StartsWith("probe", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Denial_EventCannotBePublished_IsAnsweredUnavailableNotAllowed()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));
        FaultyAuditEvents.FailPublishing(tenant, true);
        try
        {
            var denied = await fixture.CheckAsync(tenant, "bot", "subprocess");
            var allowed = await fixture.CheckAsync(tenant, "bot", "llm");

            Assert.Equal((false, ReasonCodes.Unavailable), (denied.Allowed, denied.Reason));
            Assert.True(allowed.Allowed); // allowed checks are summarised later; a missing queue does not stop them
        }
        finally
        {
            FaultyAuditEvents.FailPublishing(tenant, false);
        }
    }

    [Fact]
    public async Task GrantApplied_EventCannotBePublishedAtFirst_StaysInTheOutboxAndReachesTheLogLater()
    {
        var tenant = await fixture.NewTenantAsync();
        FaultyAuditEvents.FailPublishing(tenant, true);
        try
        {
            var applied = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", Now, "g-outbox").SignWith(TestKeys.Root));
            Assert.True(applied.Applied, applied.Message);
            await FaultyAuditEvents.RefusedAsync(tenant).WaitAsync(TimeSpan.FromSeconds(10)); // the agent tried to publish it
            Assert.DoesNotContain(fixture.AuditLog.Records(tenant), r => r.EventJson.Contains("g-outbox", StringComparison.Ordinal));
        }
        finally
        {
            FaultyAuditEvents.FailPublishing(tenant, false);
        }

        // The agent retries its stored outbox on a timer, without being called again.
        var events = await LoggedAsync(tenant, e => e.Any(x => x.Type == SecurityEventTypes.GrantApplied));

        var logged = Assert.IsType<AdministrativeEvent>(Assert.Single(events, e => e.Type == SecurityEventTypes.GrantApplied));
        Assert.Equal("g-outbox", logged.GrantId);
    }

    [Fact]
    public async Task AppendAsync_SameEventTwice_IsLoggedOnce()
    {
        using var kernel = fixture.AsKernel();
        var log = fixture.Cluster.Client.GetGrain<IAuditKernelGrain>("dedupe-" + Guid.NewGuid().ToString("N")[..8]);
        var tenant = log.GetPrimaryKeyString();
        var e = Sample(tenant, 1);

        var first = await log.AppendAsync([e]);
        var again = await log.AppendAsync([e, e]);

        Assert.Equal((1, 0), (first.Appended, first.Duplicates));
        Assert.Equal((0, 2), (again.Appended, again.Duplicates));
        Assert.Single(fixture.AuditLog.Records(tenant));
    }

    public static TheoryData<string, long> Tamperings => new()
    {
        { "modify", 5 },
        { "delete", 5 },
        { "swap", 5 },
        { "insert", 5 },
        { "truncate behind a checkpoint", 9 },
        { "rewrite consistently after a checkpoint", 9 },
    };

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task VerifyAsync_StorageTampered_ReportsTheFirstBadSequence(string tampering, long firstBad)
    {
        var tenant = "tamper-" + Guid.NewGuid().ToString("N")[..8];
        using var kernel = fixture.AsKernel();
        var log = fixture.Cluster.Client.GetGrain<IAuditKernelGrain>(tenant);
        await log.AppendAsync(Enumerable.Range(1, 8).Select(i => Sample(tenant, i)).ToArray());
        Assert.NotNull(await log.CheckpointAsync()); // covers 1..8
        await log.AppendAsync(Enumerable.Range(9, 4).Select(i => Sample(tenant, i)).ToArray());
        Assert.NotNull(await log.CheckpointAsync()); // covers 1..12
        Assert.True((await log.VerifyAsync()).Valid);

        fixture.AuditLog.Tamper(tenant, rows =>
        {
            switch (tampering)
            {
                case "modify":
                    rows[5] = rows[5] with { EventJson = rows[5].EventJson.Replace("llm", "fileSystem:delete", StringComparison.Ordinal) };
                    break;
                case "delete":
                    rows.Remove(5);
                    break;
                case "swap":
                    (rows[5], rows[6]) = (rows[6] with { Sequence = 5 }, rows[5] with { Sequence = 6 });
                    break;
                case "insert":
                    // A forged record slipped in at 5, everything after it moved down one.
                    var shifted = rows.Values.Where(r => r.Sequence >= 5).OrderByDescending(r => r.Sequence).ToList();
                    shifted.ForEach(r => rows[r.Sequence + 1] = r with { Sequence = r.Sequence + 1 });
                    rows[5] = rows[4] with { Sequence = 5, EventId = "forged" };
                    break;
                case "truncate behind a checkpoint":
                    foreach (var sequence in new long[] { 9, 10, 11, 12 })
                    {
                        rows.Remove(sequence);
                    }

                    break;
                default:
                    // Change record 10 and recompute the chain from there: every link holds, the signed checkpoint does not.
                    var previous = rows[9].Hash;
                    for (var sequence = 10L; sequence <= 12; sequence++)
                    {
                        var json = sequence == 10 ? rows[sequence].EventJson.Replace("llm", "subprocess", StringComparison.Ordinal) : rows[sequence].EventJson;
                        var hash = AuditChain.Hash(sequence, previous, json);
                        rows[sequence] = rows[sequence] with { EventJson = json, PreviousHash = previous, Hash = hash };
                        previous = hash;
                    }

                    break;
            }
        });

        var verification = await log.VerifyAsync();

        Assert.False(verification.Valid);
        Assert.Equal(firstBad, verification.FirstBadSequence);
    }

    [Fact]
    public async Task VerifyAsync_CheckpointSignedByAnotherKey_IsInvalid()
    {
        var tenant = "forged-cp-" + Guid.NewGuid().ToString("N")[..8];
        using var kernel = fixture.AsKernel();
        var log = fixture.Cluster.Client.GetGrain<IAuditKernelGrain>(tenant);
        await log.AppendAsync(Enumerable.Range(1, 3).Select(i => Sample(tenant, i)).ToArray());
        var genuine = await log.CheckpointAsync();
        var forged = new Grants.Documents.DocumentSigner(Grants.Documents.DocumentTypes.Checkpoint)
            .Add("tenantId", tenant).Add("size", Grants.Documents.DocumentSigner.Number(3)).Add("rootHash", genuine!.RootHash)
            .Add("chainHash", fixture.AuditLog.Records(tenant)[^1].Hash).Add("issuedAt", TestDocuments.Epoch).Sign(TestKeys.Stranger);
        await fixture.AuditLog.AppendCheckpointAsync(tenant, 4, forged);

        var verification = await log.VerifyAsync();

        Assert.False(verification.Valid);
        Assert.Contains("not signed by a trusted audit key", verification.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proofs_InclusionAndConsistency_VerifyAgainstTheCheckpointRoot()
    {
        var tenant = "proofs-" + Guid.NewGuid().ToString("N")[..8];
        using var kernel = fixture.AsKernel();
        var log = fixture.Cluster.Client.GetGrain<IAuditKernelGrain>(tenant);
        await log.AppendAsync(Enumerable.Range(1, 9).Select(i => Sample(tenant, i)).ToArray());
        var small = await log.CheckpointAsync();
        await log.AppendAsync(Enumerable.Range(10, 8).Select(i => Sample(tenant, i)).ToArray());
        var large = await log.CheckpointAsync();

        var inclusion = await log.ProveInclusionAsync(4, 17);
        var consistency = await log.ProveConsistencyAsync(9, 17);

        Assert.Equal(large!.RootHash, inclusion.Root);
        Assert.True(MerkleProofs.VerifyInclusion(3, 17, Convert.FromHexString(inclusion.LeafHash!), inclusion.Nodes.Select(Convert.FromHexString).ToArray(), Convert.FromHexString(large.RootHash)));
        Assert.True(MerkleProofs.VerifyConsistency(9, 17, Convert.FromHexString(small!.RootHash), Convert.FromHexString(large.RootHash), consistency.Nodes.Select(Convert.FromHexString).ToArray()));
        Assert.False(MerkleProofs.VerifyInclusion(4, 17, Convert.FromHexString(inclusion.LeafHash!), inclusion.Nodes.Select(Convert.FromHexString).ToArray(), Convert.FromHexString(large.RootHash)));
    }

    /// <summary>
    /// Inside the cluster, silos read the tenant's stream itself; a client subscribes through the tenant's log, which sends
    /// it each event once it is logged, in order: no client needs the stream's storage.
    /// </summary>
    [Fact]
    public async Task Subscribers_OnEverySiloAndOnTheClient_ReceiveEveryEvent()
    {
        var tenant = await fixture.NewTenantAsync();
        var received = new List<List<string>>();
        using var arrived = new SemaphoreSlim(0);
        var subscriptions = new List<StreamSubscriptionHandle<SecurityEvent>>();
        foreach (var silo in fixture.Cluster.Silos.Select(s => fixture.Cluster.GetSiloServiceProvider(s.SiloAddress).GetRequiredService<IClusterClient>()))
        {
            var ids = new List<string>();
            received.Add(ids);
            var stream = silo.GetStreamProvider(AuditStreams.ProviderName).GetStream<SecurityEvent>(AuditStreams.For(tenant));
            subscriptions.Add(await stream.SubscribeAsync((e, _) => Collect(ids, e)));
        }

        var fromTheClient = new List<string>();
        received.Add(fromTheClient);
        await using var clientSubscription = await fixture.Client.SubscribeAsync(tenant, e => Collect(fromTheClient, e), afterSequence: 0);

        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));
        for (var i = 0; i < 10; i++)
        {
            await fixture.CheckAsync(tenant, "bot", "subprocess");
        }

        var logged = await LoggedAsync(tenant, e => e.Count(x => x.Type == SecurityEventTypes.CheckDenied) == 10);
        var expected = logged.Where(e => e.Type is SecurityEventTypes.CheckDenied or SecurityEventTypes.GrantApplied).Select(e => e.Id).ToHashSet();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (received.Any(r => { lock (r) { return !expected.IsSubsetOf(r); } }) && !deadline.IsCancellationRequested)
        {
            await arrived.WaitAsync(deadline.Token).ContinueWith(_ => { }, TaskScheduler.Default); // the next delivery, or the deadline
        }

        Assert.Equal(11, expected.Count);
        Assert.All(received, r => { lock (r) { Assert.Superset(expected, r.ToHashSet()); } });
        lock (fromTheClient)
        {
            Assert.Equal(logged.Select(e => e.Id), fromTheClient); // the client's copy is the log, in order, each once
        }

        foreach (var subscription in subscriptions)
        {
            await subscription.UnsubscribeAsync();
        }

        Task Collect(List<string> ids, SecurityEvent e)
        {
            lock (ids)
            {
                ids.Add(e.Id);
            }

            arrived.Release();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Detection_DenyBurst_QuarantinesTheAgentAndRaisesAnAlert()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "noisy", Now).SignWith(TestKeys.Root));

        for (var i = 0; i < 20; i++)
        {
            await fixture.CheckAsync(tenant, "noisy", "fileSystem:read", $"/etc/secret{i}");
        }

        var events = await LoggedAsync(tenant, e => e.Any(x => x.Type == SecurityEventTypes.AlertRaised) && e.Any(x => x.Type == SecurityEventTypes.AgentQuarantined));
        var alert = Assert.IsType<AlertEvent>(events.Single(e => e.Type == SecurityEventTypes.AlertRaised));
        Assert.Equal(("noisy", "deny-burst", "quarantine"), (alert.AgentId, alert.Reason, alert.Action));
        Assert.Equal(ReasonCodes.Quarantined, (await fixture.CheckAsync(tenant, "noisy", "llm")).Reason);

        // Only a signed release issued after the rule fired lifts it.
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(2));
        var release = await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "noisy", Now, quarantine: false).SignWith(TestKeys.Root));
        Assert.True(release.Accepted, $"{release.Error}: {release.Message}");
        Assert.True((await fixture.CheckAsync(tenant, "noisy", "llm")).Allowed);
    }

    private static DecisionEvent Sample(string tenant, int i) => new()
    {
        Id = $"e{i}-{Guid.NewGuid():N}",
        Type = SecurityEventTypes.CheckDenied,
        TenantId = tenant,
        AgentId = "bot",
        Capability = "llm",
        Reason = ReasonCodes.CapabilityNotGranted,
        Time = TestDocuments.Epoch.AddSeconds(i),
    };
}
