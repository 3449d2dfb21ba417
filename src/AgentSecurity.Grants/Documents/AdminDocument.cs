using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Identity;

namespace AgentSecurity.Grants.Documents;

/// <summary>
/// An <c>agentsec.admin.v1</c> or <c>agentsec.admin.v2</c> document: a root registers an admin DID that may sign grants
/// (and revocations and quarantines) for the tenant, within a ceiling, until it expires. Only a v2 ceiling carries tool
/// patterns (<c>ceiling.capabilities.tools</c>): an admin registered by v1 signs no grant with tools.
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

    /// <summary>The tool patterns the admin's grants may give; empty for v1.</summary>
    public IReadOnlyList<string> CeilingTools { get; private init; } = [];

    public DateTimeOffset ExpiresAt { get; private init; }

    private static readonly string[] Types = [DocumentTypes.Admin, DocumentTypes.AdminV2];

    public static Result<AdminDocument> Parse(ReadOnlySpan<byte> utf8) => DocumentParsing.Parse(utf8, Types, (envelope, members) =>
    {
        var ceiling = new MemberReader(members.RequireObject("ceiling"), "ceiling", CeilingMembers);
        var capabilities = GrantTerms.ReadCapabilities(ceiling.RequireObject("capabilities"), "ceiling.capabilities", DocumentTypes.VersionOf(envelope.Type), out var tools);
        var admin = new AdminDocument(envelope)
        {
            TenantId = members.RequireIdentifier("tenantId", Identifiers.IsTenantId, Identifiers.TenantIdRule),
            AdminDid = members.RequireDid("adminDid"),
            Ceiling = capabilities,
            CeilingTools = tools,
            CeilingLimits = GrantTerms.ReadLimits(ceiling.OptionalObject("resourceLimits"), "ceiling.resourceLimits"),
            ExpiresAt = members.RequireTime("expiresAt"),
        };
        return admin.ExpiresAt > envelope.IssuedAt ? admin : throw members.Invalid("expiresAt", "must be after issuedAt");
    });

    public static Result<AdminDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));
}
