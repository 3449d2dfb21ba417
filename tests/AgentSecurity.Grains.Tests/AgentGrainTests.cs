using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class AgentGrainTests(ClusterFixture fixture)
{
    private DateTimeOffset Now => fixture.Now;

    private Task<Decision> CheckAsync(string tenant, string agent, string capability, string? resource = null, long? amount = null) =>
        fixture.Client.CheckAsync(tenant, agent, new CheckRequest(capability, resource, amount));

    [Fact]
    public async Task CheckAsync_AgentWithoutGrant_IsNoGrantAndStoresNothing()
    {
        var tenant = await fixture.NewTenantAsync();

        var decision = await CheckAsync(tenant, "nobody", "fileSystem:read", "/workspace/a");

        Assert.False(decision.Allowed);
        Assert.Equal(ReasonCodes.NoGrant, decision.Reason);
        Assert.False(fixture.Storage.Has("agent", $"{tenant}/nobody"));
    }

    [Fact]
    public async Task ApplyGrantAsync_ValidGrant_IsInstalledAndDecidesChecks()
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root);

        var result = await fixture.Client.ApplyGrantAsync(grant);

        Assert.True(result.Applied, $"{result.Error}: {result.Message}");
        Assert.Equal($"{tenant}/bot", result.Agent);
        Assert.Equal("g-1", result.GrantId);
        Assert.Equal(1, result.Version);
        Assert.True(fixture.Storage.Has("agent", $"{tenant}/bot"));

        Assert.True((await CheckAsync(tenant, "bot", "fileSystem:write", "/workspace/out.txt")).Allowed);
        Assert.True((await CheckAsync(tenant, "bot", "network:outbound", "api.example.com:443")).Allowed);
        Assert.True((await CheckAsync(tenant, "bot", "memory:read", "notes/today")).Allowed);
        Assert.True((await CheckAsync(tenant, "bot", "llm")).Allowed);
        Assert.Equal(ReasonCodes.CapabilityNotGranted, (await CheckAsync(tenant, "bot", "fileSystem:delete", "/workspace/out.txt")).Reason);
        Assert.Equal(ReasonCodes.CapabilityNotGranted, (await CheckAsync(tenant, "bot", "subprocess")).Reason);
        Assert.Equal(ReasonCodes.CapabilityNotGranted, (await CheckAsync(tenant, "bot", "network:inbound", "api.example.com:443")).Reason);
        Assert.Equal(ReasonCodes.OutOfScope, (await CheckAsync(tenant, "bot", "fileSystem:read", "/etc/shadow")).Reason);
        Assert.Equal(ReasonCodes.OutOfScope, (await CheckAsync(tenant, "bot", "network:outbound", "evil.net:443")).Reason);
        Assert.Equal(ReasonCodes.InvalidResource, (await CheckAsync(tenant, "bot", "fileSystem:read", "/workspace/../etc/shadow")).Reason);
        Assert.Equal(ReasonCodes.UnknownCapability, (await CheckAsync(tenant, "bot", "root")).Reason);

        var allowed = await CheckAsync(tenant, "bot", "llm");
        Assert.Equal(ReasonCodes.Allowed, allowed.Reason);
        Assert.Equal("g-1", allowed.GrantId);
    }

    [Fact]
    public async Task CheckAsync_NegativeAmount_IsInvalidRequest()
    {
        var tenant = await fixture.NewTenantAsync();
        await ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.InvalidRequest, (await CheckAsync(tenant, "bot", "llm", amount: -1)).Reason);
    }

    [Fact]
    public async Task CheckAsync_AfterExpiry_IsExpired()
    {
        var tenant = await fixture.NewTenantAsync();
        await ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).Set("expiresAt", Now.AddMinutes(10)).SignWith(TestKeys.Root));
        Assert.True((await CheckAsync(tenant, "bot", "llm")).Allowed);

        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(10));

        var decision = await CheckAsync(tenant, "bot", "llm");
        Assert.False(decision.Allowed);
        Assert.Equal(ReasonCodes.Expired, decision.Reason);
    }

    [Fact]
    public async Task CheckAsync_BeforeNotBefore_IsNotYetValidThenAllowed()
    {
        var tenant = await fixture.NewTenantAsync();
        await ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).Set("notBefore", Now.AddSeconds(50)).SignWith(TestKeys.Root));
        Assert.True((await CheckAsync(tenant, "bot", "llm")).Allowed); // within the 60 s skew

        var tenant2 = await fixture.NewTenantAsync();
        var later = TestDocuments.Grant(tenant2, "bot", Now).Set("notBefore", Now.AddSeconds(60)).SignWith(TestKeys.Root);
        await ApplyAsync(later);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await CheckAsync(tenant2, "bot", "llm")).Allowed);
    }

    [Fact]
    public async Task ApplyGrantAsync_GrantForAnotherAgent_IsAgentMismatchAndPreviousStays()
    {
        var tenant = await fixture.NewTenantAsync();
        await ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));
        var forOther = TestDocuments.Grant(tenant, "other", Now, "g-2").SignWith(TestKeys.Root);

        var result = await fixture.Client.Agent(tenant, "bot").ApplyGrantAsync(forOther);

        Assert.Equal(ReasonCodes.AgentMismatch, result.Error);
        await AssertStillOnAsync(tenant, "bot", "g-1", version: 1);
        Assert.False(fixture.Storage.Has("agent", $"{tenant}/other"));
    }

    [Fact]
    public async Task ApplyGrantAsync_GrantOfAnotherTenant_IsTenantMismatch()
    {
        var tenant = await fixture.NewTenantAsync();
        var other = await fixture.NewTenantAsync();
        await ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));

        var result = await fixture.Client.Agent(tenant, "bot").ApplyGrantAsync(TestDocuments.Grant(other, "bot", Now, "g-9").SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.TenantMismatch, result.Error);
        await AssertStillOnAsync(tenant, "bot", "g-1", version: 1);
    }

    [Fact]
    public async Task ApplyGrantAsync_TenantBGrantSignedByRootOfTenantA_IsUntrustedSigner()
    {
        var tenantA = await fixture.NewTenantAsync(TestKeys.Root);
        var tenantB = await fixture.NewTenantAsync(TestKeys.OtherRoot);
        _ = tenantA;

        var result = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenantB, "bot", Now).SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.UntrustedSigner, result.Error);
        Assert.Equal(ReasonCodes.NoGrant, (await CheckAsync(tenantB, "bot", "llm")).Reason);
        Assert.False(fixture.Storage.Has("agent", $"{tenantB}/bot"));
    }

    [Fact]
    public async Task ApplyGrantAsync_UnknownTenant_IsUnknownTenant()
    {
        var result = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant("no-such-tenant", "bot", Now).SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.UnknownTenant, result.Error);
    }

    [Fact]
    public async Task ApplyGrantAsync_TamperedGrant_IsBadSignatureAndPreviousStays()
    {
        var tenant = await fixture.NewTenantAsync();
        await ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));
        var wider = TestDocuments.Grant(tenant, "bot", Now.AddSeconds(1), "g-2").SignWith(TestKeys.Root)
            .Replace("\"fileSystem\":\"write\"", "\"fileSystem\":\"full\"", StringComparison.Ordinal);

        var result = await fixture.Client.ApplyGrantAsync(wider);

        Assert.Equal(ReasonCodes.BadSignature, result.Error);
        await AssertStillOnAsync(tenant, "bot", "g-1", version: 1);
        Assert.Equal(ReasonCodes.CapabilityNotGranted, (await CheckAsync(tenant, "bot", "fileSystem:delete", "/workspace/a")).Reason);
    }

    [Fact]
    public async Task ApplyGrantAsync_SignedByStranger_IsUntrustedSigner()
    {
        var tenant = await fixture.NewTenantAsync();

        var result = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Stranger));

        Assert.Equal(ReasonCodes.UntrustedSigner, result.Error);
    }

    [Fact]
    public async Task ApplyGrantAsync_SameGrantAgain_IsIdempotent()
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root);
        await ApplyAsync(grant);
        var writes = fixture.Storage.WriteCount($"{tenant}/bot");

        var again = await fixture.Client.ApplyGrantAsync(grant);

        Assert.True(again.Applied);
        Assert.True(again.Unchanged);
        Assert.Equal(1, again.Version);
        Assert.Equal(writes, fixture.Storage.WriteCount($"{tenant}/bot"));
    }

    [Fact]
    public async Task ApplyGrantAsync_UsedIdWithOtherContent_IsReplayedOnAnyAgent()
    {
        var tenant = await fixture.NewTenantAsync();
        await ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));

        var sameAgent = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", Now.AddSeconds(1)).SignWith(TestKeys.Root));
        var otherAgent = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "other", Now).SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.Replayed, sameAgent.Error);
        Assert.Equal(ReasonCodes.Replayed, otherAgent.Error);
        Assert.False(fixture.Storage.Has("agent", $"{tenant}/other"));
    }

    [Fact]
    public async Task ApplyGrantAsync_NewerGrant_ReplacesAndOlderIsStale()
    {
        var tenant = await fixture.NewTenantAsync();
        await ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "g-old").SignWith(TestKeys.Root));
        var newer = TestDocuments.Grant(tenant, "bot", Now.AddSeconds(10), "g-new").SetJson("capabilities", TestDocuments.ReadOnlyFiles).Remove("scopes").SignWith(TestKeys.Root);
        var older = TestDocuments.Grant(tenant, "bot", Now.AddSeconds(-10), "g-older").SignWith(TestKeys.Root);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(10));

        var replaced = await fixture.Client.ApplyGrantAsync(newer);
        var stale = await fixture.Client.ApplyGrantAsync(older);

        Assert.True(replaced.Applied);
        Assert.Equal(2, replaced.Version);
        Assert.Equal(ReasonCodes.Stale, stale.Error);
        var status = await fixture.Client.GetStatusAsync(tenant, "bot");
        Assert.Equal("g-new", status.GrantId);
        Assert.Equal(["g-old"], status.PreviousGrantIds);
        Assert.Equal(ReasonCodes.CapabilityNotGranted, (await CheckAsync(tenant, "bot", "llm")).Reason);
        Assert.True((await CheckAsync(tenant, "bot", "fileSystem:read", "/etc/hostname")).Allowed);
    }

    [Fact]
    public async Task ApplyGrantAsync_ReplacedGrantOfTheSameSecond_IsStale()
    {
        var tenant = await fixture.NewTenantAsync();
        var wide = TestDocuments.Grant(tenant, "bot", Now, "g-a").SignWith(TestKeys.Root);
        await ApplyAsync(wide);
        await ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "g-b").SetJson("capabilities", TestDocuments.ReadOnlyFiles).SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.Stale, (await fixture.Client.ApplyGrantAsync(wide)).Error);
    }

    [Fact]
    public async Task CheckAsync_SelfSignedGrantWrittenIntoStorage_IsNotTrusted()
    {
        // Someone with write access to storage plants a grant that verifies under its own (stranger's) key.
        var tenant = await fixture.NewTenantAsync();
        var forged = TestDocuments.Grant(tenant, "bot", Now, "forged").SetJson("capabilities", TestDocuments.AllCapabilities).Remove("scopes").SignWith(TestKeys.Stranger);
        fixture.Storage.Tamper("agent", $"{tenant}/bot", System.Text.Json.JsonSerializer.Serialize(new Agents.AgentGrainState { GrantDocument = forged, Version = 1 }));

        var decision = await CheckAsync(tenant, "bot", "subprocess");

        Assert.False(decision.Allowed);
        Assert.Equal(ReasonCodes.Unavailable, decision.Reason);
    }

    [Fact]
    public async Task ApplyGrantAsync_Expired_IsExpired()
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, "bot", Now.AddHours(-2)).Set("expiresAt", Now).SignWith(TestKeys.Root);

        Assert.Equal(ReasonCodes.Expired, (await fixture.Client.ApplyGrantAsync(grant)).Error);
    }

    [Theory]
    [InlineData(60, true)]
    [InlineData(61, false)]
    public async Task ApplyGrantAsync_IssuedInTheFuture_ToleratesClockSkewOnly(int secondsAhead, bool applied)
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, "bot", Now.AddSeconds(secondsAhead)).SignWith(TestKeys.Root);

        var result = await fixture.Client.ApplyGrantAsync(grant);

        Assert.Equal(applied, result.Applied);
        Assert.Equal(applied ? null : ReasonCodes.NotYetValid, result.Error);
    }

    [Theory]
    [InlineData("{", ReasonCodes.MalformedJson)]
    [InlineData("", ReasonCodes.MalformedJson)]
    [InlineData("{\"type\":\"agentsec.grant.v1\",\"type\":\"x\"}", ReasonCodes.DuplicateMember)]
    [InlineData("{\"type\":\"agentsec.tenant.v1\"}", ReasonCodes.UnsupportedType)]
    public async Task ApplyGrantAsync_BadDocument_IsRefusedWithItsCode(string document, string code)
    {
        var tenant = await fixture.NewTenantAsync();

        var result = await fixture.Client.Agent(tenant, "bot").ApplyGrantAsync(document);

        Assert.False(result.Applied);
        Assert.Equal(code, result.Error);
        Assert.False(fixture.Storage.Has("agent", $"{tenant}/bot"));
    }

    [Fact]
    public async Task ApplyGrantAsync_StorageFails_IsUnavailableAndPreviousStays()
    {
        var tenant = await fixture.NewTenantAsync();
        await ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));
        fixture.Storage.FailWritesOf($"{tenant}/bot");

        var result = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", Now.AddSeconds(1), "g-2").SetJson("capabilities", TestDocuments.AllCapabilities).SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.Unavailable, result.Error);
        await AssertStillOnAsync(tenant, "bot", "g-1", version: 1);
        Assert.Equal(ReasonCodes.CapabilityNotGranted, (await CheckAsync(tenant, "bot", "subprocess")).Reason);
    }

    [Fact]
    public async Task CheckAsync_StoredGrantAlteredInStorage_DeniesEverythingAsUnavailable()
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root)
            .Replace("\"fileSystem\":\"write\"", "\"fileSystem\":\"full\"", StringComparison.Ordinal);
        var json = System.Text.Json.JsonSerializer.Serialize(new Agents.AgentGrainState { GrantDocument = grant, Version = 1 });
        fixture.Storage.Tamper("agent", $"{tenant}/bot", json);

        var decision = await CheckAsync(tenant, "bot", "fileSystem:read", "/workspace/a");

        Assert.False(decision.Allowed);
        Assert.Equal(ReasonCodes.Unavailable, decision.Reason);
        Assert.NotNull((await fixture.Client.GetStatusAsync(tenant, "bot")).Problem);
    }

    [Fact]
    public async Task Grain_KeyThatIsNotTenantSlashAgent_DecidesNothing()
    {
        var grain = fixture.Cluster.Client.GetGrain<IAgentGrain>("no-slash-here");

        Assert.Equal(ReasonCodes.NoGrant, (await grain.CheckAsync(new CheckRequest("llm"))).Reason);
        Assert.Equal(ReasonCodes.InvalidField, (await grain.ApplyGrantAsync(TestDocuments.Grant("acme", "bot", Now).SignWith(TestKeys.Root))).Error);
    }

    private async Task ApplyAsync(string grant)
    {
        var result = await fixture.Client.ApplyGrantAsync(grant);
        Assert.True(result.Applied, $"{result.Error}: {result.Message}");
    }

    private async Task AssertStillOnAsync(string tenant, string agent, string grantId, long version)
    {
        var status = await fixture.Client.GetStatusAsync(tenant, agent);
        Assert.Equal(grantId, status.GrantId);
        Assert.Equal(version, status.Version);
    }
}
