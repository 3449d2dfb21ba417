using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Permissions;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// What a tenant's issuer persists. Trust (tenant, rotations, admins) is kept as the signed documents themselves and
/// re-verified on load; grant bookkeeping is plain records.
/// </summary>
[GenerateSerializer, Alias("agentsec.IssuerGrainState.v1")]
public sealed class IssuerGrainState : IOutboxState
{
    /// <summary>The canonical signed tenant document; null until the tenant is created.</summary>
    [Id(0)] public string? TenantDocument { get; set; }

    /// <summary>
    /// Accepted grant ids. An entry lives until its grant expires: after that the grant itself is refused as
    /// expired, so the id no longer needs remembering and the map stays bounded by the grants alive.
    /// </summary>
    [Id(1)] public Dictionary<string, AcceptedGrant> AcceptedGrants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Signed rotation documents, in the order they were applied.</summary>
    [Id(2)] public List<string> RotationDocuments { get; set; } = [];

    /// <summary>Signed admin documents by admin DID (the newest registration of each admin).</summary>
    [Id(3)] public Dictionary<string, string> AdminDocuments { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Revoked grant ids, kept until the grant would have expired.</summary>
    [Id(4)] public Dictionary<string, RevokedGrant> RevokedGrants { get; set; } = new(StringComparer.Ordinal);

    [Id(5)] public List<PermissionRequestRecord> Requests { get; set; } = [];

    [Id(6)] public long NextRequestNumber { get; set; } = 1;

    /// <summary>The latest signed <c>agentsec.limits.v1</c> of the tenant, if any.</summary>
    [Id(7)] public string? LimitsDocument { get; set; }

    /// <summary>Security events of changes not yet known to be published (the <see cref="StateOutbox{TState}"/>).</summary>
    [Id(8)] public List<string> PendingEvents { get; set; } = [];

    IReadOnlyList<string> IOutboxState.PendingEvents => PendingEvents;

    void IOutboxState.AddPendingEvents(IEnumerable<string> events) => PendingEvents.AddRange(events);

    void IOutboxState.RemovePendingEvents(IReadOnlySet<string> published) => PendingEvents.RemoveAll(published.Contains);

    /// <summary>
    /// The newest issue time of the expired admin registrations dropped from <see cref="AdminDocuments"/> (which
    /// keeps the map bounded by the admins in force). Registrations issued at or before it are refused as stale:
    /// an older registration of a dropped admin, replayed, cannot bring back what a newer one took away.
    /// </summary>
    [Id(9)] public DateTimeOffset? AdminFloor { get; set; }

    /// <summary>
    /// Signed <c>agentsec.access.v1</c> documents for this tenant, by access id, until they expire or are revoked (their
    /// revocation is kept with the grants' in <see cref="RevokedGrants"/>).
    /// </summary>
    [Id(10)] public Dictionary<string, string> AccessDocuments { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The issuer's record of one accepted grant. Immutable once made (a change is a new record; every member is init-only
/// or, for the hash and signer, which Orleans' generated serializer needs a setter for, assignable once: a test holds
/// this), so Orleans' copier shares
/// it rather than copying it: the issuer's state is copied on every write, and with a record per live grant of the tenant
/// each copy was thousands of objects, tracked in a copy context that the silo's pool then keeps at that size (about
/// 110 bytes per active agent in <c>memory 5000</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("agentsec.AcceptedGrant.v1")]
public sealed class AcceptedGrant
{
    // The issuer keeps one of these per live grant, so per active agent: the hash as its 32 bytes inline rather than
    // 64 hex characters as a string of their own, and the signer's DID as the one string its key's grants share. The
    // stored form is unchanged (the properties read and write the same text), so states stored before load as they were.
    [NonSerialized] private Sha256Hash _contentHash = Sha256Hash.Parse(string.Empty);
    [NonSerialized] private string _signedBy = string.Empty;

    // Which of the two set-once members were assigned: a record is shared between the live state and a copy being
    // changed, so a second assignment would change both. A byte in the padding after Depth: no larger record.
    private const byte HashAssigned = 1;
    private const byte SignerAssigned = 2;
    [NonSerialized] private byte _assigned;

    /// <summary>SHA-256 of the signed bytes: the same id with other content is a replay. Made when asked: compare with <see cref="HasContent"/>.</summary>
    [Id(0)]
    public string ContentHash
    {
        get => _contentHash.ToString();
        set
        {
            AssignOnce(HashAssigned);
            _contentHash = Sha256Hash.Parse(value);
        }
    }

    [Id(1)] public string AgentId { get; init; } = string.Empty;

    [Id(2)] public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>The signer's DID (one string for every grant its key signed: <see cref="SharedStrings"/>).</summary>
    [Id(3)]
    public string SignedBy
    {
        get => _signedBy;
        set
        {
            AssignOnce(SignerAssigned);
            _signedBy = SharedStrings.Signers.For(value);
        }
    }

    [Id(4)] public string? ParentGrantId { get; init; }

    /// <summary>The grant's agentDid: the only signer its delegations may have.</summary>
    [Id(5)] public string? AgentDid { get; init; }

    /// <summary>1 for a grant signed by a root or admin, the parent's depth plus one for a delegation.</summary>
    [Id(6)] public int Depth { get; init; } = 1;

    private void AssignOnce(byte member)
    {
        if ((_assigned & member) != 0)
        {
            throw new InvalidOperationException("An accepted grant's record is immutable once made (copies share it): make a new one.");
        }

        _assigned |= member;
    }

    /// <summary>Whether <paramref name="contentHash"/> (as <see cref="Grants.Documents.SignedDocument.ContentHash"/> gives it) is this grant's, exactly as text.</summary>
    public bool HasContent(string? contentHash) => _contentHash.Is(contentHash);
}

[GenerateSerializer, Alias("agentsec.RevokedGrant.v1")]
public sealed class RevokedGrant
{
    [Id(0)] public DateTimeOffset RevokedAt { get; set; }

    [Id(1)] public DateTimeOffset ExpiresAt { get; set; }

    [Id(2)] public string Reason { get; set; } = string.Empty;

    [Id(3)] public string RevokedBy { get; set; } = string.Empty;
}

[GenerateSerializer, Alias("agentsec.PermissionRequestRecord.v1")]
public sealed class PermissionRequestRecord
{
    [Id(0)] public string RequestId { get; set; } = string.Empty;

    [Id(1)] public string AgentId { get; set; } = string.Empty;

    [Id(2)] public string Capability { get; set; } = string.Empty;

    [Id(3)] public string? Resource { get; set; }

    [Id(4)] public string Justification { get; set; } = string.Empty;

    [Id(5)] public DateTimeOffset RequestedAt { get; set; }

    [Id(6)] public DateTimeOffset ExpiresAt { get; set; }

    [Id(7)] public PermissionRequestStatus Status { get; set; }

    [Id(8)] public string? GrantId { get; set; }
}
