using System.Text;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;
using AgentSecurity.Grants.Encoding;
using Microsoft.AspNetCore.Http;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// The session a request carries: <c>Authorization: Bearer &lt;base64url of the signed agentsec.session.v1's UTF-8
/// bytes&gt;</c> (<c>contracts/signed-documents.md</c>). Only the encoding is read here; the session itself is verified by
/// the silo's trust boundary, from the same cache its grain call filter uses.
/// </summary>
internal static class BearerSession
{
    /// <summary>The longest bearer value read: the base64url of the largest session the cluster reads.</summary>
    public const int MaxTokenLength = ((SessionVerifier.MaxSessionBytes + 2) / 3) * 4;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Whether the request carries any credentials at all (RFC 6750 answers the two cases differently).</summary>
    public static bool IsPresent(HttpRequest request) => request.Headers.Authorization.Count > 0;

    /// <summary>The signed session text, or <c>unauthenticated</c> with what is wrong with the header.</summary>
    public static Result<string> Read(HttpRequest request)
    {
        var values = request.Headers.Authorization;
        if (values.Count == 0)
        {
            return Refuse("no session: send Authorization: Bearer <base64url of a signed agentsec.session.v1>");
        }

        if (values.Count > 1)
        {
            return Refuse("more than one Authorization header");
        }

        return Decode(values[0]);
    }

    /// <summary>The session text of an Authorization header value.</summary>
    public static Result<string> Decode(string? header)
    {
        const string scheme = "Bearer ";
        if (header is null || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return Refuse("the Authorization header is not a Bearer token");
        }

        var token = header.AsSpan(scheme.Length).Trim(' ').ToString();
        if (token.Length == 0 || token.Length > MaxTokenLength)
        {
            return Refuse($"a bearer session is 1 to {MaxTokenLength} characters of base64url");
        }

        if (!Base64Url.TryDecode(token, out var bytes))
        {
            return Refuse("the bearer token is not base64url without padding (RFC 4648 §5)");
        }

        try
        {
            return Result<string>.Ok(StrictUtf8.GetString(bytes));
        }
        catch (DecoderFallbackException)
        {
            return Refuse("the bearer token's bytes are not UTF-8");
        }
    }

    /// <summary>The header value that carries a signed session: what a PEP sends.</summary>
    public static string HeaderValue(string session) => "Bearer " + Base64Url.Encode(Encoding.UTF8.GetBytes(session));

    private static Failure Refuse(string message) => new(ReasonCodes.Unauthenticated, message);
}
