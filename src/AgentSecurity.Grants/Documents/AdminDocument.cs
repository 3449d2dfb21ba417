using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Identity;

namespace AgentSecurity.Grants.Documents;

/// <summary>
/// An <c>agentsec.admin.v1</c> document: a root registers an admin DID that may sign grants (and revocations and
/// quarantines) for the tenant, within a ceiling, until it expires.
/// </summary>
public sealed class AdminDocument
{
    private static readonly IReadOnlySet<string> CeilingMembers = new HashSet<string>(StringComparer.Ordinal) { "capabilities", "resourceLimits" };

    private AdminDocument(SignedDocument envelope)
    {
        Envelope = envelope;
    }

    public SignedDocument Envelope { get; }

    public string TenantId { get; private init; } = string.Empty;

    public DidKey AdminDid { get; private init; } = null!;

    public CapabilitySet Ceiling { get; private init; } = CapabilitySet.Nothing;

    public ResourceLimits CeilingLimits { get; private init; } = ResourceLimits.None;

    public DateTimeOffset ExpiresAt { get; private init; }

    public static Result<AdminDocument> Parse(ReadOnlySpan<byte> utf8) => DocumentParsing.Parse(utf8, DocumentTypes.Admin, (envelope, members) =>
    {
        var ceiling = new MemberReader(members.RequireObject("ceiling"), "ceiling", CeilingMembers);
        var admin = new AdminDocument(envelope)
        {
            TenantId = members.RequireIdentifier("tenantId", Identifiers.IsTenantId, Identifiers.TenantIdRule),
            AdminDid = members.RequireDid("adminDid"),
            Ceiling = GrantTerms.ReadCapabilities(ceiling.RequireObject("capabilities"), "ceiling.capabilities"),
            CeilingLimits = GrantTerms.ReadLimits(ceiling.OptionalObject("resourceLimits"), "ceiling.resourceLimits"),
            ExpiresAt = members.RequireTime("expiresAt"),
        };
        return admin.ExpiresAt > envelope.IssuedAt ? admin : throw members.Invalid("expiresAt", "must be after issuedAt");
    });

    public static Result<AdminDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));
}
