using System.Text.Json;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Hosting.Http;

namespace AgentSecurity.Hosting.Tests.Http;

/// <summary>The JSON of AuthZEN decisions, as the contract fixes it; absent values left out.</summary>
public sealed class AuthZenResponsesTests
{
    [Fact]
    public void Of_AnAllowedDecision_IsDecisionTrueWithTheContractsContext() =>
        Assert.Equal(
            """{"decision":true,"context":{"reason":"allowed","message":"ok","grantId":"g-1","remaining":41}}""",
            JsonSerializer.Serialize(AuthZenDecision.Of(new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "ok", GrantId = "g-1", Remaining = 41 }), HttpJson.Default.AuthZenDecision));

    [Fact]
    public void Of_ADenialWithoutGrant_LeavesOutWhatIsAbsent() =>
        Assert.Equal(
            """{"decision":false,"context":{"reason":"no_grant","message":"none"}}""",
            JsonSerializer.Serialize(AuthZenDecision.Of(Decision.Deny(ReasonCodes.NoGrant, "none")), HttpJson.Default.AuthZenDecision));

    [Theory]
    [InlineData(ReasonCodes.Forbidden, 403)]
    [InlineData(ReasonCodes.Unauthenticated, 401)]
    public void Refused_InABatch_IsADenialWithTheStatusItWouldHaveHadAlone(string code, int status) =>
        Assert.Equal(
            $$$$"""{"decision":false,"context":{"reason":"{{{{code}}}}","message":"no","error":{"status":{{{{status}}}},"message":"no"}}}""",
            JsonSerializer.Serialize(AuthZenDecision.Refused(code, "no"), HttpJson.Default.AuthZenDecision));
}
