using AgentSecurity.Grants.Identity;

namespace AgentSecurity.Grants.Documents;

/// <summary>An <c>agentsec.rotation.v1</c> document: a root hands its place to a new root, signed by the old root.</summary>
public sealed class RotationDocument
{
    private RotationDocument(SignedDocument envelope)
    {
        Envelope = envelope;
    }

    public SignedDocument Envelope { get; }

    public string TenantId { get; private init; } = string.Empty;

    public DidKey OldRootDid { get; private init; } = null!;

    public DidKey NewRootDid { get; private init; } = null!;

    public static Result<RotationDocument> Parse(ReadOnlySpan<byte> utf8) => DocumentParsing.Parse(utf8, DocumentTypes.Rotation, (envelope, members) =>
    {
        var rotation = new RotationDocument(envelope)
        {
            TenantId = members.RequireIdentifier("tenantId", Identifiers.IsTenantId, Identifiers.TenantIdRule),
            OldRootDid = members.RequireDid("oldRootDid"),
            NewRootDid = members.RequireDid("newRootDid"),
        };
        return rotation.OldRootDid.Equals(rotation.NewRootDid) ? throw members.Invalid("newRootDid", "must differ from oldRootDid") : rotation;
    });

    public static Result<RotationDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));
}
