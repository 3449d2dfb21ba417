using AgentSecurity.Grants.Encoding;
using AgentSecurity.Grants.Identity;

namespace AgentSecurity.Grants.Documents;

/// <summary>
/// An <c>agentsec.session.v1</c> document: a principal proving itself to one cluster for a while. Carried with every call
/// (the Orleans request-context value <c>agentsec-session</c>, or an HTTP bearer token); verified once by a silo.
/// </summary>
public sealed class SessionDocument
{
    /// <summary>The longest a session may last.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(24);

    public const int MinNonceBytes = 16;

    public const int MaxAudienceLength = 256;

    private SessionDocument(SignedDocument envelope)
    {
        Envelope = envelope;
    }

    public SignedDocument Envelope { get; }

    public DidKey PrincipalDid { get; private init; } = null!;

    /// <summary>The cluster's service id the session is for: a session for another cluster is refused.</summary>
    public string Audience { get; private init; } = string.Empty;

    public string Nonce { get; private init; } = string.Empty;

    public DateTimeOffset IssuedAt => Envelope.IssuedAt;

    public DateTimeOffset ExpiresAt { get; private init; }

    public static Result<SessionDocument> Parse(ReadOnlySpan<byte> utf8) => DocumentParsing.Parse(utf8, DocumentTypes.Session, (envelope, members) =>
    {
        var session = new SessionDocument(envelope)
        {
            PrincipalDid = members.RequireDid("principalDid"),
            Audience = members.RequireString("audience", MaxAudienceLength),
            Nonce = members.RequireString("nonce", maxLength: 256),
            ExpiresAt = members.RequireTime("expiresAt"),
        };
        if (!Base64Url.TryDecode(session.Nonce, out var nonce) || nonce.Length < MinNonceBytes)
        {
            throw members.Invalid("nonce", $"must be base64url of at least {MinNonceBytes} random bytes");
        }

        if (session.ExpiresAt <= envelope.IssuedAt || session.ExpiresAt - envelope.IssuedAt > MaxLifetime)
        {
            throw members.Invalid("expiresAt", $"must be after issuedAt and at most {MaxLifetime.TotalHours:0} hours after it");
        }

        return envelope.SignedBy.Equals(session.PrincipalDid)
            ? session
            : throw new DocumentFormatException(ReasonCodes.UntrustedSigner, "a session is signed by its principal: signedBy must equal principalDid");
    });

    public static Result<SessionDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));
}
