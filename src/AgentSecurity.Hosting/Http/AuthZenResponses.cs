using System.Text.Json.Serialization;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// An AuthZEN Decision as the contract fixes it: <c>{"decision": bool, "context": {"reason": code, "message": ...,
/// "grantId": ..., "remaining": ...}}</c>; absent values are left out (AuthZEN 1.0 asks that nulls be omitted). A refusal
/// of the trust boundary inside a boxcarred request also carries AuthZEN's per-evaluation <c>error</c>
/// (<c>{"status": 403, "message": ...}</c>), since the request as a whole was answered 200.
/// </summary>
internal sealed record AuthZenDecision(
    [property: JsonPropertyName("decision")] bool Decision,
    [property: JsonPropertyName("context")] AuthZenDecisionContext Context)
{
    public static AuthZenDecision Of(Decision decision) => new(
        decision.Allowed,
        new AuthZenDecisionContext(decision.Reason, decision.Message, decision.GrantId, decision.Remaining, null));

    /// <summary>Refused by the trust boundary (<c>forbidden</c>, <c>unauthenticated</c>): denied, with the HTTP status it would have had alone.</summary>
    public static AuthZenDecision Refused(string code, string message) => new(
        false,
        new AuthZenDecisionContext(code, message, null, null, new AuthZenError(code == ReasonCodes.Unauthenticated ? 401 : 403, message)));
}

internal sealed record AuthZenDecisionContext(
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("grantId")] string? GrantId,
    [property: JsonPropertyName("remaining")] long? Remaining,
    [property: JsonPropertyName("error")] AuthZenError? Error);

internal sealed record AuthZenError(
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("message")] string Message);

/// <summary>The answer to a boxcarred request: the decisions in request order, up to where its semantic stopped.</summary>
internal sealed record AuthZenEvaluationsResponse([property: JsonPropertyName("evaluations")] IReadOnlyList<AuthZenDecision> Evaluations);
