using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class QuarantineTests(ClusterFixture fixture)
{
    private DateTimeOffset Now => fixture.Now;

    private async Task<string> TenantWithBotAsync()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));
        return tenant;
    }

    [Fact]
    public async Task Quarantine_ThenRelease_DeniesThenAllowsAgain()
    {
        var tenant = await TenantWithBotAsync();

        var quarantined = await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", Now, reason: "odd traffic").SignWith(TestKeys.Root));
        var denied = await fixture.CheckAsync(tenant, "bot", "llm");
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        var released = await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", Now, quarantine: false).SignWith(TestKeys.Root));

        Assert.True(quarantined.Accepted);
        Assert.Equal(AgentState.Quarantined, quarantined.State);
        Assert.Equal(ReasonCodes.Quarantined, denied.Reason);
        Assert.Equal(AgentState.Active, released.State);
        Assert.True((await fixture.CheckAsync(tenant, "bot", "llm")).Allowed);
    }

    [Fact]
    public async Task Quarantine_SurvivesDeactivation()
    {
        var tenant = await TenantWithBotAsync();
        await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", Now).SignWith(TestKeys.Root));

        await fixture.DeactivateAllAsync();

        Assert.Equal(ReasonCodes.Quarantined, (await fixture.CheckAsync(tenant, "bot", "llm")).Reason);
    }

    [Fact]
    public async Task Release_ReplayedAfterNewerQuarantine_IsStale()
    {
        var tenant = await TenantWithBotAsync();
        var release = TestDocuments.Quarantine(tenant, "bot", Now, quarantine: false).SignWith(TestKeys.Root);
        await fixture.Client.QuarantineAsync(release);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", Now).SignWith(TestKeys.Root));

        var replay = await fixture.Client.QuarantineAsync(release);

        Assert.Equal(ReasonCodes.Stale, replay.Error);
        Assert.Equal(ReasonCodes.Quarantined, (await fixture.CheckAsync(tenant, "bot", "llm")).Reason);
    }

    [Fact]
    public async Task Release_SignedByStranger_IsUntrustedSignerAndStaysQuarantined()
    {
        var tenant = await TenantWithBotAsync();
        await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", Now).SignWith(TestKeys.Root));
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));

        var release = await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", Now, quarantine: false).SignWith(TestKeys.Stranger));

        Assert.Equal(ReasonCodes.UntrustedSigner, release.Error);
        Assert.Equal(ReasonCodes.Quarantined, (await fixture.CheckAsync(tenant, "bot", "llm")).Reason);
    }

    [Fact]
    public async Task Quarantine_DocumentForAnotherAgent_IsAgentMismatch()
    {
        var tenant = await TenantWithBotAsync();

        var result = await fixture.Client.Agent(tenant, "bot").QuarantineAsync(TestDocuments.Quarantine(tenant, "other", Now).SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.AgentMismatch, result.Error);
    }
}
