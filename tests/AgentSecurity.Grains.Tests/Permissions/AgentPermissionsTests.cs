using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests.Permissions;

/// <summary>
/// An agent's decision from memory: its standing first (storage, grant, state, revocation), then its grant, then its
/// elevations, which add to a live grant and never stand in for a dead one. Explanations come from the same evaluation.
/// </summary>
public sealed class AgentPermissionsTests
{
    private const string Agent = "acme/bot";

    /// <summary>Outbound HTTPS to a host that the test grant's scopes (<c>*.example.com:443</c>) do not cover.</summary>
    private const string ElevatedHost = "api.partner.org:443";

    private static readonly DateTimeOffset Now = TestDocuments.Epoch.AddHours(1);

    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);

    private static readonly CheckRequest ToElevatedHost = new("network:outbound", ElevatedHost);

    private static ActiveGrant Compile(DocumentTemplate template) =>
        ActiveGrant.Compile(GrantDocument.Parse(template.SignWith(TestKeys.Root)).Value, ClockSkew);

    /// <summary>The standard test grant (workspace files, <c>*.example.com:443</c>, <c>notes/**</c>, llm) for a day from <paramref name="issuedAt"/>.</summary>
    private static ActiveGrant Grant(string grantId = "g-1", DateTimeOffset? issuedAt = null) =>
        Compile(TestDocuments.Grant("acme", "bot", issuedAt ?? TestDocuments.Epoch, grantId));

    /// <summary>An approved permission request: outbound HTTPS to <see cref="ElevatedHost"/> for an hour from <paramref name="issuedAt"/>.</summary>
    private static ActiveGrant Elevation(string grantId, DateTimeOffset? issuedAt = null)
    {
        var from = issuedAt ?? Now.AddMinutes(-1);
        return Compile(TestDocuments.Grant("acme", "bot", from, grantId)
            .SetJson("capabilities", """{"fileSystem":"none","network":"outbound","memory":"none","subprocess":false,"vectorDb":false,"llm":false}""")
            .SetJson("scopes", $$"""{"network":["{{ElevatedHost}}"]}""")
            .Set("expiresAt", from.AddHours(1)));
    }

    private static AgentPermissions With(ActiveGrant? active, params ActiveGrant[] elevations)
    {
        var permissions = new AgentPermissions { Active = active };
        permissions.SetElevations(elevations);
        return permissions;
    }

    private static Decision Decide(AgentPermissions permissions, CheckRequest request) => permissions.Decide(request, Now, Agent);

    /// <summary>Agents that may not act at all, by name, for theories over them.</summary>
    private static AgentPermissions WithoutStanding(string scenario)
    {
        var permissions = With(Grant(), Elevation("elev-1"));
        switch (scenario)
        {
            case "no grant":
                permissions.Active = null;
                break;
            case "storage problem":
                permissions.Problem = "the stored grant could not be read";
                break;
            case "quarantined":
                permissions.State = AgentState.Quarantined;
                break;
            case "suspended":
                permissions.State = AgentState.Suspended;
                break;
            case "revoked":
                permissions.MarkRevoked("g-1");
                break;
            case "expired":
                permissions.Active = Grant(issuedAt: Now.AddDays(-1).AddHours(-1));
                break;
            case "not yet valid":
                permissions.Active = Compile(TestDocuments.Grant("acme", "bot", Now.AddMinutes(-1)).Set("notBefore", Now.AddHours(1)));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "no such scenario");
        }

        return permissions;
    }

    [Fact]
    public void Decide_NoGrant_IsNoGrant()
    {
        var decision = Decide(new AgentPermissions(), new CheckRequest("llm"));

        Assert.Equal((false, ReasonCodes.NoGrant, null), (decision.Allowed, decision.Reason, decision.GrantId));
        Assert.Contains(Agent, decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_UnknownCapabilityOfAnAgentWithoutGrant_IsNoGrant()
    {
        // Which capabilities exist is said only to an agent that could act at all.
        Assert.Equal(ReasonCodes.NoGrant, Decide(new AgentPermissions(), new CheckRequest("teleport")).Reason);
    }

    [Fact]
    public void Decide_StorageProblem_IsUnavailableWhateverIsInMemory()
    {
        // A grant that failed to load may have been narrowed or revoked since: fail closed.
        var permissions = With(Grant());
        permissions.Problem = "the stored grant could not be read";

        var decision = Decide(permissions, new CheckRequest("llm"));

        Assert.Equal((ReasonCodes.Unavailable, permissions.Problem), (decision.Reason, decision.Message));
        Assert.Equal(ReasonCodes.Unavailable, Decide(new AgentPermissions { Problem = "x" }, new CheckRequest("llm")).Reason);
    }

    [Theory]
    [InlineData(AgentState.Quarantined, ReasonCodes.Quarantined)]
    [InlineData(AgentState.Suspended, ReasonCodes.Suspended)]
    public void Decide_AgentNotActive_IsDeniedWhateverItsGrantsSay(AgentState state, string reason)
    {
        var permissions = With(Grant(), Elevation("elev-1"));
        permissions.State = state;

        var byGrant = Decide(permissions, new CheckRequest("llm"));
        var byElevation = Decide(permissions, ToElevatedHost);

        Assert.Equal((false, reason, "g-1"), (byGrant.Allowed, byGrant.Reason, byGrant.GrantId));
        Assert.Equal((false, reason, "g-1"), (byElevation.Allowed, byElevation.Reason, byElevation.GrantId));
    }

    [Fact]
    public void Decide_ActiveGrantRevoked_IsRevokedAndNoElevationHelps()
    {
        var permissions = With(Grant(), Elevation("elev-1"));

        permissions.MarkRevoked("g-1");

        Assert.True(permissions.IsActiveRevoked);
        Assert.Equal(ReasonCodes.Revoked, Decide(permissions, new CheckRequest("llm")).Reason);
        Assert.Equal(ReasonCodes.Revoked, Decide(permissions, ToElevatedHost).Reason);
    }

    [Fact]
    public void Decide_AllowedByTheGrant_IsTheGrantsOneAllowedDecision()
    {
        var grant = Grant();

        var decision = Decide(With(grant), new CheckRequest("fileSystem:write", "/workspace/a.txt"));

        // Allowed decisions carry nothing per check, so the hot path hands out one immutable instance.
        Assert.Same(grant.Allowed, decision);
        Assert.Equal((true, "g-1"), (decision.Allowed, decision.GrantId));
    }

    [Fact]
    public void Decide_ElevationCoversWhatTheGrantDoesNot_IsAllowedByTheElevation()
    {
        var elevation = Elevation("elev-1");

        var decision = Decide(With(Grant(), elevation), ToElevatedHost);

        Assert.Same(elevation.Allowed, decision);
        Assert.Equal("elev-1", decision.GrantId);
    }

    [Fact]
    public void Decide_ElevationGivesACapabilityTheGrantLacks_IsAllowedByTheElevation()
    {
        // The test grant has no subprocess; a level denial is one an elevation may answer, as is a scope denial.
        var elevation = Compile(TestDocuments.Grant("acme", "bot", Now.AddMinutes(-1), "elev-sub")
            .SetJson("capabilities", """{"fileSystem":"none","network":"none","memory":"none","subprocess":true,"vectorDb":false,"llm":false}""")
            .Remove("scopes")
            .Set("expiresAt", Now.AddHours(1)));

        Assert.Equal("elev-sub", Decide(With(Grant(), elevation), new CheckRequest("subprocess")).GrantId);
    }

    [Fact]
    public void Decide_NeitherGrantNorElevationCovers_IsTheGrantsDenial()
    {
        var decision = Decide(With(Grant(), Elevation("elev-1")), new CheckRequest("network:outbound", "api.other.org:443"));

        Assert.Equal((false, ReasonCodes.OutOfScope, "g-1"), (decision.Allowed, decision.Reason, decision.GrantId));
    }

    [Theory]
    [InlineData("expired", ReasonCodes.Expired)]
    [InlineData("not yet valid", ReasonCodes.NotYetValid)]
    public void Decide_ActiveGrantOutsideItsTimeWindow_IsNotRevivedByALiveElevation(string scenario, string reason)
    {
        var permissions = WithoutStanding(scenario);

        Assert.Equal(reason, Decide(permissions, ToElevatedHost).Reason);
    }

    [Fact]
    public void Decide_RevokedElevation_IsSkipped()
    {
        var permissions = With(Grant(), Elevation("elev-1"), Elevation("elev-2"));

        permissions.MarkRevoked("elev-1");
        Assert.Equal("elev-2", Decide(permissions, ToElevatedHost).GrantId);

        permissions.MarkRevoked("elev-2");
        var denied = Decide(permissions, ToElevatedHost);
        Assert.Equal((false, ReasonCodes.OutOfScope, "g-1"), (denied.Allowed, denied.Reason, denied.GrantId));
        Assert.False(permissions.IsActiveRevoked);
    }

    [Fact]
    public void Decide_ExpiredElevation_AddsNothing()
    {
        var permissions = With(Grant(), Elevation("elev-1", issuedAt: Now.AddHours(-2)));

        Assert.Equal(ReasonCodes.OutOfScope, Decide(permissions, ToElevatedHost).Reason);
    }

    [Fact]
    public void Decide_WithKind_GivesTheParsedKindOfTheRequest()
    {
        var decision = With(Grant()).Decide(new CheckRequest("fileSystem:write", "/workspace/a.txt", 10), Now, Agent, out var kind);

        Assert.True(decision.Allowed);
        Assert.Equal(CheckKind.FileSystemWrite, kind);
    }

    [Theory]
    [InlineData("fileSystem:format", null, ReasonCodes.UnknownCapability)]
    [InlineData("FileSystem:write", null, ReasonCodes.UnknownCapability)] // exact spelling only
    [InlineData("", null, ReasonCodes.InvalidRequest)]
    [InlineData("llm", -1L, ReasonCodes.InvalidRequest)]
    public void Decide_WithKind_MalformedOrUnknownRequest_IsDenied(string capability, long? amount, string reason)
    {
        var permissions = With(Grant());
        var request = new CheckRequest(capability, null, amount);

        var decision = permissions.Decide(request, Now, Agent, out _);

        Assert.Equal((false, reason), (decision.Allowed, decision.Reason));
        Assert.Equal(Decide(permissions, request), decision);
    }

    [Fact]
    public void Decide_WithKind_NoRequest_IsInvalidRequest()
    {
        var decision = With(Grant()).Decide(null, Now, Agent, out _);

        Assert.Equal(ReasonCodes.InvalidRequest, decision.Reason);
    }

    [Fact]
    public void Decide_ByKind_DecidesAsTheNamedCapability()
    {
        var permissions = With(Grant());

        Assert.True(permissions.Decide(CheckKind.MemoryWrite, "notes/today", Now, Agent).Allowed);
        Assert.Equal(ReasonCodes.OutOfScope, permissions.Decide(CheckKind.MemoryWrite, "secrets/key", Now, Agent).Reason);
    }

    [Fact]
    public void Standing_LiveGrant_IsNullEvenWithoutTheSubprocessCapability()
    {
        // Standing asks about the agent, not a capability: the test grant gives no subprocess.
        Assert.Null(With(Grant()).Standing(Now, Agent));
    }

    [Theory]
    [InlineData("no grant", ReasonCodes.NoGrant)]
    [InlineData("storage problem", ReasonCodes.Unavailable)]
    [InlineData("quarantined", ReasonCodes.Quarantined)]
    [InlineData("suspended", ReasonCodes.Suspended)]
    [InlineData("revoked", ReasonCodes.Revoked)]
    [InlineData("expired", ReasonCodes.Expired)]
    [InlineData("not yet valid", ReasonCodes.NotYetValid)]
    public void Standing_AgentThatMayNotAct_IsTheDenial(string scenario, string reason)
    {
        var standing = WithoutStanding(scenario).Standing(Now, Agent);

        Assert.NotNull(standing);
        Assert.Equal((false, reason), (standing.Allowed, standing.Reason));
    }

    [Fact]
    public void Standing_OnlyElevations_IsNoGrant()
    {
        // An elevation adds to a grant of the agent's own; alone it is no standing.
        Assert.Equal(ReasonCodes.NoGrant, With(null, Elevation("elev-1")).Standing(Now, Agent)?.Reason);
    }

    [Fact]
    public void Explain_ElevationDecided_SaysWhichElevation()
    {
        var explanation = With(Grant(), Elevation("elev-1")).Explain(ToElevatedHost, Now, Agent);

        Assert.True(explanation.Decision.Allowed);
        Assert.Equal($"elevation elev-1: scopes.network \"{ElevatedHost}\"", explanation.DecidedBy);
        Assert.Null(explanation.Suggestion);
    }

    [Theory]
    [InlineData("fileSystem:write", "/workspace/a.txt", "scopes.fileSystem \"/workspace/**\"", null)]
    [InlineData("network:outbound", "api.other.org:443", "scopes.network", "add \"api.other.org:443\" to scopes.network")]
    [InlineData("subprocess", null, "capabilities.subprocess", "set capabilities.subprocess to true")]
    public void Explain_GrantDecided_NamesTheMemberOfTheGrant(string capability, string? resource, string decidedBy, string? suggestion)
    {
        var explanation = With(Grant(), Elevation("elev-1")).Explain(new CheckRequest(capability, resource), Now, Agent);

        Assert.Equal((decidedBy, suggestion), (explanation.DecidedBy, explanation.Suggestion));
    }

    [Theory]
    [InlineData("no grant", "agent")]
    [InlineData("storage problem", "agent.storage")]
    [InlineData("quarantined", "agent.state")]
    [InlineData("suspended", "agent.state")]
    [InlineData("revoked", "revocation")]
    [InlineData("expired", "expiresAt")]
    [InlineData("not yet valid", "notBefore")]
    public void Explain_AgentThatMayNotAct_NamesWhatStopsIt(string scenario, string decidedBy)
    {
        var permissions = WithoutStanding(scenario);

        var explanation = permissions.Explain(ToElevatedHost, Now, Agent);

        Assert.Equal(decidedBy, explanation.DecidedBy);
        Assert.NotNull(explanation.Suggestion);
        Assert.Equal(Decide(permissions, ToElevatedHost), explanation.Decision);
    }

    [Theory]
    [InlineData("", "request")]
    [InlineData("teleport", "request.capability")]
    public void Explain_MalformedOrUnknownRequest_NamesTheRequest(string capability, string decidedBy)
    {
        var explanation = With(Grant()).Explain(new CheckRequest(capability), Now, Agent);

        Assert.False(explanation.Decision.Allowed);
        Assert.Equal(decidedBy, explanation.DecidedBy);
    }

    [Fact]
    public void WhatIf_ProposalAllows_IsAllowedByTheProposal()
    {
        const string proposal = """{"capabilities":{"fileSystem":"full","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false},"environmentIsolation":"sandboxed","expiresAt":"2099-01-01T00:00:00Z"}""";

        var explanation = AgentPermissions.WhatIf(new CheckRequest("fileSystem:delete", "/etc/hosts"), proposal, Now, ClockSkew);

        Assert.Equal((true, ReasonCodes.Allowed, null), (explanation.Decision.Allowed, explanation.Decision.Reason, explanation.Decision.GrantId));
        Assert.Equal("proposal: capabilities.fileSystem", explanation.DecidedBy);
    }

    [Fact]
    public void WhatIf_ProposalDenies_SaysWhatToChangeInIt()
    {
        const string proposal = """{"capabilities":{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false},"environmentIsolation":"sandboxed","expiresAt":"2099-01-01T00:00:00Z"}""";

        var explanation = AgentPermissions.WhatIf(new CheckRequest("fileSystem:write", "/workspace/a.txt"), proposal, Now, ClockSkew);

        Assert.Equal(ReasonCodes.CapabilityNotGranted, explanation.Decision.Reason);
        Assert.Equal(("proposal: capabilities.fileSystem", "set capabilities.fileSystem to \"write\""), (explanation.DecidedBy, explanation.Suggestion));
    }

    [Theory]
    [InlineData("""{"capabilities":{},"bogus":1}""", ReasonCodes.UnknownMember)]
    [InlineData("""{"capabilities":""", ReasonCodes.MalformedJson)]
    [InlineData(null, ReasonCodes.MalformedJson)]
    public void WhatIf_InvalidProposal_IsItsDocumentCode(string? proposal, string reason)
    {
        var explanation = AgentPermissions.WhatIf(new CheckRequest("llm"), proposal, Now, ClockSkew);

        Assert.Equal((false, reason, "proposal"), (explanation.Decision.Allowed, explanation.Decision.Reason, explanation.DecidedBy));
    }

    [Fact]
    public void WhatIf_NoCapability_IsInvalidRequest()
    {
        const string proposal = """{"capabilities":{"fileSystem":"full","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false},"environmentIsolation":"sandboxed","expiresAt":"2099-01-01T00:00:00Z"}""";

        var explanation = AgentPermissions.WhatIf(null, proposal, Now, ClockSkew);

        Assert.Equal((ReasonCodes.InvalidRequest, "request"), (explanation.Decision.Reason, explanation.DecidedBy));
    }

    [Fact]
    public void Holds_TheActiveGrantAndEveryElevation()
    {
        var permissions = With(Grant(), Elevation("elev-1"), Elevation("elev-2"));

        Assert.Equal(["g-1", "elev-1", "elev-2"], permissions.GrantIds);
        Assert.True(permissions.Holds("elev-2"));
        Assert.False(permissions.Holds("g-2"));
        Assert.Equal(["elev-1"], With(null, Elevation("elev-1")).GrantIds);
    }
}
