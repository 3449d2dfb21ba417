using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// A verified grant in memory, compiled for checks. It keeps what decisions and operators need, not the parsed document
/// tree nor, for the active grant, its signed text (the agent's state holds that once): bytes per active agent count.
/// </summary>
internal sealed class ActiveGrant
{
    // The hash's 32 bytes, not its 64 hex characters as a string of their own (150 bytes per active agent).
    private readonly Sha256Hash _contentHash;

    private ActiveGrant(GrantDocument document, GrantPolicy policy, string? text)
    {
        GrantId = document.GrantId;
        IssuedAt = document.IssuedAt;
        SignedBy = SharedStrings.Signers.For(document.SignedBy.Value);
        ParentGrantId = document.ParentGrantId;
        AgentDid = document.AgentDid?.Value;
        _contentHash = Sha256Hash.Parse(document.Envelope.ContentHash);
        ElevationText = text;
        Policy = policy;
        Allowed = new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "allowed by the grant", GrantId = GrantId };
    }

    /// <summary>The answer to every allowed check without quota figures: immutable, so shared, so not allocated per check.</summary>
    public Decision Allowed { get; }

    public string GrantId { get; }

    public DateTimeOffset IssuedAt { get; }

    // The time window and limits are the policy's terms (a shared policy's are equal to this grant's, times to the
    // offset: see SharedPolicies), read from there rather than kept again per agent.
    public DateTimeOffset NotBefore => Policy.Terms.NotBefore;

    public DateTimeOffset ExpiresAt => Policy.Terms.ExpiresAt;

    /// <summary>The signer's DID: one string for every grant its key signed (<see cref="SharedStrings"/>).</summary>
    public string SignedBy { get; }

    /// <summary>The agent's own DID, when the grant names it: a principal that may check and ask for this agent.</summary>
    public string? AgentDid { get; }

    /// <summary>The grant this one was delegated from, or null for a grant from a root or admin.</summary>
    public string? ParentGrantId { get; }

    /// <summary>SHA-256 of the signed bytes (see <see cref="SignedDocument.ContentHash"/>), as lowercase hex: made when asked.</summary>
    public string ContentHash => _contentHash.ToString();

    /// <summary>Whether <paramref name="contentHash"/> (as <see cref="SignedDocument.ContentHash"/> gives it) is this grant's.</summary>
    public bool HasContent(string contentHash) => _contentHash.Is(contentHash);

    public ResourceLimits Limits => Policy.Terms.Limits;

    /// <summary>
    /// An elevation's signed text, as stored: the state's list of elevations is rewritten from the elevations held when
    /// one is added. Null for an active grant, whose text the agent's state holds.
    /// </summary>
    public string? ElevationText { get; }

    public GrantPolicy Policy { get; }

    /// <summary>The active grant, with a policy shared with every agent whose grant compiles the same (<see cref="SharedPolicies"/>).</summary>
    public static ActiveGrant Compile(GrantDocument document, TimeSpan clockSkew) => new(document, SharedPolicies.For(document.Terms, clockSkew), null);

    /// <summary>An elevation: few, and kept with their text (see <see cref="ElevationText"/>).</summary>
    public static ActiveGrant CompileElevation(GrantDocument document, TimeSpan clockSkew) =>
        new(document, SharedPolicies.For(document.Terms, clockSkew), document.Envelope.CanonicalText);
}
