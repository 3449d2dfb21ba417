using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// A server's admission (an MCP upstream a silo starts for the agent as a native execution): refused as a native
/// <c>process</c> execution would be, else the terms the silo holds the server to.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ServerAdmissionTests(ClusterFixture fixture)
{
    private const string NativeCapabilities = """{"fileSystem":"write","network":"none","memory":"none","subprocess":true,"vectorDb":false,"llm":false}""";

    private DateTimeOffset Now => fixture.Now;

    private async Task<string> TenantWithAsync(string agent, Func<DocumentTemplate, DocumentTemplate>? change = null)
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, agent, Now);
        await fixture.ApplyAsync((change?.Invoke(grant) ?? grant).SignWith(TestKeys.Root));
        return tenant;
    }

    private Task<ServerAdmission> AdmitAsync(string tenant, string agent, string server = "fs") =>
        fixture.Cluster.Client.GetGrain<IAgentGrain>(AgentKey.Of(tenant, agent)).AdmitServerAsync(server);

    private static DocumentTemplate Native(DocumentTemplate grant) =>
        grant.Set("environmentIsolation", "native").SetJson("capabilities", NativeCapabilities);

    [Fact]
    public async Task AdmitServerAsync_NativeGrantWithSubprocess_IsAdmittedWithWriteAccessUntilTheGrantExpires()
    {
        var tenant = await TenantWithAsync("bot", Native);

        var admission = await AdmitAsync(tenant, "bot");

        Assert.True(admission.Admitted, admission.Message);
        Assert.Null(admission.Error);
        Assert.Equal("g-1", admission.GrantId);
        Assert.Equal(ServerWorkspaceAccess.Write, admission.WorkspaceAccess);
        Assert.Equal(Now.AddDays(1), admission.ExpiresAt);
        Assert.True(admission.MaxMemoryBytes >= 256L * 1024 * 1024, $"without a grant's limit a server may have the silo's maximum, not {admission.MaxMemoryBytes}");
        Assert.True(admission.Processes > 0);
    }

    [Fact]
    public async Task AdmitServerAsync_GrantWithMaxMemoryAndReadOnlyFiles_IsAdmittedOnThoseTerms()
    {
        var tenant = await TenantWithAsync("bot", g => Native(g)
            .SetJson("capabilities", """{"fileSystem":"read","network":"none","memory":"none","subprocess":true,"vectorDb":false,"llm":false}""")
            .SetJson("resourceLimits", """{"maxMemoryBytes":268435456}"""));

        var admission = await AdmitAsync(tenant, "bot");

        Assert.True(admission.Admitted, admission.Message);
        Assert.Equal(ServerWorkspaceAccess.Read, admission.WorkspaceAccess);
        Assert.Equal(268435456, admission.MaxMemoryBytes);
    }

    [Fact]
    public async Task AdmitServerAsync_ScopeNarrowerThanTheWorkspace_IsAdmittedWithoutWorkspaceAccess()
    {
        var tenant = await TenantWithAsync("bot", g => Native(g)
            .SetJson("scopes", """{"fileSystem":["/workspace/notes/**"],"network":[],"memory":[]}"""));

        var admission = await AdmitAsync(tenant, "bot");

        Assert.True(admission.Admitted, admission.Message);
        Assert.Equal(ServerWorkspaceAccess.None, admission.WorkspaceAccess);
    }

    [Theory]
    [InlineData("external", true)]
    [InlineData("sandboxed", true)]
    [InlineData("native", false)]
    public async Task AdmitServerAsync_IsolationThatForbidsAProcess_IsIsolationForbidsAndAudited(string isolation, bool subprocess)
    {
        var tenant = await TenantWithAsync("bot", g => g
            .Set("environmentIsolation", isolation)
            .SetJson("capabilities", $$"""{"fileSystem":"write","network":"none","memory":"none","subprocess":{{(subprocess ? "true" : "false")}},"vectorDb":false,"llm":false}"""));

        var admission = await AdmitAsync(tenant, "bot");

        Assert.False(admission.Admitted);
        Assert.Equal(ReasonCodes.IsolationForbids, admission.Error);
        var events = await LoggedAsync(tenant, e => e.Any(x => x.Type == SecurityEventTypes.ExecutionFailed));
        Assert.Contains(events, e => e.Type == SecurityEventTypes.ExecutionFailed && e.Reason == ReasonCodes.IsolationForbids && e.Message!.StartsWith("server fs:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AdmitServerAsync_WithoutAGrant_IsNoGrant()
    {
        var tenant = await fixture.NewTenantAsync();

        var admission = await AdmitAsync(tenant, "nobody");

        Assert.Equal(ReasonCodes.NoGrant, admission.Error);
    }

    [Fact]
    public async Task AdmitServerAsync_Quarantined_IsQuarantined()
    {
        var tenant = await TenantWithAsync("bot", Native);
        await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", Now).SignWith(TestKeys.Root));

        var admission = await AdmitAsync(tenant, "bot");

        Assert.Equal(ReasonCodes.Quarantined, admission.Error);
    }

    [Fact]
    public async Task AdmitServerAsync_GrantForbiddingExecutions_IsQuotaExceeded()
    {
        var tenant = await TenantWithAsync("bot", g => Native(g).SetJson("resourceLimits", """{"maxConcurrentExecutions":0}"""));

        var admission = await AdmitAsync(tenant, "bot");

        Assert.Equal(ReasonCodes.QuotaExceeded, admission.Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("-x")]
    public async Task AdmitServerAsync_NameThatIsNoServerName_IsInvalidRequest(string server)
    {
        var tenant = await TenantWithAsync("bot", Native);

        var admission = await AdmitAsync(tenant, "bot", server);

        Assert.Equal(ReasonCodes.InvalidRequest, admission.Error);
    }

    private Task<IReadOnlyList<SecurityEvent>> LoggedAsync(string tenant, Func<IReadOnlyList<SecurityEvent>, bool> until) =>
        fixture.AuditLog.WaitForEventsAsync(tenant, until, TimeSpan.FromSeconds(15));
}
