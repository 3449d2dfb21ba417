using AgentSecurity.Grants.Identity;

namespace AgentSecurity.Grants.Documents;

/// <summary>An <c>agentsec.tenant.v1</c> document: a tenant and its root DIDs, signed by the platform operator.</summary>
public sealed class TenantDocument
{
    public const int MaxRoots = 8;

    private TenantDocument(SignedDocument envelope, string tenantId, IReadOnlyList<DidKey> rootDids)
    {
        Envelope = envelope;
        TenantId = tenantId;
        RootDids = rootDids;
    }

    public SignedDocument Envelope { get; }

    public string TenantId { get; }

    public IReadOnlyList<DidKey> RootDids { get; }

    public static Result<TenantDocument> Parse(ReadOnlySpan<byte> utf8) => DocumentParsing.Parse(utf8, DocumentTypes.Tenant, (envelope, members) =>
    {
        var tenantId = members.RequireIdentifier("tenantId", Identifiers.IsTenantId, Identifiers.TenantIdRule);
        var texts = members.OptionalStringList("rootDids", MaxRoots, 256) ?? throw members.Invalid("rootDids", "is required");
        if (texts.Count == 0 || texts.Distinct(StringComparer.Ordinal).Count() != texts.Count)
        {
            throw members.Invalid("rootDids", $"must hold 1 to {MaxRoots} distinct DIDs");
        }

        var roots = new List<DidKey>(texts.Count);
        foreach (var text in texts)
        {
            var did = DidKey.Parse(text);
            roots.Add(did.Succeeded ? did.Value : throw new DocumentFormatException(ReasonCodes.InvalidDid, $"rootDids: {did.Failure.Message}"));
        }

        return new TenantDocument(envelope, tenantId, roots);
    });

    public static Result<TenantDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));
}
