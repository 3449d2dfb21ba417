using AgentSecurity.Abstractions.Kernel;
using System.Text.Json;
using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Issuers;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// No state object grows without limit under churn, and what ages out of a bounded list does not weaken a check:
/// grant history, elevations, accepted grants, revocations and permission requests, read back from storage.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class BoundedHistoryTests(ClusterFixture fixture)
{
    /// <summary><see cref="AgentSecurityOptions.GrantHistoryLength"/>'s default, which the test cluster keeps.</summary>
    private const int GrantHistoryLength = 16;

    /// <summary>The agent grain's bound on stored elevations.</summary>
    private const int MaxElevations = 8;

    /// <summary><see cref="AgentSecurityOptions.MaxPendingRequestsPerTenant"/>'s default: also the bound on closed requests kept.</summary>
    private const int MaxRequestsPerTenant = 512;

    /// <summary><see cref="AgentSecurityOptions.MaxAdminsPerTenant"/>'s default.</summary>
    private const int MaxAdminsPerTenant = 64;

    private DateTimeOffset Now => fixture.Now;

    private AgentGrainState StoredAgent(string tenant, string agent) =>
        JsonSerializer.Deserialize<AgentGrainState>(fixture.Storage.Read("agent", $"{tenant}/{agent}")!)!;

    private IssuerGrainState StoredIssuer(string tenant) =>
        JsonSerializer.Deserialize<IssuerGrainState>(fixture.Storage.Read("issuer", tenant)!)!;

    [Fact]
    public async Task PreviousGrantIds_ManyReplacements_KeepsTheNewest16AndOldGrantsStayStale()
    {
        var tenant = await fixture.NewTenantAsync();
        var grants = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
            grants.Add(TestDocuments.Grant(tenant, "bot", Now, $"g-{i:D2}").SignWith(TestKeys.Root));
            await fixture.ApplyAsync(grants[^1]);

            Assert.InRange(StoredAgent(tenant, "bot").PreviousGrantIds.Count, 0, GrantHistoryLength);
        }

        var status = await fixture.Client.GetStatusAsync(tenant, "bot");
        var expected = Enumerable.Range(0, GrantHistoryLength).Select(k => $"g-{38 - k:D2}").ToArray();
        Assert.Equal("g-39", status.GrantId);
        Assert.Equal(expected, status.PreviousGrantIds);
        Assert.Equal(expected, StoredAgent(tenant, "bot").PreviousGrantIds);
        Assert.Equal(40, status.Version);

        // A grant that aged out of the history is still older than the active one: re-applying it is stale.
        var replay = await fixture.Client.ApplyGrantAsync(grants[0]);
        Assert.Equal(ReasonCodes.Stale, replay.Error);
        Assert.Equal("g-39", (await fixture.Client.GetStatusAsync(tenant, "bot")).GrantId);
    }

    [Fact]
    public async Task Elevations_MoreThanEight_KeepsTheNewestEightAndDroppedOnesGrantNothing()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));
        for (var i = 0; i < 12; i++)
        {
            var host = $"h{i}.example.org:443";
            var request = await fixture.Client.RequestPermissionAsync(tenant, "bot", new PermissionRequestInput { Capability = "network:outbound", Resource = host, Justification = $"host {i}" });
            Assert.True(request.Recorded, $"{request.Error}: {request.Message}");
            var answer = TestDocuments.Grant(tenant, "bot", Now, $"elev-{i:D2}")
                .SetJson("capabilities", """{"fileSystem":"none","network":"outbound","memory":"none","subprocess":false,"vectorDb":false,"llm":false}""")
                .SetJson("scopes", $$"""{"network":["{{host}}"]}""")
                .Set("expiresAt", Now + TimeSpan.FromHours(1));
            var applied = await fixture.Client.ApplyElevationAsync(request.RequestId!, answer.SignWith(TestKeys.Root));
            Assert.True(applied.Applied, $"{applied.Error}: {applied.Message}");

            Assert.InRange(StoredAgent(tenant, "bot").Elevations.Count, 1, MaxElevations);
        }

        var kept = Enumerable.Range(12 - MaxElevations, MaxElevations).Select(i => $"elev-{i:D2}").ToArray();
        Assert.Equal(kept, (await fixture.Client.GetStatusAsync(tenant, "bot")).ElevationGrantIds.Order(StringComparer.Ordinal));
        Assert.Equal(MaxElevations, StoredAgent(tenant, "bot").Elevations.Count);
        for (var i = 0; i < 12; i++)
        {
            var decision = await fixture.CheckAsync(tenant, "bot", "network:outbound", $"h{i}.example.org:443");
            Assert.True(decision.Allowed == (i >= 12 - MaxElevations), $"h{i}: {decision.Reason} {decision.Message}");
        }
    }

    [Fact]
    public async Task IssuerGrants_ChurnOfShortGrantsAndRevocations_KeepsOnlyLiveEntriesAndRevokedStayRefused()
    {
        var tenant = await fixture.NewTenantAsync();
        var revoked = new List<string>();
        var expired = new List<string>();
        var signed = new Dictionary<string, string>();
        for (var round = 0; round < 6; round++)
        {
            var ids = Enumerable.Range(0, 4).Select(k => $"r{round}-{k}").ToList();
            foreach (var (id, k) in ids.Select((id, k) => (id, k)))
            {
                signed[id] = TestDocuments.Grant(tenant, $"a{k}", Now, id).Set("expiresAt", Now + TimeSpan.FromHours(1)).SignWith(TestKeys.Root);
                await fixture.ApplyAsync(signed[id]);
            }

            foreach (var id in ids.Take(2))
            {
                var revocation = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, id, Now).SignWith(TestKeys.Root));
                Assert.True(revocation.Revoked, $"{revocation.Error}: {revocation.Message}");
            }

            // Each round's first grant pruned the previous round's (expired) grants and revocations.
            var state = StoredIssuer(tenant);
            Assert.Equal(ids, state.AcceptedGrants.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(ids.Take(2), state.RevokedGrants.Keys.Order(StringComparer.Ordinal));

            revoked.AddRange(ids.Take(2));
            expired.AddRange(ids.Skip(2));
            ClusterFixture.Time.Advance(TimeSpan.FromHours(1)); // every grant of the round expires now
        }

        // Revocations that aged out named grants that have expired: replayed, those grants are refused as expired (the
        // last round's revocations are pruned only by the next accepted grant, so those are still refused as revoked).
        var stillListed = StoredIssuer(tenant).RevokedGrants.Keys.ToHashSet(StringComparer.Ordinal);
        Assert.Equal(revoked.TakeLast(2), stillListed.Order(StringComparer.Ordinal));
        foreach (var id in revoked.Concat(expired))
        {
            // The agents refuse first when they hold a newer grant (stale); the issuer's own verdict is what any
            // activation of the grant would get.
            var replay = await fixture.Client.ApplyGrantAsync(signed[id]);
            GrantVerification verdict;
            using (fixture.AsKernel())
            {
                verdict = await fixture.Cluster.Client.GetGrain<IIssuerKernelGrain>(tenant).VerifyGrantAsync(signed[id]);
            }

            Assert.False(replay.Applied, id);
            Assert.Contains(replay.Error, new[] { ReasonCodes.Stale, ReasonCodes.Revoked, ReasonCodes.Expired });
            Assert.False(verdict.Accepted, id);
            Assert.Equal(stillListed.Contains(id) ? ReasonCodes.Revoked : ReasonCodes.Expired, verdict.Error);
        }

        Assert.Equal(revoked.TakeLast(2), StoredIssuer(tenant).RevokedGrants.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(expired.TakeLast(2).Concat(revoked.TakeLast(2)).Order(StringComparer.Ordinal), StoredIssuer(tenant).AcceptedGrants.Keys.Order(StringComparer.Ordinal));
        for (var k = 0; k < 4; k++)
        {
            Assert.False((await fixture.CheckAsync(tenant, $"a{k}", "llm")).Allowed);
        }
    }

    [Fact]
    public async Task PermissionRequests_ChurnBeyondTheTenantBound_KeepsAtMost512ClosedAndNeverReusesAnId()
    {
        var tenant = await fixture.NewTenantAsync();
        var input = new PermissionRequestInput { Capability = "network:outbound", Resource = "api.example.org:443", Justification = "churn" };
        var ids = new List<string>();
        var distinct = 0;
        async Task RequestAsync(string agent)
        {
            // Each a different host: the same request while one waits is found, not made again.
            var request = await fixture.Client.RequestPermissionAsync(tenant, agent, input with { Resource = $"api{distinct++}.example.org:443" });
            Assert.True(request.Recorded, $"{request.Error}: {request.Message}");
            ids.Add(request.RequestId!);
        }

        // 512 open requests (the tenant's most), which expire; 16 more, which expire too; then one more.
        for (var i = 0; i < MaxRequestsPerTenant; i++)
        {
            await RequestAsync($"a{i / 8}");
        }

        Assert.Equal(ReasonCodes.QuotaExceeded, (await fixture.Client.RequestPermissionAsync(tenant, "late", input)).Error);
        ClusterFixture.Time.Advance(TimeSpan.FromHours(24));
        for (var i = 0; i < 16; i++)
        {
            await RequestAsync($"b{i / 8}");
        }

        ClusterFixture.Time.Advance(TimeSpan.FromHours(24));
        await RequestAsync("c");

        var stored = StoredIssuer(tenant).Requests;
        Assert.Equal(MaxRequestsPerTenant + 1, stored.Count);
        Assert.Equal(MaxRequestsPerTenant, stored.Count(r => r.Status != PermissionRequestStatus.Pending));
        Assert.Equal(MaxRequestsPerTenant + 1, (await fixture.Client.ListRequestsAsync(tenant)).Count);
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids.Skip(MaxRequestsPerTenant), id => Assert.Contains(stored, r => r.RequestId == id)); // the newest are kept

        // Neither a dropped request nor an expired one can be answered.
        var dropped = ids.First(id => stored.TrueForAll(r => r.RequestId != id));
        var expiredKept = stored.First(r => r.Status == PermissionRequestStatus.Expired).RequestId;
        foreach (var (requestId, agent) in new[] { (dropped, $"a{ids.IndexOf(dropped) / 8}"), (expiredKept, stored.First(r => r.RequestId == expiredKept).AgentId) })
        {
            var answer = TestDocuments.Grant(tenant, agent, Now, $"answer-{requestId}")
                .SetJson("capabilities", """{"fileSystem":"none","network":"outbound","memory":"none","subprocess":false,"vectorDb":false,"llm":false}""")
                .SetJson("scopes", """{"network":["api.example.org:443"]}""")
                .Set("expiresAt", Now + TimeSpan.FromHours(1));
            Assert.Equal(ReasonCodes.UnknownRequest, (await fixture.Client.ApplyElevationAsync(requestId, answer.SignWith(TestKeys.Root))).Error);
        }
    }

    [Fact]
    public async Task RotationDocuments_MoreThan64Rotations_RefusesTheNextAndTheChainStillLoads()
    {
        var tenant = await fixture.NewTenantAsync();
        var roots = new List<SigningKey> { TestKeys.Root };
        for (var i = 0; i < TrustAdministration.MaxRotations; i++)
        {
            roots.Add(TestKeys.FromByte((byte)(0x41 + i)));
            var rotated = await fixture.Client.RotateRootAsync(TestDocuments.Rotation(tenant, roots[^2].Did.Value, roots[^1].Did.Value, Now).SignWith(roots[^2]));
            Assert.True(rotated.Accepted, $"{i}: {rotated.Error}: {rotated.Message}");
        }

        var next = TestKeys.FromByte((byte)(0x41 + TrustAdministration.MaxRotations));
        var refused = await fixture.Client.RotateRootAsync(TestDocuments.Rotation(tenant, roots[^1].Did.Value, next.Did.Value, Now).SignWith(roots[^1]));

        Assert.Equal(ReasonCodes.QuotaExceeded, refused.Error);
        Assert.Equal(TrustAdministration.MaxRotations, StoredIssuer(tenant).RotationDocuments.Count);

        // The stored chain replays on a new activation: the last root is the root, earlier ones and the refused one are not.
        await fixture.DeactivateAllAsync();
        Assert.Equal([roots[^1].Did.Value], (await fixture.Client.GetTenantAsync(tenant))!.RootDids);
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "by-last-root").SignWith(roots[^1]));
        Assert.Equal(ReasonCodes.UntrustedSigner, (await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot2", Now, "by-refused").SignWith(next))).Error);
        Assert.Equal(ReasonCodes.UntrustedSigner, (await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot3", Now, "by-retired").SignWith(roots[^2]))).Error);
    }

    [Fact]
    public async Task PreviousGrantIds_ReplacedInTheSameSecondAndAgedOutOfTheHistory_IsStillStale()
    {
        // The bounded history forgets a replaced grant once 16 later grants push its id out; the grants replaced
        // within the active grant's second are remembered apart, so the replay is still a step back.
        var tenant = await fixture.NewTenantAsync();
        var wide = TestDocuments.Grant(tenant, "bot", Now, "g-wide").SignWith(TestKeys.Root);
        await fixture.ApplyAsync(wide);
        for (var i = 0; i <= GrantHistoryLength; i++)
        {
            await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, $"g-narrow-{i:D2}").SetJson("capabilities", TestDocuments.ReadOnlyFiles).SignWith(TestKeys.Root));
        }

        var replay = await fixture.Client.ApplyGrantAsync(wide);

        Assert.Equal(ReasonCodes.Stale, replay.Error);
        Assert.Equal($"g-narrow-{GrantHistoryLength:D2}", (await fixture.Client.GetStatusAsync(tenant, "bot")).GrantId);
        Assert.Equal(ReasonCodes.CapabilityNotGranted, (await fixture.CheckAsync(tenant, "bot", "llm")).Reason);
    }

    [Fact]
    public async Task AdminDocuments_OlderRegistrationOfAForgottenAdminReplayed_IsStale()
    {
        // A root shortens an admin's registration; once the short one expires and is forgotten, the long one, replayed,
        // must not bring the admin back.
        var tenant = await fixture.NewTenantAsync();
        using var admin = SigningKey.Generate();
        var issuer = fixture.Client.Issuer(tenant);
        var longOne = TestDocuments.Admin(tenant, admin.Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddDays(30)).SignWith(TestKeys.Root);
        Assert.True((await issuer.RegisterAdminAsync(longOne)).Accepted);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await issuer.RegisterAdminAsync(TestDocuments.Admin(tenant, admin.Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddHours(1)).SignWith(TestKeys.Root))).Accepted);
        ClusterFixture.Time.Advance(TimeSpan.FromHours(2));
        Assert.True((await issuer.RegisterAdminAsync(TestDocuments.Admin(tenant, SigningKey.Generate().Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddHours(1)).SignWith(TestKeys.Root))).Accepted);
        Assert.DoesNotContain(admin.Did.Value, StoredIssuer(tenant).AdminDocuments.Keys);

        var replayed = await issuer.RegisterAdminAsync(longOne);

        Assert.Equal(ReasonCodes.Stale, replayed.Error);
        Assert.DoesNotContain(admin.Did.Value, StoredIssuer(tenant).AdminDocuments.Keys);
    }

    [Fact]
    public async Task AdminDocuments_RegistrationInForceAppliedAgainAfterTheFloorRose_IsUnchanged()
    {
        // An admin registered before another admin expired and was forgotten: its own document, applied again, is
        // still the idempotent re-apply it always was, though it was issued before the floor.
        var tenant = await fixture.NewTenantAsync();
        var issuer = fixture.Client.Issuer(tenant);
        var lasting = TestDocuments.Admin(tenant, SigningKey.Generate().Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddDays(30)).SignWith(TestKeys.Root);
        Assert.True((await issuer.RegisterAdminAsync(lasting)).Accepted);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await issuer.RegisterAdminAsync(TestDocuments.Admin(tenant, SigningKey.Generate().Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddHours(1)).SignWith(TestKeys.Root))).Accepted);
        ClusterFixture.Time.Advance(TimeSpan.FromHours(2)); // the second admin expires; the third registration drops it
        Assert.True((await issuer.RegisterAdminAsync(TestDocuments.Admin(tenant, SigningKey.Generate().Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddHours(1)).SignWith(TestKeys.Root))).Accepted);

        var again = await issuer.RegisterAdminAsync(lasting);

        Assert.True(again.Accepted, $"{again.Error}: {again.Message}");
        Assert.True(again.Unchanged);
    }

    [Fact]
    public async Task AdminDocuments_ShortLivedAdminsChurned_StayBoundedByTheAdminCap()
    {
        // At most 64 live admins; the question is whether registrations that expired are ever forgotten.
        var tenant = await fixture.NewTenantAsync();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < MaxAdminsPerTenant; i++)
            {
                var registered = await fixture.Client.Issuer(tenant).RegisterAdminAsync(
                    TestDocuments.Admin(tenant, SigningKey.Generate().Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddHours(1)).SignWith(TestKeys.Root));
                Assert.True(registered.Accepted, $"round {round}, admin {i}: {registered.Error}: {registered.Message}");
            }

            var oneTooMany = await fixture.Client.Issuer(tenant).RegisterAdminAsync(
                TestDocuments.Admin(tenant, SigningKey.Generate().Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddHours(1)).SignWith(TestKeys.Root));
            Assert.Equal(ReasonCodes.QuotaExceeded, oneTooMany.Error);
            Assert.InRange(StoredIssuer(tenant).AdminDocuments.Count, 0, MaxAdminsPerTenant);

            ClusterFixture.Time.Advance(TimeSpan.FromHours(1)); // every admin of the round expires
        }
    }
}
