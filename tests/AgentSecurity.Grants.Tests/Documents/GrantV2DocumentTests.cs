using AgentSecurity.Grants.Documents;
using AgentSecurity.Testing;

namespace AgentSecurity.Grants.Tests.Documents;

/// <summary>Grant v2 and admin v2 (contracts/signed-documents.md, "tools"): what they may say, and what stays v1.</summary>
public sealed class GrantV2DocumentTests
{
    private static readonly DateTimeOffset Now = TestDocuments.Epoch;
    private const string Pin = "sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a";

    private static string V2(string[] tools, string? toolRules = null) =>
        TestDocuments.GrantV2("acme", "bot", Now, tools, toolRules).SignWith(TestKeys.Root);

    private static void AssertRefused(string text, string code, string? mentions = null)
    {
        var parsed = GrantDocument.Parse(text);
        Assert.False(parsed.Succeeded, $"expected {code}, but the grant parsed");
        Assert.Equal(code, parsed.Failure!.Code);
        if (mentions is not null)
        {
            Assert.Contains(mentions, parsed.Failure.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Parse_GrantV2_ReadsToolsApprovalsAndPins()
    {
        var grant = GrantDocument.Parse(V2(["fs/read_*", "github/*"], $$$"""{"approve":["github/create_*"],"pins":{"fs/read_text_file":"{{{Pin}}}"}}""")).Value;

        Assert.Equal(2, grant.Version);
        Assert.Equal(["fs/read_*", "github/*"], grant.Tools.Patterns);
        Assert.Equal(["github/create_*"], grant.Tools.Approve);
        Assert.Equal(Pin, grant.Tools.Pins["fs/read_text_file"]);
        Assert.True(grant.Envelope.HasValidSignature());
    }

    [Fact]
    public void Parse_GrantV2WithoutTools_MeansNoTool()
    {
        var text = TestDocuments.Grant("acme", "bot", Now).SignWith(TestKeys.Root).Replace("agentsec.grant.v1", "agentsec.grant.v2", StringComparison.Ordinal);

        var grant = GrantDocument.Parse(text).Value;

        Assert.Equal(2, grant.Version);
        Assert.False(grant.Tools.GrantsAny);
        Assert.False(grant.Envelope.HasValidSignature()); // the type is signed: v1 bytes are not a v2 document
    }

    [Fact]
    public void Parse_GrantV1_StillParsesWithNoTools()
    {
        var grant = GrantDocument.Parse(TestDocuments.Grant("acme", "bot", Now).SignWith(TestKeys.Root)).Value;

        Assert.Equal(1, grant.Version);
        Assert.Same(Grants.Tools.ToolTerms.None, grant.Tools);
    }

    [Fact]
    public void Parse_GrantV1WithTools_IsUnknownMember()
    {
        var text = TestDocuments.Grant("acme", "bot", Now)
            .SetJson("capabilities", """{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false,"tools":["fs/*"]}""")
            .SignWith(TestKeys.Root);

        AssertRefused(text, ReasonCodes.UnknownMember, "tools");
    }

    [Fact]
    public void Parse_GrantV1WithToolRules_IsUnknownMember() =>
        AssertRefused(TestDocuments.Grant("acme", "bot", Now).SetJson("toolRules", """{"approve":["fs/*"]}""").SignWith(TestKeys.Root), ReasonCodes.UnknownMember, "toolRules");

    [Theory]
    [InlineData("fs")]                 // no server/tool
    [InlineData("fs/a/b")]             // two slashes
    [InlineData("/read")]              // empty server
    [InlineData("fs/")]                // empty tool
    [InlineData("fs/read file")]       // a space
    [InlineData("fs/read\u0000")]      // NUL
    [InlineData("fs/_read")]           // a name starts with a letter or digit
    [InlineData("fs/.hidden")]
    [InlineData("fs/r\u00e9ad")]       // not ASCII
    [InlineData("")]
    public void Parse_BadToolPattern_IsInvalidField(string pattern) =>
        AssertRefused(V2([pattern]), ReasonCodes.InvalidField, "capabilities.tools");

    [Fact]
    public void Parse_ToolNameOver64Characters_IsInvalidField()
    {
        AssertRefused(V2(["fs/" + new string('a', 65)]), ReasonCodes.InvalidField, "capabilities.tools");
        Assert.True(GrantDocument.Parse(V2(["fs/" + new string('a', 64)])).Succeeded);
    }

    [Fact]
    public void Parse_257Tools_IsInvalidField()
    {
        AssertRefused(V2(Enumerable.Range(0, 257).Select(i => $"s/t{i}").ToArray()), ReasonCodes.InvalidField, "at most 256");
        Assert.True(GrantDocument.Parse(V2(Enumerable.Range(0, 256).Select(i => $"s/t{i}").ToArray())).Succeeded);
    }

    [Theory]
    [InlineData("""{"pins":{"fs/read":"sha256:1D8B2B6CA5E1073726F4F41BA61AC8C888D2867157D6CF12547C55051C7F482A"}}""")] // uppercase hex
    [InlineData("""{"pins":{"fs/read":"sha256:1d8b"}}""")]                                                              // short
    [InlineData("""{"pins":{"fs/read":"sha512:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a"}}""")] // another hash
    [InlineData("""{"pins":{"fs/read":42}}""")]
    [InlineData("""{"pins":{"fs/*":"sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a"}}""")]    // a pin names one tool
    [InlineData("""{"pins":["fs/read"]}""")]
    [InlineData("""{"approve":["fs/a/b"]}""")]
    [InlineData("""{"approve":"fs/*"}""")]
    public void Parse_BadToolRules_IsInvalidField(string toolRules) =>
        AssertRefused(V2(["fs/*"], toolRules), ReasonCodes.InvalidField, "toolRules");

    [Fact]
    public void Parse_ToolRulesWithAnotherMember_IsUnknownMember() =>
        AssertRefused(V2(["fs/*"], """{"approve":[],"deny":["fs/x"]}"""), ReasonCodes.UnknownMember, "deny");

    [Fact]
    public void Parse_DuplicatePin_IsDuplicateMember()
    {
        var text = V2(["fs/*"], $$$"""{"pins":{"fs/a":"{{{Pin}}}"}}""").Replace($"\"fs/a\":\"{Pin}\"", $"\"fs/a\":\"{Pin}\",\"fs/a\":\"{Pin}\"", StringComparison.Ordinal);

        AssertRefused(text, ReasonCodes.DuplicateMember);
    }

    [Fact]
    public void ParseProposal_V2WithoutType_ReadsTools()
    {
        var proposal = """{"capabilities":{"fileSystem":"none","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false,"tools":["fs/*"]},"environmentIsolation":"sandboxed","expiresAt":"2026-01-02T00:00:00Z"}""";

        var terms = GrantTerms.ParseProposal(System.Text.Encoding.UTF8.GetBytes(proposal), Now).Value;

        Assert.Equal(["fs/*"], terms.Tools.Patterns);
    }

    [Fact]
    public void ParseProposal_V1TypeWithTools_IsUnknownMember()
    {
        var proposal = """{"type":"agentsec.grant.v1","capabilities":{"fileSystem":"none","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false,"tools":["fs/*"]},"environmentIsolation":"sandboxed","expiresAt":"2026-01-02T00:00:00Z"}""";

        Assert.Equal(ReasonCodes.UnknownMember, GrantTerms.ParseProposal(System.Text.Encoding.UTF8.GetBytes(proposal), Now).Failure!.Code);
    }

    [Fact]
    public void ParseAdmin_V2CeilingWithTools_ReadsThem()
    {
        var text = TestDocuments.AdminV2("acme", TestKeys.Stranger.Did.Value, Now,
            """{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false,"tools":["fs/read_*"]}""", Now.AddDays(1)).SignWith(TestKeys.Root);

        var admin = AdminDocument.Parse(text).Value;

        Assert.Equal(["fs/read_*"], admin.CeilingTools);
    }

    [Fact]
    public void ParseAdmin_V1CeilingWithTools_IsUnknownMember()
    {
        var text = TestDocuments.Admin("acme", TestKeys.Stranger.Did.Value, Now,
            """{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false,"tools":["fs/*"]}""", Now.AddDays(1)).SignWith(TestKeys.Root);

        Assert.Equal(ReasonCodes.UnknownMember, AdminDocument.Parse(text).Failure!.Code);
    }

    [Fact]
    public void ParseAdmin_ToolsBesideCapabilities_IsUnknownMember()
    {
        // The contract's "the ceiling may carry tools like capabilities" is read as ceiling.capabilities.tools: one spelling only.
        var text = TestDocuments.AdminV2("acme", TestKeys.Stranger.Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddDays(1))
            .SetJson("ceiling", $$"""{"capabilities":{{TestDocuments.ReadOnlyFiles}},"tools":["fs/*"]}""")
            .SignWith(TestKeys.Root);

        Assert.Equal(ReasonCodes.UnknownMember, AdminDocument.Parse(text).Failure!.Code);
    }

    [Fact]
    public void ParseAdmin_ToolRules_IsUnknownMember()
    {
        var text = TestDocuments.AdminV2("acme", TestKeys.Stranger.Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddDays(1))
            .SetJson("toolRules", """{"approve":["fs/*"]}""")
            .SignWith(TestKeys.Root);

        Assert.Equal(ReasonCodes.UnknownMember, AdminDocument.Parse(text).Failure!.Code);
    }
}
