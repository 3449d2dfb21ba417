using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSecurity.Grains.Issuers;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// The issuer's record of an accepted grant keeps its hash as bytes and its signer as a shared string: what it decides by
/// them (replays, revocations by the grant's own signer, delegations checked against the parent) is as before, also
/// once the record comes back from storage, and the stored form is the one states were written in before.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AcceptedGrantTests(ClusterFixture fixture)
{
    private const string Hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private static readonly SigningKey Lead = TestKeys.FromByte(0x23);

    private DateTimeOffset Now => fixture.Now;

    [Fact]
    public void StoredForm_StateWrittenBefore_LoadsWithItsValuesAndIsWrittenTheSame()
    {
        var stored = """
            {"AcceptedGrants":{"g-1":{"ContentHash":"@HASH@","AgentId":"bot","ExpiresAt":"2026-12-03T05:00:00+00:00","SignedBy":"did:key:z6MkSigner","ParentGrantId":"p-1","AgentDid":"did:key:z6MkBot","Depth":2},
             "g-2":{"ContentHash":"NOT-A-HASH","AgentId":"bot2","ExpiresAt":"2026-12-03T05:00:00+00:00","SignedBy":"did:key:z6MkSigner","ParentGrantId":null,"AgentDid":null,"Depth":1}}}
            """.Replace("@HASH@", Hash, StringComparison.Ordinal);

        var state = JsonSerializer.Deserialize<IssuerGrainState>(stored)!;

        var grant = state.AcceptedGrants["g-1"];
        Assert.Equal(Hash, grant.ContentHash);
        Assert.True(grant.HasContent(Hash));
        Assert.False(grant.HasContent(Hash.ToUpperInvariant()));
        Assert.False(grant.HasContent(Hash[..^1] + "9"));
        Assert.Equal("did:key:z6MkSigner", grant.SignedBy);
        Assert.Same(grant.SignedBy, state.AcceptedGrants["g-2"].SignedBy);
        Assert.Equal("NOT-A-HASH", state.AcceptedGrants["g-2"].ContentHash);
        Assert.True(state.AcceptedGrants["g-2"].HasContent("NOT-A-HASH"));
        Assert.False(state.AcceptedGrants["g-2"].HasContent("not-a-hash"));

        var written = JsonNode.Parse(JsonSerializer.Serialize(state))!["AcceptedGrants"];
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(stored)!["AcceptedGrants"], written), written?.ToJsonString());
    }

    [Fact]
    public void DeepCopy_AcceptedGrant_KeepsHashAndSigner()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var state = new IssuerGrainState();
        state.AcceptedGrants["g-1"] = new AcceptedGrant { ContentHash = Hash, SignedBy = "did:key:z6MkSigner", AgentId = "bot" };

        var copy = services.GetRequiredService<DeepCopier<IssuerGrainState>>().Copy(state);

        Assert.Equal(Hash, copy.AcceptedGrants["g-1"].ContentHash);
        Assert.True(copy.AcceptedGrants["g-1"].HasContent(Hash));
        Assert.Equal("did:key:z6MkSigner", copy.AcceptedGrants["g-1"].SignedBy);
    }

    [Fact]
    public async Task Revocation_ByTheDelegatorAfterTheIssuerReloaded_RevokesTheDelegation()
    {
        // The delegator is no root nor admin: only the record's signer lets it revoke, so the shared signer string must
        // still equal its DID once the issuer has reloaded the record from storage.
        var tenant = await TenantWithLeadAndHelperAsync();
        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var revoked = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "c-1", Now).SignWith(Lead));

        Assert.True(revoked.Revoked, $"{revoked.Error}: {revoked.Message}");
        Assert.Equal(ReasonCodes.Revoked, (await fixture.CheckAsync(tenant, "helper", "fileSystem:read", "/workspace/reports/q3.md")).Reason);
    }

    [Fact]
    public async Task ApplyGrant_SameIdOtherContentAfterTheIssuerReloaded_IsReplayedAndTheSameGrantIsNot()
    {
        var tenant = await TenantWithLeadAndHelperAsync();
        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var again = await fixture.Client.ApplyGrantAsync(Child(tenant).SignWith(Lead));
        var other = await fixture.Client.ApplyGrantAsync(Child(tenant).Set("expiresAt", Now.AddMinutes(30)).SignWith(Lead));

        Assert.True(again.Applied, $"{again.Error}: {again.Message}");
        Assert.Equal(ReasonCodes.Replayed, other.Error);
    }

    /// <summary>A tenant whose agent "lead" holds p-1 (naming its DID) and has delegated c-1 to "helper".</summary>
    private async Task<string> TenantWithLeadAndHelperAsync()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "lead", Now, "p-1")
            .SetJson("resourceLimits", """{"checksPerSecond":100}""")
            .Set("environmentIsolation", "native")
            .Set("agentDid", Lead.Did.Value)
            .SignWith(TestKeys.Root));
        var child = await fixture.Client.ApplyGrantAsync(Child(tenant).SignWith(Lead));
        Assert.True(child.Applied, $"{child.Error}: {child.Message}");
        Assert.True((await fixture.CheckAsync(tenant, "helper", "fileSystem:read", "/workspace/reports/q3.md")).Allowed);
        return tenant;
    }

    private DocumentTemplate Child(string tenant) =>
        TestDocuments.Grant(tenant, "helper", Now, "c-1")
            .SetJson("capabilities", """{"fileSystem":"read","network":"none","memory":"read","subprocess":false,"vectorDb":false,"llm":false}""")
            .SetJson("scopes", """{"fileSystem":["/workspace/reports/*"],"memory":["notes/shared/**"]}""")
            .SetJson("resourceLimits", """{"checksPerSecond":10}""")
            .Set("expiresAt", Now.AddHours(1))
            .Set("parentGrantId", "p-1");
}
