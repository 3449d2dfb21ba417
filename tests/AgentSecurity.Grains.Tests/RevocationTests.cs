using AgentSecurity.Abstractions;
using AgentSecurity.Client;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentSecurity.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class RevocationTests(ClusterFixture fixture)
{
    private static readonly SigningKey Lead = TestKeys.FromByte(0x31);
    private static readonly SigningKey Second = TestKeys.FromByte(0x32);

    private DateTimeOffset Now => fixture.Now;

    /// <summary>lead holds r-1 (root-signed), helper holds r-2 delegated from r-1, worker holds r-3 delegated from r-2.</summary>
    private async Task<string> ChainAsync()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "lead", Now, "r-1").Set("agentDid", Lead.Did.Value).SignWith(TestKeys.Root));
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "helper", Now, "r-2").Set("agentDid", Second.Did.Value).Set("parentGrantId", "r-1").SignWith(Lead));
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "worker", Now, "r-3").Set("parentGrantId", "r-2").SignWith(Second));
        return tenant;
    }

    [Fact]
    public async Task RevokeAsync_RootGrant_RevokesItAndEveryDelegationBeforeReturning()
    {
        var tenant = await ChainAsync();
        foreach (var agent in new[] { "lead", "helper", "worker" })
        {
            Assert.True((await fixture.CheckAsync(tenant, agent, "llm")).Allowed);
        }

        var result = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "r-1", Now, "key leaked").SignWith(TestKeys.Root));

        Assert.True(result.Revoked, $"{result.Error}: {result.Message}");
        Assert.True(result.Propagated);
        Assert.Equal(["r-1", "r-2", "r-3"], result.GrantIds.Order(StringComparer.Ordinal));
        Assert.Equal(3, result.Agents.Count);
        foreach (var agent in new[] { "lead", "helper", "worker" })
        {
            var decision = await fixture.CheckAsync(tenant, agent, "llm");
            Assert.False(decision.Allowed);
            Assert.Equal(ReasonCodes.Revoked, decision.Reason);
        }
    }

    [Fact]
    public async Task RevokeAsync_MiddleOfChain_LeavesTheParentAlone()
    {
        var tenant = await ChainAsync();

        var result = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "r-2", Now).SignWith(Lead));

        Assert.True(result.Revoked, $"{result.Error}: {result.Message}");
        Assert.True((await fixture.CheckAsync(tenant, "lead", "llm")).Allowed);
        Assert.Equal(ReasonCodes.Revoked, (await fixture.CheckAsync(tenant, "helper", "llm")).Reason);
        Assert.Equal(ReasonCodes.Revoked, (await fixture.CheckAsync(tenant, "worker", "llm")).Reason);
    }

    [Fact]
    public async Task ApplyGrantAsync_RevokedGrantReplayed_IsRevoked()
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, "bot", Now, "g-r").SignWith(TestKeys.Root);
        await fixture.ApplyAsync(grant);
        await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "g-r", Now).SignWith(TestKeys.Root));

        var again = await fixture.Client.ApplyGrantAsync(grant);
        var onOther = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "other", Now, "g-r").SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.Revoked, again.Error);
        Assert.Equal(ReasonCodes.Revoked, onOther.Error);
    }

    [Fact]
    public async Task RevokeAsync_AfterTheAgentDeactivated_IsKnownToItsNextActivation()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "g-d").SignWith(TestKeys.Root));
        await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "g-d", Now).SignWith(TestKeys.Root));

        await fixture.DeactivateAllAsync();

        Assert.Equal(ReasonCodes.Revoked, (await fixture.CheckAsync(tenant, "bot", "llm")).Reason);
        Assert.True((await fixture.Client.GetStatusAsync(tenant, "bot")).Revoked);
    }

    [Fact]
    public async Task RevokeAsync_NewGrantAfterRevocation_IsAppliedAndAllows()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "g-old").SignWith(TestKeys.Root));
        await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "g-old", Now).SignWith(TestKeys.Root));

        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "g-new").SignWith(TestKeys.Root));

        Assert.True((await fixture.CheckAsync(tenant, "bot", "llm")).Allowed);
    }

    [Fact]
    public async Task RevokeAsync_SignedByStranger_IsUntrustedSignerAndNothingRevoked()
    {
        var tenant = await ChainAsync();

        var result = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "r-1", Now).SignWith(TestKeys.Stranger));

        Assert.Equal(ReasonCodes.UntrustedSigner, result.Error);
        Assert.True((await fixture.CheckAsync(tenant, "worker", "llm")).Allowed);
    }

    [Fact]
    public async Task RevokeAsync_DelegatingAgentCannotRevokeItsParent_ButCanRevokeWhatItSigned()
    {
        var tenant = await ChainAsync();

        Assert.Equal(ReasonCodes.UntrustedSigner, (await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "r-1", Now).SignWith(Second))).Error);
        Assert.True((await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "r-3", Now).SignWith(Second))).Revoked);
    }

    [Fact]
    public async Task RevokeAsync_LeakedGrantNotYetApplied_CanNeverBeApplied()
    {
        var tenant = await fixture.NewTenantAsync();
        var leaked = TestDocuments.Grant(tenant, "bot", Now, "g-leaked").SignWith(TestKeys.Root);

        var revoked = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "g-leaked", Now, "leaked").SignWith(TestKeys.Root));

        Assert.True(revoked.Revoked, $"{revoked.Error}: {revoked.Message}");
        Assert.Empty(revoked.Agents);
        Assert.Equal(ReasonCodes.Revoked, (await fixture.Client.ApplyGrantAsync(leaked)).Error);
    }

    [Fact]
    public async Task RevokeAsync_UnappliedGrantByItsSignerWhoIsNotRootOrAdmin_IsUntrustedSigner()
    {
        var tenant = await fixture.NewTenantAsync();

        Assert.Equal(ReasonCodes.UntrustedSigner, (await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "nope", Now).SignWith(TestKeys.Stranger))).Error);
    }

    [Fact]
    public async Task RevokeAsync_WhileTheAgentIsStoringThatGrant_StillDeniesAfterReturn()
    {
        // The issuer accepts the grant, the agent is writing it; the revocation arrives in between.
        var tenant = await fixture.NewTenantAsync();
        var release = new TaskCompletionSource();
        var storing = fixture.Storage.HoldNextWriteOf($"{tenant}/bot", release.Task);
        var apply = fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", Now, "g-race").SignWith(TestKeys.Root));
        await storing.WaitAsync(TimeSpan.FromSeconds(10));

        var revoked = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "g-race", Now).SignWith(TestKeys.Root));
        release.SetResult();
        await apply;

        Assert.True(revoked.Revoked && revoked.Propagated);
        Assert.Equal(ReasonCodes.Revoked, (await fixture.CheckAsync(tenant, "bot", "llm")).Reason);
    }

    [Fact]
    public async Task RevokeAsync_ReasonTooLong_IsInvalidField()
    {
        var tenant = await fixture.NewTenantAsync();

        var result = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "x", Now, new string('r', 257)).SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.InvalidField, result.Error);
    }

    [Fact]
    public async Task RevokeAsync_ThousandChecksFromEverySiloAfterReturn_NoneAllowed()
    {
        // Grants on agents spread over the two silos; checks issued from inside each silo, after revoke returns. A silo's code
        // outside its grains (as its HTTP endpoints) calls as a client, with a session: here the operator's.
        var tenant = await fixture.NewTenantAsync();
        var lead = TestKeys.FromByte(0x41);
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "lead", Now, "m-root").Set("agentDid", lead.Did.Value).SignWith(TestKeys.Root));
        for (var i = 0; i < 16; i++)
        {
            await fixture.ApplyAsync(TestDocuments.Grant(tenant, $"w{i}", Now, $"m-{i}").Set("parentGrantId", "m-root").SignWith(lead));
        }

        var factories = fixture.Cluster.Silos.Select(s => fixture.Cluster.GetSiloServiceProvider(s.SiloAddress).GetRequiredService<IGrainFactory>()).ToArray();
        Assert.Equal(2, factories.Length);
        var agents = Enumerable.Range(0, 16).Select(i => $"w{i}").Append("lead").ToArray();
        Assert.All(await CheckFromEverySiloAsync(factories, tenant, agents, 64), d => Assert.True(d.Allowed));

        var result = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "m-root", Now).SignWith(TestKeys.Root));
        Assert.True(result.Revoked && result.Propagated, $"{result.Error}: {result.Message}");

        var after = await CheckFromEverySiloAsync(factories, tenant, agents, 1_020);
        Assert.Equal(1_020, after.Count);
        Assert.Equal(0, after.Count(d => d.Allowed));
        // So many denials in a burst make the deny-burst rule quarantine an agent part way: denied either way.
        Assert.All(after, d => Assert.Contains(d.Reason, new[] { ReasonCodes.Revoked, ReasonCodes.Quarantined }));
        Assert.Contains(after, d => d.Reason == ReasonCodes.Revoked);
    }

    private async Task<List<Decision>> CheckFromEverySiloAsync(IGrainFactory[] silos, string tenant, string[] agents, int count)
    {
        var request = new CheckRequest("llm");
        using var caller = AgentSecurityClient.As(fixture.SessionOf(TestKeys.Operator));
        var decisions = await Task.WhenAll(Enumerable.Range(0, count).Select(i =>
            silos[i % silos.Length].GetGrain<IAgentGrain>(AgentKey.Of(tenant, agents[i % agents.Length])).CheckAsync(request)));
        return [.. decisions];
    }
}
