using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Verification;

namespace AgentSecurity.Grants.Access;

/// <summary>
/// Whether a session proves its principal to this cluster now: form, audience, signature by the principal, time window
/// (a caller's clock may run ahead by the skew; the expiry is exact). Every refusal is <c>unauthenticated</c>, with the
/// reason in the message.
/// </summary>
public static class SessionVerifier
{
    /// <summary>The largest session value the cluster reads; a larger one is refused before it is parsed.</summary>
    public const int MaxSessionBytes = 4096;

    public static Result<SessionDocument> Verify(string? sessionText, string audience, DateTimeOffset now, TimeSpan clockSkew)
    {
        if (string.IsNullOrEmpty(sessionText))
        {
            return Refuse("no session: sign one with the caller's key (agentsec.session.v1)");
        }

        if (sessionText.Length > MaxSessionBytes || System.Text.Encoding.UTF8.GetByteCount(sessionText) > MaxSessionBytes)
        {
            return Refuse($"a session is at most {MaxSessionBytes} bytes");
        }

        var parsed = SessionDocument.Parse(sessionText);
        if (!parsed.TryGetValue(out var session))
        {
            return Refuse($"the session is not valid: {parsed.Failure.Code}: {parsed.Failure.Message}");
        }

        if (!string.Equals(session.Audience, audience, StringComparison.Ordinal))
        {
            return Refuse($"the session is for \"{session.Audience}\", not this cluster (\"{audience}\")");
        }

        if (DocumentChecks.Signature(session.Envelope) is { } badSignature)
        {
            return Refuse($"the session's signature does not verify ({badSignature.Code})");
        }

        return DocumentChecks.TimeWindow(session.IssuedAt, session.IssuedAt, session.ExpiresAt, now, clockSkew) is { } outside
            ? Refuse($"the session is {outside.Code.Replace('_', ' ')}: {outside.Message}")
            : Result<SessionDocument>.Ok(session);
    }

    private static Failure Refuse(string message) => new(ReasonCodes.Unauthenticated, message);
}
