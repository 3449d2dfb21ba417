using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Identity;

namespace AgentSecurity.Grants.Documents;

/// <summary>
/// An <c>agentsec.grant.v1</c> or <c>agentsec.grant.v2</c> document: an agent's permission, as signed by its grantor.
/// Version 2 adds tools; a v1 grant reads as a v2 grant without tools.
/// </summary>
public sealed class GrantDocument
{
    private static readonly string[] Types = [DocumentTypes.Grant, DocumentTypes.GrantV2];

    private GrantDocument(SignedDocument envelope)
    {
        Envelope = envelope;
    }

    public SignedDocument Envelope { get; }

    /// <summary>1 or 2, from the document's type.</summary>
    public int Version => DocumentTypes.VersionOf(Envelope.Type);

    public string GrantId { get; private init; } = string.Empty;

    public string TenantId { get; private init; } = string.Empty;

    public string AgentId { get; private init; } = string.Empty;

    /// <summary>What the grant permits and when.</summary>
    public GrantTerms Terms { get; private init; } = null!;

    public CapabilitySet Capabilities => Terms.Capabilities;

    public GrantScopes Scopes => Terms.Scopes;

    public ResourceLimits Limits => Terms.Limits;

    public Tools.ToolTerms Tools => Terms.Tools;

    public IsolationLevel Isolation => Terms.Isolation;

    public DateTimeOffset IssuedAt => Envelope.IssuedAt;

    public DateTimeOffset NotBefore => Terms.NotBefore;

    public DateTimeOffset ExpiresAt => Terms.ExpiresAt;

    /// <summary>The agent's own DID; only a grant that names it lets the agent delegate.</summary>
    public DidKey? AgentDid { get; private init; }

    /// <summary>Present exactly when this grant is a delegation.</summary>
    public string? ParentGrantId { get; private init; }

    public DidKey SignedBy => Envelope.SignedBy;

    /// <summary>Parses a grant and checks its form; the signature and trust are checked separately.</summary>
    public static Result<GrantDocument> Parse(ReadOnlySpan<byte> utf8) => DocumentParsing.Parse(utf8, Types, (envelope, members) => new GrantDocument(envelope)
    {
        GrantId = members.RequireIdentifier("grantId", Identifiers.IsGrantId, Identifiers.LocalIdRule),
        TenantId = members.RequireIdentifier("tenantId", Identifiers.IsTenantId, Identifiers.TenantIdRule),
        AgentId = members.RequireIdentifier("agentId", Identifiers.IsAgentId, Identifiers.LocalIdRule),
        Terms = GrantTerms.Read(members, envelope.IssuedAt, DocumentTypes.VersionOf(envelope.Type)),
        AgentDid = members.OptionalDid("agentDid"),
        ParentGrantId = members.OptionalIdentifier("parentGrantId", Identifiers.IsGrantId, Identifiers.LocalIdRule),
    });

    public static Result<GrantDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));
}
