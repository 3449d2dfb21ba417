using System.Text;
using AgentSecurity.Grants;
using AgentSecurity.Hosting.Http;

namespace AgentSecurity.Hosting.Tests.Http;

/// <summary>How AuthZEN 1.0 evaluation requests map onto checks, and which requests are refused whole (400) before any check.</summary>
public sealed class AuthZenRequestsTests
{
    private const string Subject = """{"type": "agent", "id": "acme/bot"}""";

    private static Result<AuthZenEvaluation> One(string json) => AuthZenRequests.ParseEvaluation(Encoding.UTF8.GetBytes(json));

    private static Result<AuthZenEvaluations> Many(string json, int max = 4) => AuthZenRequests.ParseEvaluations(Encoding.UTF8.GetBytes(json), max);

    [Fact]
    public void ParseEvaluation_ContractShape_MapsOntoTheAgentsCheck()
    {
        var parsed = One("""{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "fileSystem:write"}, "resource": {"type": "file", "id": "/data/out.txt"}, "context": {"amount": 512}}""");

        var evaluation = parsed.Value;
        Assert.Equal(("acme", "bot"), (evaluation.TenantId, evaluation.AgentId));
        Assert.Equal("fileSystem:write", evaluation.Check.Capability);
        Assert.Equal("/data/out.txt", evaluation.Check.Resource);
        Assert.Equal(512, evaluation.Check.Amount);
    }

    [Fact]
    public void ParseEvaluation_ToolCallWithDefinitionHash_CarriesTheHashToTheCheck()
    {
        const string Hash = "sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a";
        var evaluation = One($$$"""{"subject": {{{Subject}}}, "action": {"name": "tool:call"}, "resource": {"type": "tool", "id": "fs/read_text_file"}, "context": {"definitionHash": "{{{Hash}}}"}}""").Value;

        Assert.Equal(("tool:call", "fs/read_text_file", Hash), (evaluation.Check.Capability, evaluation.Check.Resource, evaluation.Check.DefinitionHash));
    }

    [Fact]
    public void ParseEvaluation_EmptyResourceIdAndNoContext_IsACheckWithoutResourceOrAmount()
    {
        var evaluation = One("""{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "resource": {"type": "none", "id": ""}}""").Value;

        Assert.Null(evaluation.Check.Resource);
        Assert.Null(evaluation.Check.Amount);
    }

    [Theory]
    [InlineData("fileSystem:read")]
    [InlineData("network:outbound")]
    public void ParseEvaluation_EmptyResourceIdForACapabilityOnResources_GoesToTheCheckAsItIs(string capability)
    {
        // Answered for the capability as a whole, an empty id would be looser than any resource's answer.
        var evaluation = One($$$"""{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "{{{capability}}}"}, "resource": {"type": "host", "id": ""}}""").Value;

        Assert.Equal(string.Empty, evaluation.Check.Resource);
    }

    [Fact]
    public void ParseEvaluation_MembersNobodyDefines_AreIgnoredAsTheSpecificationRequires()
    {
        var parsed = One("""
            {"subject": {"type": "agent", "id": "acme/bot", "properties": {"ip_address": "10.0.0.1"}, "extra": 1},
             "action": {"name": "llm", "properties": {"method": "POST"}}, "resource": {"type": "model", "id": "", "x": [1]},
             "context": {"time": "1985-10-26T01:22-07:00"}, "future": {"anything": true}}
            """);

        Assert.True(parsed.Succeeded, parsed.Failure?.ToString());
    }

