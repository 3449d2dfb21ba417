using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace AgentSecurity.Hosting.Http;

/// <summary>The Policy Decision Point metadata (AuthZEN 1.0 §9) at <c>/.well-known/authzen-configuration</c>.</summary>
internal sealed record AuthZenMetadata(
    [property: JsonPropertyName("policy_decision_point")] string PolicyDecisionPoint,
    [property: JsonPropertyName("access_evaluation_endpoint")] string AccessEvaluationEndpoint,
    [property: JsonPropertyName("access_evaluations_endpoint")] string AccessEvaluationsEndpoint);

internal static class AuthZenMetadataDocument
{
    /// <summary>
    /// The metadata for a PEP that reached this silo by <paramref name="request"/>: the configured public address, else
    /// the scheme and host the request used, so that <c>policy_decision_point</c> is the identifier the PEP built the
    /// well-known URL from, as §9.2.3 requires it to check.
    /// </summary>
    public static AuthZenMetadata For(HttpRequest request, Uri? publicBaseUrl)
    {
        var pdp = publicBaseUrl is not null
            ? publicBaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/')
            : $"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}".TrimEnd('/');
        return new AuthZenMetadata(pdp, pdp + AuthZenEndpoints.EvaluationPath, pdp + AuthZenEndpoints.EvaluationsPath);
    }
}
