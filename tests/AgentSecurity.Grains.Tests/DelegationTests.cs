using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>An agent whose grant names its DID may delegate to other agents of its tenant, only ever narrower.</summary>
[Collection(ClusterCollection.Name)]
public sealed class DelegationTests(ClusterFixture fixture)
{
    private static readonly SigningKey Lead = TestKeys.FromByte(0x21);
    private static readonly SigningKey Helper = TestKeys.FromByte(0x22);

    private DateTimeOffset Now => fixture.Now;

    /// <summary>A tenant whose agent "lead" holds grant p-1 (naming its DID, so it may delegate).</summary>
    private async Task<string> TenantWithLeadAsync()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "lead", Now, "p-1")
            .SetJson("resourceLimits", """{"checksPerSecond":100}""")
            .Set("environmentIsolation", "native")
            .Set("agentDid", Lead.Did.Value)
            .SignWith(TestKeys.Root));
        return tenant;
    }

    private DocumentTemplate Child(string tenant, string grantId = "c-1", string agent = "helper", string parent = "p-1") =>
        TestDocuments.Grant(tenant, agent, Now, grantId)
            .SetJson("capabilities", """{"fileSystem":"read","network":"none","memory":"read","subprocess":false,"vectorDb":false,"llm":false}""")
            .SetJson("scopes", """{"fileSystem":["/workspace/reports/*"],"memory":["notes/shared/**"]}""")
            .SetJson("resourceLimits", """{"checksPerSecond":10}""")
            .Set("expiresAt", Now.AddHours(1))
            .Set("parentGrantId", parent);

    [Fact]
    public async Task Delegation_NarrowerChildSignedByParentsAgent_IsAppliedAndDecides()
    {
        var tenant = await TenantWithLeadAsync();

        var result = await fixture.Client.ApplyGrantAsync(Child(tenant).SignWith(Lead));

        Assert.True(result.Applied, $"{result.Error}: {result.Message}");
        Assert.True((await fixture.CheckAsync(tenant, "helper", "fileSystem:read", "/workspace/reports/q3.md")).Allowed);
        Assert.Equal(ReasonCodes.OutOfScope, (await fixture.CheckAsync(tenant, "helper", "fileSystem:read", "/workspace/secret.md")).Reason);
        Assert.Equal(ReasonCodes.CapabilityNotGranted, (await fixture.CheckAsync(tenant, "helper", "fileSystem:write", "/workspace/reports/q3.md")).Reason);
    }

    [Fact]
    public async Task Delegation_AfterTheParentsAgentReactivated_IsApplied()
    {
        // The issuer checks a delegation against the parent's exact signed text, which the parent's agent gives back
        // (GetActiveGrantAsync): after a reactivation, as loaded from storage, and byte for byte the text accepted.
        var tenant = await TenantWithLeadAsync();
        await fixture.DeactivateAllAsync();

        var result = await fixture.Client.ApplyGrantAsync(Child(tenant).SignWith(Lead));

        Assert.True(result.Applied, $"{result.Error}: {result.Message}");
        Assert.True((await fixture.CheckAsync(tenant, "helper", "fileSystem:read", "/workspace/reports/q3.md")).Allowed);
    }

    [Fact]
    public async Task Revocation_ByTheDelegatorAfterTheIssuerReloaded_RevokesTheDelegation()
    {
        // The delegator is no root nor admin: only the issuer's record of the delegation (its signer, kept as a shared
        // string) lets it revoke, so that record must still name its DID once the issuer has reloaded it from storage.
        var tenant = await TenantWithLeadAndHelperAsync();
        await fixture.DeactivateAllAsync();

        var revoked = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "c-1", Now).SignWith(Lead));

        Assert.True(revoked.Revoked, $"{revoked.Error}: {revoked.Message}");
        Assert.Equal(ReasonCodes.Revoked, (await fixture.CheckAsync(tenant, "helper", "fileSystem:read", "/workspace/reports/q3.md")).Reason);
    }

    [Fact]
    public async Task ApplyGrant_SameIdOtherContentAfterTheIssuerReloaded_IsReplayedAndTheSameGrantIsNot()
    {
        // The issuer's record keeps the delegation's content hash as bytes: after a reload it still tells the same grant
        // from another one under the same id.
        var tenant = await TenantWithLeadAndHelperAsync();
        await fixture.DeactivateAllAsync();

        var again = await fixture.Client.ApplyGrantAsync(Child(tenant).SignWith(Lead));
        var other = await fixture.Client.ApplyGrantAsync(Child(tenant).Set("expiresAt", Now.AddMinutes(30)).SignWith(Lead));

        Assert.True(again.Applied, $"{again.Error}: {again.Message}");
        Assert.Equal(ReasonCodes.Replayed, other.Error);
    }

    /// <summary><see cref="TenantWithLeadAsync"/>, with c-1 delegated by "lead" to "helper" and deciding.</summary>
    private async Task<string> TenantWithLeadAndHelperAsync()
    {
        var tenant = await TenantWithLeadAsync();
        var child = await fixture.Client.ApplyGrantAsync(Child(tenant).SignWith(Lead));
        Assert.True(child.Applied, $"{child.Error}: {child.Message}");
        Assert.True((await fixture.CheckAsync(tenant, "helper", "fileSystem:read", "/workspace/reports/q3.md")).Allowed);
        return tenant;
    }

    public static TheoryData<string, string, string> WiderDimensions => new()
    {
        { "fileSystem level", "capabilities", """{"fileSystem":"full","network":"none","memory":"read","subprocess":false,"vectorDb":false,"llm":false}""" },
        { "network level", "capabilities", """{"fileSystem":"read","network":"inbound","memory":"read","subprocess":false,"vectorDb":false,"llm":false}""" },
        { "memory level", "capabilities", """{"fileSystem":"read","network":"none","memory":"full","subprocess":false,"vectorDb":false,"llm":false}""" },
        { "subprocess", "capabilities", """{"fileSystem":"read","network":"none","memory":"read","subprocess":true,"vectorDb":false,"llm":false}""" },
        { "vectorDb", "capabilities", """{"fileSystem":"read","network":"none","memory":"read","subprocess":false,"vectorDb":true,"llm":false}""" },
        { "fileSystem scope", "scopes", """{"fileSystem":["/**"]}""" },
        { "network scope dropped", "capabilities", """{"fileSystem":"read","network":"outbound","memory":"read","subprocess":false,"vectorDb":false,"llm":false}""" },
        { "memory scope", "scopes", """{"memory":["secrets/**"]}""" },
        { "limit", "resourceLimits", """{"checksPerSecond":1000}""" },
        { "limit dropped", "resourceLimits", """{"maxMemoryBytes":1}""" },
        { "isolation", "environmentIsolation", "\"external\"" },

        // The parent sets no execution limits, so it runs under the platform's defaults (2 s CPU, 5 s wall, 2 at once,
        // 64 MiB): a child asking for more than those asks for more than its parent has.
        { "maxCpuMillis above the parent's default", "resourceLimits", """{"checksPerSecond":10,"maxCpuMillis":60000}""" },
        { "maxWallMillis above the parent's default", "resourceLimits", """{"checksPerSecond":10,"maxWallMillis":120000}""" },
        { "maxConcurrentExecutions above the parent's default", "resourceLimits", """{"checksPerSecond":10,"maxConcurrentExecutions":16}""" },
        { "maxMemoryBytes above the parent's default", "resourceLimits", """{"checksPerSecond":10,"maxMemoryBytes":536870912}""" },
    };

    [Theory]
    [MemberData(nameof(WiderDimensions))]
    public async Task Delegation_WiderThanParentInOneDimension_IsEscalationAndNothingStored(string dimension, string member, string json)
    {
        _ = dimension;
        var tenant = await TenantWithLeadAsync();

        var result = await fixture.Client.ApplyGrantAsync(Child(tenant).SetJson(member, json).SignWith(Lead));

        Assert.Equal(ReasonCodes.Escalation, result.Error);
        Assert.False(fixture.Storage.Has("agent", $"{tenant}/helper"));
    }

    [Fact]
    public async Task Delegation_ExpiresAfterParent_IsEscalation()
    {
        var tenant = await TenantWithLeadAsync();

        var result = await fixture.Client.ApplyGrantAsync(Child(tenant).Set("expiresAt", Now.AddDays(2)).SignWith(Lead));

        Assert.Equal(ReasonCodes.Escalation, result.Error);
    }

    [Fact]
    public async Task Delegation_SignedByOtherThanParentsAgentDid_IsUntrustedSigner()
    {
        var tenant = await TenantWithLeadAsync();

        Assert.Equal(ReasonCodes.UntrustedSigner, (await fixture.Client.ApplyGrantAsync(Child(tenant).SignWith(Helper))).Error);
        Assert.Equal(ReasonCodes.UntrustedSigner, (await fixture.Client.ApplyGrantAsync(Child(tenant).SignWith(TestKeys.Root))).Error);
    }

    [Fact]
    public async Task Delegation_ParentWithoutAgentDid_IsUntrustedSigner()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "lead", Now, "p-1").SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.UntrustedSigner, (await fixture.Client.ApplyGrantAsync(Child(tenant).SignWith(Lead))).Error);
    }

    [Fact]
    public async Task Delegation_UnknownParent_IsUnknownGrant()
    {
        var tenant = await TenantWithLeadAsync();

        Assert.Equal(ReasonCodes.UnknownGrant, (await fixture.Client.ApplyGrantAsync(Child(tenant, parent: "p-404").SignWith(Lead))).Error);
    }

    [Fact]
    public async Task Delegation_ParentRevoked_IsRevoked()
    {
        var tenant = await TenantWithLeadAsync();
        var revoked = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "p-1", Now).SignWith(TestKeys.Root));
        Assert.True(revoked.Revoked);

        Assert.Equal(ReasonCodes.Revoked, (await fixture.Client.ApplyGrantAsync(Child(tenant).SignWith(Lead))).Error);
    }

    [Fact]
    public async Task Delegation_ParentExpired_IsExpired()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "lead", Now, "p-1").Set("agentDid", Lead.Did.Value).Set("expiresAt", Now.AddMinutes(5)).SignWith(TestKeys.Root));
        var child = Child(tenant).Set("expiresAt", Now.AddMinutes(5)).SignWith(Lead);
        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(ReasonCodes.Expired, (await fixture.Client.ApplyGrantAsync(child)).Error);
    }

    [Fact]
    public async Task Delegation_ParentSupersededOnItsAgent_IsStale()
    {
        var tenant = await TenantWithLeadAsync();
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "lead", Now, "p-2").Set("agentDid", Lead.Did.Value).SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.Stale, (await fixture.Client.ApplyGrantAsync(Child(tenant).Set("issuedAt", Now).SignWith(Lead))).Error);
    }

    [Fact]
    public async Task Delegation_FromQuarantinedParent_IsRefused()
    {
        var tenant = await TenantWithLeadAsync();
        await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "lead", Now).SignWith(TestKeys.Root));

        var result = await fixture.Client.ApplyGrantAsync(Child(tenant).SignWith(Lead));

        Assert.False(result.Applied);
        Assert.Equal(ReasonCodes.Stale, result.Error);
        Assert.Equal(ReasonCodes.NoGrant, (await fixture.CheckAsync(tenant, "helper", "fileSystem:read", "/workspace/reports/a")).Reason);
    }

    [Fact]
    public async Task Delegation_ChainOfEight_IsAcceptedAndNinthIsChainTooDeep()
    {
        var tenant = await fixture.NewTenantAsync();
        var keys = Enumerable.Range(1, 9).Select(i => TestKeys.FromByte((byte)(0x60 + i))).ToArray();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "a1", Now, "chain-1").Set("agentDid", keys[0].Did.Value).SignWith(TestKeys.Root));

        for (var depth = 2; depth <= 9; depth++)
        {
            var grant = TestDocuments.Grant(tenant, $"a{depth}", Now, $"chain-{depth}")
                .Set("agentDid", keys[depth - 1].Did.Value)
                .Set("parentGrantId", $"chain-{depth - 1}")
                .SignWith(keys[depth - 2]);

            var result = await fixture.Client.ApplyGrantAsync(grant);

            if (depth <= 8)
            {
                Assert.True(result.Applied, $"depth {depth}: {result.Error}: {result.Message}");
            }
            else
            {
                Assert.Equal(ReasonCodes.ChainTooDeep, result.Error);
            }
        }

        Assert.True((await fixture.CheckAsync(tenant, "a8", "fileSystem:write", "/workspace/x")).Allowed);
        Assert.Equal(ReasonCodes.NoGrant, (await fixture.CheckAsync(tenant, "a9", "fileSystem:write", "/workspace/x")).Reason);
    }

    [Fact]
    public async Task Delegation_ExecutionLimitsWithinWhatTheParentRunsUnder_IsApplied()
    {
        var tenant = await TenantWithLeadAsync();

        var result = await fixture.Client.ApplyGrantAsync(Child(tenant).SetJson("resourceLimits", """{"checksPerSecond":10,"maxCpuMillis":500,"maxConcurrentExecutions":1}""").SignWith(Lead));

        Assert.True(result.Applied, $"{result.Error}: {result.Message}");
    }

    /// <summary>
    /// A delegation gives the child what the delegator holds; it must not take from another agent what a root gave it
    /// (and give it the delegator's rights instead).
    /// </summary>
    [Fact]
    public async Task Delegation_ToAnAgentHoldingARootsGrant_IsEscalationAndTheGrantStays()
    {
        var tenant = await TenantWithLeadAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "victim", Now, "v-1")
            .SetJson("capabilities", """{"fileSystem":"none","network":"none","memory":"none","subprocess":false,"vectorDb":true,"llm":false}""")
            .SignWith(TestKeys.Root));

        var result = await fixture.Client.ApplyGrantAsync(Child(tenant, agent: "victim").SignWith(Lead));

        Assert.Equal(ReasonCodes.Escalation, result.Error);
        Assert.Contains("replaces only its own delegations", result.Message, StringComparison.Ordinal);
        Assert.Equal("v-1", (await fixture.Client.GetStatusAsync(tenant, "victim")).GrantId);
        Assert.True((await fixture.CheckAsync(tenant, "victim", "vectorDb")).Allowed);
        Assert.Equal(ReasonCodes.CapabilityNotGranted, (await fixture.CheckAsync(tenant, "victim", "fileSystem:read", "/workspace/reports/q3.md")).Reason);
    }

    [Fact]
    public async Task Delegation_ToAnAgentHoldingAnotherDelegatorsGrant_IsEscalation()
    {
        var tenant = await TenantWithLeadAsync();
        var other = TestKeys.FromByte(0x23);
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "other-lead", Now, "q-1").Set("agentDid", other.Did.Value).Set("environmentIsolation", "native").SignWith(TestKeys.Root));
        await fixture.ApplyAsync(Child(tenant, "c-other", parent: "q-1").SignWith(other));

        var result = await fixture.Client.ApplyGrantAsync(Child(tenant).SignWith(Lead));

        Assert.Equal(ReasonCodes.Escalation, result.Error);
        Assert.Equal("c-other", (await fixture.Client.GetStatusAsync(tenant, "helper")).GrantId);
    }

    [Fact]
    public async Task Delegation_RenewedByItsOwnDelegator_ReplacesTheEarlierOne()
    {
        var tenant = await TenantWithLeadAsync();
        await fixture.ApplyAsync(Child(tenant).SignWith(Lead));
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));

        var renewed = await fixture.Client.ApplyGrantAsync(Child(tenant, "c-2").Set("issuedAt", Now).SignWith(Lead));

        Assert.True(renewed.Applied, $"{renewed.Error}: {renewed.Message}");
        Assert.Equal("c-2", (await fixture.Client.GetStatusAsync(tenant, "helper")).GrantId);
    }

    [Fact]
    public async Task Delegation_ToTheDelegatorItself_IsEscalationAndItsRootGrantStays()
    {
        var tenant = await TenantWithLeadAsync();

        var result = await fixture.Client.ApplyGrantAsync(Child(tenant, agent: "lead").SignWith(Lead));

        Assert.Equal(ReasonCodes.Escalation, result.Error);
        Assert.Equal("p-1", (await fixture.Client.GetStatusAsync(tenant, "lead")).GrantId);
    }

    [Fact]
    public async Task RootGrant_OverADelegatedOne_ReplacesIt()
    {
        var tenant = await TenantWithLeadAsync();
        await fixture.ApplyAsync(Child(tenant).SignWith(Lead));
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));

        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "helper", Now, "h-root").SignWith(TestKeys.Root));

        Assert.Equal("h-root", (await fixture.Client.GetStatusAsync(tenant, "helper")).GrantId);
    }
}
