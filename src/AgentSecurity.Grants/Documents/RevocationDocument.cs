namespace AgentSecurity.Grants.Documents;

/// <summary>
/// An <c>agentsec.revocation.v1</c> document: a grant, and every grant delegated from it, revoked for good; or an access
/// document, named by its access id.
/// </summary>
public sealed class RevocationDocument
{
    public const int MaxReasonLength = 256;

    private RevocationDocument(SignedDocument envelope)
    {
        Envelope = envelope;
    }

    public SignedDocument Envelope { get; }

    public string TenantId { get; private init; } = string.Empty;

    public string GrantId { get; private init; } = string.Empty;

    public string Reason { get; private init; } = string.Empty;

    public static Result<RevocationDocument> Parse(ReadOnlySpan<byte> utf8) => DocumentParsing.Parse(utf8, DocumentTypes.Revocation, (envelope, members) => new RevocationDocument(envelope)
    {
        // "*" names the operator's access documents for every tenant (agentsec.access.v1), which a revocation ends too.
        TenantId = members.RequireIdentifier("tenantId", id => id == AccessDocument.AllTenants || Identifiers.IsTenantId(id), $"{Identifiers.TenantIdRule} or \"{AccessDocument.AllTenants}\""),
        GrantId = members.RequireIdentifier("grantId", Identifiers.IsGrantId, Identifiers.LocalIdRule),
        Reason = members.RequireString("reason", MaxReasonLength),
    });

    public static Result<RevocationDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));
}