    public static TheoryData<string, string, string> RefusedEvaluations => new()
    {
        { "not JSON", """{"subject": """, ReasonCodes.MalformedJson },
        { "a duplicate member", """{"subject": {"type": "agent", "id": "acme/bot"}, "subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}""", ReasonCodes.DuplicateMember },
        { "a duplicate member deep inside", """{"subject": {"type": "agent", "id": "acme/bot", "id": "acme/other"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}""", ReasonCodes.DuplicateMember },
        { "an array body", "[]", ReasonCodes.InvalidField },
        { "no subject", """{"action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}""", ReasonCodes.InvalidField },
        { "no action", """{"subject": {"type": "agent", "id": "acme/bot"}, "resource": {"type": "m", "id": ""}}""", ReasonCodes.InvalidField },
        { "no resource", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}}""", ReasonCodes.InvalidField },
        { "a subject that is no agent", """{"subject": {"type": "user", "id": "alice"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}""", ReasonCodes.InvalidField },
        { "an agent id without a tenant", """{"subject": {"type": "agent", "id": "bot"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}""", ReasonCodes.InvalidField },
        { "a subject id that is a number", """{"subject": {"type": "agent", "id": 7}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}""", ReasonCodes.InvalidField },
        { "a subject that is a string", """{"subject": "acme/bot", "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}""", ReasonCodes.InvalidField },
        { "a null subject", """{"subject": null, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}""", ReasonCodes.InvalidField },
        { "subject properties that are no object", """{"subject": {"type": "agent", "id": "acme/bot", "properties": []}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}""", ReasonCodes.InvalidField },
        { "an empty action name", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": ""}, "resource": {"type": "m", "id": ""}}""", ReasonCodes.InvalidField },
        { "a resource without a type", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "resource": {"id": ""}}""", ReasonCodes.InvalidField },
        { "a context that is no object", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}, "context": 1}""", ReasonCodes.InvalidField },
        { "a negative amount", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}, "context": {"amount": -1}}""", ReasonCodes.InvalidField },
        { "a fractional amount", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}, "context": {"amount": 1.5}}""", ReasonCodes.InvalidField },
        { "an amount beyond 2^53 - 1", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}, "context": {"amount": 9007199254740992}}""", ReasonCodes.InvalidField },
        { "a definition hash that is not a string", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "tool:call"}, "resource": {"type": "tool", "id": "fs/x"}, "context": {"definitionHash": 5}}""", ReasonCodes.InvalidField },
        { "an amount as a string", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}, "context": {"amount": "5"}}""", ReasonCodes.InvalidField },
    };

    [Theory]
    [MemberData(nameof(RefusedEvaluations))]
    public void ParseEvaluation_Refused_NamesItsCode(string because, string json, string code)
    {
        var parsed = One(json);

        Assert.False(parsed.Succeeded, because);
        Assert.Equal(code, parsed.Failure.Code);
    }

    [Fact]
    public void ParseEvaluation_LoneSurrogate_IsMalformed() =>
        Assert.Equal(ReasonCodes.MalformedJson, One("""{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": "\uD800"}}""").Failure?.Code);

    [Fact]
    public void ParseEvaluations_TopLevelDefaults_AreInheritedAndAnItemsOwnEntityReplacesThemWhole()
    {
        var parsed = Many("""
            {"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "fileSystem:read"}, "context": {"amount": 5},
             "evaluations": [
               {"resource": {"type": "file", "id": "/data/a"}},
               {"resource": {"type": "file", "id": "/data/b"}, "action": {"name": "fileSystem:write"}, "context": {}},
               {"resource": {"type": "file", "id": "/data/c"}, "subject": {"type": "agent", "id": "acme/other"}}
             ]}
            """).Value;

        Assert.True(parsed.Boxcarred);
        Assert.Equal(EvaluationsSemantic.ExecuteAll, parsed.Semantic);
        Assert.Equal(
            new (string, string, string?, long?)[] { ("bot", "fileSystem:read", "/data/a", 5), ("bot", "fileSystem:write", "/data/b", null), ("other", "fileSystem:read", "/data/c", 5) },
            parsed.Evaluations.Select(e => (e.AgentId, e.Check.Capability, e.Check.Resource, e.Check.Amount)).ToArray());
    }

    [Theory]
    [InlineData("execute_all", nameof(EvaluationsSemantic.ExecuteAll))]
    [InlineData("deny_on_first_deny", nameof(EvaluationsSemantic.DenyOnFirstDeny))]
    [InlineData("permit_on_first_permit", nameof(EvaluationsSemantic.PermitOnFirstPermit))]
    public void ParseEvaluations_EvaluationsSemantic_IsRead(string name, string semantic) =>
        Assert.Equal(Enum.Parse<EvaluationsSemantic>(semantic), Many($$$"""{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "options": {"evaluations_semantic": "{{{name}}}", "other": 1}, "evaluations": [{"resource": {"type": "m", "id": ""}}]}""").Value.Semantic);

    [Theory]
    [InlineData("")]
    [InlineData("""  "evaluations": [],""")]
    public void ParseEvaluations_NoOrAnEmptyEvaluationsArray_IsOneEvaluation(string evaluations)
    {
        var parsed = Many($$$"""{ {{{evaluations}}} "subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}""").Value;

        Assert.False(parsed.Boxcarred);
        Assert.Equal("llm", Assert.Single(parsed.Evaluations).Check.Capability);
    }

    public static TheoryData<string, string, string> RefusedBatches => new()
    {
        { "more evaluations than allowed", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "evaluations": [{"resource": {"type": "m", "id": "1"}}, {"resource": {"type": "m", "id": "2"}}, {"resource": {"type": "m", "id": "3"}}, {"resource": {"type": "m", "id": "4"}}, {"resource": {"type": "m", "id": "5"}}]}""", ReasonCodes.TooLarge },
        { "an item missing what no default gives", """{"subject": {"type": "agent", "id": "acme/bot"}, "evaluations": [{"action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}, {"resource": {"type": "m", "id": ""}}]}""", ReasonCodes.InvalidField },
        { "evaluations that are no array", """{"subject": {"type": "agent", "id": "acme/bot"}, "evaluations": {}}""", ReasonCodes.InvalidField },
        { "an item that is no object", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "evaluations": [1]}""", ReasonCodes.InvalidField },
        { "an unknown semantic", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "options": {"evaluations_semantic": "first"}, "evaluations": [{"resource": {"type": "m", "id": ""}}]}""", ReasonCodes.InvalidField },
        { "options that are no object", """{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "options": "execute_all", "evaluations": [{"resource": {"type": "m", "id": ""}}]}""", ReasonCodes.InvalidField },
        { "a default that is no valid subject", """{"subject": {"type": "user", "id": "x"}, "action": {"name": "llm"}, "evaluations": [{"subject": {"type": "agent", "id": "acme/bot"}, "resource": {"type": "m", "id": ""}}]}""", ReasonCodes.InvalidField },
    };

    [Theory]
    [MemberData(nameof(RefusedBatches))]
    public void ParseEvaluations_Refused_IsRefusedWholeWithItsCode(string because, string json, string code)
    {
        var parsed = Many(json);

        Assert.False(parsed.Succeeded, because);
        Assert.Equal(code, parsed.Failure.Code);
    }

    [Fact]
    public void ParseEvaluations_ARefusedItem_NamesItsPlace() =>
        Assert.Contains("evaluations[1].resource", Many("""{"subject": {"type": "agent", "id": "acme/bot"}, "action": {"name": "llm"}, "evaluations": [{"resource": {"type": "m", "id": ""}}, {}]}""").Failure?.Message, StringComparison.Ordinal);
}
