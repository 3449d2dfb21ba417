using System.Text.Json.Serialization;
using AgentSecurity.Grants;
using Microsoft.AspNetCore.Http;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// The silo's HTTP errors: the status the HTTP and AuthZEN specifications give the failure, and the project's error body
/// <c>{"error": code, "message": ...}</c> with a stable code (<c>contracts/cli.md</c>). A 401 names the Bearer scheme and
/// the realm a session must be signed for (the cluster's service id).
/// </summary>
internal static class HttpErrors
{
    /// <summary>401: no session, or one that proves nothing.</summary>
    public static IResult Unauthenticated(string realm, Failure failure, bool sent) => new ErrorResult(
        StatusCodes.Status401Unauthorized,
        failure.Code,
        failure.Message,
        // RFC 6750 §3: no error attribute when the request had no credentials at all.
        sent ? $"Bearer realm=\"{realm}\", error=\"invalid_token\"" : $"Bearer realm=\"{realm}\"");

    /// <summary>403: a right the caller lacks.</summary>
    public static IResult Forbidden(string message) => new ErrorResult(StatusCodes.Status403Forbidden, ReasonCodes.Forbidden, message);

    /// <summary>400: a request that is not what the endpoint reads.</summary>
    public static IResult BadRequest(Failure failure) => new ErrorResult(StatusCodes.Status400BadRequest, failure.Code, failure.Message);

    /// <summary>413: a body over the limit, refused before it is read.</summary>
    public static IResult TooLarge(string message) => new ErrorResult(StatusCodes.Status413PayloadTooLarge, ReasonCodes.TooLarge, message);

    /// <summary>415: a body that does not say it is JSON.</summary>
    public static IResult NotJson() =>
        new ErrorResult(StatusCodes.Status415UnsupportedMediaType, ReasonCodes.InvalidRequest, "the request body is JSON: send Content-Type: application/json");

    /// <summary>503: the silo cannot serve this now (who may call could not be read, too many streams); try again.</summary>
    public static IResult Unavailable(string message) => new ErrorResult(StatusCodes.Status503ServiceUnavailable, ReasonCodes.Unavailable, message, retryAfterSeconds: 5);

    /// <summary>Any other refusal with its status and reason code.</summary>
    public static IResult Refusal(int status, string code, string message) => new ErrorResult(status, code, message);

    /// <summary>A refusal of the trust boundary (or of the gate before it) as its HTTP status.</summary>
    public static IResult Refused(string realm, Failure failure) => failure.Code switch
    {
        ReasonCodes.Unauthenticated => Unauthenticated(realm, failure, sent: true),
        ReasonCodes.Forbidden => Forbidden(failure.Message),
        _ => Unavailable(failure.Message),
    };

    private sealed class ErrorResult(int status, string code, string message, string? challenge = null, int? retryAfterSeconds = null) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.Headers.CacheControl = "no-store";
            if (challenge is not null)
            {
                httpContext.Response.Headers.WWWAuthenticate = challenge;
            }

            if (retryAfterSeconds is { } seconds)
            {
                httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return httpContext.Response.WriteAsJsonAsync(new ErrorBody(code, message), HttpJson.Default.ErrorBody);
        }
    }
}

internal sealed record ErrorBody([property: JsonPropertyName("error")] string Error, [property: JsonPropertyName("message")] string Message);
