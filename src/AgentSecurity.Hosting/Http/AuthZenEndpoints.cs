using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// The AuthZEN Authorization API 1.0 access evaluation endpoints, for PEPs that are not .NET and agents outside the
/// cluster (<c>contracts/cli.md</c> "HTTP"): a bearer session proves the caller (401 without a valid one), the trust
/// boundary decides whether it may check the agent (403 without the <c>check</c> right, for a single evaluation), and the
/// agent decides. A denial is 200 with <c>"decision": false</c>, as the specification says; a request the API cannot read
/// is 400 and runs no check.
/// </summary>
internal static class AuthZenEndpoints
{
    public const string EvaluationPath = "/access/v1/evaluation";
    public const string EvaluationsPath = "/access/v1/evaluations";
    public const string MetadataPath = "/.well-known/authzen-configuration";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(EvaluationPath, EvaluateAsync).AddEndpointFilter<RequestIdFilter>();
        endpoints.MapPost(EvaluationsPath, EvaluateManyAsync).AddEndpointFilter<RequestIdFilter>();
        endpoints.MapGet(MetadataPath, Metadata).AddEndpointFilter<RequestIdFilter>();
    }

    private static async Task<IResult> EvaluateAsync(HttpContext http, [FromServices] HttpAuthentication authentication, [FromServices] AgentChecks checks, [FromServices] IOptions<HttpApiOptions> options)
    {
        if (!authentication.TryAuthenticate(http.Request, out var caller, out var refusal))
        {
            return refusal;
        }

        var (body, unread) = await JsonRequestBody.ReadAsync(http.Request, options.Value.MaxBodyBytes, http.RequestAborted);
        if (body is null)
        {
            return unread!;
        }

        if (!AuthZenRequests.ParseEvaluation(body).TryGetValue(out var evaluation, out var invalid))
        {
            return HttpErrors.BadRequest(invalid);
        }

        return await DecideOneAsync(http, authentication, checks, caller, evaluation);
    }

    private static async Task<IResult> EvaluateManyAsync(HttpContext http, [FromServices] HttpAuthentication authentication, [FromServices] AgentChecks checks, [FromServices] IOptions<HttpApiOptions> options)
    {
        if (!authentication.TryAuthenticate(http.Request, out var caller, out var refusal))
        {
            return refusal;
        }

        var (body, unread) = await JsonRequestBody.ReadAsync(http.Request, options.Value.MaxBodyBytes, http.RequestAborted);
        if (body is null)
        {
            return unread!;
        }

        if (!AuthZenRequests.ParseEvaluations(body, options.Value.MaxEvaluations).TryGetValue(out var request, out var invalid))
        {
            return HttpErrors.BadRequest(invalid);
        }

        if (!request.Boxcarred)
        {
            return await DecideOneAsync(http, authentication, checks, caller, request.Evaluations[0]); // §7.1: answered as a single evaluation
        }

        // In order, one at a time: the semantics that stop early are defined by the order, and checks of one agent consume
        // its quota in the order the PEP gave them.
        var decisions = new List<AuthZenDecision>(request.Evaluations.Count);
        foreach (var evaluation in request.Evaluations)
        {
            var outcome = await checks.CheckAsync(caller, evaluation);
            var decision = outcome.RefusedByBoundary
                ? AuthZenDecision.Refused(outcome.Decision.Reason, outcome.Decision.Message)
                : AuthZenDecision.Of(outcome.Decision);
            decisions.Add(decision);
            if ((request.Semantic == EvaluationsSemantic.DenyOnFirstDeny && !decision.Decision)
                || (request.Semantic == EvaluationsSemantic.PermitOnFirstPermit && decision.Decision))
            {
                break;
            }
        }

        return TypedResults.Json(new AuthZenEvaluationsResponse(decisions), HttpJson.Default.AuthZenEvaluationsResponse);
    }

    private static async Task<IResult> DecideOneAsync(HttpContext http, HttpAuthentication authentication, AgentChecks checks, HttpCaller caller, AuthZenEvaluation evaluation)
    {
        var outcome = await checks.CheckAsync(caller, evaluation);
        return outcome.RefusedByBoundary
            ? authentication.Refused(http.Request, outcome.Refusal)
            : TypedResults.Json(AuthZenDecision.Of(outcome.Decision), HttpJson.Default.AuthZenDecision);
    }

    /// <summary>The PDP metadata (§9): open to anyone, as a well-known document is; it names endpoints, nothing else.</summary>
    private static JsonHttpResult<AuthZenMetadata> Metadata(HttpContext http, [FromServices] IOptions<HttpApiOptions> options)
    {
        http.Response.Headers.CacheControl = "max-age=300";
        http.Response.Headers.Vary = "Host"; // without a configured address, the document names the host it was asked by
        return TypedResults.Json(AuthZenMetadataDocument.For(http.Request, options.Value.PublicBaseUrl), HttpJson.Default.AuthZenMetadata);
    }
}
