using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Identity;

namespace AgentSecurity.Grants.Documents;

/// <summary>An <c>agentsec.grant.v1</c> document: an agent's permission, as signed by its grantor.</summary>
public sealed class GrantDocument
{
    private GrantDocument(SignedDocument envelope)
    {
        Envelope = envelope;
    }

    public SignedDocument Envelope { get; }

    public string GrantId { get; private init; } = string.Empty;

    public string TenantId { get; private init; } = string.Empty;

    public string AgentId { get; private init; } = string.Empty;

    /// <summary>What the grant permits and when.</summary>
    public GrantTerms Terms { get; private init; } = null!;

    public CapabilitySet Capabilities => Terms.Capabilities;

    public GrantScopes Scopes => Terms.Scopes;

    public ResourceLimits Limits => Terms.Limits;

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
    public static Result<GrantDocument> Parse(ReadOnlySpan<byte> utf8) => DocumentParsing.Parse(utf8, DocumentTypes.Grant, (envelope, members) => new GrantDocument(envelope)
    {
        GrantId = members.RequireIdentifier("grantId", Identifiers.IsGrantId, Identifiers.LocalIdRule),
        TenantId = members.RequireIdentifier("tenantId", Identifiers.IsTenantId, Identifiers.TenantIdRule),
        AgentId = members.RequireIdentifier("agentId", Identifiers.IsAgentId, Identifiers.LocalIdRule),
        Terms = GrantTerms.Read(members, envelope.IssuedAt),
        AgentDid = members.OptionalDid("agentDid"),
        ParentGrantId = members.OptionalIdentifier("parentGrantId", Identifiers.IsGrantId, Identifiers.LocalIdRule),
    });

    public static Result<GrantDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));
}
