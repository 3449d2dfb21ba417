using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// A verified grant in memory, compiled for checks. It keeps what decisions and operators need and the canonical
/// signed text, not the parsed document tree: a few hundred bytes less per active agent for every field not kept.
/// </summary>
internal sealed class ActiveGrant
{
    private ActiveGrant(GrantDocument document, GrantPolicy policy)
    {
        GrantId = document.GrantId;
        IssuedAt = document.IssuedAt;
        NotBefore = document.NotBefore;
        ExpiresAt = document.ExpiresAt;
        SignedBy = document.SignedBy.Value;
        ParentGrantId = document.ParentGrantId;
        AgentDid = document.AgentDid?.Value;
        ContentHash = document.Envelope.ContentHash;
        Limits = document.Limits;
        CanonicalText = document.Envelope.CanonicalText;
        Policy = policy;
        Allowed = new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "allowed by the grant", GrantId = GrantId };
    }

    /// <summary>The answer to every allowed check without quota figures: immutable, so shared, so not allocated per check.</summary>
    public Decision Allowed { get; }

    public string GrantId { get; }

    public DateTimeOffset IssuedAt { get; }

    public DateTimeOffset NotBefore { get; }

    public DateTimeOffset ExpiresAt { get; }

    public string SignedBy { get; }

    /// <summary>The agent's own DID, when the grant names it: a principal that may check and ask for this agent.</summary>
    public string? AgentDid { get; }

    /// <summary>The grant this one was delegated from, or null for a grant from a root or admin.</summary>
    public string? ParentGrantId { get; }

    /// <summary>SHA-256 of the signed bytes (see <see cref="SignedDocument.ContentHash"/>).</summary>
    public string ContentHash { get; }

    public ResourceLimits Limits { get; }

    /// <summary>The signed grant as stored, and as a delegation is checked against.</summary>
    public string CanonicalText { get; }

    public GrantPolicy Policy { get; }

    public static ActiveGrant Compile(GrantDocument document, TimeSpan clockSkew) => new(document, GrantPolicy.For(document, clockSkew));
}
