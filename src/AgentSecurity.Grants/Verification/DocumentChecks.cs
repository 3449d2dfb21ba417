using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Grants.Verification;

/// <summary>
/// Checks shared by the cluster and the offline <c>grant verify</c>: each returns null when the document
/// passes, or the failure with its stable code.
/// </summary>
public static class DocumentChecks
{
    /// <summary>The contract's default tolerance for a signer whose clock runs ahead of the cluster's.</summary>
    public static readonly TimeSpan DefaultClockSkew = TimeSpan.FromSeconds(60);

    public static Failure? Signature(SignedDocument document) =>
        document.HasValidSignature()
            ? null
            : new Failure(ReasonCodes.BadSignature, $"the signature does not verify under {document.SignedBy.Value}");

    /// <summary>
    /// A document may be issued, and become valid, up to <paramref name="clockSkew"/> in the future, because the
    /// signer's clock may run ahead. Expiry is absolute: the skew never extends a grant's life.
    /// </summary>
    public static Failure? TimeWindow(DateTimeOffset issuedAt, DateTimeOffset notBefore, DateTimeOffset? expiresAt, DateTimeOffset now, TimeSpan clockSkew)
    {
        if (issuedAt > now + clockSkew)
        {
            return new Failure(ReasonCodes.NotYetValid, $"issued at {DocumentTime.ToText(issuedAt)}, later than now ({DocumentTime.ToText(now)}) plus the clock skew of {clockSkew.TotalSeconds:0}s");
        }

        if (notBefore > now + clockSkew)
        {
            return new Failure(ReasonCodes.NotYetValid, $"valid from {DocumentTime.ToText(notBefore)}; now is {DocumentTime.ToText(now)}");
        }

        if (expiresAt is { } expiry && expiry <= now)
        {
            return new Failure(ReasonCodes.Expired, $"expired at {DocumentTime.ToText(expiry)}; now is {DocumentTime.ToText(now)}");
        }

        return null;
    }

    public static Failure? GrantTimeWindow(GrantDocument grant, DateTimeOffset now, TimeSpan clockSkew) =>
        TimeWindow(grant.IssuedAt, grant.NotBefore, grant.ExpiresAt, now, clockSkew);
}
