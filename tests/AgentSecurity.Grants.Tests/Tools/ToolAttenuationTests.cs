using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grants.Tests.Tools;

public sealed class ToolAttenuationTests
{
    private const string Pin = "sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a";
    private const string Other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    private static readonly PlatformLimits Platform = PlatformLimits.None;

    [Fact]
    public void WithinParent_NarrowerTools_IsWithin() =>
        Assert.Null(Attenuation.WithinParent(ToolPolicyTests.Terms(["fs/*"]), ToolPolicyTests.Terms(["fs/read_*", "fs/list"]), Platform));

    [Fact]
    public void WithinParent_ToolTheParentLacks_IsEscalation()
    {
        var failure = Attenuation.WithinParent(ToolPolicyTests.Terms(["fs/read_*"]), ToolPolicyTests.Terms(["fs/write_file"]), Platform);

        Assert.Equal(ReasonCodes.Escalation, failure?.Code);
        Assert.Contains("fs/write_file", failure!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithinParent_ToolsFromAParentWithNone_IsEscalation() =>
        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinParent(ToolPolicyTests.Terms([]), ToolPolicyTests.Terms(["fs/x"]), Platform)?.Code);

    [Fact]
    public void WithinParent_ChildDropsAnApproval_IsEscalation()
    {
        var failure = Attenuation.WithinParent(ToolPolicyTests.Terms(["fs/*"], ["fs/write_*"]), ToolPolicyTests.Terms(["fs/*"]), Platform);

        Assert.Equal(ReasonCodes.Escalation, failure?.Code);
        Assert.Contains("keeps every approval", failure!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithinParent_ChildApprovesMore_IsWithin() =>
        Assert.Null(Attenuation.WithinParent(ToolPolicyTests.Terms(["fs/*"], ["fs/write_*"]), ToolPolicyTests.Terms(["fs/*"], ["fs/*"]), Platform));

    [Theory]
    [InlineData(null)]
    [InlineData(Other)]
    public void WithinParent_ChildDropsOrChangesAPin_IsEscalation(string? childPin)
    {
        var parent = ToolPolicyTests.Terms(["fs/*"], pins: new() { ["fs/read"] = Pin });
        var child = ToolPolicyTests.Terms(["fs/*"], pins: childPin is null ? null : new() { ["fs/read"] = childPin });

        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinParent(parent, child, Platform)?.Code);
    }

    [Fact]
    public void WithinParent_ChildWithoutToolsOfAParentWithRules_IsWithin()
    {
        // A v1 child of a v2 parent calls no tool, so it has nothing to keep.
        Assert.Null(Attenuation.WithinParent(ToolPolicyTests.Terms(["fs/*"], ["fs/*"], new() { ["fs/x"] = Pin }), ToolPolicyTests.Terms([]), Platform));
    }

    [Fact]
    public void WithinCeiling_ToolsWithinTheCeilingsPatterns_IsWithin() =>
        Assert.Null(Attenuation.WithinCeiling(CapabilitySet.Nothing, ResourceLimits.None, ["fs/*"], ToolPolicyTests.Terms(["fs/read"]), Platform));

    [Fact]
    public void WithinCeiling_V1CeilingAndAGrantWithTools_IsEscalation()
    {
        var failure = Attenuation.WithinCeiling(CapabilitySet.Nothing, ResourceLimits.None, ToolPolicyTests.Terms(["fs/read"]), Platform);

        Assert.Equal(ReasonCodes.Escalation, failure?.Code);
        Assert.Contains("the ceiling's gives none", failure!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithinRequest_AnswerNamingExactlyTheTool_IsWithin() =>
        Assert.Null(Attenuation.WithinRequest(CheckKind.ToolCall, "fs/write_file", ToolPolicyTests.Terms(["fs/write_file"])));

    [Theory]
    [InlineData("fs/write_*")]
    [InlineData("fs/other")]
    public void WithinRequest_AnswerWithAPatternOrAnotherTool_IsEscalation(string answered) =>
        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinRequest(CheckKind.ToolCall, "fs/write_file", ToolPolicyTests.Terms(["fs/write_file", answered]))?.Code);

    [Fact]
    public void WithinRequest_ToolAnswerWithOtherCapabilities_IsEscalation()
    {
        var answer = ToolPolicyTests.Terms(["fs/x"]) with { Capabilities = CapabilitySet.Nothing with { Llm = true } };

        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinRequest(CheckKind.ToolCall, "fs/x", answer)?.Code);
    }

    [Fact]
    public void WithinRequest_FileAnswerThatAlsoGivesATool_IsEscalation()
    {
        var answer = ToolPolicyTests.Terms(["fs/x"]) with { Capabilities = CapabilitySet.Nothing with { FileSystem = AccessLevel.Read } };

        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinRequest(CheckKind.FileSystemRead, null, answer)?.Code);
    }
}
