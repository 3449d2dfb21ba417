using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>Runtime permission requests: asked with a justification, answered by a time-boxed grant, or left to expire.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PermissionRequestTests(ClusterFixture fixture)
{
    private DateTimeOffset Now => fixture.Now;

    private static readonly PermissionRequestInput AskForOrg = new()
    {
        Capability = "network:outbound",
        Resource = "api.example.org:443",
        Justification = "fetch the quarterly report",
    };

    private async Task<string> TenantWithBotAsync()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));
        return tenant;
    }

    private DocumentTemplate Answer(string tenant, string grantId, TimeSpan lifetime) =>
        TestDocuments.Grant(tenant, "bot", Now, grantId)
            .SetJson("capabilities", """{"fileSystem":"none","network":"outbound","memory":"none","subprocess":false,"vectorDb":false,"llm":false}""")
            .SetJson("scopes", """{"network":["api.example.org:443"]}""")
            .Set("expiresAt", Now + lifetime);

    [Fact]
    public async Task Request_ApprovedWithTimeBoxedGrant_AllowsUntilItExpiresThenBaseGrantRemains()
    {
        var tenant = await TenantWithBotAsync();
        Assert.Equal(ReasonCodes.OutOfScope, (await fixture.CheckAsync(tenant, "bot", "network:outbound", "api.example.org:443")).Reason);

        var request = await fixture.Client.RequestPermissionAsync(tenant, "bot", AskForOrg);
        Assert.True(request.Recorded, $"{request.Error}: {request.Message}");
        var listed = Assert.Single(await fixture.Client.ListRequestsAsync(tenant));
        Assert.Equal((request.RequestId, "bot", PermissionRequestStatus.Pending, "fetch the quarterly report"), (listed.RequestId, listed.AgentId, listed.Status, listed.Justification));

        var applied = await fixture.Client.ApplyElevationAsync(request.RequestId!, Answer(tenant, "elev-1", TimeSpan.FromHours(1)).SignWith(TestKeys.Root));

        Assert.True(applied.Applied, $"{applied.Error}: {applied.Message}");
        var allowed = await fixture.CheckAsync(tenant, "bot", "network:outbound", "api.example.org:443");
        Assert.True(allowed.Allowed);
        Assert.Equal("elev-1", allowed.GrantId);
        Assert.Equal(PermissionRequestStatus.Approved, Assert.Single(await fixture.Client.ListRequestsAsync(tenant)).Status);

        ClusterFixture.Time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(ReasonCodes.OutOfScope, (await fixture.CheckAsync(tenant, "bot", "network:outbound", "api.example.org:443")).Reason);
        Assert.True((await fixture.CheckAsync(tenant, "bot", "llm")).Allowed);
    }

    [Fact]
    public async Task Request_Unanswered_Expires()
    {
        var tenant = await TenantWithBotAsync();
        var request = await fixture.Client.RequestPermissionAsync(tenant, "bot", AskForOrg);

        ClusterFixture.Time.Advance(TimeSpan.FromHours(24));

        Assert.Equal(PermissionRequestStatus.Expired, Assert.Single(await fixture.Client.ListRequestsAsync(tenant)).Status);
        var late = await fixture.Client.ApplyElevationAsync(request.RequestId!, Answer(tenant, "elev-late", TimeSpan.FromHours(1)).SignWith(TestKeys.Root));
        Assert.Equal(ReasonCodes.UnknownRequest, late.Error);
    }

    [Fact]
    public async Task Request_AnswerLongerThanTheTimeBox_IsEscalation()
    {
        var tenant = await TenantWithBotAsync();
        var request = await fixture.Client.RequestPermissionAsync(tenant, "bot", AskForOrg);

        var result = await fixture.Client.ApplyElevationAsync(request.RequestId!, Answer(tenant, "elev-long", TimeSpan.FromDays(2)).SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.Escalation, result.Error);
    }

    [Fact]
    public async Task Request_AnswerSignedByStranger_IsUntrustedSigner()
    {
        var tenant = await TenantWithBotAsync();
        var request = await fixture.Client.RequestPermissionAsync(tenant, "bot", AskForOrg);

        var result = await fixture.Client.ApplyElevationAsync(request.RequestId!, Answer(tenant, "elev-x", TimeSpan.FromHours(1)).SignWith(TestKeys.Stranger));

        Assert.Equal(ReasonCodes.UntrustedSigner, result.Error);
        Assert.Equal(PermissionRequestStatus.Pending, Assert.Single(await fixture.Client.ListRequestsAsync(tenant)).Status);
    }

    [Fact]
    public async Task Request_ForWhatIsAlreadyAllowed_IsNotRecorded()
    {
        var tenant = await TenantWithBotAsync();

        var result = await fixture.Client.RequestPermissionAsync(tenant, "bot", new PermissionRequestInput { Capability = "llm", Justification = "summaries" });

        Assert.True(result.AlreadyAllowed);
        Assert.Empty(await fixture.Client.ListRequestsAsync(tenant));
    }

    [Fact]
    public async Task Request_AnsweredWithAReplacedGrant_IsStale()
    {
        var tenant = await fixture.NewTenantAsync();
        var wide = TestDocuments.Grant(tenant, "bot", Now, "g-wide").SignWith(TestKeys.Root);
        await fixture.ApplyAsync(wide);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(5));
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "g-narrow").SetJson("capabilities", TestDocuments.ReadOnlyFiles).SignWith(TestKeys.Root));
        var request = await fixture.Client.RequestPermissionAsync(tenant, "bot", new PermissionRequestInput { Capability = "llm", Justification = "x" });

        var elevated = await fixture.Client.ApplyElevationAsync(request.RequestId!, wide);

        Assert.Equal(ReasonCodes.Stale, elevated.Error);
        Assert.Equal(ReasonCodes.CapabilityNotGranted, (await fixture.CheckAsync(tenant, "bot", "fileSystem:write", "/workspace/a")).Reason);
    }

    [Fact]
    public async Task Request_AnswerWiderThanTheRequest_IsEscalation()
    {
        var tenant = await TenantWithBotAsync();
        var request = await fixture.Client.RequestPermissionAsync(tenant, "bot", AskForOrg);

        var wider = await fixture.Client.ApplyElevationAsync(request.RequestId!, Answer(tenant, "elev-w", TimeSpan.FromHours(1)).SetJson("scopes", """{"network":["*.example.org:443"]}""").SignWith(TestKeys.Root));
        var more = await fixture.Client.ApplyElevationAsync(request.RequestId!, Answer(tenant, "elev-m", TimeSpan.FromHours(1)).SetJson("capabilities", TestDocuments.AllCapabilities).SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.Escalation, wider.Error);
        Assert.Equal(ReasonCodes.Escalation, more.Error);
    }

    [Theory]
    [InlineData("root", null, "x", ReasonCodes.UnknownCapability)]
    [InlineData("fileSystem:read", "/**", "x", ReasonCodes.InvalidResource)]
    [InlineData("fileSystem:read", "/a/../b", "x", ReasonCodes.InvalidResource)]
    [InlineData("llm", null, "", ReasonCodes.InvalidRequest)]
    [InlineData("llm", null, "line\nbreak", ReasonCodes.InvalidRequest)]
    public async Task Request_Malformed_IsRefusedWithItsCode(string capability, string? resource, string justification, string code)
    {
        var tenant = await fixture.NewTenantAsync();

        var result = await fixture.Client.RequestPermissionAsync(tenant, "bot", new PermissionRequestInput { Capability = capability, Resource = resource, Justification = justification });

        Assert.Equal(code, result.Error);
    }

    [Fact]
    public async Task Request_MoreThanTheOpenLimit_IsQuotaExceeded()
    {
        var tenant = await TenantWithBotAsync();
        for (var i = 0; i < 8; i++)
        {
            Assert.True((await fixture.Client.RequestPermissionAsync(tenant, "bot", AskForOrg with { Resource = $"api{i}.example.org:443" })).Recorded);
        }

        Assert.Equal(ReasonCodes.QuotaExceeded, (await fixture.Client.RequestPermissionAsync(tenant, "bot", AskForOrg)).Error);
    }

    [Fact]
    public async Task Request_SameAsOneWaiting_FindsItInsteadOfAnother()
    {
        // An agent (or a gateway) retrying what it waits for must not fill its quota of open requests.
        var tenant = await TenantWithBotAsync();
        var first = await fixture.Client.RequestPermissionAsync(tenant, "bot", AskForOrg);

        var again = await fixture.Client.RequestPermissionAsync(tenant, "bot", AskForOrg with { Justification = "still need it" });
        var other = await fixture.Client.RequestPermissionAsync(tenant, "bot", AskForOrg with { Resource = "api.example.net:443" });

        Assert.Equal(first.RequestId, again.RequestId);
        Assert.NotEqual(first.RequestId, other.RequestId);
        Assert.Equal(2, (await fixture.Client.ListRequestsAsync(tenant)).Count);
    }
}
