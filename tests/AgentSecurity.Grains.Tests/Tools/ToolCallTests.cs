using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests.Tools;

/// <summary>
/// Tool calls as a gateway puts them to an agent's grain: the tool's rules (grant v2), the resources its arguments touch,
/// approvals through permission requests and elevations, pins, and what the audit log keeps of each.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ToolCallTests(ClusterFixture fixture)
{
    private const string Pin = "sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a";
    private const string Changed = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    private static readonly SigningKey Lead = TestKeys.FromByte(0x31);

    private DateTimeOffset Now => fixture.Now;

    private async Task<(string Tenant, IAgentGrain Bot)> BotWithAsync(string[] tools, string? toolRules = null)
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.GrantV2(tenant, "bot", Now, tools, toolRules).SignWith(TestKeys.Root));
        return (tenant, fixture.Client.Agent(tenant, "bot"));
    }

    private static ToolCall Call(string tool, string? hash = null, params CheckRequest[] resources) =>
        new() { Tool = tool, DefinitionHash = hash, Resources = resources };

    /// <summary>The tenant's tool events once <paramref name="until"/> holds for them (the log is written after the call returns).</summary>
    private async Task<IReadOnlyList<ToolEvent>> ToolEventsAsync(string tenant, Func<IReadOnlyList<ToolEvent>, bool> until) =>
        [.. (await fixture.AuditLog.WaitForEventsAsync(tenant, e => until([.. e.OfType<ToolEvent>()]), TimeSpan.FromSeconds(15))).OfType<ToolEvent>()];

    [Fact]
    public async Task CheckToolCall_GrantedToolReadingInsideItsScope_IsAllowedAndLoggedAsToolCalled()
    {
        var (tenant, bot) = await BotWithAsync(["fs/read_*"]);

        var decision = await bot.CheckToolCallAsync(Call("fs/read_text_file", Pin, CheckRequests.ReadFile("/workspace/a.txt")));

        Assert.True(decision.Allowed, decision.Decision.Message);
        var called = Assert.Single(await ToolEventsAsync(tenant, e => e.Count > 0));
        Assert.Equal((SecurityEventTypes.ToolCalled, "fs", "read_text_file", Pin, "g-1"), (called.Type, called.Server, called.Tool, called.DefinitionHash, called.GrantId));
    }

    [Fact]
    public async Task CheckToolCall_ArgumentOutsideTheFileScope_IsOutOfScopeNamingTheResource()
    {
        var (tenant, bot) = await BotWithAsync(["fs/*"]);

        var decision = await bot.CheckToolCallAsync(Call("fs/read_text_file", null, CheckRequests.ReadFile("/workspace/a.txt"), CheckRequests.ReadFile("/etc/passwd")));

        Assert.Equal(ReasonCodes.OutOfScope, decision.Decision.Reason);
        Assert.Equal("/etc/passwd", decision.RefusedBy?.Resource);
        var denied = Assert.Single(await ToolEventsAsync(tenant, e => e.Count > 0));
        Assert.Equal((SecurityEventTypes.ToolDenied, "fileSystem:read", "/etc/passwd", ReasonCodes.OutOfScope), (denied.Type, denied.Capability, denied.Resource, denied.Reason));
    }

    [Fact]
    public async Task CheckToolCall_RefusedByItsLastArgument_ConsumesNothing()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.GrantV2(tenant, "bot", Now, ["fs/*"]).SetJson("resourceLimits", """{"fileBytesWrittenPerHour":100}""").SignWith(TestKeys.Root));
        var bot = fixture.Client.Agent(tenant, "bot");

        var refused = await bot.CheckToolCallAsync(Call("fs/move_file", null, CheckRequests.WriteFile("/workspace/a", 100), CheckRequests.WriteFile("/etc/a", 0)));
        var whole = await bot.CheckToolCallAsync(Call("fs/write_file", null, CheckRequests.WriteFile("/workspace/a", 100)));

        Assert.Equal(ReasonCodes.OutOfScope, refused.Decision.Reason);
        Assert.True(whole.Allowed, whole.Decision.Message); // the refused call's 100 bytes were never metered
        Assert.Equal(ReasonCodes.QuotaExceeded, (await bot.CheckToolCallAsync(Call("fs/write_file", null, CheckRequests.WriteFile("/workspace/b", 1)))).Decision.Reason);
    }

    [Theory]
    [InlineData("github/delete_repo", ReasonCodes.OutOfScope)]
    [InlineData("fs/*", ReasonCodes.InvalidResource)]
    [InlineData("fs/a/b", ReasonCodes.InvalidResource)]
    [InlineData("fs/x\u0000", ReasonCodes.InvalidResource)]
    public async Task CheckToolCall_ToolNotGranted_IsRefusedAndLogged(string tool, string reason)
    {
        var (tenant, bot) = await BotWithAsync(["github/create_issue"]);

        var decision = await bot.CheckToolCallAsync(Call(tool));

        Assert.Equal(reason, decision.Decision.Reason);
        Assert.Equal(SecurityEventTypes.ToolDenied, Assert.Single(await ToolEventsAsync(tenant, e => e.Count > 0)).Type);
    }

    [Fact]
    public async Task CheckToolCall_V1Grant_IsCapabilityNotGranted()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SignWith(TestKeys.Root));

        var decision = await fixture.Client.Agent(tenant, "bot").CheckToolCallAsync(Call("fs/read"));

        Assert.Equal(ReasonCodes.CapabilityNotGranted, decision.Decision.Reason);
    }

    [Fact]
    public async Task CheckToolCall_ResourcesThatAreToolCalls_IsInvalidRequest()
    {
        var (_, bot) = await BotWithAsync(["fs/*"]);

        var decision = await bot.CheckToolCallAsync(Call("fs/read", null, CheckRequests.CallTool("fs", "write")));

        Assert.Equal(ReasonCodes.InvalidRequest, decision.Decision.Reason);
    }

    [Fact]
    public async Task CheckToolCall_NeedsApproval_RecordsOneRequestThenAllowsOnceAnswered()
    {
        var (tenant, bot) = await BotWithAsync(["fs/*"], """{"approve":["fs/write_*"]}""");

        var first = await bot.CheckToolCallAsync(Call("fs/write_file", null, CheckRequests.WriteFile("/workspace/out.txt", 5)));
        var retried = await bot.CheckToolCallAsync(Call("fs/write_file", null, CheckRequests.WriteFile("/workspace/out.txt", 5)));

        Assert.Equal(ReasonCodes.ApprovalRequired, first.Decision.Reason);
        Assert.NotNull(first.RequestId);
        Assert.Contains(first.RequestId!, first.Decision.Message, StringComparison.Ordinal);
        Assert.Equal(first.RequestId, retried.RequestId); // a retry finds the same request
        var request = Assert.Single(await fixture.Client.ListRequestsAsync(tenant));
        Assert.Equal(("tool:call", "fs/write_file"), (request.Capability, request.Resource));

        var wider = TestDocuments.GrantV2(tenant, "bot", Now, ["fs/write_*"], grantId: "elev-wide")
            .SetJson("capabilities", """{"fileSystem":"none","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false,"tools":["fs/write_*"]}""")
            .Remove("scopes").Set("expiresAt", Now.AddHours(1));
        Assert.Equal(ReasonCodes.Escalation, (await fixture.Client.ApplyElevationAsync(request.RequestId, wider.SignWith(TestKeys.Root))).Error);

        var exact = TestDocuments.GrantV2(tenant, "bot", Now, ["fs/write_file"], grantId: "elev-1")
            .SetJson("capabilities", """{"fileSystem":"none","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false,"tools":["fs/write_file"]}""")
            .Remove("scopes").Set("expiresAt", Now.AddHours(1));
        var applied = await fixture.Client.ApplyElevationAsync(request.RequestId, exact.SignWith(TestKeys.Root));
        Assert.True(applied.Applied, $"{applied.Error}: {applied.Message}");

        var approved = await bot.CheckToolCallAsync(Call("fs/write_file", null, CheckRequests.WriteFile("/workspace/out.txt", 5)));
        Assert.True(approved.Allowed, approved.Decision.Message);
        Assert.Equal(ReasonCodes.ApprovalRequired, (await bot.CheckToolCallAsync(Call("fs/write_other"))).Decision.Reason); // only that tool
        Assert.Equal(ReasonCodes.OutOfScope, (await bot.CheckToolCallAsync(Call("fs/write_file", null, CheckRequests.WriteFile("/etc/cron.d/x", 5)))).Decision.Reason);

        ClusterFixture.Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(ReasonCodes.ApprovalRequired, (await bot.CheckToolCallAsync(Call("fs/write_file"))).Decision.Reason);
    }

    [Fact]
    public async Task CheckToolCall_PinnedToolUnderAnApproval_IsStillHeldToThePin()
    {
        var (tenant, bot) = await BotWithAsync(["fs/*"], $$$"""{"approve":["fs/x"],"pins":{"fs/x":"{{{Pin}}}"}}""");
        var asked = await bot.CheckToolCallAsync(Call("fs/x", Pin));
        var answer = TestDocuments.GrantV2(tenant, "bot", Now, ["fs/x"], grantId: "elev-x")
            .SetJson("capabilities", """{"fileSystem":"none","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false,"tools":["fs/x"]}""")
            .Remove("scopes").Set("expiresAt", Now.AddHours(1));
        Assert.True((await fixture.Client.ApplyElevationAsync(asked.RequestId!, answer.SignWith(TestKeys.Root))).Applied);

        Assert.True((await bot.CheckToolCallAsync(Call("fs/x", Pin))).Allowed);
        Assert.Equal(ReasonCodes.ToolChanged, (await bot.CheckToolCallAsync(Call("fs/x", Changed))).Decision.Reason);
        Assert.Equal(ReasonCodes.ToolChanged, (await bot.CheckToolCallAsync(Call("fs/x"))).Decision.Reason);
    }

    [Fact]
    public async Task CheckToolCall_ToolGrantedOnlyByAnElevation_IsHeldToTheActiveGrantsPin()
    {
        // The active grant does not give fs/x but pins it: an elevation that gives it gives the pinned definition only.
        var (tenant, bot) = await BotWithAsync(["gh/*"], $$$"""{"pins":{"fs/x":"{{{Pin}}}"}}""");
        var asked = await bot.RequestPermissionAsync(new PermissionRequestInput { Capability = "tool:call", Resource = "fs/x", Justification = "needs fs/x" });
        var answer = TestDocuments.GrantV2(tenant, "bot", Now, ["fs/x"], grantId: "elev-x")
            .SetJson("capabilities", """{"fileSystem":"none","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false,"tools":["fs/x"]}""")
            .Remove("scopes").Set("expiresAt", Now.AddHours(1));
        Assert.True((await fixture.Client.ApplyElevationAsync(asked.RequestId!, answer.SignWith(TestKeys.Root))).Applied);

        Assert.True((await bot.CheckToolCallAsync(Call("fs/x", Pin))).Allowed);
        Assert.Equal(ReasonCodes.ToolChanged, (await bot.CheckToolCallAsync(Call("fs/x", Changed))).Decision.Reason);
    }

    [Fact]
    public async Task SelectVisibleTools_GrantedApprovalAndPins_ShowsWhatTheAgentMayCallOrAskFor()
    {
        var (tenant, bot) = await BotWithAsync(["fs/read_*", "fs/write_file"], $$$"""{"approve":["fs/write_*"],"pins":{"fs/read_file":"{{{Pin}}}"}}""");

        var visible = await bot.SelectVisibleToolsAsync(
        [
            new("fs/read_text_file", Changed), // granted, not pinned
            new("fs/read_file", Pin),          // pinned, matching
            new("fs/read_file", Changed),      // pinned, changed: its description is what a rug pull changes
            new("fs/write_file", Changed),     // needs approval: shown, so calling it asks
            new("fs/delete_file", Changed),    // not granted
            new("fs/*", Changed),              // not a tool
        ]);

        Assert.Equal([true, true, false, true, false, false], visible);
        // Deciding what to show records nothing: after a denied call as a marker, the marker is all the log holds.
        await bot.CheckToolCallAsync(Call("gh/marker"));
        var logged = await ToolEventsAsync(tenant, e => e.Count > 0);
        Assert.Equal("marker", Assert.Single(logged).Tool);
    }

    [Fact]
    public async Task SelectAllowed_FoldersInAndOutOfScope_AnswersEachByTheGrantAndRecordsNothing()
    {
        var (tenant, bot) = await BotWithAsync(["fs/*"]);

        var allowed = await bot.SelectAllowedAsync(
        [
            CheckRequests.ReadFile("/workspace/public"),          // inside /workspace/**
            CheckRequests.ReadFile("/etc"),                       // out of scope
            new CheckRequest(Capabilities.FileSystemRead, "/workspace/../etc"), // not a plain path
            new CheckRequest(Capabilities.Subprocess, "sh"),      // not granted
            new CheckRequest("fileSystem:shred", "/workspace/a"), // no such capability
        ]);

        Assert.Equal([true, false, false, false, false], allowed);
        await bot.CheckToolCallAsync(Call("gh/marker"));
        var logged = await ToolEventsAsync(tenant, e => e.Count > 0);
        Assert.Equal("marker", Assert.Single(logged).Tool);
    }

    [Fact]
    public async Task SelectAllowed_QuarantinedOrOverTheLimit_AllowsNothing()
    {
        var (tenant, bot) = await BotWithAsync(["fs/*"]);
        var inScope = CheckRequests.ReadFile("/workspace/a");

        var tooMany = await bot.SelectAllowedAsync([.. Enumerable.Repeat(inScope, 1025)]);
        var atLimit = await bot.SelectAllowedAsync([.. Enumerable.Repeat(inScope, 1024)]);
        var quarantine = await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", Now).SignWith(TestKeys.Root));
        Assert.True(quarantine.Accepted, quarantine.Error);
        var quarantined = await bot.SelectAllowedAsync([inScope]);

        Assert.Equal(1025, tooMany.Length);
        Assert.DoesNotContain(true, tooMany);
        Assert.All(atLimit, Assert.True);
        Assert.Equal([false], quarantined);
    }

    [Fact]
    public async Task RecordToolChanged_DefinitionChangedWhileServed_IsLoggedOnceForAGrantedTool()
    {
        var (tenant, bot) = await BotWithAsync(["fs/*"]);

        await bot.RecordToolChangedAsync(new("fs/read", Pin), new("fs/read", Changed));
        await bot.RecordToolChangedAsync(new("fs/read", Pin), new("fs/read", Changed));     // the same change again
        await bot.RecordToolChangedAsync(new("gh/other", Pin), new("gh/other", Changed));   // a tool the grant does not name
        await bot.CheckToolCallAsync(Call("gh/marker"));                                     // a denial: after it, nothing else is coming

        var events = await ToolEventsAsync(tenant, e => e.Any(x => x.Type == SecurityEventTypes.ToolDenied));
        var changed = Assert.Single(events, e => e.Type == SecurityEventTypes.ToolChanged);
        Assert.Equal(("read", Changed, ReasonCodes.ToolChanged), (changed.Tool, changed.DefinitionHash, changed.Reason));
        Assert.Contains(Pin, changed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyGrant_AdminV1SigningTools_IsEscalationAndV2CeilingAllowsThem()
    {
        var tenant = await fixture.NewTenantAsync();
        var admin = TestKeys.FromByte(0x32);
        const string Ceiling = """{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false""";
        Assert.True((await fixture.Client.RegisterAdminAsync(TestDocuments.Admin(tenant, admin.Did.Value, Now, Ceiling + "}", Now.AddDays(1)).SignWith(TestKeys.Root))).Accepted);
        var grant = TestDocuments.GrantV2(tenant, "bot", Now, ["fs/read_text_file"]).SetJson("capabilities", Ceiling + ""","tools":["fs/read_text_file"]}""").Remove("scopes");

        var byV1 = await fixture.Client.ApplyGrantAsync(grant.SignWith(admin));
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.True((await fixture.Client.RegisterAdminAsync(TestDocuments.AdminV2(tenant, admin.Did.Value, Now, Ceiling + ""","tools":["fs/read_*"]}""", Now.AddDays(1)).SignWith(TestKeys.Root))).Accepted);
        var byV2 = await fixture.Client.ApplyGrantAsync(grant.Set("grantId", "g-2").Set("issuedAt", Now).SignWith(admin));
        var beyond = await fixture.Client.ApplyGrantAsync(grant.Set("grantId", "g-3").SetJson("capabilities", Ceiling + ""","tools":["fs/write_file"]}""").SignWith(admin));

        Assert.Equal(ReasonCodes.Escalation, byV1.Error);
        Assert.True(byV2.Applied, $"{byV2.Error}: {byV2.Message}");
        Assert.Equal(ReasonCodes.Escalation, beyond.Error);
    }

    [Fact]
    public async Task ApplyGrant_DelegationDroppingTheParentsApproval_IsEscalation()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.GrantV2(tenant, "lead", Now, ["fs/*"], """{"approve":["fs/write_*"]}""", "p-1").Set("agentDid", Lead.Did.Value).SignWith(TestKeys.Root));
        DocumentTemplate Child(string grantId, string? toolRules) => TestDocuments.GrantV2(tenant, "helper", Now, ["fs/write_file"], toolRules, grantId)
            .Set("parentGrantId", "p-1").Set("expiresAt", Now.AddHours(1));

        var dropped = await fixture.Client.ApplyGrantAsync(Child("c-1", null).SignWith(Lead));
        var kept = await fixture.Client.ApplyGrantAsync(Child("c-2", """{"approve":["fs/write_*"]}""").SignWith(Lead));

        Assert.Equal(ReasonCodes.Escalation, dropped.Error);
        Assert.True(kept.Applied, $"{kept.Error}: {kept.Message}");
        Assert.Equal(ReasonCodes.ApprovalRequired, (await fixture.Client.Agent(tenant, "helper").CheckToolCallAsync(Call("fs/write_file"))).Decision.Reason);
    }
}
