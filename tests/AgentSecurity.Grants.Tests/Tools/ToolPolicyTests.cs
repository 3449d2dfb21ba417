using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Tools;

namespace AgentSecurity.Grants.Tests.Tools;

/// <summary>The <c>tool:call</c> check: its order (time, tools, pins, approvals) and its codes.</summary>
public sealed class ToolPolicyTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset During = Start.AddMinutes(30);
    private const string Pin = "sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a";
    private const string Other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    internal static GrantTerms Terms(string[] tools, string[]? approve = null, Dictionary<string, string>? pins = null) =>
        new(CapabilitySet.Nothing, GrantScopes.None, ResourceLimits.None, IsolationLevel.Sandboxed, Start, Start.AddHours(1))
        {
            Tools = new ToolTerms(tools, approve ?? [], pins ?? new Dictionary<string, string>(StringComparer.Ordinal)),
        };

    private static GrantPolicy Policy(string[] tools, string[]? approve = null, Dictionary<string, string>? pins = null) =>
        new(Terms(tools, approve, pins), TimeSpan.FromSeconds(60));

    [Fact]
    public void Decide_NoTools_IsCapabilityNotGranted()
    {
        var decision = Policy([]).Decide("tool:call", "fs/read_file", During);

        Assert.Equal(ReasonCodes.CapabilityNotGranted, decision.Reason);
    }

    [Fact]
    public void Decide_ToolMatchingNoPattern_IsOutOfScope()
    {
        var decision = Policy(["github/create_issue"]).Decide("tool:call", "github/delete_repo", During);

        Assert.Equal(ReasonCodes.OutOfScope, decision.Reason);
        Assert.Contains("github/delete_repo", decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_GrantedTool_IsAllowedNamingThePattern()
    {
        var decision = Policy(["github/create_issue", "fs/read_*"]).Decide("tool:call", "fs/read_text_file", During);

        Assert.True(decision.Allowed);
        Assert.Equal("fs/read_*", decision.MatchedPattern);
    }

    [Theory]
    [InlineData("fs/*")]         // a check names one tool
    [InlineData("fs")]
    [InlineData("fs/a/b")]
    [InlineData("fs/a\u0000")]
    [InlineData("")]
    public void Decide_NotAnExactTool_IsInvalidResource(string resource) =>
        Assert.Equal(ReasonCodes.InvalidResource, Policy(["*/*"]).Decide("tool:call", resource, During).Reason);

    [Fact]
    public void Decide_NoResource_IsOutOfScope() =>
        Assert.Equal(ReasonCodes.OutOfScope, Policy(["*/*"]).Decide("tool:call", null, During).Reason);

    [Fact]
    public void Decide_AfterExpiry_IsExpiredBeforeAnyToolRule() =>
        Assert.Equal(ReasonCodes.Expired, Policy(["fs/*"]).Decide("tool:call", "fs/x", Start.AddHours(2)).Reason);

    [Fact]
    public void Decide_PinnedToolWithItsHash_IsAllowed() =>
        Assert.True(Policy(["fs/*"], pins: new() { ["fs/read"] = Pin }).Decide(CheckKind.ToolCall, "fs/read", During, Pin).Allowed);

    [Fact]
    public void Decide_PinnedToolWithAnotherHash_IsToolChanged()
    {
        var decision = Policy(["fs/*"], pins: new() { ["fs/read"] = Pin }).Decide(CheckKind.ToolCall, "fs/read", During, Other);

        Assert.Equal(ReasonCodes.ToolChanged, decision.Reason);
        Assert.Contains(Other, decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_PinnedToolWithoutHash_IsToolChanged() =>
        Assert.Equal(ReasonCodes.ToolChanged, Policy(["fs/*"], pins: new() { ["fs/read"] = Pin }).Decide(CheckKind.ToolCall, "fs/read", During).Reason);

    [Fact]
    public void Decide_UnpinnedToolWithAnyHash_IsAllowed() =>
        Assert.True(Policy(["fs/*"], pins: new() { ["fs/read"] = Pin }).Decide(CheckKind.ToolCall, "fs/write", During, Other).Allowed);

    [Fact]
    public void Decide_ToolNeedingApproval_IsApprovalRequiredNamingThePattern()
    {
        var decision = Policy(["fs/*"], approve: ["fs/write_*"]).Decide("tool:call", "fs/write_file", During);

        Assert.Equal(ReasonCodes.ApprovalRequired, decision.Reason);
        Assert.Equal(DecisionRule.Approval, decision.Rule);
        Assert.Equal("fs/write_*", decision.MatchedPattern);
    }

    [Fact]
    public void Decide_ChangedToolThatAlsoNeedsApproval_IsToolChanged()
    {
        // The pin first: an approval (an elevation) must never let a changed definition through.
        var decision = Policy(["fs/*"], ["fs/*"], new() { ["fs/x"] = Pin }).Decide(CheckKind.ToolCall, "fs/x", During, Other);

        Assert.Equal(ReasonCodes.ToolChanged, decision.Reason);
    }

    [Fact]
    public void Decide_ApprovalPatternForAToolNotGranted_IsOutOfScope() =>
        Assert.Equal(ReasonCodes.OutOfScope, Policy(["fs/read"], approve: ["fs/*"]).Decide("tool:call", "fs/write", During).Reason);

    [Fact]
    public void Decide_V1Terms_NoToolAtAll()
    {
        var v1 = new GrantPolicy(new GrantTerms(new CapabilitySet(AccessLevel.Full, NetworkAccess.Full, AccessLevel.Full, true, true, true), GrantScopes.None, ResourceLimits.None, IsolationLevel.Native, Start, Start.AddHours(1)), TimeSpan.Zero);

        Assert.Equal(ReasonCodes.CapabilityNotGranted, v1.Decide("tool:call", "fs/read", During).Reason);
    }

    [Theory]
    [InlineData(new[] { "fs/read_*" }, "fs/read_file", null, "capabilities.tools \"fs/read_*\"", null)]
    [InlineData(new string[0], "fs/read_file", null, "capabilities.tools", "sign a grant v2 whose capabilities.tools holds \"fs/read_file\"")]
    [InlineData(new[] { "fs/read_*" }, "fs/write_file", null, "capabilities.tools", "add \"fs/write_file\" to capabilities.tools")]
    [InlineData(new[] { "fs/*" }, "fs/write_file", "fs/write_*", "toolRules.approve \"fs/write_*\"", "ask for approval")]
    public void Explain_ToolCall_NamesThePatternThatDecided(string[] tools, string tool, string? approve, string decidedBy, string? suggestion)
    {
        var explained = GrantExplanation.For(Policy(tools, approve is null ? null : [approve]), "tool:call", tool, During);

        Assert.Equal(decidedBy, explained.DecidedBy);
        if (suggestion is null)
        {
            Assert.Null(explained.Suggestion);
        }
        else
        {
            Assert.StartsWith(suggestion, explained.Suggestion, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Explain_ChangedPin_NamesThePin()
    {
        var explained = GrantExplanation.For(Policy(["fs/*"], pins: new() { ["fs/x"] = Pin }), "tool:call", "fs/x", During, Other);

        Assert.Equal("toolRules.pins \"fs/x\"", explained.DecidedBy);
        Assert.Contains("agentsec mcp pins", explained.Suggestion, StringComparison.Ordinal);
    }
}
