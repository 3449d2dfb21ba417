using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ExplainTests(ClusterFixture fixture)
{
    private DateTimeOffset Now => fixture.Now;

    private async Task<string> TenantWithBotAsync()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));
        return tenant;
    }

    [Theory]
    [InlineData("fileSystem:write", "/workspace/a.txt", true, "scopes.fileSystem \"/workspace/**\"", null)]
    [InlineData("fileSystem:delete", "/workspace/a.txt", false, "capabilities.fileSystem", "set capabilities.fileSystem to \"full\"")]
    [InlineData("fileSystem:read", "/etc/hosts", false, "scopes.fileSystem", "add \"/etc/hosts\" to scopes.fileSystem")]
    [InlineData("network:inbound", "api.example.com:443", false, "capabilities.network", "set capabilities.network to \"full\"")]
    [InlineData("network:outbound", "API.Other.com:8443", false, "scopes.network", "add \"api.other.com:8443\" to scopes.network")]
    [InlineData("subprocess", null, false, "capabilities.subprocess", "set capabilities.subprocess to true")]
    [InlineData("llm", null, true, "capabilities.llm", null)]
    public async Task ExplainAsync_SaysWhatDecidedAndTheSmallestChange(string capability, string? resource, bool allowed, string decidedBy, string? suggestion)
    {
        var tenant = await TenantWithBotAsync();

        var explanation = await fixture.Client.ExplainAsync(tenant, "bot", new CheckRequest(capability, resource));

        Assert.Equal(allowed, explanation.Decision.Allowed);
        Assert.Equal(decidedBy, explanation.DecidedBy);
        Assert.Equal(suggestion, explanation.Suggestion);
    }

    [Fact]
    public async Task ExplainAsync_AgentLevelDenials_NameTheAgentState()
    {
        var tenant = await TenantWithBotAsync();
        await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", Now).SignWith(TestKeys.Root));

        var quarantined = await fixture.Client.ExplainAsync(tenant, "bot", new CheckRequest("llm"));
        var noGrant = await fixture.Client.ExplainAsync(tenant, "nobody", new CheckRequest("llm"));

        Assert.Equal(("agent.state", ReasonCodes.Quarantined), (quarantined.DecidedBy, quarantined.Decision.Reason));
        Assert.Contains("release", quarantined.Suggestion, StringComparison.Ordinal);
        Assert.Equal(ReasonCodes.NoGrant, noGrant.Decision.Reason);
    }

    [Fact]
    public async Task WhatIfAsync_ProposedGrant_DecidesWithoutApplyingAnything()
    {
        var tenant = await TenantWithBotAsync();
        const string proposal = """{"capabilities":{"fileSystem":"full","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false},"environmentIsolation":"sandboxed","expiresAt":"2099-01-01T00:00:00Z"}""";
        var writes = fixture.Storage.WriteCount($"{tenant}/bot");

        var whatIf = await fixture.Client.WhatIfAsync(tenant, "bot", new CheckRequest("fileSystem:delete", "/etc/hosts"), proposal);

        Assert.True(whatIf.Decision.Allowed);
        Assert.StartsWith("proposal:", whatIf.DecidedBy, StringComparison.Ordinal);
        Assert.Equal(ReasonCodes.CapabilityNotGranted, (await fixture.CheckAsync(tenant, "bot", "fileSystem:delete", "/etc/hosts")).Reason);
        Assert.Equal(writes, fixture.Storage.WriteCount($"{tenant}/bot"));
    }

    [Fact]
    public async Task WhatIfAsync_MalformedProposal_IsItsDocumentCode()
    {
        var tenant = await TenantWithBotAsync();

        var whatIf = await fixture.Client.WhatIfAsync(tenant, "bot", new CheckRequest("llm"), """{"capabilities":{},"bogus":1}""");

        Assert.False(whatIf.Decision.Allowed);
        Assert.Equal(ReasonCodes.UnknownMember, whatIf.Decision.Reason);
    }
}
